// Phase "machine" of the domain XML: identity, resources, <os>, features, CPU, lifecycle.
#include "domain/machine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::HasSubstr;

api::Vmi Vmi() {
  api::Vmi vmi;
  vmi.meta.name = "vm";
  vmi.meta.namespace_ = "ns";
  vmi.meta.uid = "6A1C5F3E-2B8D-4C1A-9F0E-3D2B1A0C9E8F";
  return vmi;
}

TEST(MachinePhase, TcgDomainWithTheDefaults) {
  domxml::XmlDocument doc("domain");
  DomainOptions o;
  o.accel = Accel::kTcg;
  auto os = AppendMachine(doc.root(), Vmi(), o);
  ASSERT_TRUE(os.ok()) << os.status();
  EXPECT_EQ(os->name(), "os");
  EXPECT_EQ(doc.Emit(),
            "<domain type='qemu'>\n"
            "  <name>ns_vm</name>\n"
            "  <uuid>6a1c5f3e-2b8d-4c1a-9f0e-3d2b1a0c9e8f</uuid>\n"
            "  <memory unit='KiB'>262144</memory>\n"
            "  <vcpu placement='static'>1</vcpu>\n"
            "  <os>\n"
            "    <type arch='x86_64' machine='q35'>hvm</type>\n"
            "  </os>\n"
            "  <features>\n"
            "    <acpi/>\n"
            "    <apic/>\n"
            "  </features>\n"
            "  <cpu mode='maximum' check='none'>\n"
            "    <topology sockets='1' dies='1' cores='1' threads='1'/>\n"
            "  </cpu>\n"
            "  <clock offset='utc'/>\n"
            "  <on_poweroff>destroy</on_poweroff>\n"
            "  <on_reboot>restart</on_reboot>\n"
            "  <on_crash>destroy</on_crash>\n"
            "</domain>\n");
  // The boot source goes into the <os> returned, after its <type>.
  os->Add("kernel", "/k");
  EXPECT_THAT(doc.Emit(), HasSubstr("hvm</type>\n    <kernel>/k</kernel>\n  </os>"));
}

TEST(MachinePhase, KvmTopologyAndMemoryRoundedUpToKiB) {
  api::Vmi vmi = Vmi();
  vmi.spec.domain.cpu = {2, 3, 1};
  vmi.spec.domain.memory_bytes = 1025;
  domxml::XmlDocument doc("domain");
  DomainOptions o;
  o.accel = Accel::kKvm;
  ASSERT_TRUE(AppendMachine(doc.root(), vmi, o).ok());
  const std::string xml = doc.Emit();
  EXPECT_THAT(xml, HasSubstr("<domain type='kvm'>"));
  EXPECT_THAT(xml, HasSubstr("<memory unit='KiB'>2</memory>"));
  EXPECT_THAT(xml, HasSubstr("<vcpu placement='static'>6</vcpu>"));
  EXPECT_THAT(xml, HasSubstr("<cpu mode='host-passthrough' check='none'>"));
  EXPECT_THAT(xml, HasSubstr("<topology sockets='2' dies='1' cores='3' threads='1'/>"));
  EXPECT_EQ(MemoryBytes(vmi.spec.domain), 1025);
  EXPECT_EQ(MemoryBytes(api::Domain{}), kDefaultMemoryMiB << 20);
}

TEST(MachinePhase, ATopologyWithAZeroCountIsRefused) {
  api::Vmi vmi = Vmi();
  vmi.spec.domain.cpu = {1, 0, 1};
  domxml::XmlDocument doc("domain");
  auto os = AppendMachine(doc.root(), vmi, DomainOptions{});
  ASSERT_FALSE(os.ok());
  EXPECT_EQ(os.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(os.status().message(), HasSubstr("cores=0"));
}

TEST(MachinePhase, NameAndDerivedUuid) {
  api::Vmi vmi = Vmi();
  vmi.meta.namespace_.clear();
  EXPECT_EQ(DomainName(vmi), "default_vm");
  vmi.meta.uid.clear();
  const std::string a = DomainUuid(vmi);  // derived from the name
  EXPECT_EQ(a, DomainUuid(vmi));
  EXPECT_EQ(a[14], '8');  // version 8
  vmi.meta.name = "other";
  EXPECT_NE(DomainUuid(vmi), a);
}

}  // namespace
}  // namespace k6t::launcher
