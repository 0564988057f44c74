// spec.volumes and domain.devices.disks: decoding every field KubeVirt users write,
// KubeVirt's storage admission rules with their field paths, the RPC round trip, and image
// references.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "k6t/api/decode.h"
#include "k6t/api/image_ref.h"
#include "k6t/api/validate.h"
#include "test_util.h"

namespace k6t::api {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::ErrorStrings;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The VM of the OpenShift Virtualization networking guides, as a KubeVirt user writes it.
constexpr char kUserVm[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: fedora, namespace: web}
spec:
  runStrategy: Always
  template:
    spec:
      hostname: fedora-1
      subdomain: svc
      domain:
        firmware: {uuid: 5d307ca9-b3ef-428c-8861-06e72d69f223}
        devices:
          autoattachGraphicsDevice: false
          autoattachSerialConsole: true
          interfaces: [{name: default, masquerade: {}}]
          disks:
            - name: containerdisk
              disk: {bus: virtio}
              bootOrder: 1
              cache: none
              io: native
              serial: ROOT-1
            - name: cloudinitdisk
              cdrom: {bus: sata}
            - name: scratch
              disk: {bus: scsi, readonly: false}
              shareable: true
            - name: data
              lun: {}
            - name: host
              disk: {pciAddress: "0000:00:0a.0"}
            - name: dv
            - name: eph
              disk: {bus: sata}
              cache: writethrough
              io: threads
        resources: {requests: {memory: 1Gi}}
      networks: [{name: default, pod: {}}]
      volumes:
        - name: containerdisk
          containerDisk:
            image: quay.io/containerdisks/fedora:40
            path: /disk/fedora.qcow2
            imagePullPolicy: IfNotPresent
        - name: cloudinitdisk
          cloudInitNoCloud:
            userData: |
              #cloud-config
              ssh_authorized_keys: [ssh-ed25519 AAAA user@host]
            networkData: |
              version: 2
              ethernets: {eth1: {addresses: [10.10.10.14/24]}}
        - name: scratch
          emptyDisk: {capacity: 2Gi}
        - name: data
          persistentVolumeClaim: {claimName: data-pvc, readOnly: true}
        - name: host
          hostDisk: {path: /var/lib/k6t/host.img, type: DiskOrCreate, capacity: 1G}
        - name: dv
          dataVolume: {name: fedora-dv}
        - name: eph
          ephemeral: {persistentVolumeClaim: {claimName: base-pvc}}
)";

Vmi DecodeOne(const std::string& text) {
  auto m = DecodeManifest(text, "t");
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok() || m->vms.empty()) return Vmi{};
  EXPECT_THAT(ErrorStrings(m->warnings), IsEmpty());
  return m->vms[0];
}

