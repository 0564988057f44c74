// Phase "disks" of the domain XML: disk targets and buses, the root ports they take, and the
// boot source (own kernel, disks, default guest).
#include "domain/disks.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::HasSubstr;

DomainOptions Options() {
  DomainOptions o;
  o.guest_kernel = "/g/vmlinuz";
  o.guest_initrd = "/g/initrd.cpio.gz";
  return o;
}

api::Disk Disk(const std::string& name, const std::string& bus, const std::string& path) {
  api::Disk d;
  d.name = name;
  d.bus = bus;
  d.image_path = path;
  return d;
}

std::string Emit(const BootSource& boot) {
  domxml::XmlDocument doc("os");
  AppendBootSource(doc.root(), boot);
  return doc.Emit();
}

TEST(DisksPhase, TheDefaultGuestWhenTheVmNamesNothing) {
  api::Vmi vmi;
  vmi.spec.domain.kernel_boot = api::KernelBoot{"", "", "k6t.net=dhcp"};
  auto s = LayOutStorage(vmi, Options());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->disks.empty());
  EXPECT_EQ(s->root_ports, 0);
  EXPECT_EQ(Emit(s->boot),
            "<os>\n  <kernel>/g/vmlinuz</kernel>\n  <initrd>/g/initrd.cpio.gz</initrd>\n"
            "  <cmdline>console=ttyS0 panic=-1 quiet k6t.net=dhcp</cmdline>\n</os>\n");

  DomainOptions none = Options();
  none.guest_kernel.clear();
  auto nothing = LayOutStorage(vmi, none);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(nothing.status().message(), HasSubstr("build-guest"));
}

TEST(DisksPhase, TheVmsOwnKernelWinsOverItsDisks) {
  api::Vmi vmi;
  vmi.spec.domain.kernel_boot = api::KernelBoot{"/k", "", ""};
  vmi.spec.domain.disks = {Disk("root", "", "/i/root.qcow2")};
  auto s = LayOutStorage(vmi, Options());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Emit(s->boot), "<os>\n  <kernel>/k</kernel>\n</os>\n");
}

TEST(DisksPhase, DisksBootFromHdUnlessADeviceHasABootOrder) {
  api::Vmi vmi;
  vmi.spec.domain.disks = {Disk("root", "", "/i/root.img")};
  auto s = LayOutStorage(vmi, Options());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Emit(s->boot), "<os>\n  <boot dev='hd'/>\n</os>\n");

  api::Interface nic;
  nic.name = "default";
  nic.boot_order = 1;
  nic.state = "absent";  // an absent NIC's boot order does not count
  vmi.spec.domain.interfaces = {nic};
  EXPECT_TRUE(LayOutStorage(vmi, Options())->boot.from_disk);
  vmi.spec.domain.interfaces[0].state.clear();
  EXPECT_EQ(Emit(LayOutStorage(vmi, Options())->boot), "<os/>\n");

  vmi.spec.domain.interfaces.clear();
  vmi.spec.domain.disks[0].boot_order = 2;
  EXPECT_FALSE(LayOutStorage(vmi, Options())->boot.from_disk);
}

TEST(DisksPhase, TargetsAndRootPortsByBus) {
  api::Vmi vmi;
  for (int i = 0; i < 28; ++i)
    vmi.spec.domain.disks.push_back(Disk("v" + std::to_string(i), "", "/i/v.img"));
  vmi.spec.domain.disks.push_back(Disk("s0", "sata", "/i/s.qcow2"));
  vmi.spec.domain.disks.push_back(Disk("s1", "scsi", "/i/s.raw"));
  vmi.spec.domain.disks.back().image_format = "qcow2";
  auto s = LayOutStorage(vmi, Options());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->disks.size(), 30u);
  EXPECT_EQ(s->disks[0].target, "vda");
  EXPECT_EQ(s->disks[25].target, "vdz");
  EXPECT_EQ(s->disks[26].target, "vdaa");
  EXPECT_EQ(s->disks[27].target, "vdab");
  EXPECT_EQ(s->disks[28].target, "sda");
  EXPECT_EQ(s->disks[28].format, "qcow2");  // by extension
  EXPECT_EQ(s->disks[29].target, "sdb");
  EXPECT_EQ(s->disks[29].format, "qcow2");  // as the spec says
  EXPECT_EQ(s->disks[0].format, "raw");
  EXPECT_TRUE(s->virtio_scsi);
  EXPECT_EQ(s->root_ports, 28 + 1);  // each virtio disk, and the virtio-scsi controller
}

TEST(DisksPhase, ADiskThatCannotBeUsedNamesItself) {
  api::Vmi vmi;
  vmi.spec.domain.disks = {Disk("data", "", "")};
  auto s = LayOutStorage(vmi, Options());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("disk \"data\" has no image path"));
  vmi.spec.domain.disks = {Disk("data", "ide", "/i/d.img")};
  s = LayOutStorage(vmi, Options());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("unsupported bus \"ide\""));
}

TEST(DisksPhase, OneDiskElementEach) {
  api::Vmi vmi;
  vmi.spec.domain.disks = {Disk("root", "", "/i/r&d.qcow2")};
  vmi.spec.domain.disks[0].boot_order = 1;
  auto s = LayOutStorage(vmi, Options());
  ASSERT_TRUE(s.ok());
  domxml::XmlDocument doc("devices");
  AppendDisks(doc.root(), *s);
  EXPECT_EQ(doc.Emit(),
            "<devices>\n"
            "  <disk type='file' device='disk'>\n"
            "    <driver name='qemu' type='qcow2'/>\n"
            "    <source file='/i/r&amp;d.qcow2'/>\n"
            "    <target dev='vda' bus='virtio'/>\n"
            "    <boot order='1'/>\n"
            "    <alias name='ua-root'/>\n"
            "  </disk>\n"
            "</devices>\n");
}

}  // namespace
}  // namespace k6t::launcher
