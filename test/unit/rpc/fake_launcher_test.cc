// The fake launcher answers as k6t-launcher does (the reconcile tests rely on it), and its
// failure injection does exactly what it says.
#include "k6t/rpc/testing/fake_launcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace k6t::rpc::testing {
namespace {

namespace msg = api::rpc;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FakeLauncherTest, AttachDetachAreIdempotentAndCountRootPorts) {
  FakeLauncher l;
  l.SetFreeRootPorts(1);
  EXPECT_EQ(l.AttachInterface("blue").value_or(false), true);
  EXPECT_EQ(l.free_root_ports(), 0);
  EXPECT_EQ(l.AttachInterface("blue").value_or(true), false);  // already there
  auto dom = l.GetDomain();
  ASSERT_TRUE(dom.ok());
  ASSERT_EQ(dom->interfaces.size(), 1u);
  EXPECT_EQ(dom->interfaces[0].name, "blue");
  EXPECT_EQ(dom->interfaces[0].alias, "ua-blue");
  EXPECT_EQ(dom->interfaces[0].link_state, "up");
  EXPECT_EQ(dom->free_root_ports, 0);
  EXPECT_EQ(l.DetachInterface("blue").value_or(false), true);
  EXPECT_EQ(l.DetachInterface("blue").value_or(true), false);  // already gone
  EXPECT_EQ(l.free_root_ports(), 1);
  EXPECT_FALSE(l.Device("blue"));
}

TEST(FakeLauncherTest, NoFreeRootPortIsRestartRequiredAndChangesNothing) {
  FakeLauncher l;
  const std::string before = l.Dump();
  auto r = l.AttachInterface("blue");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no free PCIe root port"));
  EXPECT_EQ(l.Dump(), before);
}

TEST(FakeLauncherTest, PlanLookupDecidesTheDeviceOrRefuses) {
  FakeLauncher l;
  l.SetFreeRootPorts(2);
  l.SetPlanLookup([](const std::string& name) -> absl::StatusOr<msg::DomainInterface> {
    if (name != "blue") return absl::NotFoundError("no plan for " + name);
    msg::DomainInterface d;
    d.mac = "02:aa:bb:cc:dd:ee";
    d.target = "tap1234";
    d.link_state = "up";
    d.alias = "ua-blue";
    return d;
  });
  EXPECT_EQ(l.AttachInterface("red").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(l.AttachInterface("blue").ok());
  EXPECT_EQ(l.Device("blue")->mac, "02:aa:bb:cc:dd:ee");
  EXPECT_EQ(l.Device("blue")->name, "blue");
  EXPECT_EQ(l.free_root_ports(), 1);
}

TEST(FakeLauncherTest, LinkStateOfWhatIsNotThereIsNotFound) {
  FakeLauncher l;
  l.SetFreeRootPorts(1);
  EXPECT_EQ(l.SetLinkState("blue", false).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(l.AttachInterface("blue").ok());
  EXPECT_EQ(l.SetLinkState("blue", false).value_or(false), true);
  EXPECT_EQ(l.SetLinkState("blue", false).value_or(true), false);
  EXPECT_EQ(l.Device("blue")->link_state, "down");
  msg::DomainInterface vf;
  vf.name = "sriov";
  vf.kind = "hostdev";
  l.AddDevice(vf);
  EXPECT_EQ(l.SetLinkState("sriov", true).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FakeLauncherTest, AStoppedDomainRefusesDeviceChanges) {
  FakeLauncher l;
  l.SetFreeRootPorts(1);
  ASSERT_TRUE(l.Kill().ok());
  EXPECT_EQ(l.GetDomain()->state, "stopped");
  EXPECT_EQ(l.AttachInterface("blue").status().code(), absl::StatusCode::kFailedPrecondition);
  l.SetState("none");
  auto dom = l.GetDomain();
  EXPECT_EQ(dom->free_root_ports, -1);
  EXPECT_TRUE(dom->interfaces.empty());
}

TEST(FakeLauncherTest, FailCallFailsExactlyThatCallAndChangesNothing) {
  FakeLauncher l;
  l.SetFreeRootPorts(3);
  ASSERT_TRUE(l.Ping().ok());  // calls before FailCall do not count
  l.FailCall(1, absl::InternalError("boom"));
  ASSERT_TRUE(l.AttachInterface("a").ok());  // call 0
  const std::string before = l.Dump();
  auto failed = l.AttachInterface("b");  // call 1
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(l.Dump(), before);
  EXPECT_TRUE(l.AttachInterface("b").ok());  // call 2: the failure was used up
  EXPECT_THAT(l.call_log(),
              ElementsAre("Ping", "AttachInterface a", "AttachInterface b", "AttachInterface b"));
  EXPECT_EQ(l.CallsOf("AttachInterface"), 3);
}

TEST(FakeLauncherTest, GoingAwayBeforeOrAfterTheEffectAndComingBack) {
  for (bool after_effect : {false, true}) {
    SCOPED_TRACE(after_effect ? "died after attaching" : "died before attaching");
    FakeLauncher l;
    l.SetFreeRootPorts(1);
    l.GoAwayAt(1, after_effect);
    ASSERT_TRUE(l.GetDomain().ok());
    auto r = l.AttachInterface("blue");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(l.gone());
    EXPECT_EQ(l.Device("blue").has_value(), after_effect);
    EXPECT_EQ(l.Ping().status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(l.Connect().status().code(), absl::StatusCode::kUnavailable);
    l.ComeBack();
    auto conn = l.Connect();
    ASSERT_TRUE(conn.ok());
    auto dom = (*conn)->GetDomain();  // the same domain, through the new connection
    ASSERT_TRUE(dom.ok());
    EXPECT_EQ(dom->interfaces.size(), after_effect ? 1u : 0u);
  }
}

}  // namespace
}  // namespace k6t::rpc::testing
