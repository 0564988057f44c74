// Real DHCP clients against k6t's servers; every assertion is on what the client received
// or configured.
#include <gmock/gmock.h>

#include "test/netns/dhcp/pod_fixture.h"

namespace k6t::dhcp::testing {
namespace {

using ::testing::HasSubstr;

class DhcpClients : public PodFixture {};

TEST_F(DhcpClients, UdhcpcGetsTheMasqueradeLeaseWithEveryOption) {
  StartServer({MasqueradePlan()});
  auto env = Udhcpc();
  ASSERT_FALSE(env.empty()) << last_client_output_;
  EXPECT_EQ(env["ip"], "10.0.2.2");
  EXPECT_EQ(env["subnet"], "255.255.255.0");
  EXPECT_EQ(env["router"], "10.0.2.1");
  EXPECT_EQ(env["serverid"], "10.0.2.1");
  EXPECT_EQ(env["dns"], "10.96.0.10 10.96.0.11");
  EXPECT_EQ(env["mtu"], "1400");
  EXPECT_EQ(env["hostname"], "vm1");
  EXPECT_EQ(env["domain"], "default.svc.cluster.local");
  EXPECT_EQ(env["search"], "default.svc.cluster.local svc.cluster.local cluster.local");
  // RFC 3442 list as udhcpc prints it: destination/prefix gateway, default route last.
  EXPECT_EQ(env["staticroutes"], "10.96.0.0/12 10.0.2.1 0.0.0.0/0 10.0.2.1");
  EXPECT_EQ(env["ntpsrv"], "10.0.0.123");
  EXPECT_EQ(env["tftp"], "tftp.example.com");
  EXPECT_EQ(env["bootfile"], "pxelinux.0");
  // Unknown options: hex of the raw value ("k6t-private").
  EXPECT_EQ(env["opt240"], "6b36742d70726976617465");
  EXPECT_EQ(env["lease"], std::to_string(999u * 24 * 3600));
  auto stats = server_->Stats("k6t-eth0");
  ASSERT_TRUE(stats.has_value());
  EXPECT_GE(stats->replied, 2u);  // OFFER + ACK (and RAs)
}

TEST_F(DhcpClients, DhclientGetsTheMasqueradeLease) {
  StartServer({MasqueradePlan()});
  const std::string conf = dir_ + "/dhclient.conf";
  const std::string script = dir_ + "/dhclient.sh";
  const std::string env_file = dir_ + "/dhclient.env";
  {
    std::ofstream f(conf);
    f << "option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;\n"
         "option k6t-private code 240 = string;\n"
         "timeout 20;\n"
         "request subnet-mask, routers, domain-name, domain-name-servers, host-name,\n"
         "  domain-search, interface-mtu, rfc3442-classless-static-routes, ntp-servers,\n"
         "  tftp-server-name, bootfile-name, k6t-private;\n";
    std::ofstream s(script);
    s << "#!/bin/sh\ncase \"$reason\" in BOUND|REBOOT) set > " << env_file << ";; esac\nexit 0\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  CmdResult r = Sh(InGuest("dhclient -4 -1 -v -cf " + conf + " -sf " + script + " -lf " + dir_ +
                           "/dhclient.leases -pf " + dir_ + "/dhclient.pid eth0"));
  ASSERT_EQ(r.rc, 0) << r.out;
  auto env = ParseEnv(ReadFile(env_file));
  ASSERT_FALSE(env.empty()) << r.out;
  EXPECT_EQ(env["new_ip_address"], "10.0.2.2");
  EXPECT_EQ(env["new_subnet_mask"], "255.255.255.0");
  EXPECT_EQ(env["new_routers"], "10.0.2.1");
  EXPECT_EQ(env["new_domain_name_servers"], "10.96.0.10 10.96.0.11");
  EXPECT_EQ(env["new_interface_mtu"], "1400");
  EXPECT_EQ(env["new_host_name"], "vm1");
  EXPECT_EQ(env["new_domain_name"], "default.svc.cluster.local");
  EXPECT_EQ(env["new_domain_search"],
            "default.svc.cluster.local. svc.cluster.local. cluster.local.");
  // dhclient prints option 121 as the raw byte array.
  EXPECT_EQ(env["new_rfc3442_classless_static_routes"], "12 10 96 10 0 2 1 0 10 0 2 1");
  EXPECT_EQ(env["new_ntp_servers"], "10.0.0.123");
  EXPECT_EQ(env["new_tftp_server_name"], "tftp.example.com");
  EXPECT_EQ(env["new_bootfile_name"], "pxelinux.0");
  EXPECT_EQ(env["new_k6t_private"], "k6t-private");
  EXPECT_EQ(env["new_dhcp_server_identifier"], "10.0.2.1");
}

TEST_F(DhcpClients, Dhclient6GetsTheAddressAndTheRaGivesTheDefaultRoute) {
  StartServer({MasqueradePlan()});
  // The kernel's RA handling: default route via the bridge's link-local address, the /120
  // on-link, and the MTU from the RA's option.
  EXPECT_TRUE(WaitFor([&] {
    return Sh(InGuest("ip -6 route show default")).out.find("via fe80::ff:fe00:0 dev eth0") !=
           std::string::npos;
  })) << Sh(InGuest("ip -6 route")).out;
  EXPECT_TRUE(GuestHas("ip -6 route show default", "proto ra"));
  // The guest has no fd10 address yet: the on-link /120 can only come from the RA.
  EXPECT_TRUE(GuestHas("ip -6 route", "fd10:0:2::/120 dev eth0"));
  EXPECT_TRUE(GuestHas("cat /proc/sys/net/ipv6/conf/eth0/mtu", "1400"));
  // Not autonomous: no SLAAC address from the prefix.
  EXPECT_FALSE(GuestHas("ip -6 addr show dev eth0", "fd10:0:2:0:11:22ff"));

  const std::string script = dir_ + "/dhclient6.sh";
  const std::string env_file = dir_ + "/dhclient6.env";
  {
    std::ofstream s(script);
    s << "#!/bin/sh\ncase \"$reason\" in BOUND6|REBOOT6)\n"
      << "  set > " << env_file << "\n"
      << "  ip -6 addr add \"$new_ip6_address/$new_ip6_prefixlen\" dev \"$interface\" nodad;;\n"
      << "esac\nexit 0\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  CmdResult r = Sh(InGuest("dhclient -6 -1 -v -sf " + script + " -lf " + dir_ +
                           "/dhclient6.leases -pf " + dir_ + "/dhclient6.pid eth0"));
  ASSERT_EQ(r.rc, 0) << r.out;
  auto env = ParseEnv(ReadFile(env_file));
  ASSERT_FALSE(env.empty()) << r.out;
  EXPECT_EQ(env["new_ip6_address"], "fd10:0:2::2");
  EXPECT_EQ(env["new_dhcp6_name_servers"], "fd00:10:96::a");
  EXPECT_EQ(env["new_dhcp6_domain_search"],
            "default.svc.cluster.local. svc.cluster.local. cluster.local.");
  EXPECT_EQ(env["new_dhcp6_server_id"], "0:3:0:1:2:0:0:0:0:0");
  EXPECT_TRUE(GuestHas("ip -6 addr show dev eth0", "inet6 fd10:0:2::2/128"));
  // The guest reaches the gateway over its new address and learned route.
  EXPECT_TRUE(GuestHas("busybox ping -6 -c 1 -W 5 fd10:0:2::1", "1 packets received"));
}

