// The launcher's disks made ready from the VMI's volumes (vm_storage.h), then rendered by the
// disks phase of the domain XML: a KubeVirt-style VM with a containerDisk, a cloud-init
// NoCloud volume, an emptyDisk, a claim and a hostDisk, in temp dirs, no root.
#include "vm_storage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "domain/disks.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "k6t/api/decode.h"
#include "oci_builder.h"
#include "test/support/shell.h"

namespace k6t::launcher {
namespace {

namespace fs = std::filesystem;
using k6t::testing::FakeQcow2;
using k6t::testing::Layer;
using k6t::testing::OciLayout;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

api::Vmi Decode(const std::string& yaml) {
  auto v = api::DecodeSingleVmi(yaml, "t");
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : api::Vmi{};
}

constexpr char kVm[] = R"(
kind: VirtualMachineInstance
metadata: {name: web, namespace: prod}
spec:
  domain:
    devices:
      disks:
        - {name: root, disk: {bus: virtio}, bootOrder: 1}
        - {name: cloudinitdisk, disk: {bus: virtio}}
        - {name: scratch, disk: {bus: sata}, serial: SCRATCH1}
        - {name: data, disk: {}}
  volumes:
    - name: root
      containerDisk: {image: quay.io/k6t/debian:12}
    - name: cloudinitdisk
      cloudInitNoCloud:
        userData: "#cloud-config\npassword: k6t\n"
        networkData: "version: 2\nethernets: {eth1: {addresses: [10.10.10.14/24]}}\n"
    - name: scratch
      emptyDisk: {capacity: 64Mi}
    - name: data
      persistentVolumeClaim: {claimName: data-pvc}
)";

class VmStorageTest : public ::testing::Test {
 protected:
  VmStorageTest() : root_(testsupport::TempDir()), vm_dir_(root_ + "/vm") {
    fs::create_directories(vm_dir_);
    fs::create_directories(root_ + "/store");
    fs::create_directories(root_ + "/claims/data-pvc");
    std::ofstream(root_ + "/claims/data-pvc/disk.img") << "claim";
    opts_.images.store_dir = root_ + "/store";
    opts_.images.container_disks_dir = root_ + "/pod";
    opts_.claims_dir = root_ + "/claims";
    opts_.secrets.kubevirt_root = root_ + "/none";
    opts_.secrets.secrets_root = root_ + "/secrets";
    user_ = QemuUser{getuid(), getgid()};
    OciLayout l(root_ + "/store/debian");
    l.Top({{l.Manifest({Layer({{"disk", "", true}, {"disk/debian.qcow2", FakeQcow2(4096, 'd')}})}),
            {{"io.containerd.image.name", "quay.io/k6t/debian:12"}}}});
  }
  ~VmStorageTest() override { testsupport::Sh("chmod -R u+w " + root_ + "; rm -rf " + root_); }

