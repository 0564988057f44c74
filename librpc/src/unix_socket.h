// Unix stream socket addresses, shared by the server (its socket file) and the client.
#pragma once

#include <sys/un.h>

#include <cstddef>
#include <string>

namespace k6t::rpc {

// The longest path a sockaddr_un holds (its terminating NUL excluded).
inline constexpr size_t kMaxSocketPathBytes = sizeof(sockaddr_un{}.sun_path) - 1;

// Fills `addr` for `path`; false when the path is empty or longer than kMaxSocketPathBytes.
bool FillUnixAddress(const std::string& path, sockaddr_un* addr);

// Opens a stream socket (SOCK_CLOEXEC plus `extra_type_flags`, e.g. SOCK_NONBLOCK) and
// connects it to `addr`: the fd, or -errno of whichever call failed.
int ConnectUnix(const sockaddr_un& addr, int extra_type_flags);

// strerror(err), for messages.
std::string ErrnoText(int err);

}  // namespace k6t::rpc
