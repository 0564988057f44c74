#include "k6t/launcher/vm_disks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "disks/file_ops.h"
#include "disks/qcow2_overlay.h"
#include "k6t/launcher/image_store.h"

namespace k6t::launcher::disks {
namespace {

namespace fs = std::filesystem;

absl::Status Unlink(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT)
    return storage::ErrnoError(errno, "remove", path);
  return absl::OkStatus();
}

// A sparse file of `size` bytes at `path` (temporary name, then renamed into place).
absl::Status SparseFile(const std::string& path, int64_t size, const Owner& owner) {
  if (size <= 0) return absl::InvalidArgumentError(absl::StrCat(path, ": capacity must be > 0"));
  const std::string tmp = absl::StrCat(path, ".tmp-", getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
  if (fd < 0) return storage::ErrnoError(errno, "create", tmp);
  absl::Status s;
  if (ftruncate(fd, size) != 0)
    s = storage::ErrnoError(errno, "size", tmp);
  else if (fchown(fd, owner.uid, owner.gid) != 0)
    s = storage::ErrnoError(errno, "chown", tmp);
  else if (fchmod(fd, 0660) != 0)
    s = storage::ErrnoError(errno, "chmod", tmp);
  else if (fsync(fd) != 0)
    s = storage::ErrnoError(errno, "fsync", tmp);
  close(fd);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0)
    s = storage::ErrnoError(errno, "rename into", path);
  if (!s.ok()) unlink(tmp.c_str());
  return s;
}

}  // namespace

EphemeralDisk EphemeralDiskPaths(const std::string& vm_dir, const std::string& volume) {
  return {.overlay = absl::StrCat(vm_dir, "/", volume, ".qcow2"),
          .base_link = absl::StrCat(vm_dir, "/", volume, ".base")};
}

absl::StatusOr<EphemeralDisk> PrepareEphemeral(const std::string& vm_dir, const std::string& volume,
                                               const std::string& base, const std::string& format,
                                               const Owner& owner) {
  if (volume.empty() || volume.find('/') != std::string::npos)
    return absl::InvalidArgumentError(absl::StrCat("ephemeral disk: bad volume \"", volume, "\""));
  EphemeralDisk d = EphemeralDiskPaths(vm_dir, volume);
  d.base_format = format;
  auto size = images::ImageVirtualSize(base);
  if (!size.ok()) return size.status();
  const std::string tmp = absl::StrCat(d.base_link, ".tmp-", getpid());
  unlink(tmp.c_str());
  if (symlink(base.c_str(), tmp.c_str()) != 0) return storage::ErrnoError(errno, "symlink", tmp);
  if (rename(tmp.c_str(), d.base_link.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return storage::ErrnoError(err, "rename into", d.base_link);
  }
  if (auto s = WriteQcow2Overlay(d.overlay, d.base_link, format, *size, owner.uid, owner.gid);
      !s.ok()) {
    unlink(d.base_link.c_str());
    return s;
  }
  return d;
}

absl::Status RemoveEphemeral(const EphemeralDisk& disk) {
  if (auto s = Unlink(disk.overlay); !s.ok()) return s;
  return Unlink(disk.base_link);
}

absl::Status CreateEmptyDisk(const std::string& path, int64_t capacity_bytes, const Owner& owner) {
  return SparseFile(path, capacity_bytes, owner);
}

absl::StatusOr<bool> EnsureHostDisk(const api::HostDiskSource& disk, const Owner& owner,
                                    const std::string& field) {
  struct stat st {};
  if (stat(disk.path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".path: ", disk.path, " is not a file or block device"));
    return false;
  }
  if (errno != ENOENT)
    return storage::ErrnoError(errno, absl::StrCat(field, ".path: stat"), disk.path);
  if (disk.type != "DiskOrCreate")
    return absl::NotFoundError(absl::StrCat(field, ".path: ", disk.path,
                                            " does not exist (type Disk uses an existing image)"));
  std::error_code ec;
  fs::create_directories(fs::path(disk.path).parent_path(), ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat(field, ".path: create the directory of ", disk.path, ": ", ec.message()));
  if (auto s = SparseFile(disk.path, disk.capacity_bytes.value_or(0), owner); !s.ok())
    return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
  return true;
}

absl::StatusOr<std::string> ClaimImagePath(const std::string& claims_root,
                                           const std::string& claim_name,
                                           const std::string& field) {
  if (claim_name.empty() || claim_name.find('/') != std::string::npos || claim_name[0] == '.')
    return absl::InvalidArgumentError(absl::StrCat(field, ": bad claim name \"", claim_name, "\""));
  const std::string base = absl::StrCat(claims_root, "/", claim_name);
  struct stat st {};
  if (stat(base.c_str(), &st) == 0) {
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) return base;
    const std::string img = base + "/disk.img";
    if (S_ISDIR(st.st_mode) && stat(img.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return img;
  }
  return absl::NotFoundError(absl::StrCat(field, ": claim \"", claim_name, "\" has no disk at ",
                                          base, " (a file or block device) or ", base,
                                          "/disk.img"));
}

}  // namespace k6t::launcher::disks
