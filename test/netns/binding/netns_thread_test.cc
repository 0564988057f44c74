// NetnsThread: closures run inside the namespace, one at a time, in order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>
#include <vector>

#include "k6t/binding/kernel.h"
#include "k6t/binding/netns.h"
#include "support/scratch_netns.h"

namespace k6t::binding {
namespace {

using ::k6t::testing::ScratchNetns;
using ::testing::HasSubstr;

ino_t Inode(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(NetnsThreadTest, ClosuresRunInsideTheNamespace) {
  auto ns = ScratchNetns::Create("thr");
  ASSERT_TRUE(ns.ok()) << ns.status();
  auto t = NetnsThread::Enter((*ns)->path());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->path(), (*ns)->path());
  auto inside = (*t)->Call<ino_t>([] { return Inode("/proc/thread-self/ns/net"); });
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(*inside, Inode((*ns)->path()));
  EXPECT_NE(*inside, Inode("/proc/thread-self/ns/net")) << "the caller must stay where it was";

  // A link created there is visible there only (a name unique to this process).
  const std::string name = "k6tn" + std::to_string(getpid());
  ASSERT_TRUE((*t)->Run([&] { return NewNetlink()->CreateLink(name, "bridge", "", 0); }).ok());
  EXPECT_EQ((*ns)->Exec("ip link show " + name).code, 0);
  EXPECT_NE(::k6t::testing::Sh("ip link show " + name).code, 0);
  t->reset();
}

TEST(NetnsThreadTest, RunsOneClosureAtATimeInSubmissionOrder) {
  auto ns = ScratchNetns::Create("ord");
  ASSERT_TRUE(ns.ok());
  auto t = NetnsThread::Enter((*ns)->path());
  ASSERT_TRUE(t.ok());
  NetnsThread& thr = **t;

  // One submitter: strictly in order, and each Run returns only after its closure ran.
  std::vector<int> seen;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(thr.Run([&, i] {
                     seen.push_back(i);
                     return absl::OkStatus();
                   })
                    .ok());
    ASSERT_EQ(seen.size(), static_cast<size_t>(i + 1));
  }
  for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[i], i);

  // Several submitters: never two closures at once; every submitter's own order kept.
  std::atomic<int> running{0};
  std::atomic<bool> overlap{false};
  std::vector<std::pair<int, int>> log;  // touched only on the namespace thread
  std::vector<std::thread> submitters;
  for (int s = 0; s < 4; ++s) {
    submitters.emplace_back([&, s] {
      for (int i = 0; i < 100; ++i) {
        absl::Status st = thr.Run([&, s, i] {
          if (running.fetch_add(1) != 0) overlap = true;
          log.emplace_back(s, i);
          std::this_thread::yield();
          running.fetch_sub(1);
          return absl::OkStatus();
        });
        if (!st.ok()) overlap = true;
      }
    });
  }
  for (auto& th : submitters) th.join();
  EXPECT_FALSE(overlap);
  ASSERT_EQ(log.size(), 400u);
  std::vector<int> last(4, -1);
  for (auto [s, i] : log) {
    EXPECT_EQ(i, last[s] + 1);
    last[s] = i;
  }
  t->reset();
}

TEST(NetnsThreadTest, PropagatesResultsAndAllowsNestedRuns) {
  auto ns = ScratchNetns::Create("res");
  ASSERT_TRUE(ns.ok());
  auto t = NetnsThread::Enter((*ns)->path());
  ASSERT_TRUE(t.ok());
  absl::Status st = (*t)->Run([] { return absl::NotFoundError("from inside"); });
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  auto v = (*t)->Call<int>([] { return absl::StatusOr<int>(42); });
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 42);
  NetnsThread* raw = t->get();
  absl::Status nested = raw->Run([raw] { return raw->Run([] { return absl::OkStatus(); }); });
  EXPECT_TRUE(nested.ok()) << nested;
  t->reset();
}

TEST(NetnsThreadTest, AcceptsProcPidPaths) {
  auto t = NetnsThread::Enter("/proc/self/ns/net");
  ASSERT_TRUE(t.ok()) << t.status();
  auto inside = (*t)->Call<ino_t>([] { return Inode("/proc/thread-self/ns/net"); });
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(*inside, Inode("/proc/self/ns/net"));
  EXPECT_GE((*t)->fd(), 0);
}

TEST(NetnsThreadTest, BadPathsFailWithPathAndReason) {
  auto missing = NetnsThread::Enter("/run/netns/k6t-does-not-exist");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/run/netns/k6t-does-not-exist"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("No such file"));

  auto file = NetnsThread::Enter("/proc/self/status");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("not a network namespace"));

  auto uts = NetnsThread::Enter("/proc/self/ns/uts");
  ASSERT_FALSE(uts.ok());
  EXPECT_EQ(uts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(uts.status().message()), HasSubstr("/proc/self/ns/uts"));
}

}  // namespace
}  // namespace k6t::binding
