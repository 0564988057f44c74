// The fake itself: events after the call and in libvirt's order, failure injection by call,
// PCI placement on root ports, transient domains, broken connections.
#include "k6t/launcher/testing/fake_libvirt.h"

#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher_env.h"

namespace k6t::launcher::test {
namespace {

using ::testing::ElementsAre;
using testing::FakeLibvirt;
using ::testing::HasSubstr;
using testing::LibvirtCall;

// A connection that writes down what it is told.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  LibvirtCallbacks Callbacks() {
    LibvirtCallbacks cb;
    cb.on_lifecycle = [this](const std::string& d, const DomainEvent& e) {
      std::lock_guard<std::mutex> l(mu);
      events.push_back(
          absl::StrCat(d, " ", static_cast<int>(e.kind), " ", StopReasonName(e.reason)));
    };
    cb.on_device_removed = [this](const std::string& d, const std::string& alias) {
      std::lock_guard<std::mutex> l(mu);
      events.push_back(absl::StrCat(d, " removed ", alias));
    };
    cb.on_connection_lost = [this] {
      std::lock_guard<std::mutex> l(mu);
      events.push_back("lost");
    };
    return cb;
  }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> l(mu);
    return std::move(events);
  }
};

std::string Ev(DomainEventKind k, StopReason r = StopReason::kNone) {
  return absl::StrCat(kDomain, " ", static_cast<int>(k), " ", StopReasonName(r));
}

TEST(FakeLibvirt, LifecycleEventsFollowTheCallsInLibvirtsOrder) {
  FakeLibvirt fake;
  Recorder rec;
  auto c = fake.Connect("test:///", rec.Callbacks());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->DefineDomain(MinimalDomainXml(kDomain)).ok());
  ASSERT_TRUE((*c)->StartDomain(kDomain).ok());
  ASSERT_TRUE((*c)->ShutdownDomain(kDomain).ok());
  fake.WaitIdle();
  EXPECT_THAT(rec.Take(), ElementsAre(Ev(DomainEventKind::kDefined), Ev(DomainEventKind::kResumed),
                                      Ev(DomainEventKind::kStarted), Ev(DomainEventKind::kShutdown),
                                      Ev(DomainEventKind::kStopped, StopReason::kShutdown)));
  auto st = (*c)->GetState(kDomain);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, DomainState::kShutOff);
  EXPECT_EQ(st->reason, StopReason::kShutdown);
  EXPECT_TRUE(absl::IsFailedPrecondition((*c)->DestroyDomain(kDomain)));
  EXPECT_TRUE(absl::IsNotFound((*c)->GetState("other").status()));
}

TEST(FakeLibvirt, FailCallFailsTheNthCallOfItsKindAndChangesNothing) {
  FakeLibvirt fake;
  auto c = fake.Connect("test:///", {});
  ASSERT_TRUE(c.ok());
  fake.FailCall(LibvirtCall::kDefine, absl::InvalidArgumentError("bad"), 1);
  EXPECT_TRUE((*c)->DefineDomain(MinimalDomainXml("a")).ok());
  EXPECT_TRUE(absl::IsInvalidArgument((*c)->DefineDomain(MinimalDomainXml("b"))));
  EXPECT_TRUE((*c)->DefineDomain(MinimalDomainXml("c")).ok());
  EXPECT_TRUE(fake.Exists("a"));
  EXPECT_FALSE(fake.Exists("b"));
  EXPECT_EQ(fake.calls(LibvirtCall::kDefine), 3);
}

TEST(FakeLibvirt, FailMutationCountsOnlyChanges) {
  FakeLibvirt fake;
  auto c = fake.Connect("test:///", {});
  ASSERT_TRUE(c.ok());
  fake.FailMutation(1);
  EXPECT_TRUE((*c)->DefineDomain(MinimalDomainXml(kDomain)).ok());  // mutation 0
  EXPECT_TRUE((*c)->GetState(kDomain).ok());                        // not a mutation
  EXPECT_TRUE((*c)->GetXml(kDomain, false).ok());
  EXPECT_TRUE(absl::IsInternal((*c)->StartDomain(kDomain)));  // mutation 1
  EXPECT_TRUE((*c)->StartDomain(kDomain).ok());
}

