#include "k6t/binding/executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "k6t/binding/planner.h"
#include "test_pod.h"

namespace k6t::binding {
namespace {

using testing::BuildPod;
using testing::FakeKernel;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<Operation> AllOps(const std::vector<InterfacePlan>& plans) {
  std::vector<Operation> ops;
  for (const auto& p : plans) ops.insert(ops.end(), p.ops.begin(), p.ops.end());
  return ops;
}

std::vector<InterfacePlan> PlanFor(FakeKernel& k, const api::Vmi& vmi) {
  auto pod = ObservePod(k.kernel());
  EXPECT_TRUE(pod.ok()) << pod.status();
  std::vector<api::NetworkStatusEntry> none;
  auto plans = PlanVmi(PlanRequest{vmi, none, *pod, {}});
  EXPECT_TRUE(plans.ok()) << plans.status();
  return plans.ok() ? *plans : std::vector<InterfacePlan>{};
}

TEST(ExecutorTest, AppliesMasqueradeAndBridgeThenIsANoOp) {
  FakeKernel k;
  BuildPod(k, /*ipv6=*/true);
  auto plans = PlanFor(k, testing::MasqueradeAndBridgeVmi());
  ASSERT_EQ(plans.size(), 2u);
  Executor ex(k.kernel());
  auto first = ex.Apply(AllOps(plans));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT(first->changed, 10);

  auto bridge = k.GetLink("k6t-16477688c0e");
  ASSERT_TRUE(bridge.ok() && *bridge);
  auto nic = k.GetLink("16477688c0e-nic");
  ASSERT_TRUE(nic.ok() && *nic);
  EXPECT_EQ((*nic)->master_index, (*bridge)->index);
  EXPECT_EQ((*nic)->mac, (*bridge)->mac);
  EXPECT_FALSE((*nic)->learning);
  auto placeholder = k.GetLink("pod16477688c0e");
  ASSERT_TRUE(placeholder.ok() && *placeholder);
  EXPECT_EQ((*placeholder)->kind, "dummy");
  EXPECT_EQ((*placeholder)->mac, "0a:58:c0:a8:64:0a");
  EXPECT_FALSE((*placeholder)->admin_up);
  auto tap = k.Tap("tap0");
  ASSERT_TRUE(tap);
  EXPECT_EQ(tap->owner, 107u);
  EXPECT_EQ(*k.Read("ipv4/ip_forward"), "1");
  EXPECT_EQ(k.nft_tables().count("ip k6t_nat"), 1u);
  EXPECT_EQ(k.nft_tables().count("ip6 k6t_nat"), 1u);

  const std::string applied = k.Dump();
  auto second = ex.Apply(AllOps(plans));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->changed, 0) << ::testing::PrintToString(second->changes);
  EXPECT_EQ(k.Dump(), applied);
}

// A pod whose guest migrated away gives its CNI link back down, then its MAC and addresses:
// up, it would answer on the segment for the guest that now runs elsewhere.
TEST(ExecutorTest, LinksGivenBackDownWhenThePodIsEnding) {
  for (const bool down : {false, true}) {
    FakeKernel k;
    BuildPod(k, /*ipv6=*/true);
    auto before = k.GetLink("pod16477688c0e");
    ASSERT_TRUE(before.ok() && *before);
    auto plans = PlanFor(k, testing::MasqueradeAndBridgeVmi());
    ASSERT_TRUE(Executor(k.kernel()).Apply(AllOps(plans)).ok());
    std::vector<Operation> undo;
    for (auto it = plans.rbegin(); it != plans.rend(); ++it) {
      auto t = TeardownOps(*it, /*restore_globals=*/true, down);
      undo.insert(undo.end(), t.begin(), t.end());
    }
    ASSERT_TRUE(Executor(k.kernel()).Apply(undo).ok());
    auto after = k.GetLink("pod16477688c0e");
    ASSERT_TRUE(after.ok() && *after);
    EXPECT_EQ((*after)->mac, (*before)->mac);
    EXPECT_EQ((*after)->admin_up, !down) << (down ? "given back down" : "as the CNI left it");
    if (!down) continue;
    // Down before its MAC returns: no moment with the guest's MAC on an up link.
    int set_down = -1, mac_back = -1;
    for (size_t i = 0; i < undo.size(); ++i) {
      if (auto* u = std::get_if<SetLinkUp>(&undo[i]); u && !u->up && set_down < 0)
        set_down = static_cast<int>(i);
      if (auto* m = std::get_if<SetLinkMac>(&undo[i]); m && m->mac == (*before)->mac)
        mac_back = static_cast<int>(i);
    }
    ASSERT_GE(set_down, 0);
    EXPECT_LT(set_down, mac_back);
  }
}

// Every mutation the executor makes can fail; each failure must leave the namespace exactly
// as it was before the apply.
TEST(ExecutorTest, FailureAtEveryMutationRollsBackExactly) {
  FakeKernel probe;
  BuildPod(probe, true);
  auto plans = PlanFor(probe, testing::MasqueradeAndBridgeVmi());
  const int before = probe.mutations();
  ASSERT_TRUE(Executor(probe.kernel()).Apply(AllOps(plans)).ok());
  const int total = probe.mutations() - before;
  ASSERT_GT(total, 15);

  for (int n = 0; n < total; ++n) {
    FakeKernel k;
    BuildPod(k, true);
    const std::string initial = k.Dump();
    k.FailMutation(n, absl::ResourceExhaustedError("ENOSPC injected"));
    auto r = Executor(k.kernel()).Apply(AllOps(plans));
    ASSERT_FALSE(r.ok()) << "mutation " << n;
    EXPECT_THAT(r.status().message(), HasSubstr("ENOSPC injected"));
    EXPECT_THAT(r.status().message(), HasSubstr("operation "));
    EXPECT_THAT(RollbackFailures(r.status()), IsEmpty()) << "mutation " << n;
    EXPECT_EQ(k.Dump(), initial) << "after failing mutation " << n;
  }
}

// A rollback step that fails too, at every point of every rollback: the status says the
// rollback is incomplete and names the step that failed, and any later one that failed
// because of it (what a step left may also go with a later one, an address with its link);
// applying the plan's teardown afterwards still gives the namespace back.
TEST(ExecutorTest, FailedUndoStepIsReportedWithWhatItLeft) {
  FakeKernel probe;
  BuildPod(probe, true);
  const std::string initial = probe.Dump();
  auto plans = PlanFor(probe, testing::MasqueradeAndBridgeVmi());
  const auto ops = AllOps(plans);
  std::vector<Operation> down;
  for (auto it = plans.rbegin(); it != plans.rend(); ++it) {
    auto t = TeardownOps(*it, /*restore_globals=*/true);
    down.insert(down.end(), t.begin(), t.end());
  }
  const int total = [&] {
    FakeKernel k;
    BuildPod(k, true);
    EXPECT_TRUE(Executor(k.kernel()).Apply(ops).ok());
    return k.mutations();
  }();
  int cases = 0;
  for (int n = 1; n < total; ++n) {
    // How many mutations the rollback of a failure at n makes.
    int undo = 0;
    {
      FakeKernel k;
      BuildPod(k, true);
      k.FailMutation(n);
      ASSERT_FALSE(Executor(k.kernel()).Apply(ops).ok());
      undo = k.mutations() - n - 1;
    }
    for (int m = 0; m < undo; ++m) {
      FakeKernel k;
      BuildPod(k, true);
      k.FailMutation(n, absl::ResourceExhaustedError("ENOSPC injected"));
      k.FailMutation(n + 1 + m, absl::UnavailableError("EAGAIN in undo"));
      auto r = Executor(k.kernel()).Apply(ops);
      ASSERT_FALSE(r.ok());
      // The injected failure first; a later step that depended on it may fail after it.
      const auto left = RollbackFailures(r.status());
      ASSERT_FALSE(left.empty()) << "mutation " << n << ", undo " << m << ": " << r.status();
      EXPECT_EQ(left[0].error, "EAGAIN in undo");
      EXPECT_THAT(r.status().message(), HasSubstr("ENOSPC injected"));
      EXPECT_THAT(r.status().message(), HasSubstr("rollback incomplete"));
      for (const auto& f : left) EXPECT_THAT(r.status().message(), HasSubstr(f.step));
      // The status keeps the report through a caller's context.
      EXPECT_EQ(RollbackFailures(WithContext(r.status(), "setup")).size(), left.size());
      ASSERT_TRUE(Executor(k.kernel()).Apply(down, ApplyMode::kBestEffort).ok());
      EXPECT_EQ(k.Dump(), initial) << "teardown after " << left[0].step << " was left";
      ++cases;
    }
  }
  EXPECT_GT(cases, 100);
}

// One implementation per operation: applied one Apply call each (a run of one), the
// operations leave the namespace a batched apply leaves, report the same changes and are
// undone exactly.
TEST(ExecutorTest, EachOperationAloneEqualsTheRun) {
  FakeKernel batched, alone;
  BuildPod(batched, true);
  BuildPod(alone, true);
  const std::string initial = alone.Dump();
  auto plans = PlanFor(batched, testing::MasqueradeAndBridgeVmi());
  const auto ops = AllOps(plans);
  auto all = Executor(batched.kernel()).Apply(ops);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> changes;
  for (const auto& op : ops) {
    auto one = Executor(alone.kernel()).Apply({op});
    ASSERT_TRUE(one.ok()) << Describe(op) << ": " << one.status();
    changes.insert(changes.end(), one->changes.begin(), one->changes.end());
  }
  EXPECT_EQ(alone.Dump(), batched.Dump());
  EXPECT_EQ(changes, all->changes);
  // Each single operation fails and rolls back on its own too.
  FakeKernel k;
  BuildPod(k, true);
  for (const auto& op : ops) {
    const std::string before = k.Dump();
    k.FailMutation(0);  // the operation's first change, if it makes one
    auto failed = Executor(k.kernel()).Apply({op});
    k.Recover();
    EXPECT_EQ(k.Dump(), before) << Describe(op);
    ASSERT_TRUE(Executor(k.kernel()).Apply({op}).ok()) << Describe(op);
    (void)failed;
  }
  EXPECT_EQ(k.Dump(), batched.Dump());
  EXPECT_NE(k.Dump(), initial);
}

TEST(ExecutorTest, FaultInjectionByOperationIndexRollsBack) {
  FakeKernel probe;
  BuildPod(probe);
  auto plans = PlanFor(probe, testing::MasqueradeAndBridgeVmi());
  const auto ops = AllOps(plans);
  for (size_t i = 0; i < ops.size(); ++i) {
    FakeKernel k;
    BuildPod(k);
    const std::string initial = k.Dump();
    ExecutorOptions o;
    o.fail_at_op = static_cast<int>(i);
    auto r = Executor(k.kernel(), o).Apply(ops);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(k.Dump(), initial) << "op " << i << ": " << Describe(ops[i]);
  }
}

// A crash half-way leaves a partial state; applying the same plan again converges to the
// state a clean apply gives.
TEST(ExecutorTest, ResumesFromEveryPartialState) {
  FakeKernel clean;
  BuildPod(clean, true);
  auto plans = PlanFor(clean, testing::MasqueradeAndBridgeVmi());
  const auto ops = AllOps(plans);
  ASSERT_TRUE(Executor(clean.kernel()).Apply(ops).ok());
  const std::string want = clean.Dump();

  for (size_t cut = 0; cut <= ops.size(); ++cut) {
    FakeKernel k;
    BuildPod(k, true);
    std::vector<Operation> partial(ops.begin(), ops.begin() + cut);
    ASSERT_TRUE(Executor(k.kernel()).Apply(partial).ok()) << cut;
    auto r = Executor(k.kernel()).Apply(ops);
    ASSERT_TRUE(r.ok()) << "resume after " << cut << ": " << r.status();
    EXPECT_EQ(k.Dump(), want) << "resume after " << cut;
  }
}

// Consecutive operations on one link (the bridge binding's rename, MAC, master, up, learning)
// reach the kernel as one change, report each operation that had something to do, and are
// undone together.
TEST(ExecutorTest, AppliesARunOfLinkOperationsAsOneChange) {
  FakeKernel k;
  BuildPod(k);
  const std::string initial = k.Dump();
  const std::vector<Operation> ops = {CreateBridge{"k6t-x", "02:6b:36:00:00:01", 0},
                                      RenameLink{"pod16477688c0e", "x-nic", 0},
                                      SetLinkMac{"x-nic", "02:6b:36:00:00:01"},
                                      SetLinkMaster{"x-nic", "k6t-x"},
                                      SetLinkUp{"x-nic", true},
                                      SetPortLearning{"x-nic", false},
                                      SetLinkUp{"k6t-x", true}};
  const int before = k.mutations();
  auto r = Executor(k.kernel()).Apply(ops);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(k.mutations() - before, 3) << "create, one change of x-nic, bridge up";
  EXPECT_EQ(r->operations, 7);
  EXPECT_EQ(r->changed, 6) << ::testing::PrintToString(r->changes) << " (x-nic was up)";
  auto nic = k.GetLink("x-nic");
  ASSERT_TRUE(nic.ok() && *nic);
  EXPECT_EQ((*nic)->mac, "02:6b:36:00:00:01");
  EXPECT_FALSE((*nic)->learning);
  EXPECT_EQ((*nic)->master_index, (*k.GetLink("k6t-x"))->index);

  // A failure after the run undoes it with the rest.
  FakeKernel f;
  BuildPod(f);
  ExecutorOptions o;
  o.fail_at_op = 6;
  auto failed = Executor(f.kernel(), o).Apply(ops);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(f.Dump(), initial);
  // The kernel refusing the merged change names every operation of the run.
  FakeKernel g;
  BuildPod(g);
  g.FailMutation(1, absl::ResourceExhaustedError("ENOSPC injected"));
  auto refused = Executor(g.kernel()).Apply(ops);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("operation 1..5 (rename pod16477688c0e"));
  EXPECT_EQ(g.Dump(), initial);
}

