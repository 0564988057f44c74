// The cloud-init ISO, built in memory by libisofs and written atomically.
// libisofs.h needs the fixed-width types and time_t declared first.
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
// clang-format off
// struct burn_source (the image stream) is declared by libisofs itself without libburn.
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>
// clang-format on

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "disks/file_ops.h"
#include "k6t/launcher/cloudinit.h"

namespace k6t::launcher::cloudinit {
namespace {

// Every node and the volume descriptors carry this time, so that the same files give the
// same image (2000-01-01T00:00:00Z).
constexpr time_t kFixedTime = 946684800;
char kPvdTime[] = "2000010100000000";

absl::Status IsoError(int rc, std::string_view what) {
  char* severity = nullptr;
  iso_sev_to_text(iso_error_get_severity(rc), &severity);
  return absl::InternalError(absl::StrCat("libisofs: ", std::string(what), ": ",
                                          iso_error_to_msg(rc), " (", severity ? severity : "?",
                                          ")"));
}

absl::Status InitOnce() {
  static std::once_flag once;
  static int rc = 0;
  std::call_once(once, [] {
    rc = iso_init();
    if (rc >= 0) {
      // Problems come back as return codes; nothing is printed to the launcher's stderr.
      char never[] = "NEVER", prefix[] = "libisofs: ";
      iso_set_msgs_severities(never, never, prefix);
    }
  });
  return rc < 0 ? IsoError(rc, "init") : absl::OkStatus();
}

void Stamp(IsoNode* node, mode_t mode) {
  iso_node_set_permissions(node, mode);
  iso_node_set_uid(node, 0);
  iso_node_set_gid(node, 0);
  iso_node_set_mtime(node, kFixedTime);
  iso_node_set_atime(node, kFixedTime);
  iso_node_set_ctime(node, kFixedTime);
}

// The directory `parent/name`, created when missing.
absl::StatusOr<IsoDir*> Subdir(IsoImage* image, IsoDir* parent, const std::string& name) {
  IsoNode* node = nullptr;
  if (iso_dir_get_node(parent, name.c_str(), &node) == 1) {
    if (iso_node_get_type(node) != LIBISO_DIR)
      return absl::InvalidArgumentError(
          absl::StrCat("ISO: \"", name, "\" is a file and a directory"));
    return reinterpret_cast<IsoDir*>(node);
  }
  IsoDir* dir = nullptr;
  if (int rc = iso_image_add_new_dir(image, parent, name.c_str(), &dir); rc < 0)
    return IsoError(rc, absl::StrCat("add directory ", name));
  Stamp(reinterpret_cast<IsoNode*>(dir), 0555);
  return dir;
}

absl::Status AddFile(IsoImage* image, IsoDir* root, const IsoFile& f) {
  std::vector<std::string> parts = absl::StrSplit(f.path, '/');
  IsoDir* dir = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto sub = Subdir(image, dir, parts[i]);
    if (!sub.ok()) return sub.status();
    dir = *sub;
  }
  // The memory stream takes ownership of a malloc'd buffer (one byte for empty files).
  auto* buf = static_cast<unsigned char*>(malloc(std::max<size_t>(f.contents.size(), 1)));
  if (!buf) return absl::ResourceExhaustedError("ISO: out of memory");
  memcpy(buf, f.contents.data(), f.contents.size());
  IsoStream* stream = nullptr;
  if (int rc = iso_memory_stream_new(buf, f.contents.size(), &stream); rc < 0) {
    free(buf);
    return IsoError(rc, absl::StrCat("stream for ", f.path));
  }
  ::IsoFile* file = nullptr;
  // The new file node takes over our reference to the stream.
  if (int rc = iso_image_add_new_file(image, dir, parts.back().c_str(), stream, &file); rc < 0) {
    iso_stream_unref(stream);
    return IsoError(rc, absl::StrCat("add file ", f.path));
  }
  Stamp(reinterpret_cast<IsoNode*>(file), 0444);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> BuildIso(const std::vector<IsoFile>& files,
                                     std::string_view volume_id) {
  if (auto s = InitOnce(); !s.ok()) return s;
  const std::string label(volume_id);
  IsoImage* image = nullptr;
  if (int rc = iso_image_new(label.c_str(), &image); rc < 0) return IsoError(rc, "new image");
  absl::Cleanup free_image = [image] { iso_image_unref(image); };
  iso_image_set_volume_id(image, label.c_str());
  IsoDir* root = iso_image_get_root(image);
  Stamp(reinterpret_cast<IsoNode*>(root), 0555);
  for (const IsoFile& f : files)
    if (auto s = AddFile(image, root, f); !s.ok()) return s;

  IsoWriteOpts* opts = nullptr;
  if (int rc = iso_write_opts_new(&opts, 0); rc < 0) return IsoError(rc, "write options");
  absl::Cleanup free_opts = [opts] { iso_write_opts_free(opts); };
  iso_write_opts_set_rockridge(opts, 1);
  iso_write_opts_set_joliet(opts, 1);
  iso_write_opts_set_always_gmt(opts, 1);
  // The label stays as given: cloud-init finds a config drive by "config-2", which strict
  // ISO9660 would turn into "CONFIG_2".
  iso_write_opts_set_relaxed_vol_atts(opts, 1);
  iso_write_opts_set_pvd_times(opts, kFixedTime, kFixedTime, 0, 0, kPvdTime);
  burn_source* src = nullptr;
  if (int rc = iso_image_create_burn_source(image, opts, &src); rc < 0)
    return IsoError(rc, "start writing");
  absl::Cleanup free_src = [src] {
    src->free_data(src);
    free(src);
  };
  std::string out;
  unsigned char block[2048];  // libisofs hands out the image one 2048-byte sector per read
  while (true) {
    const int n = src->read_xt(src, block, sizeof(block));
    if (n < 0) return IsoError(n, "write image");
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(block), static_cast<size_t>(n));
  }
  return out;
}

absl::Status WriteIso(const CloudInitData& data, const std::string& path, const FileOwner& owner) {
  auto files = IsoLayout(data);
  if (!files.ok()) return files.status();
  auto iso = BuildIso(*files, VolumeLabel(data.source));
  if (!iso.ok()) return iso.status();
  return storage::WriteFileDurably(path, *iso, owner.uid, owner.gid, owner.mode);
}

}  // namespace k6t::launcher::cloudinit
