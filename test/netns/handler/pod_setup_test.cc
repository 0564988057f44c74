// Pod network setup and teardown in real namespaces, on pods built by the real CNI plugins.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "k6t/api/decode.h"
#include "k6t/binding/cache.h"
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

constexpr char kVm[] = "test/netns/handler/testdata/podsim-vm.yaml";
constexpr char kBlue[] = "pod16477688c0e";

nlohmann::json Link(const PodSim& pod, const std::string& name) {
  auto r = Sh(absl::StrCat("ip -n ", pod.name(), " -j -d link show dev ", name));
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty()) return nlohmann::json();
  return j[0];
}

std::string Kind(const nlohmann::json& l) {
  return l.contains("linkinfo") ? l["linkinfo"].value("info_kind", "") : "";
}

bool Up(const nlohmann::json& l) {
  for (const auto& f : l.value("flags", nlohmann::json::array()))
    if (f == "UP") return true;
  return false;
}

class PodSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pod_ = std::make_unique<PodSim>(kVm);
    ASSERT_TRUE(pod_->ok()) << pod_->error();
    auto vmi = api::DecodeSingleVmiFile(testsupport::SourceDir() + "/" + kVm);
    ASSERT_TRUE(vmi.ok()) << vmi.status();
    req_.vmi = *vmi;
    req_.pod_netns = pod_->netns_path();
    req_.state_dir = testsupport::TempDir();
    req_.network_status = pod_->NetworkStatus();
    ASSERT_FALSE(req_.network_status.empty());
    req_.options = binding::DefaultPlannerOptions();
    initial_ = NetnsSnapshot(pod_->name());
  }
  void TearDown() override {
    Sh("rm -rf " + req_.state_dir);
    pod_.reset();
  }

  std::unique_ptr<PodSim> pod_;
  binding::PodNetworkRequest req_;
  std::string initial_;
};

TEST_F(PodSetupTest, MasqueradeAndBridgeLookLikeAVirtLauncherPod) {
  auto r = SetupPodNetwork(req_);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->plans.size(), 2u);

  auto br = Link(*pod_, "k6t-eth0");
  EXPECT_EQ(Kind(br), "bridge");
  EXPECT_EQ(br.value("address", ""), "02:00:00:00:00:00");
  EXPECT_EQ(br.value("mtu", 0), 1400);
  EXPECT_TRUE(Up(br));
  auto tap0 = Link(*pod_, "tap0");
  EXPECT_EQ(Kind(tap0), "tun");
  EXPECT_EQ(tap0.value("master", ""), "k6t-eth0");
  EXPECT_EQ(tap0.value("mtu", 0), 1400);
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", pod_->name(), " -4 addr show dev k6t-eth0")),
              HasSubstr("10.0.2.1/24"));

  auto bbr = Link(*pod_, "k6t-16477688c0e");
  EXPECT_EQ(Kind(bbr), "bridge");
  auto nic = Link(*pod_, "16477688c0e-nic");
  EXPECT_EQ(nic.value("master", ""), "k6t-16477688c0e");
  EXPECT_EQ(nic.value("address", ""), bbr.value("address", "?"));
  EXPECT_TRUE(Up(nic));
  ASSERT_TRUE(nic.contains("linkinfo"));
  EXPECT_EQ(nic["linkinfo"]["info_slave_data"].value("learning", true), false);
  auto tapb = Link(*pod_, "tap16477688c0e");
  EXPECT_EQ(tapb.value("master", ""), "k6t-16477688c0e");
  auto placeholder = Link(*pod_, kBlue);
  EXPECT_THAT(Kind(placeholder), ::testing::AnyOf("dummy", "ifb"));
  EXPECT_FALSE(Up(placeholder));
  EXPECT_EQ(placeholder.value("address", ""), r->plans[1].original_mac);
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", pod_->name(), " -4 addr show dev ", kBlue)),
              HasSubstr("192.168.100."));
  EXPECT_THAT(ShOk(absl::StrCat("ip -n ", pod_->name(), " -4 addr show dev k6t-16477688c0e")),
              HasSubstr("169.254.75.11/32"));
  EXPECT_EQ(ShOk(absl::StrCat("ip netns exec ", pod_->name(), " sysctl -n net.ipv4.ip_forward")),
            "1\n");
  EXPECT_EQ(
      ShOk(absl::StrCat("ip netns exec ", pod_->name(), " sysctl -n net.ipv4.conf.all.arp_ignore")),
      "1\n");
  const std::string nft =
      ShOk(absl::StrCat("ip netns exec ", pod_->name(), " nft list table ip k6t_nat"));
  EXPECT_THAT(nft, HasSubstr("jump KUBEVIRT_PREINBOUND"));
  EXPECT_THAT(nft, HasSubstr("dnat to 10.0.2.2"));
  EXPECT_THAT(nft, HasSubstr("masquerade"));

  // What the cache says matches what was applied.
  auto cached = binding::ReadCachedInterfaces(req_.state_dir);
  ASSERT_TRUE(cached.ok());
  ASSERT_EQ(cached->size(), 2u);
  for (const auto& c : *cached) EXPECT_EQ(c.phase, binding::PlumbingPhase::kFinished);

  auto t = TeardownPodNetwork(req_);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(NetnsSnapshot(pod_->name()), initial_);
  auto left = binding::ReadCachedInterfaces(req_.state_dir);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST_F(PodSetupTest, SecondSetupChangesNothing) {
  ASSERT_TRUE(SetupPodNetwork(req_).ok());
  const std::string applied = NetnsSnapshot(pod_->name());
  auto again = SetupPodNetwork(req_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->report.changed, 0) << ::testing::PrintToString(again->report.changes);
  EXPECT_EQ(NetnsSnapshot(pod_->name()), applied);
}

