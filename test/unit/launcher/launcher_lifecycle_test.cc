// The launcher's lifecycle on a FakeLibvirt: start, adoption after a restart, the ways a VM
// ends and the exit code each maps to, shutdown with a deadline, a lost libvirt connection.
#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "k6t/launcher/launcher.h"
#include "launcher_env.h"

namespace k6t::launcher::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using testing::LibvirtCall;
using ::testing::Not;

TEST(LauncherLifecycle, StartDefinesAndStartsTheDomain) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  EXPECT_EQ(l->status().phase, DomainPhase::kRunning);
  ASSERT_TRUE(env.libvirt->State(kDomain).has_value());
  EXPECT_EQ(env.libvirt->State(kDomain)->state, DomainState::kRunning);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDefine), 1);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kStart), 1);
  EXPECT_THAT(env.libvirt->LiveXml(kDomain), HasSubstr("<alias name='ua-default'/>"));
  // The live XML is libvirt's: DomainXml() reads it, not the generated one.
  auto xml = l->DomainXml();
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(*xml, env.libvirt->LiveXml(kDomain));
  EXPECT_NE(*xml, l->GeneratedXml());
}

TEST(LauncherLifecycle, StopDestroysAndUndefines) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  l->Stop();
  EXPECT_FALSE(env.libvirt->Exists(kDomain));
  EXPECT_EQ(env.libvirt->open_connections(), 0);
  l->Stop();  // idempotent
}

TEST(LauncherLifecycle, RestartAdoptsTheRunningDomainInsteadOfStartingAnother) {
  LauncherEnv env;
  // What a launcher killed outright leaves: its domain, running.
  ASSERT_TRUE(env.libvirt->AddDomain(MinimalDomainXml(kDomain), true).ok());
  const std::string before = env.libvirt->Dump();
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDefine), 0);  // the world's calls are not counted
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kStart), 0);
  EXPECT_EQ(env.libvirt->Dump(), before);
  EXPECT_EQ(l->status().phase, DomainPhase::kRunning);
  // The adopted domain's events reach this launcher.
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, StopReason::kShutdown).ok());
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kGuestStopped);
}

TEST(LauncherLifecycle, ASecondLauncherOnTheSameDomainAdoptsIt) {
  LauncherEnv env;
  auto first = env.NewLauncher();
  ASSERT_TRUE(first->Start().ok());
  auto second = env.NewLauncher();
  ASSERT_TRUE(second->Start().ok());
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kStart), 1);
  EXPECT_EQ(second->status().phase, DomainPhase::kRunning);
}

TEST(LauncherLifecycle, AShutOffLeftoverIsRedefinedAndStarted) {
  LauncherEnv env;
  ASSERT_TRUE(env.libvirt->AddDomain(MinimalDomainXml(kDomain), false).ok());
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDefine), 1);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kStart), 1);
  // The definition is this launcher's, not the leftover's.
  EXPECT_THAT(env.libvirt->ConfigXml(kDomain), HasSubstr("<uuid>"));
}

struct EndCase {
  StopReason reason;
  ExitCode code;
  const char* message;
};

class LauncherExitCode : public ::testing::TestWithParam<EndCase> {};

TEST_P(LauncherExitCode, HowTheDomainStoppedDecidesTheExitCode) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  EXPECT_FALSE(l->Wait(absl::Milliseconds(20)).has_value());
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, GetParam().reason).ok());
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, GetParam().code) << o->message;
  EXPECT_THAT(o->message, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, LauncherExitCode,
    ::testing::Values(EndCase{StopReason::kShutdown, ExitCode::kGuestStopped, "powered off"},
                      EndCase{StopReason::kCrashed, ExitCode::kGuestCrashed, "crashed"},
                      EndCase{StopReason::kFailed, ExitCode::kGuestCrashed, "QEMU failed"},
                      EndCase{StopReason::kDestroyed, ExitCode::kKilled, "someone else"},
                      EndCase{StopReason::kSaved, ExitCode::kKilled, "saved"},
                      EndCase{StopReason::kMigrated, ExitCode::kMigrated, "live migration"}));

TEST(LauncherLifecycle, ShutdownTheGuestHonours) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  auto o = l->Shutdown(absl::Seconds(10));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->code, ExitCode::kGuestStopped);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDestroy), 0);
  EXPECT_EQ(env.libvirt->State(kDomain)->reason, StopReason::kShutdown);
  // Wait() reports the requested end, not a guest power-off of its own.
  auto w = WaitEnd(*l);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->message, o->message);
}

TEST(LauncherLifecycle, ShutdownIgnoredDestroysAfterTheTimeout) {
  LauncherEnv env;
  env.libvirt->SetGuestHonoursPowerButton(false);
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  const absl::Time t0 = absl::Now();
  auto o = l->Shutdown(absl::Milliseconds(200));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(200));
  EXPECT_EQ(o->code, ExitCode::kShutdownTimeout);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kShutdown), 1);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDestroy), 1);
  EXPECT_EQ(env.libvirt->State(kDomain)->reason, StopReason::kDestroyed);
  EXPECT_EQ(l->status().phase, DomainPhase::kStopped);
}

