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

  pod.vmi = PlannerVmi(input->vmi, *selected);
  pod.only.clear();
  for (const auto& s : *selected) pod.only.push_back(s.name);
  auto plans = binding::PlanPodNetwork(pod);
  if (!plans.ok()) return plans.status();
  if (auto st = RewriteInterfaces(input->domain.root(), *plans, options.vhost_net); !st.ok())
    return st;
  return DefinedDomain{input->domain.Emit(), *std::move(plans)};
}

}  // namespace k6t::sidecar
