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
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "k6t/rpc/launcher_client.h"
#include "reconcile.h"

namespace k6t::handler {

// Opens a connection to the launcher.
using LauncherConnector = std::function<absl::StatusOr<std::unique_ptr<rpc::LauncherClient>>()>;

struct WatchOptions {
  std::string vmi_file;
  std::string launcher_socket;
  absl::Duration resync = absl::Seconds(60);
  // How long a launcher that went away (restarting, adopting the VM) is waited for.
  absl::Duration reconnect = absl::Seconds(10);
  // Null: the command socket at launcher_socket, waiting up to `reconnect` for it.
  LauncherConnector connect;
};

// Each round's report, or the error of a round that could not run (VM not running, ...).
using WatchRound = std::function<void(const absl::StatusOr<SyncReport>&)>;

struct RoundResult {
  absl::StatusOr<SyncReport> report;  // what the round's callback gets
  absl::Status launcher_gone;         // not OK: the launcher cannot be reached; the watch ends
};

// One round as Watch runs it: SyncVmi over *launcher. When the launcher went away (the round
// failed kUnavailable: it restarted, or is adopting the VM) it is reconnected once through
// `connect`, *launcher replaced, and the round run again.
RoundResult RunRound(const SyncRequest& req, std::unique_ptr<rpc::LauncherClient>* launcher,
                     const LauncherConnector& connect);

// Runs until SIGTERM, SIGINT or SIGHUP (OK), or until the launcher stays unreachable for
// `reconnect` (kUnavailable). Blocks those signals in the calling thread before starting any
// thread, so call it from a process's main thread.
absl::Status Watch(SyncRequest req, const WatchOptions& opts, const WatchRound& on_round);

}  // namespace k6t::handler
