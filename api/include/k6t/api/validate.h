// KubeVirt's admission rules for networks and interfaces (reference §7), plus k6t's own:
// unique boot orders and derived pod interface names that fit IFNAMSIZ.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "k6t/api/errors.h"
#include "k6t/api/vmi.h"

namespace k6t::api {

// What a cluster's KubeVirt CR would configure.
struct ClusterConfig {
  BindingMethod default_binding = BindingMethod::kMasquerade;
  bool permit_bridge_on_pod_network = true;
  bool passt_binding_gate = true;
  bool port_ranges_gate = true;
  // Binding plugins the cluster registered (`binding: {name: X}` must name one of them).
  std::set<std::string> binding_plugins = {"l2bridge", "passt", "managedtap"};
};

// KubeVirt's defaulting: no interfaces, no networks and auto-attach not disabled gives
// interface `default` bound with cfg.default_binding on pod network `default`.
void ApplyDefaults(Vmi& vmi, const ClusterConfig& cfg = {});

// Every violated rule, each naming the full JSON path (from vmi.spec_path) and the value.
// Empty when the VM is valid.
std::vector<FieldError> Validate(const Vmi& vmi, const ClusterConfig& cfg = {});

}  // namespace k6t::api
