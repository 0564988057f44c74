// The unprivileged user QEMU runs as (KubeVirt's non-root mode: uid/gid 107, the owner
// k6t-handler gives the taps) and what that user must be able to reach: the guest's kernel
// and initrd to read, the serial log to write, the launcher's state dir to traverse, and
// nothing else of it (the interface plans stay root's).
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "k6t/launcher/options.h"

namespace k6t::launcher {

// "UID", "UID:GID" or a user name (its primary group); "root" is 0:0.
absl::StatusOr<QemuUser> ParseQemuUser(const std::string& spec);

// Whether `user` (no supplementary groups: libvirt gives QEMU none) can open `path` with
// `mode` (R_OK / W_OK / X_OK), judged from the owner, group and mode of the file and of every
// directory above it. An error names the first component that stops it.
absl::Status CheckAccessAs(const std::string& path, const QemuUser& user, int mode);

// Gives `user` what QEMU needs of the state dir: the dir itself becomes group `user.gid`,
// mode 0710 (enter, not list: the plans in it stay unreadable), and `serial_log` an empty
// file of `user`, mode 0600, so that this boot's output is all it holds.
// `dir` (created 0700 if absent) owned by the QEMU user, for the sockets QEMU creates itself
// (VNC's): the state dir is not writable by QEMU.
absl::Status PrepareQemuOwnedDir(const std::string& dir, const QemuUser& user);

absl::Status PrepareStateDirFor(const std::string& state_dir, const std::string& serial_log,
                                const QemuUser& user);

}  // namespace k6t::launcher
