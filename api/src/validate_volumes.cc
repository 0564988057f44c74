// KubeVirt's admission rules for spec.volumes and domain.devices.disks (the storage
// admitters and the VMI create admitter), each reported with its JSON path, plus k6t's
// own: one cloud-init volume at most (KubeVirt silently uses the first), a container image
// reference k6t can resolve, a capacity for every disk k6t must create.
#include "validate_volumes.h"

#include <algorithm>
#include <map>
#include <regex>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "field_checks.h"
#include "json_reader.h"
#include "k6t/api/image_ref.h"
#include "k6t/api/net.h"
#include "net_util.h"

namespace k6t::api::internal {
namespace {

class StorageValidator {
 public:
  explicit StorageValidator(const Vmi& vmi) : vmi_(vmi) {
    sp_ = vmi.spec_path.empty() ? "spec" : vmi.spec_path;
  }

  std::vector<FieldError> Run() {
    Volumes();
    Disks();
    return std::move(errors_);
  }

 private:
  void Err(const std::string& path, std::string msg) {
    errors_.push_back(FieldError{path, std::move(msg)});
  }
  std::string VolPath(size_t i) const { return IndexPath(JoinPath(sp_, "volumes"), i); }
  std::string DiskPath(const Disk& d, size_t i) const {
    return IndexPath(JoinPath(sp_, "domain.devices.disks"),
                     d.source_index >= 0 ? static_cast<size_t>(d.source_index) : i);
  }

  void Volumes() {
    const auto& vols = vmi_.spec.volumes;
    std::map<std::string, size_t> names;
    std::optional<size_t> cloud_init;
    for (size_t i = 0; i < vols.size(); ++i) {
      const Volume& v = vols[i];
      const std::string p = VolPath(i);
      if (v.name.empty()) {
        Err(JoinPath(p, "name"), "required");
      } else if (auto [it, fresh] = names.emplace(v.name, i); !fresh) {
        Err(JoinPath(p, "name"),
            absl::StrCat(Quote(v.name), " is already the name of ", VolPath(it->second)));
      }
      std::vector<std::string> sources;
      for (VolumeSourceKind k : v.Sources()) sources.push_back(VolumeSourceField(k));
      for (const auto& k : v.unsupported_sources) sources.push_back(k);
      if (sources.size() != 1)
        Err(p, absl::StrCat("volume ", Quote(v.name), " must have exactly one source (found ",
                            sources.empty() ? "none" : absl::StrJoin(sources, ", "), ")"));
      if (v.container_disk) ContainerDisk(*v.container_disk, JoinPath(p, "containerDisk"));
      if (const CloudInitSource* c = v.CloudInit()) {
        CloudInit(*c,
                  JoinPath(p, v.cloud_init_no_cloud ? "cloudInitNoCloud" : "cloudInitConfigDrive"));
        if (cloud_init)
          Err(p, absl::StrCat("only one cloud-init volume is allowed; ", VolPath(*cloud_init),
                              " is one already"));
        else
          cloud_init = i;
      }
      if (v.host_disk) HostDisk(*v.host_disk, JoinPath(p, "hostDisk"));
      if (v.persistent_volume_claim)
        Claim(*v.persistent_volume_claim, JoinPath(p, "persistentVolumeClaim.claimName"));
      if (v.ephemeral)
        Claim(*v.ephemeral, JoinPath(p, "ephemeral.persistentVolumeClaim.claimName"));
      if (v.data_volume && v.data_volume->empty()) Err(JoinPath(p, "dataVolume.name"), "required");
      if (v.empty_disk && v.empty_disk->capacity_bytes <= 0)
        Err(JoinPath(p, "emptyDisk.capacity"), "must be greater than 0");
      // Every volume k6t attaches is a disk; a volume only of unsupported sources was
      // already reported when decoding and its disk left out.
      if (!v.name.empty() && !v.Sources().empty() && !HasDisk(v.name))
        Err(JoinPath(p, "name"), absl::StrCat(Quote(v.name), " is not used by any disk in ",
                                              JoinPath(sp_, "domain.devices.disks")));
    }
  }

  bool HasDisk(const std::string& name) const {
    for (const Disk& d : vmi_.spec.domain.disks)
      if (d.name == name) return true;
    return false;
  }

