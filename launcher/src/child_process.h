// A daemon the launcher runs itself (its private libvirtd; passt): fork/exec without a
// shell, optionally in a private mount namespace with bind mounts, stdout/stderr to a log
// file, killed if the launcher dies. Reusable by every supervised helper process.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace k6t::launcher {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the absolute path executed
  std::vector<std::string> env;   // "K=V"; empty: inherit the launcher's environment
  // Non-empty: the child unshares its mount namespace, makes every mount private
  // (MS_REC|MS_PRIVATE, so nothing propagates back to the host) and bind-mounts each
  // {source, target} before exec. Targets must exist.
  std::vector<std::pair<std::string, std::string>> bind_mounts;
  std::string log_file;  // stdout+stderr appended here; empty: /dev/null
  // Signal the child gets when the thread that spawned it exits (PR_SET_PDEATHSIG), so a
  // crashed launcher does not leave daemons behind. Spawn from a long-lived thread.
  int parent_death_signal = 0;
  // Descriptors of the launcher the child keeps under the same numbers (their CLOEXEC flag
  // is cleared in the child only), e.g. the connected socket passt takes with --fd.
  std::vector<int> inherit_fds;
};

class ChildProcess {
 public:
  static absl::StatusOr<ChildProcess> Spawn(const SpawnOptions& options);

  ChildProcess() = default;
  ChildProcess(ChildProcess&& o) noexcept { *this = std::move(o); }
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills (SIGKILL) and reaps a child still running: never leaves a zombie or an orphan.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_status_; }

  // Non-blocking reap; returns the wait status once the child has exited.
  std::optional<int> Poll();
  // Blocks until exit or timeout (polling); nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL and reap. Returns the wait status.
  int Stop(absl::Duration grace);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// "exited 1", "killed by SIGSEGV", for logs.
std::string DescribeWaitStatus(int status);

}  // namespace k6t::launcher
