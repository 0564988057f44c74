// `k6t-handler sync`.
#pragma once

#include "reconcile.h"

namespace k6t::handler {

// Exit code of sync when everything else converged but interfaces wait for their pod link or
// need a VM restart.
inline constexpr int kExitPending = 4;

int RunSync(int argc, char** argv);

// Prints a sync's report as `sync` does (changes, waits and restarts on stdout, one line each,
// errors on stderr, then "sync: N change(s) in X ms"), flushes, and returns the exit code
// that report means.
int PrintSyncReport(const SyncReport& report);

}  // namespace k6t::handler
