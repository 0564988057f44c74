// The one place that changes a pod's network namespace: applies operations in order through
// the Kernel adapters, each only if its effect is not already there, with an undo log. A
// transactional apply that fails rolls back every change it made, in reverse; applying an
// already applied plan changes nothing. Consecutive operations on one link reach the kernel
// as one change (a single operation is a run of one).
//
// Errors: the first failing operation's status (kernel.h's codes), prefixed with
// `operation N (<Describe(op)>)`; FailedPrecondition when the namespace contradicts the
// plan (e.g. a link to rename is now called something else); NotFound for a link an
// operation needs. In kTransactional mode the namespace is as before the call when an error
// returns, unless an undo step failed too: then the status says "rollback incomplete" and
// carries what was left behind (RollbackFailures). kBestEffort does every step and returns
// the first error.
// Thread-safety: an Executor uses its Kernel's adapters, so it runs on their thread only.
// Privileges: those of the operations: CAP_NET_ADMIN in the namespace, /dev/net/tun for taps.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

struct ExecutorOptions {
  // Fault injection for tests and `K6T_FAULT_*` variables: make operation N (0-based, counted
  // over the Apply call) fail, or kill the process with SIGKILL once N operations are done.
  int fail_at_op = -1;
  int crash_after_ops = -1;
};

struct ApplyReport {
  int operations = 0;
  int changed = 0;                   // operations that changed something
  std::vector<std::string> changes;  // Describe() of each op that changed something
  absl::Duration elapsed;
};

enum class ApplyMode {
  kTransactional,  // stop at the first error and roll back
  kBestEffort,     // teardown: do every step, report the first error at the end
};

class Executor {
 public:
  explicit Executor(Kernel kernel, ExecutorOptions options = {});
  // Must run on the thread that is inside the target netns (a NetnsThread).
  absl::StatusOr<ApplyReport> Apply(const std::vector<Operation>& ops,
                                    ApplyMode mode = ApplyMode::kTransactional);

  static ExecutorOptions OptionsFromEnvironment();

 private:
  Kernel kernel_;
  ExecutorOptions options_;
};

// One undo step of a rollback that failed: what is left in the namespace.
struct RollbackFailure {
  std::string step;   // the undo step, e.g. "delete bridge k6t-eth0"
  std::string error;  // why it failed
};

// The undo steps that failed in the rollback behind `status` (a failed transactional Apply,
// or any status built from it with its payloads kept). Empty when the namespace is as it was
// before the Apply, or when `status` is not an Apply error.
std::vector<RollbackFailure> RollbackFailures(const absl::Status& status);

// `status` with `context` put before its message, keeping its code and payloads (so that
// RollbackFailures still reads it).
absl::Status WithContext(const absl::Status& status, const std::string& context);

}  // namespace k6t::binding
