#include "k6t/binding/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "k6t/binding/executor.h"
#include "test_pod.h"

namespace k6t::binding {
namespace {

using testing::BuildPod;
using ::testing::ElementsAre;
using testing::FakeKernel;
using ::testing::HasSubstr;
using ::testing::Not;

MATCHER_P2(RouteIs, destination, gateway, "") {
  return arg.destination == destination && arg.gateway == gateway;
}

std::vector<std::string> Describe(const InterfacePlan& p) {
  std::vector<std::string> out;
  for (const auto& op : p.ops) out.push_back(Describe(op));
  return out;
}

class PlannerTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::vector<InterfacePlan>> Plan(const api::Vmi& vmi,
                                                  std::vector<api::NetworkStatusEntry> st = {}) {
    auto pod = ObservePod(k_.kernel());
    if (!pod.ok()) return pod.status();
    pod_ = *pod;
    status_ = std::move(st);
    PlanRequest req{vmi, status_, pod_, options_};
    return PlanVmi(req);
  }

  FakeKernel k_;
  PodState pod_;
  std::vector<api::NetworkStatusEntry> status_;
  PlannerOptions options_;
};

TEST_F(PlannerTest, MasqueradeMatchesKubeVirtLayout) {
  BuildPod(k_, /*ipv6=*/false, /*blue=*/false);
  auto plans = Plan(testing::MasqueradeVmi());
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_EQ(plans->size(), 1u);
  const InterfacePlan& p = (*plans)[0];
  EXPECT_EQ(p.binding, "masquerade");
  EXPECT_EQ(p.pod_interface, "eth0");
  EXPECT_EQ(p.mac, "0a:58:0a:f4:00:05");
  EXPECT_EQ(p.mtu, 1400);
  EXPECT_THAT(Describe(p),
              ElementsAre("create bridge k6t-eth0 mac=02:00:00:00:00:00 mtu=1400",
                          "add address 10.0.2.1/24 dev k6t-eth0",
                          "create tap tap0 owner=107 group=107 queues=1 mtu=1400",
                          "set tap0 master k6t-eth0", "set tap0 up", "set k6t-eth0 up",
                          "sysctl net/ipv4/conf/k6t-eth0/route_localnet = 1",
                          "sysctl net/ipv4/ip_forward = 1", "nft replace table ip k6t_nat"));
  const auto& nft = std::get<NftTable>(p.ops.back());
  EXPECT_THAT(nft.body, HasSubstr("iifname \"eth0\" jump KUBEVIRT_PREINBOUND"));
  EXPECT_THAT(nft.body, HasSubstr("ip saddr 10.0.2.2 masquerade"));
  EXPECT_THAT(nft.body, HasSubstr("oifname \"k6t-eth0\" jump KUBEVIRT_POSTINBOUND"));
  EXPECT_THAT(nft.body, HasSubstr("ip daddr 127.0.0.1 dnat to 10.0.2.2"));
  EXPECT_THAT(nft.body, HasSubstr("ip saddr 127.0.0.1 snat to 10.0.2.1"));
  ASSERT_TRUE(p.device);
  EXPECT_EQ(Describe(*p.device),
            "tap tap0 mac 0a:58:0a:f4:00:05 model virtio-non-transitional mtu 1400 alias "
            "ua-default");
  ASSERT_TRUE(p.dhcp && p.dhcp->v4);
  EXPECT_EQ(p.dhcp->bridge, "k6t-eth0");
  EXPECT_EQ(p.dhcp->v4->client_ip, "10.0.2.2");
  EXPECT_EQ(p.dhcp->v4->router, "10.0.2.1");
  EXPECT_EQ(p.dhcp->v4->server_ip, "10.0.2.1");
  EXPECT_EQ(p.dhcp->v4->prefix_len, 24);
  EXPECT_EQ(p.dhcp->v4->mtu, 1400);
  EXPECT_EQ(p.dhcp->v4->hostname, "vm1");
  EXPECT_FALSE(p.dhcp->v6);
}

TEST_F(PlannerTest, MasqueradeDeclaredPortsOnlyForwardThosePorts) {
  BuildPod(k_, false, false);
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.domain.interfaces[0].ports = {{"http", "", 80}, {"dns", "UDP", 53}};
  auto plans = Plan(vmi);
  ASSERT_TRUE(plans.ok()) << plans.status();
  const auto& body = std::get<NftTable>((*plans)[0].ops.back()).body;
  EXPECT_THAT(body, HasSubstr("tcp dport 80 dnat to 10.0.2.2"));
  EXPECT_THAT(body, HasSubstr("udp dport 53 dnat to 10.0.2.2"));
  EXPECT_THAT(body, HasSubstr("ip daddr 127.0.0.1 tcp dport 80 dnat to 10.0.2.2"));
  EXPECT_THAT(body, HasSubstr("tcp dport 80 ip saddr 127.0.0.1 snat to 10.0.2.1"));
  EXPECT_THAT(body, Not(HasSubstr("\t\tdnat to 10.0.2.2")));
}

TEST_F(PlannerTest, MasqueradeDualStackAndCustomCidr) {
  BuildPod(k_, /*ipv6=*/true, false);
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.networks[0].pod->vm_network_cidr = "10.11.12.0/28";
  auto plans = Plan(vmi);
  ASSERT_TRUE(plans.ok()) << plans.status();
  const InterfacePlan& p = (*plans)[0];
  auto ops = Describe(p);
  EXPECT_THAT(ops, ::testing::Contains("add address 10.11.12.1/28 dev k6t-eth0"));
  EXPECT_THAT(ops, ::testing::Contains("add address fd10:0:2::1/120 dev k6t-eth0"));
  EXPECT_THAT(ops, ::testing::Contains("sysctl net/ipv6/conf/all/forwarding = 1"));
  EXPECT_THAT(ops, ::testing::Contains("nft replace table ip6 k6t_nat"));
  ASSERT_TRUE(p.dhcp->v6 && p.dhcp->ra);
  EXPECT_EQ(p.dhcp->v6->client_ip, "fd10:0:2::2");
  EXPECT_EQ(p.dhcp->ra->prefix, "fd10:0:2::/120");
  EXPECT_EQ(p.dhcp->v4->client_ip, "10.11.12.2");
  EXPECT_EQ(p.dhcp->v4->prefix_len, 28);
}

TEST_F(PlannerTest, MasqueradeCidrTooSmallIsAnError) {
  BuildPod(k_, false, false);
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.networks[0].pod->vm_network_cidr = "10.0.2.0/31";
  auto plans = Plan(vmi);
  ASSERT_FALSE(plans.ok());
  EXPECT_THAT(plans.status().message(), HasSubstr("interface \"default\""));
  EXPECT_THAT(plans.status().message(), HasSubstr("10.0.2.0/31"));
}

TEST_F(PlannerTest, BridgeSecondaryMatchesKubeVirtLayout) {
  BuildPod(k_);
  auto plans = Plan(testing::MasqueradeAndBridgeVmi());
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_EQ(plans->size(), 2u);
  const InterfacePlan& p = (*plans)[1];
  EXPECT_EQ(p.pod_interface, "pod16477688c0e");
  EXPECT_EQ(p.mac, "0a:58:c0:a8:64:0a");
  auto ops = Describe(p);
  ASSERT_GE(ops.size(), 10u);
  EXPECT_THAT(ops[0], HasSubstr("create bridge k6t-16477688c0e mac=02:6b:36:"));
  EXPECT_EQ(ops[1], "add address 169.254.75.11/32 dev k6t-16477688c0e");
  EXPECT_EQ(ops[2], "flush addresses dev pod16477688c0e");
  EXPECT_EQ(ops[3], "rename pod16477688c0e -> 16477688c0e-nic");
  EXPECT_THAT(ops, ::testing::Contains("set 16477688c0e-nic master k6t-16477688c0e"));
  EXPECT_THAT(ops, ::testing::Contains("set 16477688c0e-nic learning off"));
  EXPECT_THAT(
      ops, ::testing::Contains("create tap tap16477688c0e owner=107 group=107 queues=1 mtu=1500"));
  EXPECT_THAT(ops, ::testing::Contains(
                       "create dummy pod16477688c0e (down) mac=0a:58:c0:a8:64:0a mtu=1500"));
  EXPECT_THAT(ops, ::testing::Contains("add address 192.168.100.10/24 dev pod16477688c0e"));
  EXPECT_EQ(ops.back(), "sysctl net/ipv4/conf/all/arp_ignore = 1");
  ASSERT_TRUE(p.dhcp && p.dhcp->v4);
  EXPECT_EQ(p.dhcp->client_mac, "0a:58:c0:a8:64:0a");
  EXPECT_EQ(p.dhcp->v4->client_ip, "192.168.100.10");
  EXPECT_EQ(p.dhcp->v4->server_ip, "169.254.75.11");
  // The pod link has no default route: neither has the guest (only the static route).
  EXPECT_EQ(p.dhcp->v4->router, "");
  EXPECT_THAT(p.dhcp->v4->routes, ElementsAre(RouteIs("10.10.0.0/16", "192.168.100.1")));
  ASSERT_TRUE(p.device);
  EXPECT_EQ(p.device->kind, DeviceKind::kTap);
  EXPECT_EQ(p.device->tap, "tap16477688c0e");
  EXPECT_EQ(p.device->mac, "0a:58:c0:a8:64:0a");
  EXPECT_EQ(p.device->alias, "ua-blue");
}

// Option 121 carries exactly the pod link's routes, and a default route only when the pod
// link has one (clients that get option 121 ignore option 3).
class BridgeDhcpRoutes : public PlannerTest {
 protected:
  absl::StatusOr<api::DhcpV4Offer> Offer() {
    api::Vmi vmi = testing::MasqueradeVmi();
    vmi.spec.domain.interfaces[0] = testing::MakeInterface("default", api::BindingMethod::kBridge);
    auto plans = Plan(vmi);
    if (!plans.ok()) return plans.status();
    if (plans->size() != 1 || !(*plans)[0].dhcp || !(*plans)[0].dhcp->v4)
      return absl::InternalError("no DHCPv4 offer");
    return *(*plans)[0].dhcp->v4;
  }
};

TEST_F(BridgeDhcpRoutes, OnlyADefaultRouteIsTheRouter) {
  BuildPod(k_, /*ipv6=*/false, /*blue=*/false);  // eth0: its subnet and default via .1
  auto o = Offer();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->router, "10.244.0.1");
  EXPECT_THAT(o->routes, ElementsAre());  // option 3 says it all
}

