// The bindings other than masquerade + bridge, in real namespaces: an l2bridge primary
// user-defined network with a bridge secondary (pod-sim --primary-udn), passt's sysctls,
// and SR-IOV touching nothing in the pod.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "k6t/api/decode.h"
#include "k6t/binding/pod_network.h"
#include "test/support/netns_snapshot.h"
#include "test/support/pod_sim.h"
#include "test/support/shell.h"

namespace k6t::handler {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testsupport::NetnsSnapshot;
using testsupport::PodSim;
using testsupport::Sh;
using testsupport::ShOk;

binding::PodNetworkRequest Request(const PodSim& pod, const std::string& vm_file) {
  binding::PodNetworkRequest req;
  auto vmi = api::DecodeSingleVmiFile(testsupport::SourceDir() + "/" + vm_file);
  EXPECT_TRUE(vmi.ok()) << vmi.status();
  if (vmi.ok()) req.vmi = *vmi;
  req.pod_netns = pod.netns_path();
  req.state_dir = testsupport::TempDir();
  req.network_status = pod.NetworkStatus();
  req.options = binding::DefaultPlannerOptions();
  return req;
}

TEST(BindingsNetnsTest, L2BridgePrimaryUdnWithBridgeSecondary) {
  constexpr char kVm[] = "examples/primary-and-secondary-udn.yaml";
  PodSim pod(kVm, "--primary-udn");
  ASSERT_TRUE(pod.ok()) << pod.error();
  binding::PodNetworkRequest req = Request(pod, kVm);
  const std::string initial = NetnsSnapshot(pod.name());
  auto r = SetupPodNetwork(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->plans.size(), 2u);
  EXPECT_EQ(r->plans[0].binding, "l2bridge");
  EXPECT_EQ(r->plans[0].pod_interface, "ovn-udn1");
  EXPECT_FALSE(r->plans[0].dhcp);

  const std::string links = ShOk(absl::StrCat("ip -n ", pod.name(), " -o -d link show"));
  EXPECT_THAT(links, HasSubstr("k6t-ovn-udn1:"));
  EXPECT_THAT(links, HasSubstr("ovn-udn1-nic@"));
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", pod.name(), " -o link show dev tap0")),
              HasSubstr("master k6t-ovn-udn1"));
  // No fake server address on an l2bridge bridge: the provider serves addresses.
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", pod.name(), " -4 addr show dev k6t-ovn-udn1")),
              Not(HasSubstr("169.254.75")));
  // The VM takes the pod's MAC on the primary UDN; the placeholder keeps the name and IP.
  EXPECT_EQ(r->plans[0].mac, r->plans[0].original_mac);
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", pod.name(), " -4 addr show dev ovn-udn1")),
              HasSubstr("10.128.0."));
  // The secondary is a bridge binding with DHCP on its own bridge.
  EXPECT_EQ(r->plans[1].binding, "bridge");
  ASSERT_TRUE(r->plans[1].dhcp && r->plans[1].dhcp->v4);
  EXPECT_THAT(r->plans[1].dhcp->v4->client_ip, HasSubstr("10.200.0."));
  EXPECT_THAT(links, HasSubstr(absl::StrCat("k6t-", r->plans[1].pod_interface.substr(3), ":")));
  // No NAT for these bindings.
  EXPECT_THAT(Sh(absl::StrCat("ip netns exec ", pod.name(), " nft list ruleset")).output,
              Not(HasSubstr("k6t_nat")));

  auto t = TeardownPodNetwork(req);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(NetnsSnapshot(pod.name()), initial);
  Sh("rm -rf " + req.state_dir);
}

TEST(BindingsNetnsTest, PasstSetsItsSysctlsAndSriovTouchesNothing) {
  constexpr char kVm[] = "test/netns/handler/testdata/passt-sriov-vm.yaml";
  PodSim pod("test/netns/handler/testdata/podsim-vm.yaml");
  ASSERT_TRUE(pod.ok()) << pod.error();
  binding::PodNetworkRequest req = Request(pod, kVm);
  api::NetworkStatusEntry vf;
  vf.name = "default/sriov-net";
  vf.interface = "net1";
  vf.device_info = api::DeviceInfo{"pci", "1.1.0", api::PciDeviceInfo{"0000:65:00.2"}};
  req.network_status.push_back(vf);
  const std::string initial = NetnsSnapshot(pod.name());
  auto r = SetupPodNetwork(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->plans.size(), 2u);
  EXPECT_EQ(ShOk(absl::StrCat("ip netns exec ", pod.name(),
                              " sysctl -n net.ipv4.ip_unprivileged_port_start")),
            "0\n");
  EXPECT_THAT(
      ShOk(absl::StrCat("ip netns exec ", pod.name(), " sysctl -n net.ipv4.ping_group_range")),
      HasSubstr("107"));
  ASSERT_TRUE(r->plans[0].passt);
  EXPECT_EQ(r->plans[0].passt->pod_interface, "eth0");
  ASSERT_TRUE(r->plans[1].device);
  EXPECT_EQ(r->plans[1].device->host_pci_address, "0000:65:00.2");
  // Neither binding created a link.
  EXPECT_EQ(ShOk(absl::StrCat("ip -n ", pod.name(), " -o link show | wc -l")),
            Sh(absl::StrCat("echo ", 3)).output);
  auto t = TeardownPodNetwork(req);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(NetnsSnapshot(pod.name()), initial);
  Sh("rm -rf " + req.state_dir);
}

}  // namespace
}  // namespace k6t::handler
