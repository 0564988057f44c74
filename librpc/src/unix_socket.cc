#include "unix_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace k6t::rpc
