// One interface binding (masquerade, bridge, l2bridge, sriov, passt, or an embedder's own):
// turns a VMI interface, its network and the observed pod link into an InterfacePlan. Pure:
// a binding reads its input and returns a value; it never touches the kernel.
//
// Errors: Plan returns InvalidArgument/FailedPrecondition for an interface it cannot serve
// (the planner prefixes the interface name). Thread-safety: Plan is const and may be called
// from several threads at once (one registry instance serves every caller): keep bindings
// stateless. Privileges: none.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/naming.h"
#include "k6t/api/network_status.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/plan.h"
#include "k6t/binding/pod_state.h"

namespace k6t::binding {

struct PlannerOptions {
  uint32_t tap_owner = 107;  // KubeVirt's non-root QEMU uid
  uint32_t tap_group = 107;
  bool vhost_net = false;  // /dev/vhost-net usable on the host
  // DNS for the DHCP offers; empty lets the launcher fill them from its resolv.conf.
  std::vector<std::string> dns_servers;
  std::vector<std::string> search_domains;
  std::string nft_table = "k6t_nat";
};

struct BindingInput {
  const api::Vmi& vmi;
  const api::Interface& iface;
  const api::Network& network;
  int index;                                      // position of the interface in the spec
  api::PodLinkNames names;                        // pod, bridge, tap, nic
  const ObservedLink* pod_link;                   // the CNI's link; nullptr when it does not exist
  const api::NetworkStatusEntry* status;          // Multus' entry for the network; may be nullptr
  const api::NetworkInfoInterface* network_info;  // network-info file entry; may be nullptr
  const PodState& pod;
  const PlannerOptions& options;
};

class Binding {
 public:
  virtual ~Binding() = default;
  // Whether planning needs the CNI link to exist in the pod (false for sriov).
  virtual bool NeedsPodLink() const { return true; }
  // Fills ops, device, dhcp/passt and mac/mtu of `plan`, whose identity fields
  // (interface/network/binding/pod_interface/queues) the planner has set already.
  virtual absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const = 0;
};

}  // namespace k6t::binding
