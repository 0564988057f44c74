#include "images/layer_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "disks/file_ops.h"
#include "images/digest.h"

namespace k6t::launcher::images {
namespace {

constexpr char kWhiteout[] = ".wh.";
constexpr char kOpaque[] = ".wh..wh..opq";

std::string Dirname(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "" : p.substr(0, slash);
}
std::string Basename(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// libarchive pulls the layer's bytes through this, hashing them on the way.
struct HashingStream {
  const ByteReader* read;
  EVP_MD_CTX* sha;
  std::vector<char> buf = std::vector<char>(1 << 16);
  int err = 0;
};

la_ssize_t ReadCallback(archive*, void* ctx, const void** out) {
  auto* s = static_cast<HashingStream*>(ctx);
  const ssize_t n = (*s->read)(s->buf.data(), s->buf.size());
  if (n < 0) {
    s->err = errno ? errno : EIO;
    return -1;
  }
  EVP_DigestUpdate(s->sha, s->buf.data(), static_cast<size_t>(n));
  *out = s->buf.data();
  return n;
}

// Writes the entry's data at its offsets (holes stay holes: disk images are sparse).
absl::Status ExtractData(archive* a, const std::string& file, const std::string& what) {
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return storage::ErrnoError(errno, "create", file);
  absl::Cleanup closer = [fd] { close(fd); };
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0, end = 0;
  while (true) {
    const int rc = archive_read_data_block(a, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      return absl::DataLossError(absl::StrCat(what, ": ", archive_error_string(a)));
    for (size_t done = 0; done < size;) {
      const ssize_t n = pwrite(fd, static_cast<const char*>(block) + done, size - done,
                               offset + static_cast<la_int64_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return storage::ErrnoError(errno, "write", file);
      done += static_cast<size_t>(n);
    }
    end = std::max<la_int64_t>(end, offset + static_cast<la_int64_t>(size));
  }
  if (ftruncate(fd, end) != 0) return storage::ErrnoError(errno, "truncate", file);
  if (fsync(fd) != 0) return storage::ErrnoError(errno, "fsync", file);
  return absl::OkStatus();
}

}  // namespace

DiskCollector::DiskCollector(std::string work_dir, const std::string& path)
    : work_dir_(std::move(work_dir)), path_(NormalizeEntryName(path)) {}

bool DiskCollector::Wanted(const std::string& name) const {
  return path_.empty() ? Dirname(name) == "disk" : name == path_;
}

void DiskCollector::Remove(const std::string& prefix, size_t below_layer, bool exact) {
  for (auto it = found_.begin(); it != found_.end();) {
    const bool under = exact ? (it->first == prefix || it->first.rfind(prefix + "/", 0) == 0)
                             : (prefix.empty() || it->first.rfind(prefix + "/", 0) == 0);
    if (under && it->second.layer < below_layer) {
      if (!it->second.file.empty()) unlink(it->second.file.c_str());
      it = found_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::Status DiskCollector::ApplyLayer(const ByteReader& read, const std::string& digest,
                                       const std::string& what) {
  ++layer_;
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  absl::Cleanup free_sha = [sha] { EVP_MD_CTX_free(sha); };
  EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
  HashingStream stream{&read, sha};
  archive* a = archive_read_new();
  absl::Cleanup free_archive = [a] { archive_read_free(a); };
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  if (archive_read_open(a, &stream, nullptr, ReadCallback, nullptr) != ARCHIVE_OK)
    return absl::DataLossError(absl::StrCat(what, ": ", archive_error_string(a)));
  archive_entry* e = nullptr;
  while (true) {
    const int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (stream.err) return storage::ErrnoError(stream.err, "read", what);
      return absl::DataLossError(absl::StrCat(what, ": ", archive_error_string(a)));
    }
    const char* raw = archive_entry_pathname(e);
    const std::string name = raw ? NormalizeEntryName(raw) : "";
    if (name.empty()) continue;  // "..", over-long or empty names never reach the disk
    const std::string base = Basename(name), dir = Dirname(name);
    if (base == kOpaque) {
      Remove(dir, layer_, false);
      continue;
    }
    if (base.rfind(kWhiteout, 0) == 0) {
      const std::string gone = dir.empty() ? base.substr(4) : dir + "/" + base.substr(4);
      Remove(gone, layer_, true);
      continue;
    }
    // A non-directory replaces whatever lower layers had under that name.
    if (archive_entry_filetype(e) != AE_IFDIR) Remove(name, layer_, true);
    if (!Wanted(name)) continue;
    Found f{"", "", layer_};
    const char* hardlink = archive_entry_hardlink(e);
    if (hardlink) {
      auto target = found_.find(NormalizeEntryName(hardlink));
      if (target == found_.end() || target->second.file.empty()) {
        f.kind = "hard link to a file k6t did not extract";
      } else {
        f.file = absl::StrCat(work_dir_, "/f", ++counter_);
        if (link(target->second.file.c_str(), f.file.c_str()) != 0)
          return storage::ErrnoError(errno, "link", f.file);
        f.kind = "file";
      }
    } else if (archive_entry_filetype(e) == AE_IFREG) {
      f.file = absl::StrCat(work_dir_, "/f", ++counter_);
      if (auto s = ExtractData(a, f.file, absl::StrCat(what, ": ", name)); !s.ok()) return s;
      f.kind = "file";
    } else {
      f.kind = archive_entry_filetype(e) == AE_IFLNK ? "symbolic link" : "not a regular file";
      if (archive_entry_filetype(e) == AE_IFDIR) continue;  // a directory named like the disk
    }
    found_[name] = std::move(f);
  }
  // Hash what libarchive did not need (tar end padding, trailing bytes) before checking.
  char rest[65536];
  while (true) {
    const ssize_t n = read(rest, sizeof(rest));
    if (n < 0) return storage::ErrnoError(errno ? errno : EIO, "read", what);
    if (n == 0) break;
    EVP_DigestUpdate(sha, rest, static_cast<size_t>(n));
  }
  if (!digest.empty()) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(sha, md, &len);
    const std::string got = Sha256DigestOf(md, len);
    if (got != digest)
      return absl::DataLossError(
          absl::StrCat(what, ": content is ", got, ", not the ", digest, " its manifest names"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DiskCollector::Result() const {
  const std::string where = path_.empty() ? "/disk/" : "/" + path_;
  if (found_.empty())
    return absl::NotFoundError(path_.empty() ? "the image has no file in /disk/"
                                             : absl::StrCat("the image has no ", where));
  if (found_.size() > 1) {
    std::vector<std::string> names;
    for (const auto& [n, f] : found_) names.push_back("/" + n);
    return absl::InvalidArgumentError(absl::StrCat("the image has ", found_.size(),
                                                   " files in /disk/ (", absl::StrJoin(names, ", "),
                                                   "); name one with containerDisk.path"));
  }
  const auto& [name, f] = *found_.begin();
  if (f.file.empty())
    return absl::InvalidArgumentError(absl::StrCat("/", name, " in the image is a ", f.kind));
  return f.file;
}

}  // namespace k6t::launcher::images