TEST_F(DhcpClients, BridgeBindingServesThePodAddressOnlyToTheVmMac) {
  DhcpPlan p;
  p.bridge = "k6t-eth0";
  p.client_mac = kGuestMac;
  DhcpV4Offer v4;
  v4.server_ip = "169.254.75.10";
  v4.client_ip = "10.244.1.5";
  v4.prefix_len = 24;
  v4.router = "10.244.1.1";
  v4.routes = {{"10.96.0.0/12", "10.244.1.1"}, {"0.0.0.0/0", "10.244.1.1"}};
  v4.mtu = 1450;
  v4.hostname = "vm2";
  p.v4 = v4;
  // Started with the masquerade plan, then replaced while running (what hotplug does).
  StartServer({MasqueradePlan()});
  ASSERT_TRUE(server_->AddInterface(p).ok());

  auto env = Udhcpc();
  ASSERT_FALSE(env.empty()) << last_client_output_;
  EXPECT_EQ(env["ip"], "10.244.1.5");
  EXPECT_EQ(env["subnet"], "255.255.255.0");
  EXPECT_EQ(env["router"], "10.244.1.1");
  EXPECT_EQ(env["serverid"], "169.254.75.10");
  EXPECT_EQ(env["staticroutes"], "10.96.0.0/12 10.244.1.1 0.0.0.0/0 10.244.1.1");
  EXPECT_EQ(env["mtu"], "1450");
  EXPECT_EQ(env["hostname"], "vm2");

  // Another MAC on the same bridge gets nothing.
  ASSERT_EQ(Sh("ip -n " + guest_ + " link set eth0 address 02:00:00:00:00:66").rc, 0);
  auto other = Udhcpc();
  EXPECT_TRUE(other.empty()) << "a foreign MAC got a lease: " << other["ip"];
  auto stats = server_->Stats("k6t-eth0");
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->ignored, 0u);

  // Removed while running: the VM's MAC gets nothing either.
  ASSERT_EQ(Sh("ip -n " + guest_ + " link set eth0 address " + std::string(kGuestMac)).rc, 0);
  ASSERT_TRUE(server_->RemoveInterface("k6t-eth0").ok());
  EXPECT_FALSE(server_->Stats("k6t-eth0").has_value());
  EXPECT_TRUE(Udhcpc().empty());
  EXPECT_EQ(server_->RemoveInterface("k6t-eth0").code(), absl::StatusCode::kNotFound);
}

