#include "k6t/launcher/image_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "disks/file_ops.h"
#include "images/image_lookup.h"
#include "images/layer_reader.h"
#include "nlohmann/json.hpp"

namespace k6t::launcher::images {
namespace {

namespace fs = std::filesystem;

constexpr char kDiskName[] = "disk.img";

absl::Status Named(const std::string& field, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

// The one regular file of `dir`, or `path` inside `root`, for an image mounted in the pod.
absl::StatusOr<std::string> FileInMountedImage(const std::string& root, const std::string& path) {
  std::error_code ec;
  if (!path.empty()) {
    const std::string full = root + "/" + NormalizeEntryName(path);
    if (NormalizeEntryName(path).empty() || !fs::is_regular_file(full, ec))
      return absl::NotFoundError(absl::StrCat(full, " is not a file"));
    return full;
  }
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(root + "/disk", ec))
    files.push_back(e.path().string());
  if (files.size() != 1)
    return absl::InvalidArgumentError(
        absl::StrCat(root, "/disk has ", files.size(), " entries; one disk is expected"));
  return files.front();
}

// "sha256:ab..." + path -> "sha256-ab...[-<16 hex of the path's hash>]".
std::string CacheKey(const std::string& digest, const std::string& path) {
  std::string key = digest;
  std::replace(key.begin(), key.end(), ':', '-');
  if (!path.empty())
    absl::StrAppend(&key, "-", absl::Hex(std::hash<std::string>{}(path), absl::kZeroPad16));
  return key;
}

std::string RandomSuffix() {
  std::random_device rd;
  return absl::StrCat(getpid(), "-", absl::Hex(rd()));
}

}  // namespace

absl::StatusOr<std::string> DetectImageFormat(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return storage::ErrnoError(errno, "open", path);
  unsigned char magic[4] = {};
  const ssize_t n = pread(fd, magic, sizeof(magic), 0);
  close(fd);
  if (n < 0) return storage::ErrnoError(errno, "read", path);
  return n == 4 && memcmp(magic, "QFI\xfb", 4) == 0 ? "qcow2" : "raw";
}

absl::StatusOr<uint64_t> ImageVirtualSize(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return storage::ErrnoError(errno, "open", path);
  unsigned char header[32] = {};
  const ssize_t n = pread(fd, header, sizeof(header), 0);
  const int read_errno = errno;
  const off_t end = lseek(fd, 0, SEEK_END);  // block devices too, unlike st_size
  const int seek_errno = errno;
  close(fd);
  if (n < 0) return storage::ErrnoError(read_errno, "read", path);
  if (n >= 4 && memcmp(header, "QFI\xfb", 4) == 0) {
    if (n < 32) return absl::DataLossError(absl::StrCat(path, ": truncated qcow2 header"));
    uint64_t size = 0;
    for (int i = 24; i < 32; ++i) size = size << 8 | header[i];
    return size;
  }
  if (end < 0) return storage::ErrnoError(seek_errno, "seek", path);
  return static_cast<uint64_t>(end);
}

ImageStore::ImageStore(ImageStoreOptions options) : options_(std::move(options)) {
  if (options_.cache_dir.empty()) options_.cache_dir = options_.store_dir + "/.extracted";
}

absl::StatusOr<ResolvedDisk> ImageStore::Resolve(const api::Vmi& vmi, size_t index) const {
  const std::string sp = vmi.spec_path.empty() ? "spec" : vmi.spec_path;
  const std::string field = absl::StrCat(sp, ".volumes[", index, "].containerDisk");
  if (index >= vmi.spec.volumes.size() || !vmi.spec.volumes[index].container_disk)
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a containerDisk volume"));
  const api::ContainerDiskSource& cd = *vmi.spec.volumes[index].container_disk;
  const std::string image_field = field + ".image";

  // 1. Put in place by the runtime (KubeVirt's in-pod convention).
  std::error_code ec;
  const std::string mounted = absl::StrCat(options_.container_disks_dir, "/disk_", index);
  std::string in_pod;
  if (fs::is_regular_file(mounted + ".img", ec)) {
    in_pod = mounted + ".img";
  } else if (fs::is_directory(mounted, ec)) {
    auto f = FileInMountedImage(mounted, cd.path);
    if (!f.ok()) return Named(cd.path.empty() ? image_field : field + ".path", f.status());
    in_pod = *f;
  }
  if (!in_pod.empty()) {
    auto format = DetectImageFormat(in_pod);
    if (!format.ok()) return Named(image_field, format.status());
    return ResolvedDisk{in_pod, *format, "", false};
  }

  // 2. The image store, extracted once into the shared cache.
  auto ref = api::ParseImageReference(cd.image);
  if (!ref.ok()) return Named(image_field, ref.status());
  auto image = LocateImage(options_.store_dir, *ref);
  if (!image.ok()) return Named(image_field, image.status());
  const std::string key = CacheKey(image->digest, cd.path);
  const std::string final_dir = absl::StrCat(options_.cache_dir, "/", key);
  const std::string disk = absl::StrCat(final_dir, "/", kDiskName);
  if (fs::is_regular_file(disk, ec)) {
    auto format = DetectImageFormat(disk);
    if (!format.ok()) return Named(image_field, format.status());
    return ResolvedDisk{disk, *format, image->digest, false};
  }

  fs::create_directories(options_.cache_dir, ec);
  if (ec)
    return Named(image_field, absl::InternalError(
                                  absl::StrCat("create ", options_.cache_dir, ": ", ec.message())));
  const std::string lock_path = absl::StrCat(options_.cache_dir, "/.", key, ".lock");
  const int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return Named(image_field, storage::ErrnoError(errno, "open", lock_path));
  absl::Cleanup unlock = [lock] { close(lock); };  // closing releases the flock
  while (flock(lock, LOCK_EX) != 0)
    if (errno != EINTR) return Named(image_field, storage::ErrnoError(errno, "lock", lock_path));
  // Another resolver may have finished while this one waited.
  if (fs::is_regular_file(disk, ec)) {
    auto format = DetectImageFormat(disk);
    if (!format.ok()) return Named(image_field, format.status());
    return ResolvedDisk{disk, *format, image->digest, false};
  }
  // Leftovers of a crashed extraction of this key (only a lock holder makes them).
  const std::string tmp_prefix = absl::StrCat(".tmp-", key, "-");
  for (const auto& e : fs::directory_iterator(options_.cache_dir, ec))
    if (e.path().filename().string().rfind(tmp_prefix, 0) == 0) fs::remove_all(e.path(), ec);

  const std::string work = absl::StrCat(options_.cache_dir, "/", tmp_prefix, RandomSuffix());
  if (mkdir(work.c_str(), 0700) != 0)
    return Named(image_field, storage::ErrnoError(errno, "mkdir", work));
  bool keep = false;
  absl::Cleanup drop_work = [&] {
    if (!keep) fs::remove_all(work, ec);
  };
  const std::string layers_dir = work + "/layers";
  mkdir(layers_dir.c_str(), 0700);
  DiskCollector collector(layers_dir, cd.path);
  for (size_t i = 0; i < image->layers.size(); ++i) {
    const auto& layer = image->layers[i];
    const std::string what =
        absl::StrCat(image->source->Describe(), ": layer ", i, " (", layer.path, ")");
    auto s = image->source->Stream(layer.path, [&](const ByteReader& r) {
      return collector.ApplyLayer(r, layer.digest, what);
    });
    if (!s.ok()) return Named(image_field, s);
  }
  auto extracted = collector.Result();
  if (!extracted.ok())
    return Named(cd.path.empty() ? image_field : field + ".path",
                 absl::Status(extracted.status().code(),
                              absl::StrCat(ref->Canonical(), ": ", extracted.status().message())));
  const std::string staged = absl::StrCat(work, "/", kDiskName);
  if (rename(extracted->c_str(), staged.c_str()) != 0)
    return Named(image_field, storage::ErrnoError(errno, "rename", staged));
  fs::remove_all(layers_dir, ec);
  nlohmann::json meta = {{"image", ref->Canonical()},
                         {"digest", image->digest},
                         {"path", cd.path},
                         {"source", image->source->Describe()}};
  if (auto s = storage::WriteFileDurably(work + "/image.json", meta.dump(2) + "\n",
                                         options_.owner_uid, options_.owner_gid, 0444);
      !s.ok())
    return Named(image_field, s);
  // Read-only for everyone, owned by the QEMU user; durable before it becomes visible.
  if (chown(staged.c_str(), options_.owner_uid, options_.owner_gid) != 0 ||
      chmod(staged.c_str(), 0444) != 0 ||
      chown(work.c_str(), options_.owner_uid, options_.owner_gid) != 0 ||
      chmod(work.c_str(), 0555) != 0)
    return Named(image_field, storage::ErrnoError(errno, "set the owner and mode of", staged));
  for (const std::string& p : {staged, work})
    if (auto s = storage::FsyncPath(p); !s.ok()) return Named(image_field, s);
  if (rename(work.c_str(), final_dir.c_str()) != 0)
    return Named(image_field, storage::ErrnoError(errno, "rename into", final_dir));
  keep = true;
  if (auto s = storage::FsyncPath(options_.cache_dir); !s.ok()) return Named(image_field, s);
  auto format = DetectImageFormat(disk);
  if (!format.ok()) return Named(image_field, format.status());
  return ResolvedDisk{disk, *format, image->digest, true};
}

}  // namespace k6t::launcher::images
