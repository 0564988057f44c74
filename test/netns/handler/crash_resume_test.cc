// `k6t-handler setup` killed with SIGKILL after every operation: the next setup converges to
// the same namespace a clean setup gives, and teardown returns it to what the CNI left
// (links, addresses, routes, nftables ruleset, sysctls: NetnsSnapshot).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "test/support/netns_snapshot.h"
#include "test/support/pod_sim.h"
#include "test/support/shell.h"

namespace k6t::handler {
namespace {

using ::testing::HasSubstr;
using testsupport::NetnsSnapshot;
using testsupport::PodSim;
using testsupport::Sh;

constexpr char kVm[] = "test/netns/handler/testdata/podsim-vm.yaml";
// Masquerade + two bridge secondaries.
constexpr char kVm3Nic[] = "test/netns/handler/testdata/podsim-vm-3nic.yaml";

class CrashResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pod_ = std::make_unique<PodSim>(vm_);
    ASSERT_TRUE(pod_->ok()) << pod_->error();
    state_ = testsupport::TempDir();
  }
  void TearDown() override {
    Sh("rm -rf " + state_);
    pod_.reset();
  }
  testsupport::CommandResult Handler(const std::string& verb, const std::string& env = "") {
    return Sh(absl::StrCat(env, " ", testsupport::BuildDir(), "/bin/k6t-handler ", verb, " --vmi ",
                           testsupport::SourceDir(), "/", vm_, " --pod-netns ", pod_->netns_path(),
                           " --network-status ", pod_->status_file(),
                           verb.rfind("plan", 0) == 0 ? "" : " --state-dir " + state_));
  }

  // Operations `setup` would apply, counted in `plan --output json`.
  int PlannedOps() {
    auto plan = Handler("plan --output json");
    EXPECT_EQ(plan.exit_code, 0) << plan.output;
    int ops = 0;
    for (size_t p = plan.output.find("\"op\":"); p != std::string::npos;
         p = plan.output.find("\"op\":", p + 1))
      ++ops;
    return ops;
  }
  // One run: setup killed after `n` operations, a setup that must converge to `applied`, a
  // teardown that must give back `initial`.
  void CrashResumeTeardown(int n, const std::string& applied, const std::string& initial) {
    auto crashed = Handler("setup", absl::StrCat("K6T_FAULT_CRASH_AFTER_OPS=", n));
    EXPECT_EQ(crashed.exit_code, 128 + 9) << "crash after " << n << ": " << crashed.output;
    auto resumed = Handler("setup");
    ASSERT_EQ(resumed.exit_code, 0) << "resume after crash at " << n << ": " << resumed.output;
    EXPECT_EQ(NetnsSnapshot(pod_->name()), applied) << "after a crash at operation " << n;
    auto down = Handler("teardown");
    ASSERT_EQ(down.exit_code, 0) << down.output;
    EXPECT_EQ(NetnsSnapshot(pod_->name()), initial) << "teardown after a crash at " << n;
  }

  const char* vm_ = kVm;
  std::unique_ptr<PodSim> pod_;
  std::string state_;
};

TEST_F(CrashResumeTest, KilledAfterEveryOperationConverges) {
  const std::string initial = NetnsSnapshot(pod_->name());
  auto first = Handler("setup");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string applied = NetnsSnapshot(pod_->name());
  ASSERT_EQ(Handler("teardown").exit_code, 0);
  ASSERT_EQ(NetnsSnapshot(pod_->name()), initial);

  const int ops = PlannedOps();
  ASSERT_GT(ops, 20);
  for (int n = 0; n <= ops; ++n) {
    ASSERT_NO_FATAL_FAILURE(CrashResumeTeardown(n, applied, initial));
  }
}

class CrashResumeTest3Nic : public CrashResumeTest {
 protected:
  CrashResumeTest3Nic() { vm_ = kVm3Nic; }
};

// 100 of 100 runs on a 3-NIC plan, the crash point cycling over every operation index
// (0 = before the first one, ops = after the last one).
TEST_F(CrashResumeTest3Nic, HundredRunsCyclingTheCrashPoint) {
  const std::string initial = NetnsSnapshot(pod_->name());
  auto first = Handler("setup");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("set up 3 interface(s)"));
  const std::string applied = NetnsSnapshot(pod_->name());
  ASSERT_EQ(Handler("teardown").exit_code, 0);
  ASSERT_EQ(NetnsSnapshot(pod_->name()), initial);

  const int ops = PlannedOps();
  ASSERT_GT(ops, 30);
  constexpr int kRuns = 100;
  for (int run = 0; run < kRuns; ++run) {
    SCOPED_TRACE(absl::StrCat("run ", run + 1, " of ", kRuns));
    ASSERT_NO_FATAL_FAILURE(CrashResumeTeardown(run % (ops + 1), applied, initial));
  }
}

TEST_F(CrashResumeTest, TeardownAfterACrashWithoutResumeRestoresToo) {
  const std::string initial = NetnsSnapshot(pod_->name());
  for (int n : {3, 12, 15, 22}) {
    auto crashed = Handler("setup", absl::StrCat("K6T_FAULT_CRASH_AFTER_OPS=", n));
    EXPECT_EQ(crashed.exit_code, 128 + 9) << crashed.output;
    auto down = Handler("teardown");
    ASSERT_EQ(down.exit_code, 0) << down.output;
    EXPECT_EQ(NetnsSnapshot(pod_->name()), initial) << "teardown straight after a crash at " << n;
  }
}

TEST_F(CrashResumeTest, PlanPrintsTheTreeAndChangesNothing) {
  const std::string initial = NetnsSnapshot(pod_->name());
  auto plan = Handler("plan");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_THAT(plan.output,
              HasSubstr("interface default (masquerade) network default -> pod link eth0"));
  EXPECT_THAT(plan.output,
              HasSubstr("k6t-eth0  bridge up  mac 02:00:00:00:00:00  mtu 1400  10.0.2.1/24"));
  EXPECT_THAT(plan.output, HasSubstr("└─ tap0  tap up"));
  EXPECT_THAT(plan.output, HasSubstr("nftables table ip k6t_nat"));
  EXPECT_THAT(plan.output, HasSubstr("guest device: tap tap16477688c0e mac "));
  EXPECT_EQ(NetnsSnapshot(pod_->name()), initial);

  auto bad = Sh(absl::StrCat(testsupport::BuildDir(), "/bin/k6t-handler plan --vmi ",
                             testsupport::SourceDir(), "/", kVm,
                             " --pod-netns /run/netns/k6t-no-such-netns"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, HasSubstr("/run/netns/k6t-no-such-netns"));
}

}  // namespace
}  // namespace k6t::handler
