// A new, empty qcow2 (version 3) image whose every read falls through to a backing file:
// the per-VM overlay over a shared read-only base. Written in-process (k6t never runs
// qemu-img) following QEMU's published qcow2 format (docs/interop/qcow2.txt): 64 KiB
// clusters, 16-bit refcounts, the backing file's format in a header extension so that
// neither libvirt nor QEMU has to probe it. Private to launcher/.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace k6t::launcher::disks {

// Writes the overlay atomically (a temporary file renamed over `path`), owned by
// `uid`:`gid` with mode 0660. `backing_file` is stored as given (an absolute path keeps the
// overlay independent of the working directory). InvalidArgument for a zero size, a
// backing name of more than 1023 bytes or an empty format; the errno's code otherwise.
absl::Status WriteQcow2Overlay(const std::string& path, const std::string& backing_file,
                               const std::string& backing_format, uint64_t virtual_size, uid_t uid,
                               gid_t gid);

}  // namespace k6t::launcher::disks
