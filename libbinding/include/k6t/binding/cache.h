// The per-VMI state directory: applied plans and the pod's original state, as versioned
// JSON files written atomically (temp file renamed into place). Written by k6t-handler before
// and after an apply, read by k6t-launcher (plans, DHCP offers) and by teardown.
//
// Errors: I/O failures name the operation and path, coded from errno (api::ErrnoStatus:
// PermissionDenied, ResourceExhausted for a full disk, ...); InvalidArgument for an
// interface name that cannot be a file name; for a file that is there but unusable,
// OutOfRange (too large), DataLoss (not JSON, not a plan) or FailedPrecondition (another
// schema version). A missing file or directory is not an error (nullopt / empty list).
// Thread-safety: the functions hold no state; concurrent writers of one interface's file
// must be serialised by the caller (the last rename wins, the file is never torn).
// Privileges: write access to the state dir (files are created 0640).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/binding/plan.h"
#include "k6t/binding/plan_json.h"

namespace k6t::binding {

// The cache file's schema is the plan JSON's (plan_json.h): written as kCacheSchemaVersion,
// read back to kOldestCacheSchemaVersion (a schema-1 plan has no typed guest device).
inline constexpr int kCacheSchemaVersion = kPlanSchemaVersion;
inline constexpr int kOldestCacheSchemaVersion = kOldestPlanSchemaVersion;

// Phase of one interface's plumbing, as KubeVirt's pending/started/finished, except that
// k6t resumes from kStarted instead of failing the VM.
enum class PlumbingPhase { kPending, kStarted, kFinished };

struct CachedInterface {
  InterfacePlan plan;
  PlumbingPhase phase = PlumbingPhase::kPending;
};

// <state_dir>/interfaces/<interface-name>.json
absl::Status WriteCachedInterface(const std::string& state_dir, const CachedInterface& entry);
absl::StatusOr<std::optional<CachedInterface>> ReadCachedInterface(const std::string& state_dir,
                                                                   const std::string& name);
// Every cached interface, sorted by interface name.
absl::StatusOr<std::vector<CachedInterface>> ReadCachedInterfaces(const std::string& state_dir);
absl::Status RemoveCachedInterface(const std::string& state_dir, const std::string& name);

// Writes `contents` to `path` atomically: a temp file in the same dir renamed over it, so a
// reader or a writer killed half-way sees the old file or the new one, never a mix. Not
// fsynced: what it records (a pod's network namespace, a running domain) does not outlive a
// power loss either, and two fsyncs per write cost 2-20 ms on the hotplug path.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents,
                                 int mode = 0640);

}  // namespace k6t::binding