TEST_F(BridgeDhcpRoutes, StaticRoutesWithTheDefaultLast) {
  BuildPod(k_, /*ipv6=*/false, /*blue=*/false);
  k_.AddPodRoute("eth0", "10.96.0.0/12", "10.244.0.254");
  k_.AddPodRoute("eth0", "192.168.7.0/24", "");
  auto o = Offer();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->router, "10.244.0.1");
  EXPECT_THAT(o->routes,
              ElementsAre(RouteIs("10.96.0.0/12", "10.244.0.254"), RouteIs("192.168.7.0/24", ""),
                          RouteIs("0.0.0.0/0", "10.244.0.1")));
}

TEST_F(BridgeDhcpRoutes, NoDefaultRouteNoRouter) {
  testing::AddEth0(k_);
  k_.AddPodRoute("eth0", "10.96.0.0/12", "10.244.0.1");  // KubeVirt would make .1 the router
  auto o = Offer();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->router, "");
  EXPECT_THAT(o->routes, ElementsAre(RouteIs("10.96.0.0/12", "10.244.0.1")));
}

TEST_F(BridgeDhcpRoutes, OnLinkDefaultRouteGoesInOption121) {
  testing::AddEth0(k_);
  k_.AddPodRoute("eth0", "0.0.0.0/0", "");  // `default dev eth0`: option 3 cannot say it
  auto o = Offer();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->router, "");
  EXPECT_THAT(o->routes, ElementsAre(RouteIs("0.0.0.0/0", "")));
}

