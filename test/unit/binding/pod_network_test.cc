// The pod-network session on a FakeKernel with a temp state dir, no root: setup, resume from
// every pending/started/finished combination and from a crash at every mutation, a second
// setup that changes nothing, teardown that gives everything back, drift per kind.
#include "k6t/binding/pod_network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "k6t/api/naming.h"
#include "k6t/binding/cache.h"
#include "k6t/binding/planner.h"
#include "k6t/binding/testing/fake_pod.h"
#include "test_pod.h"

namespace k6t::binding {
namespace {

using testing::BuildPod;
using ::testing::ElementsAre;
using testing::FakeKernel;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string TempStateDir() {
  std::string tmpl = ::testing::TempDir() + "/k6t-session-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

// A fake pod with eth0 and blue's pod link, a state dir, and a masquerade + bridge VMI.
struct Pod {
  FakeKernel kernel;
  PodNetworkRequest req;
  std::string initial;

  explicit Pod(api::Vmi vmi = testing::MasqueradeAndBridgeVmi()) {
    BuildPod(kernel, /*ipv6=*/true);
    initial = kernel.Dump();
    req.vmi = std::move(vmi);
    req.state_dir = TempStateDir();
    testing::UseFakeKernel(req, kernel);
  }
  ~Pod() { std::filesystem::remove_all(req.state_dir); }

  std::map<std::string, PlumbingPhase> Phases() const {
    std::map<std::string, PlumbingPhase> out;
    auto cached = ReadCachedInterfaces(req.state_dir);
    EXPECT_TRUE(cached.ok()) << cached.status();
    if (cached.ok())
      for (const auto& c : *cached) out[c.plan.interface_name] = c.phase;
    return out;
  }
};

// The namespace a clean setup leaves, and how many kernel mutations it takes.
struct Reference {
  std::string applied;
  int mutations = 0;
  std::vector<InterfacePlan> plans;
};

Reference CleanSetup() {
  Pod pod;
  const int before = pod.kernel.mutations();
  auto r = SetupPodNetwork(pod.req);
  EXPECT_TRUE(r.ok()) << r.status();
  return {pod.kernel.Dump(), pod.kernel.mutations() - before,
          r.ok() ? r->plans : std::vector<InterfacePlan>{}};
}

// The state a converged setup must leave, then what a second setup and a teardown must do.
void ExpectConvergedThenTornDown(Pod& pod, const Reference& ref, const std::string& where) {
  EXPECT_EQ(pod.kernel.Dump(), ref.applied) << where;
  EXPECT_EQ(pod.Phases(),
            (std::map<std::string, PlumbingPhase>{{"blue", PlumbingPhase::kFinished},
                                                  {"default", PlumbingPhase::kFinished}}))
      << where;
  auto again = SetupPodNetwork(pod.req);
  ASSERT_TRUE(again.ok()) << where << ": " << again.status();
  EXPECT_EQ(again->report.changed, 0)
      << where << ": " << ::testing::PrintToString(again->report.changes);
  EXPECT_THAT(again->resumed, IsEmpty()) << where;
  auto down = TeardownPodNetwork(pod.req);
  ASSERT_TRUE(down.ok()) << where << ": " << down.status();
  EXPECT_EQ(pod.kernel.Dump(), pod.initial) << where;
  EXPECT_THAT(pod.Phases(), IsEmpty()) << where;
}

TEST(PodNetworkTest, SetupRecordsFinishedPlansAndASecondSetupChangesNothing) {
  Pod pod;
  auto r = SetupPodNetwork(pod.req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->plans.size(), 2u);
  EXPECT_EQ(r->plans[0].interface_name, "default");
  EXPECT_EQ(r->plans[1].interface_name, "blue");
  EXPECT_GT(r->report.changed, 10);
  EXPECT_THAT(r->resumed, IsEmpty());
  EXPECT_GT(r->timings.apply, absl::ZeroDuration());
  auto bridge = pod.kernel.GetLink("k6t-eth0");
  ASSERT_TRUE(bridge.ok() && *bridge);
  EXPECT_EQ((*bridge)->kind, "bridge");
  ExpectConvergedThenTornDown(pod, CleanSetup(), "clean setup");
}

TEST(PodNetworkTest, PlanChangesNothingAndMatchesWhatSetupApplies) {
  Pod pod;
  auto plans = PlanPodNetwork(pod.req);
  ASSERT_TRUE(plans.ok()) << plans.status();
  EXPECT_EQ(pod.kernel.Dump(), pod.initial);
  EXPECT_THAT(pod.Phases(), IsEmpty());
  auto r = SetupPodNetwork(pod.req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->plans.size(), plans->size());
  for (size_t i = 0; i < plans->size(); ++i)
    EXPECT_EQ(r->plans[i].ops.size(), (*plans)[i].ops.size()) << (*plans)[i].interface_name;
}

TEST(PodNetworkTest, OnlyTheNamedInterfaces) {
  Pod pod;
  pod.req.only = {"blue"};
  auto r = SetupPodNetwork(pod.req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->plans.size(), 1u);
  EXPECT_EQ(pod.Phases(),
            (std::map<std::string, PlumbingPhase>{{"blue", PlumbingPhase::kFinished}}));
  auto eth0 = pod.kernel.GetLink("k6t-eth0");
  ASSERT_TRUE(eth0.ok());
  EXPECT_FALSE(*eth0) << "default was not asked for";
  pod.req.only.clear();
  auto rest = SetupPodNetwork(pod.req);
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->plans.size(), 2u);
  ExpectConvergedThenTornDown(pod, CleanSetup(), "blue first, then the rest");
}

// A failure at any mutation rolls back exactly: the namespace and the state dir are as
// before, and the next setup works.
TEST(PodNetworkTest, FailureAtEveryMutationLeavesNothingBehind) {
  const Reference ref = CleanSetup();
  ASSERT_GT(ref.mutations, 20);
  for (int n = 0; n < ref.mutations; ++n) {
    Pod pod;
    pod.kernel.FailMutation(n, absl::ResourceExhaustedError("ENOSPC injected"));
    auto r = SetupPodNetwork(pod.req);
    ASSERT_FALSE(r.ok()) << "mutation " << n;
    EXPECT_THAT(r.status().message(), HasSubstr("ENOSPC injected"));
    EXPECT_THAT(RollbackFailures(r.status()), IsEmpty()) << "mutation " << n;
    EXPECT_EQ(pod.kernel.Dump(), pod.initial) << "mutation " << n;
    EXPECT_THAT(pod.Phases(), IsEmpty()) << "mutation " << n;
    ASSERT_TRUE(SetupPodNetwork(pod.req).ok()) << "mutation " << n;
    ASSERT_NO_FATAL_FAILURE(ExpectConvergedThenTornDown(pod, ref, absl::StrCat("mutation ", n)));
  }
}

// The process killed at any mutation (nothing after it takes effect, the rollback neither):
// the plans stay `started`, the next setup resumes them and converges.
TEST(PodNetworkTest, KilledAtEveryMutationResumes) {
  const Reference ref = CleanSetup();
  for (int n = 0; n < ref.mutations; ++n) {
    const std::string where = absl::StrCat("killed at mutation ", n);
    Pod pod;
    pod.kernel.FailMutationsFrom(n);
    auto r = SetupPodNetwork(pod.req);
    ASSERT_FALSE(r.ok()) << where;
    if (n == 0) {
      // Nothing had changed: nothing to undo, nothing left, nothing recorded.
      EXPECT_THAT(RollbackFailures(r.status()), IsEmpty());
      EXPECT_THAT(pod.Phases(), IsEmpty());
    } else {
      EXPECT_THAT(RollbackFailures(r.status()), Not(IsEmpty())) << where;
      EXPECT_THAT(r.status().message(), HasSubstr("rollback incomplete")) << where;
      EXPECT_EQ(pod.Phases(),
                (std::map<std::string, PlumbingPhase>{{"blue", PlumbingPhase::kStarted},
                                                      {"default", PlumbingPhase::kStarted}}))
          << where;
    }
    pod.kernel.Recover();
    auto resumed = SetupPodNetwork(pod.req);
    ASSERT_TRUE(resumed.ok()) << where << ": " << resumed.status();
    if (n > 0) {
      EXPECT_THAT(resumed->resumed, ElementsAre("default", "blue")) << where;
    }
    ASSERT_NO_FATAL_FAILURE(ExpectConvergedThenTornDown(pod, ref, where));
  }
}

// Teardown straight after a kill, without a resume, gives everything back too.
TEST(PodNetworkTest, TeardownAfterAKillWithoutResume) {
  const Reference ref = CleanSetup();
  for (int n = 1; n < ref.mutations; n += 3) {
    Pod pod;
    pod.kernel.FailMutationsFrom(n);
    ASSERT_FALSE(SetupPodNetwork(pod.req).ok());
    pod.kernel.Recover();
    auto down = TeardownPodNetwork(pod.req);
    ASSERT_TRUE(down.ok()) << "killed at " << n << ": " << down.status();
    EXPECT_EQ(pod.kernel.Dump(), pod.initial) << "killed at " << n;
    EXPECT_THAT(pod.Phases(), IsEmpty());
  }
}

// Every combination of what the state dir says per interface (nothing, pending, started,
// finished) with the namespace a crash can leave for it (nothing of a pending interface
// applied, any prefix of a started one, all of a finished one): setup converges to the clean
// result, a second one changes nothing, teardown gives everything back.
TEST(PodNetworkTest, ResumeMatrixOfCachePhasesAndPartialApplies) {
  const Reference ref = CleanSetup();
  ASSERT_EQ(ref.plans.size(), 2u);
  enum Phase { kNone, kPending, kStarted, kFinished };
  const char* kPhaseNames[] = {"none", "pending", "started", "finished"};
  int cases = 0;
  for (int pa : {kNone, kPending, kStarted, kFinished}) {
    for (int pb : {kNone, kPending, kStarted, kFinished}) {
      // How much of each interface's operations was applied: every prefix when started.
      auto cuts = [](int phase, size_t ops) {
        std::vector<size_t> out;
        if (phase == kStarted)
          for (size_t c = 0; c <= ops; ++c) out.push_back(c);
        else
          out.push_back(phase == kFinished ? ops : 0);
        return out;
      };
      for (size_t ca : cuts(pa, ref.plans[0].ops.size())) {
        for (size_t cb : cuts(pb, ref.plans[1].ops.size())) {
          const std::string where =
              absl::StrCat("default ", kPhaseNames[pa], " (", ca, " ops), blue ", kPhaseNames[pb],
                           " (", cb, " ops)");
          Pod pod;
          std::vector<Operation> applied(ref.plans[0].ops.begin(), ref.plans[0].ops.begin() + ca);
          applied.insert(applied.end(), ref.plans[1].ops.begin(), ref.plans[1].ops.begin() + cb);
          ASSERT_TRUE(Executor(pod.kernel.kernel()).Apply(applied).ok()) << where;
          for (auto [plan, phase] : {std::pair{&ref.plans[0], pa}, std::pair{&ref.plans[1], pb}}) {
            if (phase == kNone) continue;
            const PlumbingPhase p = phase == kPending   ? PlumbingPhase::kPending
                                    : phase == kStarted ? PlumbingPhase::kStarted
                                                        : PlumbingPhase::kFinished;
            ASSERT_TRUE(WriteCachedInterface(pod.req.state_dir, {*plan, p}).ok());
          }
          auto r = SetupPodNetwork(pod.req);
          ASSERT_TRUE(r.ok()) << where << ": " << r.status();
          std::vector<std::string> want_resumed;
          if (pa == kStarted) want_resumed.push_back("default");
          if (pb == kStarted) want_resumed.push_back("blue");
          EXPECT_EQ(r->resumed, want_resumed) << where;
          ASSERT_NO_FATAL_FAILURE(ExpectConvergedThenTornDown(pod, ref, where));
          ++cases;
        }
      }
    }
  }
  EXPECT_GT(cases, 100);
}

// A rollback that fails too is reported with what it left, the plans stay `started`, and the
// next setup (or a teardown) cleans up.
TEST(PodNetworkTest, FailedRollbackIsReportedAndTheNextSetupConverges) {
  const Reference ref = CleanSetup();
  // Mutation 6 fails; the rollback's mutations follow it, the last one undoing the first
  // change: deleting masquerade's bridge k6t-eth0. Counted on a probe, then failed too.
  constexpr int kFail = 6;
  int last_undo = 0;
  {
    Pod probe;
    probe.kernel.FailMutation(kFail);
    ASSERT_FALSE(SetupPodNetwork(probe.req).ok());
    ASSERT_EQ(probe.kernel.Dump(), probe.initial);
    last_undo = probe.kernel.mutations() - 1;
    ASSERT_GT(last_undo, kFail);
  }
  Pod pod;
  pod.kernel.FailMutation(kFail, absl::ResourceExhaustedError("ENOSPC injected"));
  pod.kernel.FailMutation(last_undo, absl::UnavailableError("EAGAIN injected in undo"));
  auto r = SetupPodNetwork(pod.req);
  ASSERT_FALSE(r.ok());
  const auto left = RollbackFailures(r.status());
  ASSERT_EQ(left.size(), 1u) << r.status();
  EXPECT_EQ(left[0].step, "delete bridge k6t-eth0");
  EXPECT_THAT(left[0].error, HasSubstr("EAGAIN injected in undo"));
  EXPECT_THAT(r.status().message(), HasSubstr("ENOSPC injected"));
  EXPECT_THAT(r.status().message(), HasSubstr("rollback incomplete"));
  EXPECT_THAT(r.status().message(), HasSubstr("the plans stay in"));
  auto bridge = pod.kernel.GetLink("k6t-eth0");
  ASSERT_TRUE(bridge.ok());
  EXPECT_TRUE(*bridge) << "what the failed undo step left";
  EXPECT_EQ(pod.Phases(),
            (std::map<std::string, PlumbingPhase>{{"blue", PlumbingPhase::kStarted},
                                                  {"default", PlumbingPhase::kStarted}}));
  auto resumed = SetupPodNetwork(pod.req);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_THAT(resumed->resumed, ElementsAre("default", "blue"));
  ASSERT_NO_FATAL_FAILURE(ExpectConvergedThenTornDown(pod, ref, "after a failed rollback"));
}

TEST(PodNetworkTest, TeardownOfOneInterfaceKeepsWhatTheOthersNeed) {
  Pod pod;
  ASSERT_TRUE(SetupPodNetwork(pod.req).ok());
  pod.req.only = {"blue"};
  auto down = TeardownPodNetwork(pod.req);
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(pod.Phases(),
            (std::map<std::string, PlumbingPhase>{{"default", PlumbingPhase::kFinished}}));
  auto nic = pod.kernel.GetLink("pod16477688c0e");
  ASSERT_TRUE(nic.ok() && *nic);
  EXPECT_EQ((*nic)->kind, "veth") << "the CNI link has its name back";
  // Masquerade still needs forwarding; nothing needs blue's arp_ignore any more.
  EXPECT_EQ(*pod.kernel.Read("ipv4/ip_forward"), "1");
  EXPECT_EQ(*pod.kernel.Read("ipv4/conf/all/arp_ignore"), "0");
  pod.req.only = {"default"};  // the last one
  ASSERT_TRUE(TeardownPodNetwork(pod.req).ok());
  EXPECT_EQ(pod.kernel.Dump(), pod.initial);
}

// Two bridge interfaces set the same namespace-wide sysctl (arp_ignore); plugged one at a
// time and unplugged in either order, the pod gets its own value back, not k6t's.
TEST(PodNetworkTest, SysctlsComeBackWhateverOrderInterfacesComeAndGo) {
  api::Vmi vmi = testing::MasqueradeAndBridgeVmi();
  vmi.spec.domain.interfaces.push_back(testing::MakeInterface("red", api::BindingMethod::kBridge));
  vmi.spec.networks.push_back(testing::MultusNetwork("red", "red-net"));
  const std::string red_link = api::PodInterfaceNames(vmi, {}).at("red");
  for (const auto& order : {std::vector<std::string>{"red", "blue"}, {"blue", "red"}}) {
    Pod pod(vmi);
    Link red;
    red.name = red_link;
    red.kind = "veth";
    red.mac = "0a:58:c0:a8:65:0a";
    red.mtu = 1500;
    red.admin_up = true;
    pod.kernel.AddLink(red);
    pod.kernel.AddPodAddress(red_link, "192.168.101.10/24");
    pod.initial = pod.kernel.Dump();
    for (const auto& name : {"default", "red", "blue"}) {  // plugged one at a time
      pod.req.only = {name};
      ASSERT_TRUE(SetupPodNetwork(pod.req).ok()) << name;
    }
    EXPECT_EQ(*pod.kernel.Read("ipv4/conf/all/arp_ignore"), "1");
    for (const auto& name : order) {
      pod.req.only = {name};
      ASSERT_TRUE(TeardownPodNetwork(pod.req).ok()) << name;
    }
    pod.req.only.clear();
    ASSERT_TRUE(TeardownPodNetwork(pod.req).ok());
    EXPECT_EQ(pod.kernel.Dump(), pod.initial) << "unplugged " << order[0] << " first";
  }
}

TEST(PodNetworkTest, TeardownOfNothingRecordedIsANoOp) {
  Pod pod;
  auto down = TeardownPodNetwork(pod.req);
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(down->operations, 0);
  EXPECT_EQ(pod.kernel.Dump(), pod.initial);
}

// Drift, one kind at a time, each made the way someone outside k6t would.
TEST(PodNetworkTest, CheckFindsDriftOfEachKind) {
  struct Case {
    const char* name;
    DriftKind kind;
    std::function<void(FakeKernel&, const std::string& state_dir)> make;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"tap deleted", DriftKind::kLinkMissing,
       [](FakeKernel& k, const std::string&) { ASSERT_TRUE(k.DeleteLink("tap0").ok()); },
       "default: tap0 is missing"},
      {"bridge replaced by a dummy", DriftKind::kLinkKind,
       [](FakeKernel& k, const std::string&) {
         ASSERT_TRUE(k.DeleteLink("k6t-eth0").ok());
         ASSERT_TRUE(k.CreateLink("k6t-eth0", "dummy", "02:00:00:00:00:00", 1400).ok());
       },
       "k6t-eth0 is a dummy, not a bridge"},
      {"renamed CNI link replaced", DriftKind::kLinkReplaced,
       [](FakeKernel& k, const std::string&) {
         LinkChange c;
         c.name = "stolen";
         ASSERT_TRUE(k.ChangeLink("16477688c0e-nic", c).ok());
         ASSERT_TRUE(k.CreateLink("16477688c0e-nic", "bridge", "", 0).ok());
       },
       "16477688c0e-nic is link #"},
      {"bridge MAC changed", DriftKind::kMac,
       [](FakeKernel& k, const std::string&) {
         LinkChange c;
         c.mac = "02:00:00:00:00:99";
         ASSERT_TRUE(k.ChangeLink("k6t-eth0", c).ok());
       },
       "k6t-eth0 has MAC 02:00:00:00:00:99, expected 02:00:00:00:00:00"},
      {"tap released from its bridge", DriftKind::kMaster,
       [](FakeKernel& k, const std::string&) {
         LinkChange c;
         c.master_index = 0;
         ASSERT_TRUE(k.ChangeLink("tap0", c).ok());
       },
       "tap0 is enslaved to nothing, expected k6t-eth0"},
      {"bridge set down", DriftKind::kAdminState,
       [](FakeKernel& k, const std::string&) {
         LinkChange c;
         c.up = false;
         ASSERT_TRUE(k.ChangeLink("k6t-eth0", c).ok());
       },
       "k6t-eth0 is down"},
      {"gateway address flushed", DriftKind::kAddress,
       [](FakeKernel& k, const std::string&) {
         auto l = k.GetLink("k6t-eth0");
         ASSERT_TRUE(k.DeleteAddress((*l)->index, "10.0.2.1/24").ok());
       },
       "k6t-eth0 lacks address 10.0.2.1/24"},
      {"NAT table dropped", DriftKind::kNftTable,
       [](FakeKernel& k, const std::string&) { ASSERT_TRUE(k.DeleteTable("ip", "k6t_nat").ok()); },
       "nftables table ip k6t_nat is missing"},
      {"placeholder deleted", DriftKind::kPodLinkMissing,
       [](FakeKernel& k, const std::string&) { ASSERT_TRUE(k.DeleteLink("pod16477688c0e").ok()); },
       "pod interface pod16477688c0e is missing"},
      {"setup never finished", DriftKind::kUnfinished,
       [](FakeKernel&, const std::string& dir) {
         auto c = ReadCachedInterface(dir, "blue");
         ASSERT_TRUE(c.ok() && *c);
         (*c)->phase = PlumbingPhase::kStarted;
         ASSERT_TRUE(WriteCachedInterface(dir, **c).ok());
       },
       "blue: setup did not finish"},
  };
  for (const auto& c : cases) {
    Pod pod;
    ASSERT_TRUE(SetupPodNetwork(pod.req).ok());
    auto clean = CheckPodNetwork(pod.req);
    ASSERT_TRUE(clean.ok()) << clean.status();
    EXPECT_THAT(clean->drift, IsEmpty()) << DescribeDrift(clean->drift);
    EXPECT_EQ(clean->plans.size(), 2u);
    c.make(pod.kernel, pod.req.state_dir);
    auto r = CheckPodNetwork(pod.req);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.status();
    bool found = false;
    for (const auto& d : r->drift) found |= d.kind == c.kind;
    EXPECT_TRUE(found) << c.name << ": no drift of kind " << DriftKindName(c.kind) << " in "
                       << DescribeDrift(r->drift);
    EXPECT_THAT(DescribeDrift(r->drift), HasSubstr(c.message)) << c.name;
  }
}

TEST(PodNetworkTest, CheckWithNothingRecordedIsNotFound) {
  Pod pod;
  auto r = CheckPodNetwork(pod.req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

// A runner shared by every call (a long-lived caller's) is used, not a fresh one per call.
TEST(PodNetworkTest, RunsOnTheRequestsRunner) {
  class CountingNetns : public NetnsRunner {
   public:
    absl::Status Run(std::function<absl::Status()> fn) override {
      ++runs;
      return fn();
    }
    int runs = 0;
  };
  Pod pod;
  auto runner = std::make_shared<CountingNetns>();
  pod.req.netns = runner;
  ASSERT_TRUE(SetupPodNetwork(pod.req).ok());
  EXPECT_EQ(runner->runs, 2) << "observe, apply";
  ASSERT_TRUE(SetupPodNetwork(pod.req).ok());
  EXPECT_EQ(runner->runs, 3) << "a setup with everything cached only applies";
  ASSERT_TRUE(
      RunInPod(pod.req, [](const Kernel& k) { return k.netlink->GetLink("tap0").status(); }).ok());
  EXPECT_EQ(runner->runs, 4);
}

}  // namespace
}  // namespace k6t::binding
