// Live migration over the FakeLibvirt: the target launcher (--incoming) waits without
// starting anything, takes the guest's MACs from the source's domain, reports the VM once it
// arrived, gives up when none arrives or the incoming run fails; the source's launcher hands
// the request to libvirt and ends with kMigrated.
#include <filesystem>
#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "k6t/launcher/launcher.h"
#include "launcher_env.h"

namespace k6t::launcher::test {
namespace {

using ::testing::HasSubstr;
using testing::LibvirtCall;

// The source's live XML, as libvirt gives it: the guest's MACs on aliased devices.
std::string SourceXml(const std::string& default_mac, const std::string& blue_mac) {
  return absl::StrCat(
      "<domain type='qemu'><name>", kDomain,
      "</name><devices>"
      "<interface type='ethernet'><mac address='",
      default_mac,
      "'/><target dev='tapdefault' managed='no'/><alias name='ua-default'/></interface>"
      "<interface type='ethernet'><mac address='",
      blue_mac,
      "'/><target dev='tapblue' managed='no'/><alias name='ua-blue'/></interface>"
      "</devices></domain>");
}

TEST(LauncherMigration, AnIncomingLauncherMakesEverythingReadyButStartsNothing) {
  LauncherEnv env;
  env.options.incoming = true;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  EXPECT_TRUE(l->awaiting_incoming());
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kDefine), 0);
  EXPECT_EQ(env.libvirt->calls(LibvirtCall::kStart), 0);
  EXPECT_FALSE(l->GeneratedXml().empty());
  EXPECT_FALSE(l->Wait(absl::Milliseconds(50)).has_value());  // still waiting
}

TEST(LauncherMigration, TheTargetTakesTheGuestsMacsFromTheSourceDomain) {
  LauncherEnv env;
  env.AddInterface("blue", "02:00:00:00:00:0b");  // the target pod link's MAC, planned here
  env.options.incoming = true;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  auto target = l->PrepareIncoming(SourceXml("02:00:00:00:00:01", "0a:58:0a:00:00:99"));
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->dest_uri, "test:///k6t-fake");
  EXPECT_THAT(target->dest_xml, HasSubstr("0a:58:0a:00:00:99"));
  EXPECT_THAT(target->dest_xml, ::testing::Not(HasSubstr("02:00:00:00:00:0b")));
  // Only the MAC that changed is served anew, and to the guest's MAC.
  ASSERT_EQ(target->dhcp_changed.size(), 1u);
  EXPECT_EQ(target->dhcp_changed[0].bridge, "k6t-blue");
  EXPECT_EQ(target->dhcp_changed[0].client_mac, "0a:58:0a:00:00:99");
}

TEST(LauncherMigration, PrepareIncomingIsRefusedByALauncherThatRunsItsVm) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  auto target = l->PrepareIncoming(SourceXml("02:00:00:00:00:01", "02:00:00:00:00:02"));
  EXPECT_EQ(target.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LauncherMigration, PrepareIncomingRefusesWhatIsNotADomain) {
  LauncherEnv env;
  env.options.incoming = true;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  const std::string before = l->GeneratedXml();
  auto target = l->PrepareIncoming("<not-a-domain/>");
  EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(l->GeneratedXml(), before);
}

// An empty disk's writes exist only in this pod; a hostDisk is the node's, both pods see it.
void AddScratchAndHostDisks(LauncherEnv& env) {
  api::Disk scratch;
  scratch.name = "scratch";
  env.vmi.spec.domain.disks.push_back(scratch);
  api::Volume v;
  v.name = "scratch";
  v.empty_disk = api::EmptyDiskSource{1 << 20};
  env.vmi.spec.volumes.push_back(v);
  api::Disk host;
  host.name = "shared";
  env.vmi.spec.domain.disks.push_back(host);
  api::Volume hv;
  hv.name = "shared";
  hv.host_disk = api::HostDiskSource{
      .path = env.state_dir + "/shared.img", .type = "DiskOrCreate", .capacity_bytes = 1 << 20};
  env.vmi.spec.volumes.push_back(hv);
}

TEST(LauncherMigration, TheTargetPreparesItsOwnEmptyDisksForTheCopy) {
  LauncherEnv env;
  AddScratchAndHostDisks(env);
  env.options.incoming = true;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  auto target = l->PrepareIncoming(SourceXml("02:00:00:00:00:01", "02:00:00:00:00:02"));
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_THAT(target->dest_xml,
              HasSubstr("<source file='" + env.state_dir + "/disks/scratch.img'/>"));
  EXPECT_TRUE(std::filesystem::exists(env.state_dir + "/disks/scratch.img"));
}

