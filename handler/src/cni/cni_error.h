// CNI's error model: a numeric code (the spec's well-known ones, 100+ for k6t's own) carried
// on an absl::Status, and the error JSON a plugin prints on stdout.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace k6t::handler::cni {

// CNI specification 1.0/1.1 section "Error" codes, then k6t-cni's own.
enum Code : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodingFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kPluginNotAvailable = 50,  // STATUS (1.1.0)
  kPlumbingFailed = 100,     // k6t-cni: the plan or the kernel refused; rolled back
  kDrift = 101,              // k6t-cni: CHECK found the namespace differs from the plan
  kTeardownFailed = 102,     // k6t-cni: DEL could not undo everything (retry)
  kPlumbingNotClean = 103,   // k6t-cni: ADD failed and its rollback too (DEL removes the rest)
};

// An error status carrying `code`; the message becomes the error JSON's `msg`, `details`
// (optional) its `details`.
absl::Status Error(int code, const std::string& msg, const std::string& details = "");

// The CNI code of `st` (set by Error(), else derived from the absl code), and its details.
int CodeOf(const absl::Status& st);
std::string DetailsOf(const absl::Status& st);

// {"cniVersion":..,"code":..,"msg":..,"details":..}
std::string EncodeError(const std::string& cni_version, const absl::Status& st);

}  // namespace k6t::handler::cni
