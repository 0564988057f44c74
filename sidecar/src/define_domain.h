// OnDefineDomain as a function: KubeVirt's domain XML and VMI JSON in, the domain libvirt is
// to define out, together with the plans it was made from (the sidecar serves their DHCP).
//
//   parse (hook_input.h) -> select this sidecar's interfaces (k6t_interfaces.h) -> plan them
//   from the pod as it is now (binding::PlanPodNetwork: observe read-only, plan purely)
//   -> rewrite their devices (domain_rewrite.h) -> emit
//
// A VMI with none of this sidecar's interfaces gets its domain back byte for byte. Anything
// that fails leaves no output: the domain is emitted only when every interface was planned
// and rewritten.
//
// Errors: the parser's InvalidArgument ("domain XML: ..." / "VMI: ..."), the selection's, the
// planner's (NotFound/InvalidArgument naming the interface: e.g. its pod link is missing),
// the rewrite's. Thread-safety: as `pod`'s runner allows (InlineNetns: any thread).
// Privileges: none beyond reading the pod's links (netlink) and sysctls.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/binding/plan.h"
#include "k6t/binding/pod_network.h"
#include "k6t_interfaces.h"

namespace k6t::sidecar {

struct DefineDomainOptions {
  PluginSelection selection;
  std::set<std::string> plugins;  // registered binding plugins; empty: the VMI's own
  bool vhost_net = false;         // for a device the converter left out
};

struct DefinedDomain {
  std::string domain_xml;
  std::vector<binding::InterfacePlan> plans;  // this sidecar's interfaces, spec order
};

// `pod`: where and how to observe the pod (netns runner, kernel adapters, planner options,
// network-info); its vmi and only are set here.
absl::StatusOr<DefinedDomain> DefineDomain(std::string_view domain_xml, std::string_view vmi_json,
                                           const DefineDomainOptions& options,
                                           binding::PodNetworkRequest pod);

}  // namespace k6t::sidecar
