// The server's socket file: where it is created, with which mode, and when it may be
// replaced or removed. The file is mode 0600 from bind() on (no window in which another uid
// could connect) and missing parent directories are created 0700.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace k6t::rpc {

struct SocketFile {
  int fd = -1;  // listening, non-blocking, close-on-exec
  // The inode bound, so that Remove never deletes a successor's socket at the same path.
  dev_t dev = 0;
  ino_t ino = 0;
};

// Binds and listens on `path`. A stale socket file (nobody listening) is replaced; a live one
// is kAlreadyExists, anything else at the path kFailedPrecondition; kInvalidArgument for a path
// that does not fit a sockaddr_un; kInternal naming the call and errno otherwise.
absl::StatusOr<SocketFile> ListenOn(const std::string& path, int backlog);

// Removes `path` if it is still the socket `file` bound (the fd is the caller's to close).
void RemoveSocketFile(const std::string& path, const SocketFile& file);

}  // namespace k6t::rpc