TEST_F(PlannerTest, PlaceholderIsIfbWhenKernelHasNoDummy) {
  BuildPod(k_);
  k_.SetSupportedKinds({"bridge", "ifb", "veth", "tun"});
  auto plans = Plan(testing::MasqueradeAndBridgeVmi());
  ASSERT_TRUE(plans.ok()) << plans.status();
  EXPECT_THAT(
      Describe((*plans)[1]),
      ::testing::Contains("create ifb pod16477688c0e (down) mac=0a:58:c0:a8:64:0a mtu=1500"));
  EXPECT_THAT((*plans)[1].notes, ::testing::Contains(HasSubstr("no dummy driver")));
}

TEST_F(PlannerTest, L2BridgeOnPrimaryUserDefinedNetwork) {
  BuildPod(k_, false, false);
  Link udn;
  udn.name = "ovn-udn1";
  udn.kind = "veth";
  udn.mac = "0a:58:64:0a:00:07";
  udn.mtu = 1400;
  udn.admin_up = true;
  k_.AddLink(udn);
  k_.AddPodAddress("ovn-udn1", "100.10.0.7/16");
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.domain.interfaces[0] = testing::MakeInterface("udn", api::BindingMethod::kPlugin);
  vmi.spec.domain.interfaces[0].plugin_name = "l2bridge";
  vmi.spec.networks[0] = testing::MultusNetwork("udn", "primary-udn", /*is_default=*/true);
  api::NetworkStatusEntry e;
  e.name = "ns/primary-udn";
  e.interface = "ovn-udn1";
  e.is_default = true;
  auto plans = Plan(vmi, {e});
  ASSERT_TRUE(plans.ok()) << plans.status();
  const InterfacePlan& p = (*plans)[0];
  EXPECT_EQ(p.binding, "l2bridge");
  EXPECT_EQ(p.pod_interface, "ovn-udn1");
  EXPECT_EQ(p.mac, "0a:58:64:0a:00:07");
  auto ops = Describe(p);
  EXPECT_THAT(ops[0], HasSubstr("create bridge k6t-ovn-udn1"));
  EXPECT_THAT(ops, ::testing::Contains("rename ovn-udn1 -> ovn-udn1-nic"));
  EXPECT_THAT(ops, ::testing::Contains(HasSubstr("create tap tap0 ")));
  EXPECT_THAT(ops, Not(::testing::Contains(HasSubstr("169.254.75"))));
  EXPECT_FALSE(p.dhcp);
}