TEST(VolumesTest, DecodesEveryFieldOfAUsersVm) {
  const Vmi v = DecodeOne(kUserVm);
  EXPECT_THAT(ErrorStrings(Validate(v)), IsEmpty());
  const Domain& d = v.spec.domain;
  EXPECT_EQ(d.autoattach_graphics_device, false);
  EXPECT_EQ(d.autoattach_serial_console, true);
  EXPECT_EQ(d.firmware_uuid, "5d307ca9-b3ef-428c-8861-06e72d69f223");
  ASSERT_EQ(d.disks.size(), 7u);
  const Disk& root = d.disks[0];
  EXPECT_EQ(root.device(), DiskDevice::kDisk);
  EXPECT_EQ(root.bus, "virtio");
  EXPECT_EQ(root.boot_order, 1);
  EXPECT_EQ(root.cache, "none");
  EXPECT_EQ(root.io, "native");
  EXPECT_EQ(root.serial, "ROOT-1");
  EXPECT_FALSE(root.readonly);
  EXPECT_EQ(d.disks[1].device(), DiskDevice::kCdrom);
  EXPECT_EQ(d.disks[1].bus, "sata");
  EXPECT_TRUE(d.disks[1].readonly);  // KubeVirt's CD-ROM default
  EXPECT_EQ(d.disks[2].bus, "scsi");
  EXPECT_TRUE(d.disks[2].shareable);
  EXPECT_EQ(d.disks[3].device(), DiskDevice::kLun);
  EXPECT_EQ(d.disks[3].bus, "virtio");
  EXPECT_EQ(d.disks[4].pci_address, "0000:00:0a.0");
  EXPECT_EQ(d.disks[4].image_path, "/var/lib/k6t/host.img");
  EXPECT_THAT(d.disks[5].devices, ElementsAre(DiskDevice::kDisk));  // no key: a disk

  const auto& vols = v.spec.volumes;
  ASSERT_EQ(vols.size(), 7u);
  ASSERT_TRUE(vols[0].container_disk);
  EXPECT_EQ(vols[0].container_disk->image, "quay.io/containerdisks/fedora:40");
  EXPECT_EQ(vols[0].container_disk->path, "/disk/fedora.qcow2");
  EXPECT_EQ(vols[0].container_disk->image_pull_policy, "IfNotPresent");
  ASSERT_TRUE(vols[1].cloud_init_no_cloud);
  EXPECT_THAT(vols[1].cloud_init_no_cloud->user_data, HasSubstr("ssh-ed25519 AAAA"));
  EXPECT_THAT(vols[1].cloud_init_no_cloud->network_data, HasSubstr("10.10.10.14/24"));
  EXPECT_EQ(vols[1].CloudInit(), &*vols[1].cloud_init_no_cloud);
  ASSERT_TRUE(vols[2].empty_disk);
  EXPECT_EQ(vols[2].empty_disk->capacity_bytes, 2ll << 30);
  ASSERT_TRUE(vols[3].persistent_volume_claim);
  EXPECT_EQ(vols[3].persistent_volume_claim->claim_name, "data-pvc");
  EXPECT_TRUE(vols[3].persistent_volume_claim->read_only);
  ASSERT_TRUE(vols[4].host_disk);
  EXPECT_EQ(vols[4].host_disk->type, "DiskOrCreate");
  EXPECT_EQ(vols[4].host_disk->capacity_bytes, 1000000000);
  EXPECT_EQ(vols[5].data_volume, "fedora-dv");
  ASSERT_TRUE(vols[6].ephemeral);
  EXPECT_EQ(vols[6].ephemeral->claim_name, "base-pvc");
  for (const Volume& vol : vols) EXPECT_EQ(vol.Sources().size(), 1u) << vol.name;
  EXPECT_EQ(v.VolumeIndex("scratch"), 2);
  EXPECT_EQ(v.VolumeIndex("nope"), -1);
  EXPECT_EQ(v.FindVolume("dv"), &vols[5]);
}

TEST(VolumesTest, EncodeRoundTripKeepsVolumesAndDisks) {
  const Vmi v = DecodeOne(kUserVm);
  auto back = DecodeSingleVmi(EncodeVmiJson(v), "rpc");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->spec.volumes, v.spec.volumes);
  EXPECT_EQ(back->spec.domain.disks, v.spec.domain.disks);
  EXPECT_EQ(back->spec.domain.firmware_uuid, v.spec.domain.firmware_uuid);
  EXPECT_EQ(back->spec.domain.autoattach_graphics_device, false);
  EXPECT_EQ(back->spec.domain.autoattach_serial_console, true);
}

