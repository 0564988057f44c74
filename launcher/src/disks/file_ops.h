// File operations the storage components share: errno statuses, durable atomic writes
// and directory syncs. Private to launcher/.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace k6t::launcher::storage {

// "<op> <path>: <strerror>" with the errno's status code.
absl::Status ErrnoError(int err, std::string_view op, std::string_view path);

// Writes `data` to a temporary file next to `path`, gives it `uid`:`gid` (unless both are
// -1) and `mode`, fsyncs it, renames it over `path` and fsyncs the directory. On failure
// the temporary file is removed and `path` is untouched.
absl::Status WriteFileDurably(const std::string& path, std::string_view data, uid_t uid, gid_t gid,
                              mode_t mode);

absl::Status FsyncPath(const std::string& path);

}  // namespace k6t::launcher::storage
