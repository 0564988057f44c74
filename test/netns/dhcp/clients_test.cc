// Real DHCP clients against k6t's servers; every assertion is on what the client received
// or configured.
#include <gmock/gmock.h>

#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "k6t/dhcp/dns_name.h"
#include "k6t/dhcp/responder.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
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
  auto env = Dhclient();
  ASSERT_FALSE(env.empty()) << last_client_output_;
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

// One interface that cannot be served (its bridge does not exist yet) never stops the
// others; it is served as soon as its bridge appears.
TEST_F(DhcpClients, AMissingBridgeNeverStopsTheOthersAndIsServedOnceItExists) {
  ServerOptions opts;
  opts.retry_interval = std::chrono::milliseconds(200);
  server_ = std::make_unique<Server>(opts);
  DhcpPlan missing = MasqueradePlan();
  missing.bridge = "k6t-nothere";
  missing.v4->server_ip = "10.1.0.1";
  missing.v4->client_ip = "10.1.0.2";
  missing.v4->router = "10.1.0.1";
  missing.v4->routes.clear();
  missing.v6.reset();
  missing.ra.reset();
  ASSERT_TRUE(server_->AddInterface(missing).ok());  // its offer is valid
  ASSERT_TRUE(server_->AddInterface(MasqueradePlan()).ok());
  absl::Status st = pod_thread_->Run([&] { return server_->Start(); });
  ASSERT_TRUE(st.ok()) << st;

  auto status = server_->Status("k6t-nothere");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->v4.state, PartStatus::State::kFailed);
  EXPECT_TRUE(status->v4.retrying);
  EXPECT_THAT(status->Overall().message(), HasSubstr("k6t-nothere"));
  EXPECT_EQ(status->v6.state, PartStatus::State::kNotRequested);
  auto served = server_->Status("k6t-eth0");
  ASSERT_TRUE(served.has_value());
  EXPECT_TRUE(served->Overall().ok()) << served->Overall();
  EXPECT_EQ(served->v4.state, PartStatus::State::kServing);
  EXPECT_EQ(served->ra.state, PartStatus::State::kServing);
  EXPECT_EQ(Udhcpc()["ip"], "10.0.2.2") << last_client_output_;

  // The bridge appears; the guest's port moves to it: the retry serves it.
  const std::string P = "ip -n " + pod_ + " ";
  ASSERT_EQ(Sh(P + "link add k6t-nothere type bridge").rc, 0);
  ASSERT_EQ(Sh(P + "link set k6t-nothere up").rc, 0);
  ASSERT_EQ(Sh(P + "link set vport0 master k6t-nothere").rc, 0);
  ASSERT_TRUE(WaitFor([&] {
    auto s = server_->Status("k6t-nothere");
    return s && s->v4.state == PartStatus::State::kServing;
  })) << server_->Status("k6t-nothere")->Overall();
  auto env = Udhcpc();
  EXPECT_EQ(env["ip"], "10.1.0.2") << last_client_output_;
  EXPECT_EQ(env["serverid"], "10.1.0.1");
}

// Each part of an interface stands alone: an invalid DHCPv4 offer leaves DHCPv6 and the
// router advertisements serving.
TEST_F(DhcpClients, AnInvalidDhcpv4OfferLeavesDhcpv6AndRaServing) {
  DhcpPlan p = MasqueradePlan();
  p.v4->dns_servers = {"fd00::1"};  // not IPv4: the planner would never, a bug must not spread
  server_ = std::make_unique<Server>();
  absl::Status added = server_->AddInterface(p);
  EXPECT_EQ(added.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(added.message(), HasSubstr("dhcpv4"));
  EXPECT_THAT(added.message(), HasSubstr("dns_servers"));
  ASSERT_TRUE(pod_thread_->Run([&] { return server_->Start(); }).ok());
  auto status = server_->Status("k6t-eth0");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->v4.state, PartStatus::State::kFailed);
  EXPECT_FALSE(status->v4.retrying);  // the plan cannot change by itself
  EXPECT_EQ(status->v6.state, PartStatus::State::kServing);
  EXPECT_EQ(status->ra.state, PartStatus::State::kServing);
  EXPECT_TRUE(Udhcpc().empty());
  EXPECT_TRUE(WaitFor([&] {
    return Sh(InGuest("ip -6 route show default")).out.find("via fe80::ff:fe00:0") !=
           std::string::npos;
  })) << Sh(InGuest("ip -6 route")).out;
  // Once running, a plan for the same bridge with a valid offer replaces it.
  ASSERT_TRUE(server_->AddInterface(MasqueradePlan()).ok());
  EXPECT_EQ(Udhcpc()["ip"], "10.0.2.2") << last_client_output_;
}

// ---- A DHCPv4 offer larger than a reply: the pod's resolv.conf with six ~60-character
// search domains (Kubernetes allows 32 domains, 2048 characters).

std::vector<std::string> SixLongDomains() {
  std::vector<std::string> d;
  for (int i = 0; i < 6; ++i)
    d.push_back(absl::StrCat("ns", i, "-", std::string(36, static_cast<char>('a' + i)),
                             ".svc.cluster.example"));
  return d;
}

DhcpPlan LongSearchListPlan() {
  DhcpPlan p = MasqueradePlan();
  p.v4->search_domains = SixLongDomains();
  p.v6->search_domains = SixLongDomains();
  return p;
}

