// Connecting to a unix stream socket by its path, for the launcher's plain (unframed)
// sockets: the serial console and VNC (k6t/api/rpc.h names them). The framed command socket
// has Client (client.h).
//
// Errors: InvalidArgument for a path a sockaddr_un cannot hold; otherwise the errno's code
// (k6t/api/errno_status.h) with "connect <path>". Thread-safe. Privileges: write access to
// the socket file.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace k6t::rpc {

// A connected SOCK_STREAM | SOCK_CLOEXEC fd the caller closes.
absl::StatusOr<int> ConnectUnixStream(const std::string& path);

}  // namespace k6t::rpc