TEST(VolumesTest, ContainerDiskWithoutPathAndCloudInitAreAccepted) {
  // What `k6t-handler validate` refused before: the ordinary KubeVirt VM.
  const Vmi v = DecodeOne(R"(
kind: VirtualMachineInstance
metadata: {name: vm}
spec:
  domain:
    devices:
      disks: [{name: root, disk: {}}, {name: ci, disk: {}}]
  volumes:
    - {name: root, containerDisk: {image: quay.io/containerdisks/debian}}
    - {name: ci, cloudInitConfigDrive: {userDataBase64: I2Nsb3VkLWNvbmZpZwo=}}
)");
  EXPECT_THAT(ErrorStrings(Validate(v)), IsEmpty());
  ASSERT_EQ(v.spec.domain.disks.size(), 2u);
  ASSERT_TRUE(v.spec.volumes[1].cloud_init_config_drive);
  EXPECT_EQ(v.spec.volumes[1].CloudInit(), &*v.spec.volumes[1].cloud_init_config_drive);
}

// A VMI whose only disk/volume pair is built by the test.
class VolumeRulesTest : public ::testing::Test {
 protected:
  VolumeRulesTest() {
    vmi_.spec_path = "spec";
    vmi_.meta.name = "v";
    Add("root", Volume{.container_disk = ContainerDiskSource{.image = "busybox"}});
  }
  Volume& Add(const std::string& name, Volume v, Disk d = {}) {
    v.name = name;
    d.name = name;
    if (d.bus.empty()) d.bus = "virtio";
    d.source_index = static_cast<int64_t>(vmi_.spec.domain.disks.size());
    vmi_.spec.domain.disks.push_back(d);
    vmi_.spec.volumes.push_back(v);
    return vmi_.spec.volumes.back();
  }
  std::vector<std::string> Errs() { return ErrorStrings(Validate(vmi_)); }
  Vmi vmi_;
};

TEST_F(VolumeRulesTest, BaseIsValid) { EXPECT_THAT(Errs(), IsEmpty()); }

TEST_F(VolumeRulesTest, EveryDiskNamesAVolumeAndViceVersa) {
  vmi_.spec.volumes.push_back(Volume{.name = "lonely", .empty_disk = EmptyDiskSource{1 << 20}});
  vmi_.spec.domain.disks.push_back(Disk{.name = "ghost", .bus = "virtio", .source_index = 1});
  vmi_.spec.domain.disks.push_back(
      Disk{.name = "tray", .devices = {DiskDevice::kCdrom}, .bus = "sata", .source_index = 2});
  auto e = Errs();
  EXPECT_THAT(e, Contains("spec.volumes[1].name: \"lonely\" is not used by any disk in "
                          "spec.domain.devices.disks"));
  EXPECT_THAT(e, Contains("spec.domain.devices.disks[1].name: \"ghost\" has no volume of that name "
                          "in spec.volumes"));
  EXPECT_THAT(e, Contains(HasSubstr("spec.domain.devices.disks[2].name: \"tray\" has no volume; "
                                    "an empty CD-ROM needs")));
}

TEST_F(VolumeRulesTest, ExactlyOneSourceAndUniqueNames) {
  vmi_.spec.volumes[0].host_disk = HostDiskSource{.path = "/a", .type = "Disk"};
  Add("root", Volume{.empty_disk = EmptyDiskSource{1}});
  Add("none", Volume{});
  auto e = Errs();
  EXPECT_THAT(e, Contains("spec.volumes[0]: volume \"root\" must have exactly one source (found "
                          "containerDisk, hostDisk)"));
  EXPECT_THAT(e, Contains("spec.volumes[1].name: \"root\" is already the name of spec.volumes[0]"));
  EXPECT_THAT(e, Contains("spec.volumes[2]: volume \"none\" must have exactly one source (found "
                          "none)"));
}

