// The command socket's migration job over the FakeLibvirt: SR-IOV VFs unplugged before the VM
// leaves and plugged back when the migration fails; on the target the domain arrives without
// them (its root port free, as the source left it) and this pod's VFs are plugged after.
#include "migration_job.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher_env.h"

namespace k6t::launcher::test {
namespace {

using ::testing::HasSubstr;
using testing::LibvirtCall;
using ::testing::Not;

// A VMI interface bound to an SR-IOV VF (hostdev), and its plan.
void AddVf(LauncherEnv& env, const std::string& name, const std::string& host_pci) {
  api::Interface i;
  i.name = name;
  i.bindings = {api::BindingMethod::kSriov};
  env.vmi.spec.domain.interfaces.push_back(i);
  api::Network n;
  n.name = name;
  n.multus = api::MultusNetwork{name + "-net", false};
  env.vmi.spec.networks.push_back(n);
  binding::InterfacePlan p;
  p.interface_name = name;
  p.network_name = name;
  p.binding = "sriov";
  p.device = binding::GuestDevice{};
  p.device->kind = binding::DeviceKind::kHostdev;
  p.device->alias = "ua-sriov-" + name;
  p.device->host_pci_address = host_pci;
  env.CachePlan(p);
}

// The calls in the fake's log whose text starts with `prefix`, in order.
std::vector<std::string> Calls(const testing::FakeLibvirt& f, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& c : f.call_log())
    if (c.rfind(prefix, 0) == 0) out.push_back(c);
  return out;
}

api::rpc::GetMigrationResult WaitJob(MigrationJob& job) {
  for (int i = 0; i < 500; ++i) {
    auto m = job.Get();
    if (m.state != "running") return m;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return job.Get();
}

int Index(const std::vector<std::string>& log, const std::string& prefix) {
  for (size_t i = 0; i < log.size(); ++i)
    if (log[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
  return -1;
}

TEST(MigrationJob, TheSourceUnplugsItsVfsBeforeTheVmLeaves) {
  LauncherEnv env;
  AddVf(env, "fast", "0000:65:00.2");
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  ASSERT_THAT(env.libvirt->LiveXml(kDomain), HasSubstr("ua-sriov-fast"));
  Hotplug hotplug(*l, nullptr);
  MigrationJob job(*l, nullptr, &hotplug);
  ASSERT_TRUE(
      job.Start({.dest_uri = "qemu+unix:///system?socket=/t", .migrate_uri = "tcp://10.10.0.2"})
          .ok());
  EXPECT_EQ(WaitJob(job).state, "completed");
  const auto log = env.libvirt->call_log();
  const int detach = Index(log, "detach-alias default_vm ua-sriov-fast");
  const int migrate = Index(log, "migrate default_vm");
  ASSERT_GE(detach, 0);
  ASSERT_GE(migrate, 0);
  EXPECT_LT(detach, migrate);
}

TEST(MigrationJob, AFailedMigrationPlugsTheVfsBackOnTheSource) {
  LauncherEnv env;
  AddVf(env, "fast", "0000:65:00.2");
  auto l = env.NewLauncher();
  ASSERT_TRUE(l->Start().ok());
  Hotplug hotplug(*l, nullptr);
  MigrationJob job(*l, nullptr, &hotplug);
  env.libvirt->FailCall(LibvirtCall::kMigrate, absl::UnavailableError("the target went away"));
  ASSERT_TRUE(job.Start({.dest_uri = "qemu+unix:///system?socket=/t"}).ok());
  auto m = WaitJob(job);
  EXPECT_EQ(m.state, "failed");
  EXPECT_THAT(m.message, HasSubstr("the target went away"));
  const auto log = env.libvirt->call_log();
  EXPECT_GT(Index(log, "attach default_vm ua-sriov-fast"), Index(log, "migrate default_vm"));
  env.libvirt->WaitIdle();
  EXPECT_THAT(env.libvirt->LiveXml(kDomain), HasSubstr("ua-sriov-fast"));
  EXPECT_EQ(l->status().phase, DomainPhase::kRunning);
}

TEST(MigrationJob, TheTargetReceivesTheDomainWithoutVfsAndPlugsItsOwn) {
  LauncherEnv env;
  AddVf(env, "fast", "0000:66:00.4");  // this pod's VF
  env.options.incoming = true;
  auto l = env.NewLauncher();
  Hotplug hotplug(*l, nullptr);
  auto job = std::make_unique<MigrationJob>(*l, nullptr, &hotplug);
  ASSERT_TRUE(l->Start().ok());
  const std::string full = l->GeneratedXml();
  ASSERT_THAT(full, HasSubstr("ua-sriov-fast"));
  api::rpc::PrepareMigrationTargetParams p;
  p.source_xml = absl::StrCat("<domain type='qemu'><name>", kDomain, "</name><devices/></domain>");
  auto target = job->PrepareTarget(p);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_THAT(target->dest_xml, Not(HasSubstr("<hostdev")));
  // The same root ports as the full domain: the source's after its unplug.
  auto ports = [](const std::string& xml) {
    size_t n = 0;
    for (size_t at = xml.find("pcie-root-port"); at != std::string::npos;
         at = xml.find("pcie-root-port", at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(ports(target->dest_xml), ports(full));
  ASSERT_TRUE(env.libvirt->ArriveByMigration(target->dest_xml).ok());
  env.libvirt->WaitIdle();
  l->Wait(absl::Milliseconds(50));  // sees the arrival
  job->AfterArrival();
  env.libvirt->WaitIdle();
  EXPECT_THAT(env.libvirt->LiveXml(kDomain), HasSubstr("0x66"));  // this pod's VF, on bus 0x66
  EXPECT_THAT(Calls(*env.libvirt, "attach default_vm ua-sriov-fast"), ::testing::SizeIs(1));
}

TEST(MigrationJob, LinkRefreshTakesTheBridgeLinksDownAndUpOnceTheVmArrived) {
  LauncherEnv env;
  env.AddInterface("blue", "02:00:00:00:00:0b");  // bridge binding
  env.options.incoming = true;
  auto l = env.NewLauncher();
  Hotplug hotplug(*l, nullptr);
  MigrationJob job(*l, nullptr, &hotplug);
  ASSERT_TRUE(l->Start().ok());
  api::rpc::PrepareMigrationTargetParams p;
  p.source_xml = absl::StrCat("<domain type='qemu'><name>", kDomain, "</name><devices/></domain>");
  p.link_refresh = true;
  auto target = job.PrepareTarget(p);
  ASSERT_TRUE(target.ok()) << target.status();
  ASSERT_TRUE(env.libvirt->ArriveByMigration(target->dest_xml).ok());
  env.libvirt->WaitIdle();
  l->Wait(absl::Milliseconds(50));
  job.AfterArrival();
  // blue went down, then up; the masquerade interface was left alone.
  EXPECT_THAT(Calls(*env.libvirt, "update default_vm ua-blue"), ::testing::SizeIs(2));
  EXPECT_THAT(Calls(*env.libvirt, "update default_vm ua-default"), ::testing::IsEmpty());
  EXPECT_THAT(env.libvirt->LiveXml(kDomain), Not(HasSubstr("state='down'")));
}

}  // namespace
}  // namespace k6t::launcher::test