TEST(FakeLibvirt, DevicesGoOnFreeRootPortsUntilThereIsNone) {
  FakeLibvirt fake;
  ASSERT_TRUE(fake.AddDomain(MinimalDomainXml(kDomain), true).ok());  // 2 ports, 1 used
  auto c = fake.Connect("test:///", {});
  ASSERT_TRUE(c.ok());
  const std::string nic =
      "<interface type='ethernet'><mac address='02:00:00:00:00:09'/><alias name='ua-x'/>"
      "</interface>";
  ASSERT_TRUE((*c)->AttachDevice(kDomain, nic, kLive).ok());
  EXPECT_THAT(fake.LiveXml(kDomain), HasSubstr("<alias name='ua-x'/><address type='pci' "
                                               "domain='0x0000' bus='0x02'"));
  EXPECT_EQ(fake.ConfigXml(kDomain).find("ua-x"), std::string::npos);  // live only
  const std::string before = fake.Dump();
  auto s = (*c)->AttachDevice(
      kDomain, "<interface type='ethernet'><alias name='ua-y'/></interface>", kLive | kConfig);
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("No more available PCI slots"));
  EXPECT_EQ(fake.Dump(), before);
}

TEST(FakeLibvirt, LibvirtNamesDevicesWithoutAnAlias) {
  FakeLibvirt fake;
  std::string xml = MinimalDomainXml(kDomain);
  xml.replace(xml.find("<alias name='ua-default'/>"), 26, "");
  ASSERT_TRUE(fake.AddDomain(xml, true).ok());
  EXPECT_THAT(fake.LiveXml(kDomain), HasSubstr("<alias name='net0'/>"));
  EXPECT_EQ(fake.ConfigXml(kDomain).find("net0"), std::string::npos);
}

TEST(FakeLibvirt, AnUndefinedRunningDomainIsTransientAndEndsWithItsRun) {
  FakeLibvirt fake;
  ASSERT_TRUE(fake.AddDomain(MinimalDomainXml(kDomain), true).ok());
  ASSERT_TRUE(fake.UndefineOutside(kDomain).ok());
  EXPECT_TRUE(fake.Exists(kDomain));
  EXPECT_EQ(fake.ConfigXml(kDomain), "");
  ASSERT_TRUE(fake.StopOutside(kDomain, StopReason::kDestroyed).ok());
  EXPECT_FALSE(fake.Exists(kDomain));
}

TEST(FakeLibvirt, ABrokenConnectionIsUnavailableAndHearsNothingMore) {
  FakeLibvirt fake;
  ASSERT_TRUE(fake.AddDomain(MinimalDomainXml(kDomain), true).ok());
  Recorder rec;
  auto c = fake.Connect("test:///", rec.Callbacks());
  ASSERT_TRUE(c.ok());
  fake.DropConnections();
  ASSERT_TRUE(fake.StopOutside(kDomain, StopReason::kCrashed).ok());
  fake.WaitIdle();
  EXPECT_THAT(rec.Take(), ElementsAre("lost"));
  EXPECT_TRUE(absl::IsUnavailable((*c)->GetState(kDomain).status()));
  fake.RefuseConnections(1);
  EXPECT_TRUE(absl::IsUnavailable(fake.Connect("test:///", {}).status()));
  auto again = fake.Connect("test:///", {});
  ASSERT_TRUE(again.ok());
  auto st = (*again)->GetState(kDomain);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->reason, StopReason::kCrashed);
  EXPECT_EQ(fake.open_connections(), 2);
  again->reset();
  EXPECT_EQ(fake.open_connections(), 1);
}

TEST(FakeLibvirt, ADetachCompletesWhenTheGuestReleasesTheDevice) {
  FakeLibvirt fake;
  ASSERT_TRUE(fake.AddDomain(MinimalDomainXml(kDomain), true).ok());
  Recorder rec;
  auto c = fake.Connect("test:///", rec.Callbacks());
  ASSERT_TRUE(c.ok());
  fake.SetGuestReleasesDevices(false);
  ASSERT_TRUE((*c)->DetachDeviceAlias(kDomain, "ua-default", kLive).ok());
  fake.WaitIdle();
  EXPECT_THAT(rec.Take(), ::testing::IsEmpty());
  EXPECT_THAT(fake.LiveXml(kDomain), HasSubstr("ua-default"));
  ASSERT_TRUE(fake.ReleaseDevice(kDomain, "ua-default").ok());
  fake.WaitIdle();
  EXPECT_THAT(rec.Take(), ElementsAre(absl::StrCat(kDomain, " removed ua-default")));
  EXPECT_EQ(fake.LiveXml(kDomain).find("ua-default"), std::string::npos);
  EXPECT_TRUE(absl::IsNotFound((*c)->DetachDeviceAlias(kDomain, "ua-default", kLive)));
}

}  // namespace
}  // namespace k6t::launcher::test