TEST_F(VolumeRulesTest, ContainerDisk) {
  auto& c = *vmi_.spec.volumes[0].container_disk;
  c.image = "Quay.io/UPPER/Case:tag";
  c.path = "disk/../etc/shadow";
  c.image_pull_policy = "Sometimes";
  auto e = Errs();
  EXPECT_THAT(e,
              Contains(HasSubstr("spec.volumes[0].containerDisk.image: \"Quay.io/UPPER/Case:tag\" "
                                 "is not an image reference: malformed repository component")));
  EXPECT_THAT(e, Contains("spec.volumes[0].containerDisk.path: \"disk/../etc/shadow\" must be an "
                          "absolute path without . or .."));
  EXPECT_THAT(e, Contains("spec.volumes[0].containerDisk.imagePullPolicy: \"Sometimes\" is not "
                          "Always, IfNotPresent or Never"));
  c.image = "";
  c.path = "/";
  c.image_pull_policy = "";
  e = Errs();
  EXPECT_THAT(e, Contains("spec.volumes[0].containerDisk.image: required"));
  EXPECT_THAT(e, Contains("spec.volumes[0].containerDisk.path: must not point to the root "
                          "directory"));
}

TEST_F(VolumeRulesTest, CloudInitSourcesAndLimits) {
  Add("ci", Volume{.cloud_init_no_cloud = CloudInitSource{.user_data = "#cloud-config",
                                                          .user_data_base64 = "not base64!",
                                                          .network_data = std::string(2049, 'x'),
                                                          .network_data_secret_ref = "nd"}});
  Add("cd", Volume{.cloud_init_config_drive = CloudInitSource{}});
  auto e = Errs();
  const std::string p = "spec.volumes[1].cloudInitNoCloud";
  EXPECT_THAT(e, Contains(p + ": only one of userData, userDataBase64 and secretRef may be set"));
  EXPECT_THAT(e, Contains(p + ": only one of networkData, networkDataBase64 and "
                              "networkDataSecretRef may be set"));
  EXPECT_THAT(e, Contains(p + ".userDataBase64: is not valid base64"));
  EXPECT_THAT(e, Contains(p + ": networkData is 2049 bytes, over the 2048-byte limit for inline "
                              "data; use networkDataSecretRef for larger data"));
  EXPECT_THAT(e, Contains(HasSubstr("spec.volumes[2].cloudInitConfigDrive: needs user data or "
                                    "network data")));
  EXPECT_THAT(e, Contains("spec.volumes[2]: only one cloud-init volume is allowed; spec.volumes[1] "
                          "is one already"));
}

TEST_F(VolumeRulesTest, CloudInitLimitCountsDecodedBase64Bytes) {
  // 2048 bytes of data are 2732 base64 characters: the limit applies to the data.
  const std::string b64_2048(2728, 'A');  // 2046 bytes; "AAA=" adds 2, "AAAA" 3
  Add("ci", Volume{.cloud_init_no_cloud = CloudInitSource{.user_data_base64 = b64_2048 + "AAA="}});
  EXPECT_THAT(Errs(), IsEmpty());
  vmi_.spec.volumes[1].cloud_init_no_cloud->user_data_base64 = b64_2048 + "AAAA";  // 2049
  EXPECT_THAT(Errs(), Contains(HasSubstr("userData is 2049 bytes, over the 2048-byte limit")));
}

TEST_F(VolumeRulesTest, HostDiskClaimsAndSizes) {
  Add("h1",
      Volume{.host_disk = HostDiskSource{.path = "rel.img", .type = "Disk", .capacity_bytes = 10}});
  Add("h2", Volume{.host_disk = HostDiskSource{.path = "/h2.img", .type = "DiskOrCreate"}});
  Add("h3", Volume{.host_disk = HostDiskSource{.type = "Directory"}});
  Add("p", Volume{.persistent_volume_claim = ClaimSource{.claim_name = "Bad_Claim"}});
  Add("e", Volume{.ephemeral = ClaimSource{}});
  Add("d", Volume{.data_volume = ""});
  Add("z", Volume{.empty_disk = EmptyDiskSource{0}});
  auto e = Errs();
  EXPECT_THAT(e, Contains("spec.volumes[1].hostDisk.path: \"rel.img\" is not an absolute path"));
  EXPECT_THAT(e, Contains("spec.volumes[1].hostDisk.capacity: is allowed only with type "
                          "DiskOrCreate"));
  EXPECT_THAT(e, Contains("spec.volumes[2].hostDisk.capacity: required (greater than 0) with type "
                          "DiskOrCreate"));
  EXPECT_THAT(e, Contains("spec.volumes[3].hostDisk.path: required"));
  EXPECT_THAT(e, Contains("spec.volumes[3].hostDisk.type: \"Directory\" is not a host disk type "
                          "(Disk or DiskOrCreate)"));
  EXPECT_THAT(e, Contains("spec.volumes[4].persistentVolumeClaim.claimName: \"Bad_Claim\" is not a "
                          "DNS-1123 subdomain"));
  EXPECT_THAT(e, Contains("spec.volumes[5].ephemeral.persistentVolumeClaim.claimName: required"));
  EXPECT_THAT(e, Contains("spec.volumes[6].dataVolume.name: required"));
  EXPECT_THAT(e, Contains("spec.volumes[7].emptyDisk.capacity: must be greater than 0"));
}