  void ContainerDisk(const ContainerDiskSource& c, const std::string& p) {
    if (c.image.empty()) {
      Err(JoinPath(p, "image"), "required");
    } else if (auto ref = ParseImageReference(c.image); !ref.ok()) {
      Err(JoinPath(p, "image"), std::string(ref.status().message()));
    }
    if (!c.path.empty()) AbsolutePath(c.path, JoinPath(p, "path"));
    if (!c.image_pull_policy.empty() && c.image_pull_policy != "Always" &&
        c.image_pull_policy != "IfNotPresent" && c.image_pull_policy != "Never")
      Err(JoinPath(p, "imagePullPolicy"),
          absl::StrCat(Quote(c.image_pull_policy), " is not Always, IfNotPresent or Never"));
  }

  // KubeVirt's rule for paths inside an image: absolute, not "/", no "." or ".." or "//".
  void AbsolutePath(const std::string& path, const std::string& p) {
    if (path == "/") {
      Err(p, "must not point to the root directory");
      return;
    }
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    bool clean = trimmed.front() == '/' && trimmed.find("//") == std::string::npos;
    for (std::string_view part : {std::string_view("/./"), std::string_view("/../")})
      clean &= (trimmed + "/").find(part) == std::string::npos;
    if (!clean) Err(p, absl::StrCat(Quote(path), " must be an absolute path without . or .."));
  }

  // KubeVirt caps inline user and network data at 2048 bytes each (after base64 decoding):
  // larger data belongs in a secret (secretRef / networkDataSecretRef).
  static constexpr size_t kCloudInitInlineMax = 2048;

  void CloudInit(const CloudInitSource& c, const std::string& p) {
    const int user =
        !c.user_data.empty() + !c.user_data_base64.empty() + !c.user_data_secret_ref.empty();
    const int net = !c.network_data.empty() + !c.network_data_base64.empty() +
                    !c.network_data_secret_ref.empty();
    if (user > 1) Err(p, "only one of userData, userDataBase64 and secretRef may be set");
    if (net > 1)
      Err(p, "only one of networkData, networkDataBase64 and networkDataSecretRef may be set");
    if (user == 0 && net == 0)
      Err(p,
          "needs user data or network data (userData, userDataBase64, secretRef, "
          "networkData, networkDataBase64 or networkDataSecretRef)");
    InlineData(c.user_data, c.user_data_base64, p, "userData", "secretRef");
    InlineData(c.network_data, c.network_data_base64, p, "networkData", "networkDataSecretRef");
  }

  void InlineData(const std::string& plain, const std::string& b64, const std::string& p,
                  const std::string& field, const char* secret_field) {
    size_t len = plain.size();
    if (!b64.empty()) {
      std::string decoded;
      if (!absl::Base64Unescape(b64, &decoded)) {
        Err(JoinPath(p, field + "Base64"), "is not valid base64");
        return;
      }
      len = std::max(len, decoded.size());
    }
    if (len > kCloudInitInlineMax)
      Err(p, absl::StrCat(field, " is ", len, " bytes, over the ", kCloudInitInlineMax,
                          "-byte limit for inline data; use ", secret_field, " for larger data"));
  }

  void HostDisk(const HostDiskSource& h, const std::string& p) {
    if (h.path.empty())
      Err(JoinPath(p, "path"), "required");
    else if (h.path.front() != '/')
      Err(JoinPath(p, "path"), absl::StrCat(Quote(h.path), " is not an absolute path"));
    if (h.type != "Disk" && h.type != "DiskOrCreate") {
      Err(JoinPath(p, "type"),
          absl::StrCat(Quote(h.type), " is not a host disk type (Disk or DiskOrCreate)"));
    } else if (h.type == "Disk" && h.capacity_bytes) {
      Err(JoinPath(p, "capacity"), "is allowed only with type DiskOrCreate");
    } else if (h.type == "DiskOrCreate" && h.capacity_bytes.value_or(0) <= 0) {
      // KubeVirt sizes it from the PVC holding the path; k6t has no PVC to ask.
      Err(JoinPath(p, "capacity"), "required (greater than 0) with type DiskOrCreate");
    }
  }

  void Claim(const ClaimSource& c, const std::string& p) {
    if (c.claim_name.empty())
      Err(p, "required");
    else if (!IsDnsSubdomain(c.claim_name))
      Err(p, absl::StrCat(Quote(c.claim_name), " is not a DNS-1123 subdomain"));
  }

