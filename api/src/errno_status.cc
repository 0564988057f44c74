#include "k6t/api/errno_status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace k6t::api {

absl::StatusCode StatusCodeForErrno(int err) {
  switch (err) {
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case ENODEV:
    case ENOENT:
    case EADDRNOTAVAIL:
    case ESRCH:
      return absl::StatusCode::kNotFound;
    case EPERM:
    case EACCES:
      return absl::StatusCode::kPermissionDenied;
    case EOPNOTSUPP:
      return absl::StatusCode::kUnimplemented;
    case EINVAL:
    case ERANGE:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    case EBUSY:
    case EROFS:
      return absl::StatusCode::kFailedPrecondition;
    case ENOMEM:
    case ENOBUFS:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
      return absl::StatusCode::kResourceExhausted;
    case EAGAIN:
    case EINTR:
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
      return absl::StatusCode::kUnavailable;
    case ETIMEDOUT:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return absl::StatusCode::kInternal;
  }
}

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r: returns the text, in `buf` or in a static string.
  return strerror_r(err, buf, sizeof(buf));
}

absl::Status ErrnoStatus(std::string_view what, int err) {
  return absl::Status(StatusCodeForErrno(err),
                      absl::StrCat(std::string(what), ": ", ErrnoText(err)));
}

}  // namespace k6t::api
