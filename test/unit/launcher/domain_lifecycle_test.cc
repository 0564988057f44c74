// DomainLifecycle over the seam: status from events, idempotent ends, waits that give up
// when the domain stops, calls without a connection.
#include "k6t/launcher/domain_lifecycle.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "k6t/launcher/testing/fake_libvirt.h"
#include "launcher_env.h"

namespace k6t::launcher::test {
namespace {

using testing::FakeLibvirt;
using testing::LibvirtCall;

class DomainLifecycleTest : public ::testing::Test {
 protected:
  std::unique_ptr<DomainLifecycle> Open() {
    auto d = DomainLifecycle::Open(fake_, "test:///", kDomain);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? std::move(*d) : nullptr;
  }
  std::shared_ptr<FakeLibvirt> fake_ = std::make_shared<FakeLibvirt>();
};

TEST_F(DomainLifecycleTest, EndsOfAnAbsentDomainAreNotErrors) {
  auto d = Open();
  EXPECT_TRUE(d->Destroy().ok());
  EXPECT_TRUE(d->Undefine().ok());
  auto adopted = d->Adopt();
  ASSERT_TRUE(adopted.ok());
  EXPECT_FALSE(*adopted);
  EXPECT_EQ(d->status().phase, DomainPhase::kNone);
  auto shutdown = d->Shutdown(absl::Seconds(1));
  ASSERT_TRUE(shutdown.ok());
  EXPECT_EQ(*shutdown, ShutdownOutcome::kAlreadyStopped);
  EXPECT_TRUE(absl::IsNotFound(d->Xml().status()));
}

TEST_F(DomainLifecycleTest, AShutOffDomainIsAdoptedAsDefined) {
  ASSERT_TRUE(fake_->AddDomain(MinimalDomainXml(kDomain), false).ok());
  auto d = Open();
  auto adopted = d->Adopt();
  ASSERT_TRUE(adopted.ok());
  EXPECT_FALSE(*adopted);
  EXPECT_EQ(d->status().phase, DomainPhase::kDefined);
}

TEST_F(DomainLifecycleTest, StatusFollowsEventsAndRemembersACrash) {
  auto d = Open();
  std::vector<DomainPhase> seen;
  std::mutex mu;
  d->SetEventCallback([&](const DomainStatus& s) {
    std::lock_guard<std::mutex> l(mu);
    seen.push_back(s.phase);
  });
  ASSERT_TRUE(d->Define(MinimalDomainXml(kDomain)).ok());
  ASSERT_TRUE(d->Start().ok());
  ASSERT_TRUE(d->WaitFor([](const DomainStatus& s) { return s.phase == DomainPhase::kRunning; },
                         absl::Seconds(5)));
  ASSERT_TRUE(fake_->StopOutside(kDomain, StopReason::kCrashed).ok());
  const DomainStatus s = d->WaitForStopOrLoss(absl::Seconds(5));
  EXPECT_EQ(s.phase, DomainPhase::kStopped);
  EXPECT_EQ(s.reason, StopReason::kCrashed);
  EXPECT_TRUE(s.crashed);
  fake_->WaitIdle();
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(seen.front(), DomainPhase::kDefined);
  EXPECT_EQ(seen.back(), DomainPhase::kStopped);
}

TEST_F(DomainLifecycleTest, WaitRemovedGivesUpAtOnceWhenTheDomainStops) {
  ASSERT_TRUE(fake_->AddDomain(MinimalDomainXml(kDomain), true).ok());
  auto d = Open();
  ASSERT_TRUE(*d->Adopt());
  fake_->SetGuestReleasesDevices(false);
  d->ExpectRemoval("ua-default");
  ASSERT_TRUE(d->DetachDeviceAlias("ua-default").ok());
  ASSERT_TRUE(fake_->StopOutside(kDomain, StopReason::kShutdown).ok());
  const absl::Time t0 = absl::Now();
  EXPECT_FALSE(d->WaitRemoved("ua-default", absl::Seconds(30)));
  EXPECT_LT(absl::Now() - t0, absl::Seconds(10));
}

TEST_F(DomainLifecycleTest, WithoutAConnectionCallsAreUnavailable) {
  auto d = Open();
  fake_->DropConnections();
  fake_->RefuseConnections(1);
  EXPECT_TRUE(absl::IsUnavailable(d->Reconnect()));
  EXPECT_TRUE(d->connection_lost());
  EXPECT_TRUE(absl::IsUnavailable(d->Define(MinimalDomainXml(kDomain))));
  EXPECT_TRUE(absl::IsUnavailable(d->Xml().status()));
  EXPECT_EQ(fake_->calls(LibvirtCall::kDefine), 0);
  ASSERT_TRUE(d->Reconnect().ok());
  EXPECT_FALSE(d->connection_lost());
  EXPECT_TRUE(d->Define(MinimalDomainXml(kDomain)).ok());
}

}  // namespace
}  // namespace k6t::launcher::test
