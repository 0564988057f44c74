#include "define_domain.h"

#include "domain_rewrite.h"
#include "hook_input.h"

namespace k6t::sidecar {

absl::StatusOr<DefinedDomain> DefineDomain(std::string_view domain_xml, std::string_view vmi_json,
                                           const DefineDomainOptions& options,
                                           binding::PodNetworkRequest pod) {
  auto input = ParseHookInput(domain_xml, vmi_json, options.plugins);
  if (!input.ok()) return input.status();
  auto selected = SelectInterfaces(input->vmi, options.selection);
  if (!selected.ok()) return selected.status();
  if (selected->empty()) return DefinedDomain{std::string(domain_xml), {}};

  // Each interface planned as k6t-cni planned its attachment (k6t_interfaces.h).
  std::vector<binding::InterfacePlan> plans;
  for (const auto& one : *selected) {
    pod.vmi = PlannerVmi(input->vmi, one);
    pod.only = {one.name};
    auto planned = binding::PlanPodNetwork(pod);
    if (!planned.ok()) return planned.status();
    for (auto& p : *planned) plans.push_back(std::move(p));
  }
  if (auto st = RewriteInterfaces(input->domain.root(), plans, options.vhost_net); !st.ok())
    return st;
  return DefinedDomain{input->domain.Emit(), std::move(plans)};
}

}  // namespace k6t::sidecar
