// `k6t-handler watch`: the reconcile of `sync` run by a long-lived process, the way
// virt-handler runs it. The process start, the library loading, the launcher connection and
// the pod-netns thread are paid once; each change then costs only the reconcile itself.
//
// A round runs at start, when the VMI file or the Multus network-status file is replaced or
// rewritten (inotify), when a link appears or changes in the pod netns while an interface
// waits for its pod link (netlink notifications, not polling), and every `resync` as a
// safety net. A VMI file that does not decode or validate is reported and the last good spec
// stays in force.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "reconcile.h"

namespace k6t::handler {

struct WatchOptions {
  std::string vmi_file;
  std::string launcher_socket;
  absl::Duration resync = absl::Seconds(60);
  // How long a launcher that went away (restarting, adopting the VM) is waited for.
  absl::Duration reconnect = absl::Seconds(10);
};

// Each round's report, or the error of a round that could not run (VM not running, ...).
using WatchRound = std::function<void(const absl::StatusOr<SyncReport>&)>;

// Runs until SIGTERM, SIGINT or SIGHUP (OK), or until the launcher stays unreachable for
// `reconnect` (kUnavailable). Blocks those signals in the calling thread before starting any
// thread, so call it from a process's main thread.
absl::Status Watch(SyncRequest req, const WatchOptions& opts, const WatchRound& on_round);

}  // namespace k6t::handler
