// WaitForLink / WaitForLinkCondition: woken by the kernel's link notifications inside the namespace
// it runs in.
#include "k6t/binding/link_wait.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "k6t/binding/netns.h"
#include "support/scratch_netns.h"

namespace k6t::binding {
namespace {

using ::k6t::testing::In;
using ::k6t::testing::ScratchNetns;
using ::k6t::testing::ScratchNetnsTest;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

TEST(WaitForLinkTest, ReturnsAtOnceForAnExistingLink) {
  auto ns = ScratchNetns::Create("lw");
  ASSERT_TRUE(ns.ok()) << ns.status();
  auto t = NetnsThread::Enter((*ns)->path());
  ASSERT_TRUE(t.ok()) << t.status();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE((*t)->Run([] { return WaitForLink("lo", absl::Seconds(5)); }).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(WaitForLinkTest, WakesWhenTheLinkIsRenamedIntoPlaceInsideTheNamespace) {
  auto ns = ScratchNetns::Create("lw");
  ASSERT_TRUE(ns.ok()) << ns.status();
  auto t = NetnsThread::Enter((*ns)->path());
  ASSERT_TRUE(t.ok()) << t.status();
  // What a CNI plugin does: create under a temporary name, then rename to the final one.
  std::thread cni([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    (*ns)->Exec("ip link add tmp0 type veth peer name tmp1 && ip link set tmp0 name pod1234");
  });
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = (*t)->Run([] { return WaitForLink("pod1234", absl::Seconds(20)); });
  const auto waited = std::chrono::steady_clock::now() - t0;
  cni.join();
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(10));
}

TEST(WaitForLinkTest, TimesOutForALinkInAnotherNamespace) {
  auto ns = ScratchNetns::Create("lw");
  ASSERT_TRUE(ns.ok()) << ns.status();
  auto other = ScratchNetns::Create("lw2");
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_EQ((*other)->Exec("ip link add elsewhere type bridge").code, 0);
  auto t = NetnsThread::Enter((*ns)->path());
  ASSERT_TRUE(t.ok()) << t.status();
  absl::Status st = (*t)->Run([] { return WaitForLink("elsewhere", absl::Milliseconds(300)); });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("elsewhere"));
}

class LinkEventsTest : public ScratchNetnsTest {
 protected:
  LinkEventsTest() : ScratchNetnsTest("le") {}
};

// The links announced on `events` within `ms`, or until `until` was announced.
std::vector<std::string> Announced(LinkEvents& events, int ms, const std::string& until = "") {
  std::vector<std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{events.fd(), POLLIN, 0};
    if (poll(&p, 1, 20) != 1) continue;
    for (auto& n : events.Drain()) seen.push_back(std::move(n));
    if (!until.empty() && std::find(seen.begin(), seen.end(), until) != seen.end()) break;
  }
  return seen;
}

TEST_F(LinkEventsTest, OpenedInTheNamespacePolledFromAnotherThread) {
  auto ev = In(*thread_, [] { return LinkEvents::Open(); });
  ASSERT_TRUE(ev.ok()) << ev.status();
  // This test's own thread is in the host namespace: the socket still hears only the pod's.
  ASSERT_EQ(ns_->Exec("ip link add podabc type bridge && ip link set podabc name podxyz").code, 0);
  EXPECT_THAT(Announced(**ev, 5000, "podxyz"), IsSupersetOf({"podabc", "podxyz"}));
}

TEST_F(LinkEventsTest, DoesNotHearOtherNamespaces) {
  auto ev = In(*thread_, [] { return LinkEvents::Open(); });
  ASSERT_TRUE(ev.ok()) << ev.status();
  auto other = ScratchNetns::Create("le2");
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_EQ((*other)->Exec("ip link add elsewhere type bridge").code, 0);
  EXPECT_THAT(Announced(**ev, 300), Not(Contains("elsewhere")));
}

class WaitForLinkConditionTest : public ScratchNetnsTest {
 protected:
  WaitForLinkConditionTest() : ScratchNetnsTest("lw") {}
};

TEST_F(WaitForLinkConditionTest, RechecksWhatNetlinkDoesNotAnnounce) {
  // The link is there at once; the "CNI is done" signal (a file write, here a flag) comes later
  // and sends no link notification, so only the recheck can see it.
  ASSERT_EQ(ns_->Exec("ip link add early type bridge").code, 0);
  std::atomic<bool> status_written{false};
  std::thread multus([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    status_written = true;
  });
  int evaluations = 0;
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status st = thread_->Run([&] {
    return WaitForLinkCondition(
        "early listed",
        [&]() -> absl::StatusOr<bool> {
          ++evaluations;
          return if_nametoindex("early") != 0 && status_written.load();
        },
        absl::Seconds(20), absl::Milliseconds(20));
  });
  const auto waited = std::chrono::steady_clock::now() - t0;
  multus.join();
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_GT(evaluations, 2);
}

TEST_F(WaitForLinkConditionTest, AnErrorFromTheConditionEndsTheWait) {
  absl::Status st = thread_->Run([] {
    return WaitForLinkCondition(
        "anything",
        []() -> absl::StatusOr<bool> { return absl::DataLossError("status file unreadable"); },
        absl::Seconds(20));
  });
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
}

TEST_F(WaitForLinkConditionTest, TimeoutNamesWhatWasAwaited) {
  absl::Status st = thread_->Run([] {
    return WaitForLinkCondition(
        "the CNI to finish pod link x", []() -> absl::StatusOr<bool> { return false; },
        absl::Milliseconds(200), absl::Milliseconds(20));
  });
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("the CNI to finish pod link x"));
}

}  // namespace
}  // namespace k6t::binding