  void Disks() {
    const auto& disks = vmi_.spec.domain.disks;
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < disks.size(); ++i) {
      const Disk& d = disks[i];
      const std::string p = DiskPath(d, i);
      if (d.name.empty()) {
        Err(JoinPath(p, "name"), "required");
      } else {
        if (!IsDnsLabel(d.name))
          Err(JoinPath(p, "name"), absl::StrCat(Quote(d.name), " is not a DNS-1123 label"));
        if (auto [it, fresh] = names.emplace(d.name, i); !fresh)
          Err(JoinPath(p, "name"), absl::StrCat(Quote(d.name), ": duplicate disk name (",
                                                DiskPath(disks[it->second], it->second), ")"));
      }
      if (d.devices.size() > 1) {
        std::vector<std::string> found;
        for (DiskDevice k : d.devices) found.push_back(DiskDeviceField(k));
        Err(p,
            absl::StrCat("disk ", Quote(d.name), " can have only one of disk, cdrom, lun (found ",
                         absl::StrJoin(found, ", "), ")"));
      }
      Bus(d, p);
      if (!d.serial.empty()) {
        static const std::regex kSerial("^[A-Za-z0-9_.+-]+$");
        if (d.serial.size() > 256)
          Err(JoinPath(p, "serial"), "longer than 256 characters");
        else if (!std::regex_match(d.serial, kSerial))
          Err(JoinPath(p, "serial"),
              absl::StrCat(Quote(d.serial), " may hold only A-Z a-z 0-9 _ . + -"));
      }
      if (!d.cache.empty() && d.cache != "none" && d.cache != "writethrough" &&
          d.cache != "writeback")
        Err(JoinPath(p, "cache"),
            absl::StrCat(Quote(d.cache), " is not a cache mode (none, writethrough, writeback)"));
      if (!d.io.empty() && d.io != "native" && d.io != "threads")
        Err(JoinPath(p, "io"), absl::StrCat(Quote(d.io), " is not an IO mode (native, threads)"));
      if (!d.image_format.empty() && d.image_format != "raw" && d.image_format != "qcow2")
        Err(p, absl::StrCat("image format ", Quote(d.image_format), " is not raw or qcow2"));
      VolumeOf(d, p);
    }
  }

  void Bus(const Disk& d, const std::string& p) {
    const std::string bp = JoinPath(p, absl::StrCat(DiskDeviceField(d.device()), ".bus"));
    if (d.bus == "ide") {
      Err(bp, "the IDE bus is not supported (q35 machines have none)");
    } else if (d.bus != "virtio" && d.bus != "sata" && d.bus != "scsi" && d.bus != "usb") {
      Err(bp, absl::StrCat(Quote(d.bus), " is not a disk bus (virtio, sata, scsi, usb)"));
    } else if (d.bus == "virtio" && d.device() == DiskDevice::kCdrom) {
      Err(bp, "a CD-ROM cannot be on the virtio bus (use sata or scsi)");
    } else if (d.bus == "sata" && d.device() == DiskDevice::kDisk && d.readonly) {
      Err(bp, "sata hard disks cannot be read-only");
    }
    if (!d.pci_address.empty()) {
      const std::string pp = JoinPath(p, "disk.pciAddress");
      if (d.bus != "virtio") Err(pp, "a PCI address can be set only on the virtio bus");
      if (auto pci = PciAddress::Parse(d.pci_address); !pci.ok())
        Err(pp, std::string(pci.status().message()));
    }
  }

  void VolumeOf(const Disk& d, const std::string& p) {
    if (d.name.empty()) return;
    const Volume* v = vmi_.FindVolume(d.name);
    if (!v) {
      Err(JoinPath(p, "name"),
          d.device() == DiskDevice::kCdrom
              ? absl::StrCat(Quote(d.name),
                             " has no volume; an empty CD-ROM needs KubeVirt's "
                             "DeclarativeHotplugVolumes, which k6t does not support")
              : absl::StrCat(Quote(d.name), " has no volume of that name in ",
                             JoinPath(sp_, "volumes")));
      return;
    }
    if (d.device() == DiskDevice::kLun && !v->persistent_volume_claim && !v->data_volume)
      Err(JoinPath(p, "lun"),
          "a LUN can only be backed by a persistentVolumeClaim or dataVolume volume");
  }

  const Vmi& vmi_;
  std::string sp_;
  std::vector<FieldError> errors_;
};

}  // namespace

std::vector<FieldError> ValidateStorage(const Vmi& vmi) { return StorageValidator(vmi).Run(); }

}  // namespace k6t::api::internal
