#include "k6t/api/validate.h"

namespace k6t::api {

// pkg/network/vmispec/defaults.go: only a VM that says nothing about networking gets the
// pod network; the binding comes from the cluster configuration.
void ApplyDefaults(Vmi& vmi, const ClusterConfig& cfg) {
  auto& d = vmi.spec.domain;
  if (!d.interfaces.empty() || !vmi.spec.networks.empty() || !d.autoattach_pod_interface) return;
  Interface iface;
  iface.name = "default";
  iface.bindings.push_back(cfg.default_binding);
  d.interfaces.push_back(iface);
  Network net;
  net.name = "default";
  net.pod = PodNetwork{};
  vmi.spec.networks.push_back(net);
}

}  // namespace k6t::api
