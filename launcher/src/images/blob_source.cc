#include "images/blob_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "disks/file_ops.h"

namespace k6t::launcher::images {
namespace {

constexpr size_t kMaxEntryName = 4096;

absl::StatusOr<std::string> ReadAllBounded(const ByteReader& read, size_t limit,
                                           const std::string& what) {
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = read(buf, sizeof(buf));
    if (n < 0) return storage::ErrnoError(errno, "read", what);
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > limit)
      return absl::ResourceExhaustedError(absl::StrCat(what, " is larger than ", limit, " bytes"));
    out.append(buf, static_cast<size_t>(n));
  }
}

class LayoutDir : public BlobSource {
 public:
  explicit LayoutDir(std::string dir) : dir_(std::move(dir)) {}
  std::string Describe() const override { return "OCI layout " + dir_; }

  absl::StatusOr<std::string> ReadSmall(const std::string& path, size_t limit) override {
    absl::StatusOr<std::string> out;
    auto s = Stream(path, [&](const ByteReader& r) {
      out = ReadAllBounded(r, limit, absl::StrCat(dir_, "/", path));
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  absl::Status Stream(const std::string& path,
                      const std::function<absl::Status(const ByteReader&)>& consume) override {
    const std::string clean = NormalizeEntryName(path);
    if (clean.empty() || clean != path)
      return absl::InvalidArgumentError(absl::StrCat("bad blob path \"", path, "\""));
    const std::string full = absl::StrCat(dir_, "/", clean);
    const int fd = open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return storage::ErrnoError(errno, "open", full);
    absl::Cleanup closer = [fd] { close(fd); };
    return consume([fd](void* buf, size_t len) {
      ssize_t n;
      do n = read(fd, buf, len);
      while (n < 0 && errno == EINTR);
      return n;
    });
  }

 private:
  std::string dir_;
};

class TarArchive : public BlobSource {
 public:
  explicit TarArchive(std::string file) : file_(std::move(file)) {}
  std::string Describe() const override { return "archive " + file_; }

  absl::StatusOr<std::string> ReadSmall(const std::string& path, size_t limit) override {
    absl::StatusOr<std::string> out;
    auto s = Stream(path, [&](const ByteReader& r) {
      out = ReadAllBounded(r, limit, absl::StrCat(file_, ":", path));
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }

  // One pass over the archive up to the entry (tar has no index); skipping an uncompressed
  // member's data is a seek.
  absl::Status Stream(const std::string& path,
                      const std::function<absl::Status(const ByteReader&)>& consume) override {
    archive* a = archive_read_new();
    absl::Cleanup freer = [a] { archive_read_free(a); };
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, file_.c_str(), 1 << 16) != ARCHIVE_OK)
      return absl::InvalidArgumentError(absl::StrCat(
          file_, ": ", archive_error_string(a) ? archive_error_string(a) : "unreadable"));
    const std::string want = NormalizeEntryName(path);
    archive_entry* e = nullptr;
    while (true) {
      const int rc = archive_read_next_header(a, &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN)
        return absl::DataLossError(absl::StrCat(file_, ": ", archive_error_string(a)));
      const char* name = archive_entry_pathname(e);
      if (!name || NormalizeEntryName(name) != want || archive_entry_filetype(e) != AE_IFREG)
        continue;
      return consume([a](void* buf, size_t len) -> ssize_t {
        const la_ssize_t n = archive_read_data(a, buf, len);
        if (n < 0) errno = EIO;
        return n < 0 ? -1 : n;
      });
    }
    return absl::NotFoundError(absl::StrCat(file_, " has no ", path));
  }

 private:
  std::string file_;
};

}  // namespace

std::string NormalizeEntryName(const std::string& name) {
  if (name.size() > kMaxEntryName) return "";
  std::string out;
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return "";
    if (!out.empty()) out += '/';
    out.append(part.data(), part.size());
  }
  return out;
}

std::unique_ptr<BlobSource> OpenLayoutDir(const std::string& dir) {
  return std::make_unique<LayoutDir>(dir);
}
std::unique_ptr<BlobSource> OpenArchive(const std::string& file) {
  return std::make_unique<TarArchive>(file);
}

}  // namespace k6t::launcher::images
