// A field-level problem in a spec or annotation: which JSON path, and what is wrong.
// Plain values and a pure conversion: thread-safe, no privileges.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace k6t::api {

struct FieldError {
  std::string path;     // e.g. spec.template.spec.domain.devices.interfaces[1].macAddress
  std::string message;  // e.g. "02:00:00:00:00:00" is reserved for the in-pod bridge
  std::string ToString() const { return path.empty() ? message : path + ": " + message; }
  bool operator==(const FieldError&) const = default;
};

// kInvalidArgument with one "path: message" per line; OkStatus() when `errors` is empty.
absl::Status ErrorsToStatus(const std::vector<FieldError>& errors);

}  // namespace k6t::api
