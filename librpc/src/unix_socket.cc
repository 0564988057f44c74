#include "unix_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "k6t/api/errno_status.h"
#include "k6t/rpc/unix_stream.h"

namespace k6t::rpc {

bool FillUnixAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() > kMaxSocketPathBytes) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

int ConnectUnix(const sockaddr_un& addr, int extra_type_flags) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | extra_type_flags, 0);
  if (fd < 0) return -errno;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

absl::StatusOr<int> ConnectUnixStream(const std::string& path) {
  sockaddr_un addr;
  if (!FillUnixAddress(path, &addr))
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", path, "\": not a unix socket path (empty or over ", kMaxSocketPathBytes, " bytes)"));
  const int fd = ConnectUnix(addr, 0);
  if (fd < 0) return api::ErrnoStatus("connect " + path, -fd);
  return fd;
}

}  // namespace k6t::rpc