// What the server itself puts in a reply of `max_message` bytes: the domains the client
// must end up with (a prefix of the list).
std::vector<std::string> ExpectedSearch(const DhcpPlan& plan, int max_message) {
  auto r = Dhcpv4Responder::Create(*plan.v4, plan.client_mac, /*link_mtu=*/1500);
  EXPECT_TRUE(r.ok()) << r.status();
  Dhcpv4Message discover;
  discover.chaddr = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  discover.Set(opt4::kMessageType, std::string(1, static_cast<char>(Dhcpv4Type::kDiscover)));
  discover.Set(opt4::kMaxMessageSize, std::string{static_cast<char>(max_message >> 8),
                                                  static_cast<char>(max_message & 0xff)});
  auto out = r->Respond(discover);
  EXPECT_TRUE(out.reply) << out.note;
  const std::string* list = out.reply ? out.reply->message.Find(opt4::kDomainSearch) : nullptr;
  if (list == nullptr) return {};
  auto names = DecodeDomainList(*list);
  return names.ok() ? *names : std::vector<std::string>{};
}

class LongSearchList : public DhcpClients {
 protected:
  void SetUp() override {
    DhcpClients::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The server's warnings, to count them.
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    saved_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("dhcp-test", sink));
    spdlog::set_level(spdlog::level::info);
  }
  void TearDown() override {
    DhcpClients::TearDown();
    if (saved_logger_) spdlog::set_default_logger(saved_logger_);
  }
  int Warnings(const std::string& needle) {
    int n = 0;
    for (absl::string_view line : absl::StrSplit(log_.str(), '\n'))
      if (absl::StrContains(line, "[warning]") && absl::StrContains(line, needle)) ++n;
    return n;
  }

  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> saved_logger_;
};

TEST_F(LongSearchList, UdhcpcGetsItsAddressAndAsMuchOfTheListAsA576ByteReplyHolds) {
  const DhcpPlan plan = LongSearchListPlan();
  StartServer({plan});
  const std::vector<std::string> expected = ExpectedSearch(plan, 576);  // udhcpc's option 57
  ASSERT_GE(expected.size(), 1u);
  ASSERT_LT(expected.size(), 6u);
  auto env = Udhcpc();
  ASSERT_FALSE(env.empty()) << last_client_output_;
  EXPECT_EQ(env["ip"], "10.0.2.2");
  EXPECT_EQ(env["router"], "10.0.2.1");
  EXPECT_EQ(env["dns"], "10.96.0.10 10.96.0.11");
  EXPECT_EQ(env["search"], absl::StrJoin(expected, " "));
  EXPECT_EQ(env["mtu"], "1400");
  // A second client run: still one warning naming what a 576-byte reply leaves out.
  EXPECT_EQ(Udhcpc()["ip"], "10.0.2.2");
  server_->Stop();  // the log is read once nothing writes it
  EXPECT_EQ(Warnings("the DHCPv4 offer leaves out search domain " + SixLongDomains().back()), 1)
      << log_.str();
}

TEST_F(LongSearchList, DhclientAcceptingLargeRepliesGetsTheWholeList) {
  const DhcpPlan plan = LongSearchListPlan();
  StartServer({plan});
  // 1500 asked for, the offer's MTU (1400) allowed: 372 bytes of search list in two
  // instances of option 119, joined by the client (RFC 3396).
  auto env = Dhclient("send dhcp-max-message-size 1500;\n");
  ASSERT_FALSE(env.empty()) << last_client_output_;
  EXPECT_EQ(env["new_ip_address"], "10.0.2.2");
  EXPECT_EQ(env["new_domain_search"], absl::StrJoin(SixLongDomains(), ". ") + ".");
  EXPECT_EQ(env["new_domain_name"], SixLongDomains()[0]);
}

TEST_F(LongSearchList, DhclientWithATinyMaxMessageSizeGetsTheSmallestReply) {
  const DhcpPlan plan = LongSearchListPlan();
  StartServer({plan});
  const std::vector<std::string> expected = ExpectedSearch(plan, 576);  // the RFC's floor
  auto env = Dhclient("send dhcp-max-message-size 300;\n");
  ASSERT_FALSE(env.empty()) << last_client_output_;
  EXPECT_EQ(env["new_ip_address"], "10.0.2.2");
  EXPECT_EQ(env["new_routers"], "10.0.2.1");
  EXPECT_EQ(env["new_domain_search"], absl::StrJoin(expected, ". ") + ".");
  // And without option 57 at all, the same.
  env = Dhclient();
  ASSERT_FALSE(env.empty()) << last_client_output_;
  EXPECT_EQ(env["new_domain_search"], absl::StrJoin(expected, ". ") + ".");
}

TEST_F(LongSearchList, Dhclient6GetsTheWholeListAndItsAddress) {
  StartServer({LongSearchListPlan()});
  const std::string script = dir_ + "/dhclient6.sh";
  const std::string env_file = dir_ + "/dhclient6.env";
  {
    std::ofstream s(script);
    s << "#!/bin/sh\ncase \"$reason\" in BOUND6|REBOOT6) set > " << env_file << ";; esac\nexit 0\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  CmdResult r = Sh(InGuest("dhclient -6 -1 -v -sf " + script + " -lf " + dir_ +
                           "/dhclient6.leases -pf " + dir_ + "/dhclient6.pid eth0"));
  ASSERT_EQ(r.rc, 0) << r.out;
  auto env = ParseEnv(ReadFile(env_file));
  EXPECT_EQ(env["new_ip6_address"], "fd10:0:2::2");
  EXPECT_EQ(env["new_dhcp6_domain_search"], absl::StrJoin(SixLongDomains(), ". ") + ".");
}

}  // namespace
}  // namespace k6t::dhcp::testing