TEST(ExecutorTest, TeardownRestoresTheCniState) {
  FakeKernel k;
  BuildPod(k, true);
  const std::string initial = k.Dump();
  auto plans = PlanFor(k, testing::MasqueradeAndBridgeVmi());
  Executor ex(k.kernel());
  ASSERT_TRUE(ex.Apply(AllOps(plans)).ok());
  std::vector<Operation> down;
  for (auto it = plans.rbegin(); it != plans.rend(); ++it) {
    auto t = TeardownOps(*it, /*restore_globals=*/true);
    down.insert(down.end(), t.begin(), t.end());
  }
  auto r = ex.Apply(down, ApplyMode::kBestEffort);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(k.Dump(), initial);
  // Tearing down what is gone is fine.
  auto again = ex.Apply(down, ApplyMode::kBestEffort);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->changed, 0);
}

TEST(ExecutorTest, TeardownNeverDeletesACniLink) {
  FakeKernel k;
  BuildPod(k);
  // A link named like k6t's placeholder but of another kind is the CNI's: left alone.
  std::vector<Operation> ops = {DeleteLink{"pod16477688c0e", "dummy"}};
  ASSERT_TRUE(Executor(k.kernel()).Apply(ops, ApplyMode::kBestEffort).ok());
  auto l = k.GetLink("pod16477688c0e");
  ASSERT_TRUE(l.ok() && *l);
}

TEST(ExecutorTest, PlaceholderRefusesToShadowTheCniLink) {
  FakeKernel k;
  BuildPod(k);
  const std::string initial = k.Dump();
  std::vector<Operation> ops = {
      CreateBridge{"k6t-x", "", 0},
      CreatePlaceholder{"pod16477688c0e", PlaceholderKind::kDummy, "", 0}};
  auto r = Executor(k.kernel()).Apply(ops);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("pod16477688c0e exists and is a veth"));
  EXPECT_EQ(k.Dump(), initial);
}

}  // namespace
}  // namespace k6t::binding
