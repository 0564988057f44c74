// The executor's undo log: one step per change an apply made, run in reverse by a rollback.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace k6t::binding {

struct UndoStep {
  std::string what;  // what the step does, e.g. "delete bridge k6t-eth0" (named when it fails)
  std::function<absl::Status()> run;
};

using UndoLog = std::vector<UndoStep>;

}  // namespace k6t::binding
