#include "socket_file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "unix_socket.h"

namespace k6t::rpc {
namespace {

// Creates every missing directory of `dir` with mode 0700 (existing ones are left alone).
absl::Status MakeParentDirs(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    const std::string prefix = dir.substr(0, pos);
    if (prefix.empty()) continue;
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InternalError(
          absl::StrCat("command socket: mkdir ", prefix, ": ", ErrnoText(errno)));
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("command socket: ", dir, " is not a directory"));
  }
  return absl::OkStatus();
}

// Clears the way for bind(): a socket file nobody listens on is a crashed server's leftover.
absl::Status RemoveStale(const std::string& path, const sockaddr_un& addr) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("command socket: ", path, " exists and is not a socket"));
  }
  // A socket someone still listens on belongs to a live launcher: do not steal it. Blocking,
  // so that a live server with a full backlog is not taken for a dead one.
  const int probe = ConnectUnix(addr, 0);
  if (probe >= 0) {
    close(probe);
    return absl::AlreadyExistsError(
        absl::StrCat("command socket: another server is listening on ", path));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("command socket: unlink stale ", path, ": ", ErrnoText(errno)));
  }
  spdlog::info("command socket: replaced stale socket file {}", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SocketFile> ListenOn(const std::string& path, int backlog) {
  if (path.empty()) return absl::InvalidArgumentError("command socket: empty socket path");
  sockaddr_un addr;
  if (!FillUnixAddress(path, &addr)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "command socket: path ", path, " is longer than ", kMaxSocketPathBytes, " bytes"));
  }
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (auto s = MakeParentDirs(path.substr(0, slash)); !s.ok()) return s;
  }
  if (auto s = RemoveStale(path, addr); !s.ok()) return s;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("command socket: socket: ", ErrnoText(errno)));
  }
  // bind() creates the file with the socket inode's mode (minus umask): 0600 from the start.
  (void)fchmod(fd, 0600);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("command socket: bind ", path, ": ", ErrnoText(err)));
  }
  // Nobody can connect before listen(), so fixing the mode here leaves no window either way.
  struct stat st;
  if (chmod(path.c_str(), 0600) != 0 || stat(path.c_str(), &st) != 0 ||
      (st.st_mode & 07777) != 0600) {
    const int err = errno;
    close(fd);
    unlink(path.c_str());
    return absl::InternalError(
        absl::StrCat("command socket: cannot make ", path, " mode 0600: ", ErrnoText(err)));
  }
  if (listen(fd, backlog) != 0) {
    const int err = errno;
    close(fd);
    unlink(path.c_str());
    return absl::InternalError(absl::StrCat("command socket: listen ", path, ": ", ErrnoText(err)));
  }
  return SocketFile{fd, st.st_dev, st.st_ino};
}

void RemoveSocketFile(const std::string& path, const SocketFile& file) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && st.st_dev == file.dev && st.st_ino == file.ino) {
    unlink(path.c_str());
  }
}

}  // namespace k6t::rpc