TEST_F(PodSetupTest, FailureAtEveryOperationLeavesTheNamespaceAsItWas) {
  auto plans = PlanPodNetwork(req_);
  ASSERT_TRUE(plans.ok()) << plans.status();
  size_t total = 0;
  for (const auto& p : *plans) total += p.ops.size();
  ASSERT_GT(total, 20u);
  for (size_t i = 0; i < total; ++i) {
    binding::PodNetworkRequest req = req_;
    req.executor.fail_at_op = static_cast<int>(i);
    auto r = SetupPodNetwork(req);
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(NetnsSnapshot(pod_->name()), initial_) << "after a failure at operation " << i;
    auto cached = binding::ReadCachedInterfaces(req_.state_dir);
    ASSERT_TRUE(cached.ok());
    EXPECT_TRUE(cached->empty()) << "op " << i;
  }
  // And afterwards a clean setup still works.
  ASSERT_TRUE(SetupPodNetwork(req_).ok());
}

TEST_F(PodSetupTest, TrafficThroughTheMasqueradeNat) {
  binding::PodNetworkRequest req = req_;
  req.vmi.spec.domain.interfaces[0].ports = {{"http", "TCP", 8080}};
  ASSERT_TRUE(SetupPodNetwork(req).ok());
  // A veth "guest" takes the tap's place on k6t-eth0.
  const std::string guest = pod_->name() + "-g";
  ShOk("ip netns add " + guest);
  ShOk(absl::StrCat("ip -n ", pod_->name(), " link add vguest type veth peer name eth0 netns ",
                    guest));
  ShOk(absl::StrCat("ip -n ", pod_->name(), " link set vguest master k6t-eth0 up"));
  ShOk(absl::StrCat("ip -n ", guest, " addr add 10.0.2.2/24 dev eth0"));
  ShOk(absl::StrCat("ip -n ", guest, " link set eth0 up"));
  ShOk(absl::StrCat("ip -n ", guest, " link set lo up"));
  ShOk(absl::StrCat("ip -n ", guest, " route add default via 10.0.2.1"));
  const std::string pod_ip = req.network_status[0].ips.at(0);

  // Egress: the guest reaches a server on the node, which sees the pod's address.
  const std::string node = pod_->node_netns();
  Sh(absl::StrCat("ip netns exec ", node, " sh -c 'busybox nc -l -p 9101 > /tmp/", guest,
                  ".egress 2>&1 &'"));
  Sh("sleep 0.2");
  ShOk(absl::StrCat("echo from-guest | ip netns exec ", guest, " busybox nc -w 2 10.244.0.1 9101"));
  Sh("sleep 0.2");
  EXPECT_THAT(ShOk(absl::StrCat("cat /tmp/", guest, ".egress")), HasSubstr("from-guest"));

  // Ingress on the declared port reaches the guest; an undeclared one does not.
  Sh(absl::StrCat("ip netns exec ", guest,
                  " sh -c 'echo hello-from-guest | busybox nc -l -p 8080 >/dev/null 2>&1 &'"));
  Sh(absl::StrCat("ip netns exec ", guest,
                  " sh -c 'echo wrong | busybox nc -l -p 8081 >/dev/null 2>&1 &'"));
  Sh("sleep 0.2");
  auto in =
      Sh(absl::StrCat("ip netns exec ", node, " busybox nc -w 2 ", pod_ip, " 8080 </dev/null"));
  EXPECT_THAT(in.output, HasSubstr("hello-from-guest"));
  auto refused =
      Sh(absl::StrCat("ip netns exec ", node, " busybox nc -w 2 ", pod_ip, " 8081 </dev/null"));
  EXPECT_THAT(refused.output, Not(HasSubstr("wrong")));

  Sh(absl::StrCat("ip netns pids ", guest, " | xargs -r kill"));
  Sh(absl::StrCat("ip netns pids ", node, " | xargs -r kill"));
  Sh("ip netns del " + guest);
  Sh(absl::StrCat("rm -f /tmp/", guest, ".egress"));
}

TEST_F(PodSetupTest, BadInputChangesNothing) {
  binding::PodNetworkRequest bad = req_;
  bad.pod_netns = "/run/netns/k6t-no-such-pod";
  auto r = SetupPodNetwork(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("/run/netns/k6t-no-such-pod"));

  // A network the CNI never created.
  binding::PodNetworkRequest missing = req_;
  api::Interface red = missing.vmi.spec.domain.interfaces[1];
  red.name = "red";
  missing.vmi.spec.domain.interfaces.push_back(red);
  api::Network net = missing.vmi.spec.networks[1];
  net.name = "red";
  net.multus->network_name = "red-net";
  missing.vmi.spec.networks.push_back(net);
  auto m = SetupPodNetwork(missing);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("interface \"red\""));
  EXPECT_EQ(NetnsSnapshot(pod_->name()), initial_);
  auto cached = binding::ReadCachedInterfaces(req_.state_dir);
  ASSERT_TRUE(cached.ok());
  EXPECT_TRUE(cached->empty());
}

}  // namespace
}  // namespace k6t::handler
