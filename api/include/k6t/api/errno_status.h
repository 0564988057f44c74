// errno as absl::Status, from one table for the whole tree. Every place that turns a failed
// system call into a status calls ErrnoStatus (or StatusCodeForErrno where it builds the
// message itself, as the netlink socket does with the kernel's extended ack), so a given
// errno means the same code everywhere, and the kernel adapters keep the promise kernel.h
// makes.
//
// The table: EEXIST AlreadyExists; ENODEV, ENOENT, EADDRNOTAVAIL, ESRCH NotFound; EPERM,
// EACCES PermissionDenied; EOPNOTSUPP Unimplemented; EINVAL, ERANGE, ENAMETOOLONG
// InvalidArgument; EBUSY, EROFS FailedPrecondition; ENOMEM, ENOBUFS, ENOSPC, EMFILE, ENFILE
// ResourceExhausted; EAGAIN, EINTR, ECONNREFUSED, ECONNRESET, EPIPE, ENOTCONN Unavailable;
// ETIMEDOUT DeadlineExceeded; 0 and anything else Internal.
//
// Thread-safety: pure functions (strerror_r, never the shared strerror buffer). Privileges:
// none.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace k6t::api {

// The code the table above gives `err` (a positive errno value).
absl::StatusCode StatusCodeForErrno(int err);

// The system's text for `err` ("No such device").
std::string ErrnoText(int err);

// Status(StatusCodeForErrno(err), "<what>: <ErrnoText(err)>"). `what` names the operation
// and its object: "create tap tap0: TUNSETIFF", "open /dev/net/tun".
absl::Status ErrnoStatus(std::string_view what, int err);

}  // namespace k6t::api