TEST_F(DhcpClients, BlockingRunServesUntilStop) {
  server_ = std::make_unique<Server>();
  ASSERT_TRUE(server_->AddInterface(MasqueradePlan()).ok());
  std::thread loop;
  absl::Status run_status = absl::UnknownError("Run() did not return");
  // A thread started inside the pod netns is in the pod netns.
  ASSERT_TRUE(pod_thread_
                  ->Run([&] {
                    loop = std::thread([&] { run_status = server_->Run(); });
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return server_->Stats("k6t-eth0").has_value(); }));
  EXPECT_EQ(Udhcpc()["ip"], "10.0.2.2") << last_client_output_;
  server_->Stop();  // returns once Run() has returned
  EXPECT_FALSE(server_->Stats("k6t-eth0").has_value());
  loop.join();
  EXPECT_TRUE(run_status.ok()) << run_status;
  EXPECT_TRUE(Udhcpc().empty());
}

TEST_F(DhcpClients, ServerRefusesAMissingBridge) {
  server_ = std::make_unique<Server>();
  DhcpPlan p = MasqueradePlan();
  p.bridge = "k6t-nothere";
  ASSERT_TRUE(server_->AddInterface(p).ok());  // validated, opened at start
  absl::Status st = pod_thread_->Run([&] { return server_->Start(); });
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("k6t-nothere"));
  // Once running, a bad plan fails at AddInterface and the running server keeps serving.
  ASSERT_TRUE(server_->RemoveInterface("k6t-nothere").ok());
  ASSERT_TRUE(server_->AddInterface(MasqueradePlan()).ok());
  ASSERT_TRUE(pod_thread_->Run([&] { return server_->Start(); }).ok());
  EXPECT_FALSE(server_->AddInterface(p).ok());
  EXPECT_EQ(Udhcpc()["ip"], "10.0.2.2") << last_client_output_;
}

}  // namespace
}  // namespace k6t::dhcp::testing