TEST_F(VolumeRulesTest, DiskDevicesBusesAndModes) {
  Disk& d = vmi_.spec.domain.disks[0];
  d.devices = {DiskDevice::kDisk, DiskDevice::kCdrom};
  d.serial = "has space";
  d.cache = "unsafe";
  d.io = "io_uring";
  d.pci_address = "00:0a.0";
  d.bus = "sata";
  d.name = "Root";
  vmi_.spec.volumes[0].name = "Root";
  auto e = Errs();
  const std::string p = "spec.domain.devices.disks[0]";
  EXPECT_THAT(e, Contains(p + ": disk \"Root\" can have only one of disk, cdrom, lun (found disk, "
                              "cdrom)"));
  EXPECT_THAT(e, Contains(p + ".name: \"Root\" is not a DNS-1123 label"));
  EXPECT_THAT(e, Contains(p + ".serial: \"has space\" may hold only A-Z a-z 0-9 _ . + -"));
  EXPECT_THAT(e, Contains(p + ".cache: \"unsafe\" is not a cache mode (none, writethrough, "
                              "writeback)"));
  EXPECT_THAT(e, Contains(p + ".io: \"io_uring\" is not an IO mode (native, threads)"));
  EXPECT_THAT(e, Contains(p + ".disk.pciAddress: a PCI address can be set only on the virtio bus"));
  EXPECT_THAT(e, Contains(p + ".disk.pciAddress: \"00:0a.0\" is not a PCI address "
                              "(DDDD:BB:SS.F): 7 characters, not 12"));

  Add("cd", Volume{.cloud_init_no_cloud = CloudInitSource{.user_data = "x"}},
      Disk{.devices = {DiskDevice::kCdrom}, .bus = "virtio"});
  Add("ro", Volume{.empty_disk = EmptyDiskSource{1}},
      Disk{.devices = {DiskDevice::kDisk}, .bus = "sata", .readonly = true});
  Add("old", Volume{.empty_disk = EmptyDiskSource{1}}, Disk{.bus = "ide"});
  Add("lun", Volume{.empty_disk = EmptyDiskSource{1}}, Disk{.devices = {DiskDevice::kLun}});
  e = Errs();
  EXPECT_THAT(e, Contains("spec.domain.devices.disks[1].cdrom.bus: a CD-ROM cannot be on the "
                          "virtio bus (use sata or scsi)"));
  EXPECT_THAT(e, Contains("spec.domain.devices.disks[2].disk.bus: sata hard disks cannot be "
                          "read-only"));
  EXPECT_THAT(e, Contains(HasSubstr("spec.domain.devices.disks[3].disk.bus: the IDE bus is not "
                                    "supported")));
  EXPECT_THAT(e, Contains("spec.domain.devices.disks[4].lun: a LUN can only be backed by a "
                          "persistentVolumeClaim or dataVolume volume"));
}

