#include "disks/file_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace k6t::launcher::storage {

absl::Status ErrnoError(int err, std::string_view op, std::string_view path) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat(std::string(op), " ", std::string(path), ": ", strerror(err)));
}

absl::Status FsyncPath(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open", path);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError(err, "fsync", path);
}

absl::Status WriteFileDurably(const std::string& path, std::string_view data, uid_t uid, gid_t gid,
                              mode_t mode) {
  const std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string tmp =
      (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "create a temporary file for", path);
  auto fail = [&](int err, std::string_view op) {
    close(fd);
    unlink(tmp.c_str());
    return ErrnoError(err, op, tmp);
  };
  for (size_t off = 0; off < data.size();) {
    const ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno, "write");
    off += static_cast<size_t>(n);
  }
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) && fchown(fd, uid, gid) != 0)
    return fail(errno, "chown");
  if (fchmod(fd, mode) != 0) return fail(errno, "chmod");
  if (fsync(fd) != 0) return fail(errno, "fsync");
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, "rename into", path);
  }
  return FsyncPath(dir);
}

}  // namespace k6t::launcher::storage