TEST(LauncherLifecycle, ShutdownOfAStoppedDomainReportsHowItEnded) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, StopReason::kCrashed).ok());
  ASSERT_TRUE(WaitEnd(*l).has_value());
  auto o = l->Shutdown(absl::Seconds(1));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->code, ExitCode::kGuestCrashed);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kShutdown), 0);
}

TEST(LauncherLifecycle, KillDestroys) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  auto o = l->Kill();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->code, ExitCode::kKilled);
  EXPECT_EQ(env.libvirt->State(kDomain)->state, DomainState::kShutOff);
  auto w = WaitEnd(*l);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->code, ExitCode::kKilled);
  EXPECT_THAT(w->message, HasSubstr("on request"));
}

TEST(LauncherLifecycle, ConnectionLostReconnectsAndFollowsTheDomainAgain) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  env.libvirt->RefuseConnections(2);  // the restarted daemon takes a moment
  env.libvirt->DropConnections();
  // The domain keeps running: no outcome, only reconnect attempts.
  for (int i = 0; i < 10 && env.libvirt->calls(LibvirtCall::kConnect) < 4; ++i)
    EXPECT_FALSE(l->Wait(absl::Milliseconds(50)).has_value());
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kConnect), 4);
  EXPECT_FALSE(l->domain()->connection_lost());
  EXPECT_EQ(env.libvirt->open_connections(), 1);
  EXPECT_EQ(l->status().phase, DomainPhase::kRunning);
  // Events arrive on the new connection.
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, StopReason::kCrashed).ok());
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kGuestCrashed);
}

TEST(LauncherLifecycle, StateChangedWhileLibvirtWasAwayIsReadAfterReconnect) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  env.libvirt->DropConnections();
  // The guest powers off while nobody listens: its events are lost.
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, StopReason::kShutdown).ok());
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kGuestStopped);
  EXPECT_EQ(l->status().reason, StopReason::kShutdown);
}

TEST(LauncherLifecycle, DomainVanishedWhileLibvirtWasAway) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  env.libvirt->DropConnections();
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, StopReason::kDestroyed).ok());
  ASSERT_TRUE(env.libvirt->UndefineOutside(kDomain).ok());
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kKilled);
  EXPECT_THAT(o->message, HasSubstr("vanished"));
}

TEST(LauncherLifecycle, ShutdownAfterAConnectionLossReconnectsFirst) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  env.libvirt->DropConnections();
  env.libvirt->WaitIdle();
  ASSERT_TRUE(l->domain()->connection_lost());
  auto o = l->Shutdown(absl::Seconds(10));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->code, ExitCode::kGuestStopped);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kConnect), 2);
}

// ---- Start failures and their exit codes.

TEST(LauncherStart, LibvirtUnreachableIsExitCode4) {
  LauncherEnv env;
  env.libvirt->RefuseConnections(1);
  auto l = env.NewLauncher();
  EXPECT_TRUE(absl::IsUnavailable(l->Start()));
  EXPECT_EQ(l->FailureCode(), ExitCode::kLibvirt);
}

TEST(LauncherStart, AdoptionLookupFailingIsExitCode4) {
  LauncherEnv env;
  env.libvirt->FailCall(LibvirtCall::kGetState, absl::InternalError("rpc"));
  auto l = env.NewLauncher();
  EXPECT_FALSE(l->Start().ok());
  EXPECT_EQ(l->FailureCode(), ExitCode::kLibvirt);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDefine), 0);
}

TEST(LauncherStart, DefineRefusedIsExitCode5) {
  LauncherEnv env;
  env.libvirt->FailCall(LibvirtCall::kDefine, absl::InvalidArgumentError("XML error"));
  auto l = env.NewLauncher();
  auto s = l->Start();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(l->FailureCode(), ExitCode::kDomainStart);
  EXPECT_FALSE(env.libvirt->Exists(kDomain));
}

TEST(LauncherStart, StartRefusedIsExitCode5) {
  LauncherEnv env;
  env.libvirt->FailCall(LibvirtCall::kStart, absl::InternalError("qemu unexpectedly closed"));
  auto l = env.NewLauncher();
  EXPECT_FALSE(l->Start().ok());
  EXPECT_EQ(l->FailureCode(), ExitCode::kDomainStart);
  l->Stop();
  EXPECT_FALSE(env.libvirt->Exists(kDomain));  // nothing left behind
}

TEST(LauncherStart, InterfaceWithoutAPlanIsExitCode3) {
  LauncherEnv env;
  api::Interface blue;
  blue.name = "blue";
  blue.bindings = {api::BindingMethod::kBridge};
  env.vmi.spec.domain.interfaces.push_back(blue);
  api::Network n;
  n.name = "blue";
  n.multus = api::MultusNetwork{"blue-net", false};
  env.vmi.spec.networks.push_back(n);
  auto l = env.NewLauncher();
  EXPECT_FALSE(l->Start().ok());
  EXPECT_EQ(l->FailureCode(), ExitCode::kConfig);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDefine), 0);
}

TEST(LauncherStart, ExitCodeTableListsEveryCode) {
  const std::string table = ExitCodeTable();
  for (int code = 0; code <= static_cast<int>(ExitCode::kKilled); ++code)
    EXPECT_THAT(table, HasSubstr(absl::StrCat("  ", code, "  "))) << code;
}

}  // namespace
}  // namespace k6t::launcher::test