TEST_F(PlannerTest, SriovTakesVfFromNetworkStatus) {
  BuildPod(k_, false, false);
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.domain.interfaces.push_back(testing::MakeInterface("vf", api::BindingMethod::kSriov));
  vmi.spec.networks.push_back(testing::MultusNetwork("vf", "sriov-net"));
  api::NetworkStatusEntry e;
  e.name = "ns/sriov-net";
  e.interface = "net1";
  e.device_info = api::DeviceInfo{"pci", "1.1.0", api::PciDeviceInfo{"0000:65:00.2"}};
  auto plans = Plan(vmi, {e});
  ASSERT_TRUE(plans.ok()) << plans.status();
  const InterfacePlan& p = (*plans)[1];
  EXPECT_TRUE(p.ops.empty());
  ASSERT_TRUE(p.device);
  EXPECT_EQ(Describe(*p.device), "hostdev 0000:65:00.2 alias ua-sriov-vf");

  auto missing = Plan(vmi, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("no VF PCI address"));
}

TEST_F(PlannerTest, PasstNeedsNoLinks) {
  BuildPod(k_, false, false);
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.domain.interfaces[0] = testing::MakeInterface("default", api::BindingMethod::kPasst);
  vmi.spec.domain.interfaces[0].ports = {{"", "", 8080}, {"", "UDP", 53}};
  auto plans = Plan(vmi);
  ASSERT_TRUE(plans.ok()) << plans.status();
  const InterfacePlan& p = (*plans)[0];
  EXPECT_THAT(Describe(p), ElementsAre("sysctl net/ipv4/ping_group_range = 107\t107",
                                       "sysctl net/ipv4/ip_unprivileged_port_start = 0"));
  ASSERT_TRUE(p.passt);
  EXPECT_EQ(p.passt->pod_interface, "eth0");
  EXPECT_THAT(p.passt->forwards, ElementsAre(std::pair<std::string, int>{"tcp", 8080},
                                             std::pair<std::string, int>{"udp", 53}));
  EXPECT_EQ(p.passt->mtu, p.mtu);
  ASSERT_TRUE(p.device);
  EXPECT_EQ(p.device->kind, DeviceKind::kPasst);
  EXPECT_EQ(p.device->mac, p.mac);
  EXPECT_EQ(p.device->mtu, p.mtu);
  EXPECT_EQ(p.device->alias, "ua-default");
}

