#include "vm_storage.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "domain_xml.h"
#include "k6t/api/errno_status.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

std::string FieldOf(const api::Vmi& vmi, size_t index, api::VolumeSourceKind kind) {
  return absl::StrCat(vmi.spec_path.empty() ? "spec" : vmi.spec_path, ".volumes[", index, "].",
                      api::VolumeSourceField(kind));
}

absl::Status MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return api::ErrnoStatus("mkdir " + dir, errno);
  return absl::OkStatus();
}

bool IsBlockDevice(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

// The fixed paths a VM's generated files live at (the domain XML names them, so a launcher
// that adopts the VM computes the same ones).
std::string CloudInitIsoPath(const std::string& vm_dir, const std::string& volume) {
  return absl::StrCat(vm_dir, "/cloudinit/", volume, ".iso");
}
std::string EmptyDiskPath(const std::string& vm_dir, const std::string& volume) {
  return absl::StrCat(vm_dir, "/disks/", volume, ".img");
}

const std::string* ClaimName(const api::Volume& v) {
  if (v.persistent_volume_claim) return &v.persistent_volume_claim->claim_name;
  if (v.data_volume) return &*v.data_volume;
  if (v.ephemeral) return &v.ephemeral->claim_name;
  return nullptr;
}

// One disk's source; `prepare` false only computes it (the VM is running on it).
class DiskSourcer {
 public:
  DiskSourcer(const api::Vmi& vmi, const std::string& vm_dir, const StorageOptions& options,
              const QemuUser& user, bool prepare, VmStorage& out)
      : vmi_(vmi), vm_dir_(vm_dir), options_(options), user_(user), prepare_(prepare), out_(out) {}

  absl::Status Add(const api::Disk& disk) {
    const int64_t index = vmi_.VolumeIndex(disk.name);
    if (index < 0) return absl::OkStatus();  // validation names a disk without a volume
    const api::Volume& v = vmi_.spec.volumes[static_cast<size_t>(index)];
    const auto kind = v.Source();
    if (!kind) return absl::OkStatus();
    const std::string field = FieldOf(vmi_, static_cast<size_t>(index), *kind);
    absl::StatusOr<DiskSource> src = absl::InternalError("unreachable");
    switch (*kind) {
      case api::VolumeSourceKind::kContainerDisk:
        src = ContainerDisk(v, static_cast<size_t>(index));
        break;
      case api::VolumeSourceKind::kCloudInitNoCloud:
      case api::VolumeSourceKind::kCloudInitConfigDrive:
        src = CloudInit(v);
        break;
      case api::VolumeSourceKind::kHostDisk:
        src = HostDisk(*v.host_disk, disk, field);
        break;
      case api::VolumeSourceKind::kEmptyDisk:
        src = EmptyDisk(v);
        break;
      case api::VolumeSourceKind::kPersistentVolumeClaim:
      case api::VolumeSourceKind::kDataVolume:
      case api::VolumeSourceKind::kEphemeral:
        src = Claim(v, *kind, field);
        break;
    }
    if (!src.ok()) return src.status();
    out_.disks[disk.name] = *std::move(src);
    return absl::OkStatus();
  }

 private:
  disks::Owner Owner() const { return {user_.uid, user_.gid}; }

  // The image's disk, read-only and shared, under this VM's own qcow2 overlay.
  absl::StatusOr<DiskSource> Overlay(const std::string& volume, const std::string& base,
                                     const std::string& format) {
    disks::EphemeralDisk eph = disks::EphemeralDiskPaths(vm_dir_, volume);
    if (prepare_) {
      auto made = disks::PrepareEphemeral(vm_dir_, volume, base, format, Owner());
      if (!made.ok()) return made.status();
      eph = *made;
    }
    out_.ephemeral.push_back(eph);
    return DiskSource{.path = eph.overlay, .format = "qcow2", .pod_local = true};
  }

  absl::StatusOr<DiskSource> ContainerDisk(const api::Volume& v, size_t index) {
    if (!prepare_) return Overlay(v.name, "", "");
    images::ImageStoreOptions o = options_.images;
    o.owner_uid = user_.uid;
    o.owner_gid = user_.gid;
    auto resolved = images::ImageStore(o).Resolve(vmi_, index);
    if (!resolved.ok()) return resolved.status();
    spdlog::info("volume {}: containerDisk {} ({}{})", v.name, resolved->path,
                 resolved->digest.empty() ? "in-pod" : resolved->digest,
                 resolved->extracted ? ", extracted now" : "");
    return Overlay(v.name, resolved->path, resolved->format);
  }

  absl::StatusOr<DiskSource> CloudInit(const api::Volume& v) {
    DiskSource s{.path = CloudInitIsoPath(vm_dir_, v.name), .format = "raw", .readonly = true};
    if (!prepare_) return s;
    auto data = cloudinit::ReadCloudInitData(vmi_, options_.secrets);
    if (!data.ok()) return data.status();
    if (!*data) return absl::InternalError("cloud-init volume " + v.name + " has no data");
    if (auto st = MakeDir(vm_dir_ + "/cloudinit"); !st.ok()) return st;
    if (auto st = cloudinit::WriteIso(**data, s.path, {user_.uid, user_.gid, 0440}); !st.ok())
      return st;
    return s;
  }

  absl::StatusOr<DiskSource> HostDisk(const api::HostDiskSource& hd, const api::Disk& disk,
                                      const std::string& field) {
    if (prepare_) {
      auto created = disks::EnsureHostDisk(hd, Owner(), field);
      if (!created.ok()) return created.status();
      if (*created) spdlog::info("{}: created {}", field, hd.path);
    }
    // KubeVirt's hostDisk is a raw image; k6t also takes a .qcow2 path or imageFormat.
    return DiskSource{.path = hd.path,
                      .format = !disk.image_format.empty()    ? disk.image_format
                                : hd.path.ends_with(".qcow2") ? "qcow2"
                                                              : "raw",
                      .block = IsBlockDevice(hd.path)};
  }

  absl::StatusOr<DiskSource> EmptyDisk(const api::Volume& v) {
    DiskSource s{.path = EmptyDiskPath(vm_dir_, v.name), .format = "raw", .pod_local = true};
    if (!prepare_) return s;
    if (auto st = MakeDir(vm_dir_ + "/disks"); !st.ok()) return st;
    if (auto st = disks::CreateEmptyDisk(s.path, v.empty_disk->capacity_bytes, Owner()); !st.ok())
      return st;
    return s;
  }

  absl::StatusOr<DiskSource> Claim(const api::Volume& v, api::VolumeSourceKind kind,
                                   const std::string& field) {
    auto path = disks::ClaimImagePath(options_.claims_dir, *ClaimName(v), field);
    if (!path.ok()) return path.status();
    // A claim's disk.img is raw in KubeVirt; an ephemeral volume only reads it.
    if (kind == api::VolumeSourceKind::kEphemeral) return Overlay(v.name, *path, "raw");
    return DiskSource{.path = *path, .format = "raw", .block = IsBlockDevice(*path)};
  }

  const api::Vmi& vmi_;
  const std::string& vm_dir_;
  const StorageOptions& options_;
  const QemuUser& user_;
  const bool prepare_;
  VmStorage& out_;
};

absl::StatusOr<VmStorage> Source(const api::Vmi& vmi, const std::string& vm_dir,
                                 const StorageOptions& options, const QemuUser& user,
                                 bool prepare) {
  VmStorage out;
  DiskSourcer sourcer(vmi, vm_dir, options, user, prepare, out);
  for (const api::Disk& d : vmi.spec.domain.disks) {
    if (auto s = sourcer.Add(d); !s.ok()) {
      if (prepare) ReleaseVmStorage(out);
      return s;
    }
  }
  return out;
}

}  // namespace

bool NeedsDynamicOwnership(const api::Vmi& vmi) {
  for (const api::Disk& d : vmi.spec.domain.disks)
    if (const api::Volume* v = vmi.FindVolume(d.name); v && (v->container_disk || v->ephemeral))
      return true;
  return false;
}

absl::StatusOr<VmStorage> PrepareVmStorage(const api::Vmi& vmi, const std::string& vm_dir,
                                           const StorageOptions& options, const QemuUser& user) {
  return Source(vmi, vm_dir, options, user, true);
}

absl::StatusOr<VmStorage> DescribeVmStorage(const api::Vmi& vmi, const std::string& vm_dir,
                                            const StorageOptions& options) {
  return Source(vmi, vm_dir, options, QemuUser{}, false);
}

void ReleaseVmStorage(const VmStorage& storage) {
  for (const disks::EphemeralDisk& d : storage.ephemeral) {
    if (auto s = disks::RemoveEphemeral(d); !s.ok())
      spdlog::warn("releasing disk {}: {}", d.overlay, s.ToString());
  }
}

}  // namespace k6t::launcher