  std::string root_, vm_dir_;
  StorageOptions opts_;
  QemuUser user_;
};

TEST_F(VmStorageTest, EveryVolumeKindBecomesADiskSource) {
  const api::Vmi vmi = Decode(kVm);
  EXPECT_TRUE(NeedsDynamicOwnership(vmi));
  auto st = PrepareVmStorage(vmi, vm_dir_, opts_, user_);
  ASSERT_TRUE(st.ok()) << st.status();
  ASSERT_EQ(st->disks.size(), 4u);

  const DiskSource& root = st->disks.at("root");
  EXPECT_EQ(root.path, vm_dir_ + "/root.qcow2");
  EXPECT_EQ(root.format, "qcow2");
  EXPECT_TRUE(root.pod_local);
  ASSERT_EQ(st->ephemeral.size(), 1u);
  EXPECT_EQ(st->ephemeral[0].overlay, root.path);
  EXPECT_EQ(st->ephemeral[0].base_format, "qcow2");
  EXPECT_THAT(fs::read_symlink(st->ephemeral[0].base_link).string(),
              HasSubstr("/store/.extracted/"));

  const DiskSource& ci = st->disks.at("cloudinitdisk");
  EXPECT_EQ(ci.path, vm_dir_ + "/cloudinit/cloudinitdisk.iso");
  EXPECT_TRUE(ci.readonly);
  struct stat s {};
  ASSERT_EQ(stat(ci.path.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0440u);
  // ISO9660's primary volume descriptor at 32 KiB: "CD001", and the volume id at 0x8028.
  std::ifstream iso(ci.path, std::ios::binary);
  std::string head(0x8028 + 6, '\0');
  iso.read(head.data(), static_cast<std::streamsize>(head.size()));
  EXPECT_EQ(head.substr(0x8001, 5), "CD001");
  EXPECT_EQ(head.substr(0x8028, 6), "cidata");

  const DiskSource& scratch = st->disks.at("scratch");
  EXPECT_EQ(scratch.path, vm_dir_ + "/disks/scratch.img");
  ASSERT_EQ(stat(scratch.path.c_str(), &s), 0);
  EXPECT_EQ(s.st_size, 64 << 20);
  EXPECT_LT(s.st_blocks * 512, 1 << 20);  // sparse

  EXPECT_EQ(st->disks.at("data").path, root_ + "/claims/data-pvc/disk.img");
  EXPECT_EQ(st->disks.at("data").format, "raw");

  // A launcher adopting the running VM computes the same sources without changing a file.
  const auto link_before = fs::read_symlink(st->ephemeral[0].base_link);
  const auto overlay_before = fs::last_write_time(root.path);
  auto described = DescribeVmStorage(vmi, vm_dir_, opts_);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->disks, st->disks);
  EXPECT_EQ(fs::read_symlink(st->ephemeral[0].base_link), link_before);
  EXPECT_EQ(fs::last_write_time(root.path), overlay_before);

  // The domain XML's disks phase renders them.
  DomainOptions o;
  o.disk_sources = st->disks;
  auto layout = LayOutStorage(vmi, o);
  ASSERT_TRUE(layout.ok()) << layout.status();
  domxml::XmlDocument doc("devices");
  AppendDisks(doc.root(), *layout);
  const std::string xml = doc.Emit();
  EXPECT_THAT(xml, HasSubstr("<source file='" + vm_dir_ + "/root.qcow2'/>"));
  EXPECT_THAT(xml, Not(HasSubstr("<transient")));
  // What a live migration copies: the overlay and the empty disk, not the ISO or the claim.
  EXPECT_THAT(PodLocalDiskTargets(*layout), ElementsAre("vda", "sda"));
  EXPECT_THAT(xml, HasSubstr("<driver name='qemu' type='qcow2'/>"));
  EXPECT_THAT(xml, HasSubstr("<serial>SCRATCH1</serial>"));
  EXPECT_THAT(xml, HasSubstr("<target dev='sda' bus='sata'/>"));
  EXPECT_THAT(xml, HasSubstr("<readonly/>"));

  ReleaseVmStorage(*st);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root.path)));
}

TEST_F(VmStorageTest, AMissingImageNamesTheVolumeAndLeavesNothing) {
  std::string yaml = kVm;
  yaml.replace(yaml.find("debian:12"), 9, "debian:13");
  auto st = PrepareVmStorage(Decode(yaml), vm_dir_, opts_, user_);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.status().message(), HasSubstr("spec.volumes[0].containerDisk.image"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(vm_dir_ + "/root.base")));
}

TEST_F(VmStorageTest, AFailureAfterTheOverlayRemovesItsLink) {
  std::string yaml = kVm;
  yaml.replace(yaml.find("data-pvc"), 8, "gone-pvc");
  auto st = PrepareVmStorage(Decode(yaml), vm_dir_, opts_, user_);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.status().message(), HasSubstr("spec.volumes[3].persistentVolumeClaim"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(vm_dir_ + "/root.base")));
}

TEST_F(VmStorageTest, ACdromIsReadOnlyAndARegularDiskNeedsNoDynamicOwnership) {
  const api::Vmi vmi = Decode(R"(
kind: VirtualMachineInstance
metadata: {name: cd}
spec:
  domain:
    devices:
      disks:
        - {name: install, cdrom: {}}
  volumes:
    - name: install
      persistentVolumeClaim: {claimName: data-pvc}
)");
  EXPECT_FALSE(NeedsDynamicOwnership(vmi));
  auto st = PrepareVmStorage(vmi, vm_dir_, opts_, user_);
  ASSERT_TRUE(st.ok()) << st.status();
  DomainOptions o;
  o.disk_sources = st->disks;
  auto layout = LayOutStorage(vmi, o);
  ASSERT_TRUE(layout.ok()) << layout.status();
  domxml::XmlDocument doc("devices");
  AppendDisks(doc.root(), *layout);
  EXPECT_EQ(doc.Emit(),
            "<devices>\n"
            "  <disk type='file' device='cdrom'>\n"
            "    <driver name='qemu' type='raw'/>\n"
            "    <source file='" +
                root_ +
                "/claims/data-pvc/disk.img'/>\n"
                "    <target dev='sda' bus='sata'/>\n"
                "    <readonly/>\n"
                "    <alias name='ua-install'/>\n"
                "  </disk>\n"
                "</devices>\n");
}

}  // namespace
}  // namespace k6t::launcher