TEST(VolumesDecodeTest, WrongTypesAndBadQuantitiesNameTheirPath) {
  auto r = DecodeManifestReport(R"(
kind: VirtualMachineInstance
metadata: {name: d}
spec:
  domain: {devices: {disks: [{name: a, disk: {readonly: maybe}}], autoattachSerialConsole: 1}}
  volumes:
    - {name: a, emptyDisk: {capacity: lots}}
    - {name: b, emptyDisk: {}}
    - {name: c, cloudInitNoCloud: {secretRef: {}, userData: [1]}}
    - {name: d, hostDisk: {path: /x, type: DiskOrCreate, capacity: -1Gi}}
)",
                                "d");
  ASSERT_TRUE(r.status.ok()) << r.status;
  auto e = ErrorStrings(r.errors);
  EXPECT_THAT(e, Contains(HasSubstr("spec.volumes[0].emptyDisk.capacity: \"lots\" is not a "
                                    "quantity")));
  EXPECT_THAT(e, Contains("spec.volumes[1].emptyDisk.capacity: required"));
  EXPECT_THAT(e, Contains("spec.volumes[2].cloudInitNoCloud.secretRef.name: required"));
  EXPECT_THAT(e, Contains(HasSubstr("spec.volumes[2].cloudInitNoCloud.userData: expected")));
  EXPECT_THAT(e, Contains(HasSubstr("spec.volumes[3].hostDisk.capacity: \"-1Gi\" is not a "
                                    "quantity: negative")));
  EXPECT_THAT(e, Contains(HasSubstr("spec.domain.devices.disks[0].disk.readonly: expected")));
  EXPECT_THAT(e, Contains(HasSubstr("spec.domain.devices.autoattachSerialConsole: expected")));
}

TEST(ImageReferenceTest, NormalisesLikeContainerRuntimes) {
  struct Case {
    const char* in;
    const char* canonical;
  } cases[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"library/busybox:1.36", "docker.io/library/busybox:1.36"},
      {"index.docker.io/kubevirt/cirros-container-disk-demo",
       "docker.io/kubevirt/cirros-container-disk-demo:latest"},
      {"quay.io/containerdisks/fedora:40", "quay.io/containerdisks/fedora:40"},
      {"registry:5000/kubevirt/cirros", "registry:5000/kubevirt/cirros:latest"},
      {"localhost/k6t/debian-guest:v1", "localhost/k6t/debian-guest:v1"},
  };
  for (const auto& c : cases) {
    auto r = ParseImageReference(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status();
    EXPECT_EQ(r->Canonical(), c.canonical) << c.in;
  }
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto d = ParseImageReference("quay.io/a/b@" + digest);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->tag, "");
  EXPECT_EQ(d->digest, digest);
  EXPECT_EQ(d->Name(), "quay.io/a/b");
  auto both = ParseImageReference("quay.io/a/b:v1@" + digest);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->Canonical(), "quay.io/a/b:v1@" + digest);
}

TEST(ImageReferenceTest, RefusesMalformedReferences) {
  for (const std::string& bad :
       std::vector<std::string>{"", ":tag", "UPPER", "a//b", "a/b:", "a/b:-x", "a@sha256:123",
                                "a/b@md5:" + std::string(64, 'a') + "!", "-a/b", "a/b_", "a/.b",
                                std::string(300, 'a')}) {
    EXPECT_FALSE(ParseImageReference(bad).ok()) << bad;
  }
  EXPECT_THAT(std::string(ParseImageReference("a/b:-x").status().message()),
              HasSubstr("malformed tag"));
  EXPECT_THAT(std::string(ParseImageReference("a/b:-x").status().message()), Not(IsEmpty()));
  // The limit holds for the normalised name: "docker.io/library/" counts.
  const std::string long_short_name(250, 'a');
  EXPECT_FALSE(ParseImageReference(long_short_name).ok());
  EXPECT_TRUE(ParseImageReference(std::string(255 - 18, 'a')).ok());
}

}  // namespace
}  // namespace k6t::api
