// The one errno -> status table, and the contract kernel.h states for the kernel adapters.
#include "k6t/api/errno_status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace k6t::api {
namespace {

using Code = absl::StatusCode;

TEST(ErrnoStatusTest, TheKernelAdaptersContract) {
  // Exactly the list in libbinding/include/k6t/binding/kernel.h.
  const std::vector<std::pair<int, Code>> contract = {
      {EEXIST, Code::kAlreadyExists},
      {ENODEV, Code::kNotFound},
      {ENOENT, Code::kNotFound},
      {EADDRNOTAVAIL, Code::kNotFound},
      {ESRCH, Code::kNotFound},
      {EPERM, Code::kPermissionDenied},
      {EACCES, Code::kPermissionDenied},
      {EOPNOTSUPP, Code::kUnimplemented},
      {EINVAL, Code::kInvalidArgument},
      {ERANGE, Code::kInvalidArgument},
      {ENAMETOOLONG, Code::kInvalidArgument},
      {EBUSY, Code::kFailedPrecondition},
      {EROFS, Code::kFailedPrecondition},
      {ENOMEM, Code::kResourceExhausted},
      {ENOBUFS, Code::kResourceExhausted},
      {ENOSPC, Code::kResourceExhausted},
      {EMFILE, Code::kResourceExhausted},
      {ENFILE, Code::kResourceExhausted},
      {EAGAIN, Code::kUnavailable},
      {EINTR, Code::kUnavailable},
  };
  for (const auto& [err, code] : contract)
    EXPECT_EQ(StatusCodeForErrno(err), code) << std::strerror(err);
  // Anything else the kernel says is Internal.
  for (int err : {EIO, EXDEV, ENOTDIR, EMLINK, ELOOP, EPROTO, EFAULT, 0, -1, 100000})
    EXPECT_EQ(StatusCodeForErrno(err), Code::kInternal) << err;
}

TEST(ErrnoStatusTest, SocketErrorsOfTheClients) {
  for (int err : {ECONNREFUSED, ECONNRESET, EPIPE, ENOTCONN})
    EXPECT_EQ(StatusCodeForErrno(err), Code::kUnavailable) << std::strerror(err);
  EXPECT_EQ(StatusCodeForErrno(ETIMEDOUT), Code::kDeadlineExceeded);
  EXPECT_EQ(StatusCodeForErrno(EWOULDBLOCK), Code::kUnavailable);  // == EAGAIN on Linux
  EXPECT_EQ(StatusCodeForErrno(ENOTSUP), Code::kUnimplemented);    // == EOPNOTSUPP on Linux
}

TEST(ErrnoStatusTest, MessageIsWhatThenTheSystemsText) {
  const absl::Status st = ErrnoStatus("create tap tap0: TUNSETIFF", EBUSY);
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_EQ(st.message(), "create tap tap0: TUNSETIFF: Device or resource busy");
  EXPECT_EQ(ErrnoStatus("open /dev/net/tun", ENOENT).message(),
            "open /dev/net/tun: No such file or directory");
  EXPECT_EQ(ErrnoText(ENODEV), "No such device");
  EXPECT_EQ(ErrnoText(EPERM), std::strerror(EPERM));
  EXPECT_FALSE(ErrnoText(100000).empty());  // unknown errno: "Unknown error 100000"
}

}  // namespace
}  // namespace k6t::api
