// The planner: validated VMI + observed pod + Multus network-status -> one InterfacePlan per
// interface that needs something (absent interfaces are skipped). Pure.
//
// Errors: NotFound when an interface has no network, names an unregistered binding, or its
// pod link is missing; InvalidArgument for collisions; otherwise the binding's own error.
// Each names the interface. Thread-safety: PlanVmi and TeardownOps only read their inputs
// and may run concurrently (the registry is locked). Privileges: none (the pod was observed
// beforehand, pod_state.h).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/network_status.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/binding.h"
#include "k6t/binding/plan.h"
#include "k6t/binding/pod_state.h"
#include "k6t/binding/registry.h"

namespace k6t::binding {

struct PlanRequest {
  const api::Vmi& vmi;
  const std::vector<api::NetworkStatusEntry>& network_status;  // may be empty
  const PodState& pod;
  PlannerOptions options;
  // KubeVirt's downward-API network-info file (SR-IOV PCI addresses); may be empty.
  std::vector<api::NetworkInfoInterface> network_info;
  // Plan only these interfaces (by name); empty: all that are not absent.
  std::vector<std::string> only;
};

// Errors name the interface (`interface "blue" (network "blue"): ...`). Cross-interface
// checks: two interfaces resolving to the same pod link, or names that collide.
absl::StatusOr<std::vector<InterfacePlan>> PlanVmi(
    const PlanRequest& req, const BindingRegistry& registry = BindingRegistry::Global());

// The operations that undo a plan in a later process (teardown / unplug): delete what k6t
// created, give the CNI link back its name, MAC and addresses. With `restore_globals`, also
// write back namespace-wide sysctls (only when the whole VMI goes). With `links_down`, a
// link given back is set down before its MAC and addresses return, and gets no routes (a
// down link holds none): for a pod that is ending, whose guest now runs elsewhere (see
// PodNetworkRequest::give_links_back_down).
std::vector<Operation> TeardownOps(const InterfacePlan& plan, bool restore_globals,
                                   bool links_down = false);

}  // namespace k6t::binding