TEST(LauncherMigration, TheSourceCopiesOnlyTheDisksThisPodHolds) {
  LauncherEnv env;
  AddScratchAndHostDisks(env);
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  MigrationRequest r;
  r.dest_uri = "qemu+unix:///system?socket=/target/libvirt-sock";
  r.migrate_uri = "unix:///target/migration/qemu.sock";
  r.disks_uri = "unix:///target/migration/nbd.sock";
  ASSERT_TRUE(l->MigrateOut(r).ok());
  ASSERT_EQ(env.libvirt->migrations().size(), 1u);
  EXPECT_THAT(env.libvirt->migrations()[0].copy_disks, ::testing::ElementsAre("vda"));
  EXPECT_EQ(env.libvirt->migrations()[0].disks_uri, r.disks_uri);
}

TEST(LauncherMigration, TheTargetRunsTheVmOnceItArrived) {
  LauncherEnv env;
  env.options.incoming = true;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  auto target = l->PrepareIncoming(SourceXml("02:00:00:00:00:01", "02:00:00:00:00:02"));
  ASSERT_TRUE(target.ok());
  ASSERT_TRUE(env.libvirt->ArriveByMigration(target->dest_xml).ok());
  env.libvirt->WaitIdle();
  EXPECT_FALSE(l->Wait(absl::Milliseconds(50)).has_value());
  EXPECT_FALSE(l->awaiting_incoming());
  EXPECT_EQ(l->status().phase, DomainPhase::kRunning);
  // From then on it is an ordinary VM: its power-off ends the launcher with 0.
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, StopReason::kShutdown).ok());
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kGuestStopped);
}

TEST(LauncherMigration, NoVmWithinTheWindowEndsTheTargetWithIncomingFailed) {
  LauncherEnv env;
  env.options.incoming = true;
  env.options.incoming_timeout = absl::Milliseconds(100);
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  auto o = WaitEnd(*l, absl::Seconds(5));
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kIncomingFailed);
  EXPECT_THAT(o->message, HasSubstr("no VM arrived"));
}

TEST(LauncherMigration, AFailedIncomingRunEndsTheTargetWithIncomingFailed) {
  LauncherEnv env;
  env.options.incoming = true;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  // The incoming QEMU starts paused, then the migration fails and libvirt stops it.
  ASSERT_TRUE(env.libvirt->ArriveByMigration(MinimalDomainXml(kDomain), /*resumes=*/false).ok());
  env.libvirt->WaitIdle();
  EXPECT_FALSE(l->Wait(absl::Milliseconds(10)).has_value());
  EXPECT_TRUE(l->awaiting_incoming());
  ASSERT_TRUE(env.libvirt->StopOutside(kDomain, StopReason::kFailed).ok());
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kIncomingFailed);
  EXPECT_THAT(o->message, HasSubstr("incoming migration failed"));
}

TEST(LauncherMigration, TheSourceHandsTheRequestToLibvirtAndEndsMigrated) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  MigrationRequest r;
  r.dest_uri = "qemu+unix:///system?socket=/target/libvirt-sock";
  r.migrate_uri = "tcp://10.10.0.2";
  r.dest_xml = "<domain/>";
  r.max_downtime = absl::Milliseconds(200);
  ASSERT_TRUE(l->MigrateOut(r).ok());
  ASSERT_EQ(env.libvirt->migrations().size(), 1u);
  EXPECT_TRUE(env.libvirt->migrations()[0].copy_disks.empty()) << "no disk: nothing to copy";
  EXPECT_EQ(env.libvirt->migrations()[0].dest_uri, r.dest_uri);
  EXPECT_EQ(env.libvirt->migrations()[0].migrate_uri, r.migrate_uri);
  EXPECT_EQ(env.libvirt->migrations()[0].dest_xml, r.dest_xml);
  auto o = WaitEnd(*l);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->code, ExitCode::kMigrated);
  EXPECT_FALSE(env.libvirt->Exists(kDomain));  // undefined here: it lives on the target
}

TEST(LauncherMigration, AFailedMigrationLeavesTheVmRunningOnTheSource) {
  LauncherEnv env;
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  env.libvirt->FailCall(LibvirtCall::kMigrate,
                        absl::UnavailableError("unable to connect to the target"));
  MigrationRequest r;
  r.dest_uri = "qemu+unix:///system?socket=/nowhere";
  EXPECT_FALSE(l->MigrateOut(r).ok());
  EXPECT_FALSE(l->Wait(absl::Milliseconds(50)).has_value());
  EXPECT_EQ(l->status().phase, DomainPhase::kRunning);
  EXPECT_EQ(env.libvirt->State(kDomain)->state, DomainState::kRunning);
}

TEST(LauncherMigration, AnIncomingLauncherCannotUseTheEmbeddedDriver) {
  LauncherEnv env;
  env.options.incoming = true;
  env.options.libvirt_uri = "qemu:///embed?root=/tmp/x";
  auto l = env.NewLauncher();
  auto s = l->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("--incoming"));
  EXPECT_EQ(l->FailureCode(), ExitCode::kLibvirt);
}

}  // namespace
}  // namespace k6t::launcher::test
