// The JSON form of plans: what `k6t-handler plan --output json` prints and what the
// state-dir cache stores (schema version kPlanSchemaVersion). Every operation is an object
// tagged by "op" ("create_bridge", "rename_link", ...) with the operation's fields; a plan
// holds its identity, ops, the guest device (typed, since schema 2), dhcp, passt, notes and the CNI
// link's "original" state. Reading accepts what an older writer of the same schema left out
// (defaults).
//
// Errors: PlanFromJson returns InvalidArgument naming what is wrong (not JSON, no
// "interface", an unknown "op" tag). Thread-safety: pure functions. Privileges: none.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

// Schema 2 carries the guest device as a value ("device") instead of schema 1's libvirt XML
// fragment ("domain_xml", no longer read): a schema-1 plan reads without a device, enough to
// tear it down or resume its plumbing, not to give it to a VM again.
inline constexpr int kPlanSchemaVersion = 2;
inline constexpr int kOldestPlanSchemaVersion = 1;

// One plan as a JSON object (indented).
std::string PlanToJson(const InterfacePlan& plan);
absl::StatusOr<InterfacePlan> PlanFromJson(const std::string& json);

// {"interfaces": [plan, ...]}: the document `k6t-handler plan --output json` prints.
std::string PlansToJson(const std::vector<InterfacePlan>& plans);

}  // namespace k6t::binding