TEST_F(PlannerTest, MissingPodLinkNamesTheInterface) {
  BuildPod(k_, false, /*blue=*/false);
  auto plans = Plan(testing::MasqueradeAndBridgeVmi());
  ASSERT_FALSE(plans.ok());
  EXPECT_EQ(plans.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(plans.status().message(), HasSubstr("interface \"blue\""));
  EXPECT_THAT(plans.status().message(), HasSubstr("pod16477688c0e does not exist"));
}

TEST_F(PlannerTest, MtuOverrideAndMultiqueue) {
  BuildPod(k_, false, false);
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.domain.interfaces[0].mtu = 1300;
  vmi.spec.domain.network_interface_multiqueue = true;
  vmi.spec.domain.cpu.cores = 4;
  auto plans = Plan(vmi);
  ASSERT_TRUE(plans.ok()) << plans.status();
  const InterfacePlan& p = (*plans)[0];
  EXPECT_EQ(p.mtu, 1300);
  EXPECT_EQ(p.queues, 4);
  EXPECT_THAT(Describe(p),
              ::testing::Contains("create tap tap0 owner=107 group=107 queues=4 mtu=1300"));
  ASSERT_TRUE(p.device);
  EXPECT_EQ(p.device->queues, 4);
  EXPECT_EQ(p.device->mtu, 1300);
  EXPECT_FALSE(p.device->vhost);  // the planner's option; the emitter checks the host too
}

class RecordingBinding : public Binding {
 public:
  absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const override {
    plan.ops.push_back(CreateBridge{"br-" + in.names.pod, "", 0});
    plan.device = GuestDevice{DeviceKind::kTap, "ua-mine"};
    return absl::OkStatus();
  }
};

TEST_F(PlannerTest, EmbedderRegistersItsOwnBinding) {
  BuildPod(k_, false, false);
  BindingRegistry registry;
  BindingRegistry::RegisterBuiltins(registry);
  ASSERT_TRUE(registry.Register("mine", std::make_shared<RecordingBinding>()).ok());
  EXPECT_EQ(registry.Register("mine", std::make_shared<RecordingBinding>()).code(),
            absl::StatusCode::kAlreadyExists);
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.domain.interfaces[0] = testing::MakeInterface("default", api::BindingMethod::kPlugin);
  vmi.spec.domain.interfaces[0].plugin_name = "mine";
  auto pod = ObservePod(k_.kernel());
  ASSERT_TRUE(pod.ok());
  std::vector<api::NetworkStatusEntry> none;
  auto plans = PlanVmi(PlanRequest{vmi, none, *pod, {}}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status();
  EXPECT_THAT(Describe((*plans)[0]), ElementsAre("create bridge br-eth0"));
  // The global registry does not know it.
  auto unknown = PlanVmi(PlanRequest{vmi, none, *pod, {}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("no binding \"mine\""));
}

class NoPodLinkBinding : public Binding {
 public:
  bool NeedsPodLink() const override { return false; }
  absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const override {
    plan.ops.push_back(CreateTap{in.names.tap, 107, 107, 1, 1500});
    plan.device = GuestDevice{DeviceKind::kTap, "ua-mine"};
    return absl::OkStatus();
  }
};

TEST_F(PlannerTest, ABindingWithoutAPodLinkClaimsNoneWhereThereIsNone) {
  BindingRegistry registry;
  ASSERT_TRUE(registry.Register("mine", std::make_shared<NoPodLinkBinding>()).ok());
  api::Vmi vmi = testing::MasqueradeVmi();
  vmi.spec.domain.interfaces[0] = testing::MakeInterface("default", api::BindingMethod::kPlugin);
  vmi.spec.domain.interfaces[0].plugin_name = "mine";
  auto empty_pod = ObservePod(k_.kernel());  // no eth0
  ASSERT_TRUE(empty_pod.ok());
  std::vector<api::NetworkStatusEntry> none;
  auto plans = PlanVmi(PlanRequest{vmi, none, *empty_pod, {}}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status();
  EXPECT_EQ((*plans)[0].pod_interface, "");
  BuildPod(k_, false, false);
  auto pod = ObservePod(k_.kernel());
  ASSERT_TRUE(pod.ok());
  plans = PlanVmi(PlanRequest{vmi, none, *pod, {}}, registry);
  ASSERT_TRUE(plans.ok()) << plans.status();
  EXPECT_EQ((*plans)[0].pod_interface, "eth0");
}

TEST_F(PlannerTest, AbsentInterfacesAreNotPlanned) {
  BuildPod(k_);
  api::Vmi vmi = testing::MasqueradeAndBridgeVmi();
  vmi.spec.domain.interfaces[1].state = "absent";
  auto plans = Plan(vmi);
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_EQ(plans->size(), 1u);
  EXPECT_EQ((*plans)[0].interface_name, "default");
}

}  // namespace
}  // namespace k6t::binding
