// Which of a VMI's interfaces are this sidecar's, and the VMI as k6t's planner sees them.
//
// KubeVirt runs one sidecar container per binding plugin and tells it its plugin's name
// (NETWORK_BINDING_PLUGIN_NAME); the VMI says `binding: {name: k6t-bridge}`. A k6t plugin is
// `<prefix><k6t binding>`: k6t-bridge, k6t-masquerade, k6t-l2bridge. The planner knows the
// bindings by k6t's own names, so the selected interfaces are handed to it bound to those.
//
// Errors: InvalidArgument naming the interface when its plugin has the prefix but no k6t
// binding of that name exists (a typo must not be silently left to KubeVirt).
// Thread-safety: pure. Privileges: none.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/vmi.h"

namespace k6t::sidecar {

inline constexpr char kDefaultPluginPrefix[] = "k6t-";

struct PluginSelection {
  std::string prefix = kDefaultPluginPrefix;
  // This container's plugin (NETWORK_BINDING_PLUGIN_NAME): only its interfaces are served, so
  // two k6t sidecars in one pod never serve DHCP for the same interface. "": every plugin
  // with the prefix.
  std::string plugin;
};

struct SelectedInterface {
  std::string name;     // the VMI interface
  std::string plugin;   // k6t-bridge
  std::string binding;  // bridge
};

// k6t's bindings a plugin may name: those that give the guest a tap in the pod.
const std::vector<std::string>& TapBindings();

// The interfaces (not absent) whose plugin is selected, in spec order.
absl::StatusOr<std::vector<SelectedInterface>> SelectInterfaces(const api::Vmi& vmi,
                                                                const PluginSelection& selection);

// The VMI as k6t-cni planned `one` when it plumbed its attachment: that interface alone with
// its network (k6t-cni sees one network per attachment), bound to its k6t binding
// (binding::BindByName, as k6t-cni binds it). Planned
// alone, the interface gets the values k6t-cni gave it, e.g. its bridge's DHCP server
// address, which follows the interface's position in the VMI.
api::Vmi PlannerVmi(const api::Vmi& vmi, const SelectedInterface& one);

}  // namespace k6t::sidecar
