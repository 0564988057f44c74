#include "k6t_interfaces.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "k6t/binding/registry.h"

namespace k6t::sidecar {

const std::vector<std::string>& TapBindings() {
  static const std::vector<std::string> kBindings = {"bridge", "l2bridge", "masquerade"};
  return kBindings;
}

absl::StatusOr<std::vector<SelectedInterface>> SelectInterfaces(const api::Vmi& vmi,
                                                                const PluginSelection& selection) {
  std::vector<SelectedInterface> out;
  for (const auto& iface : vmi.spec.domain.interfaces) {
    if (iface.absent() || iface.binding() != api::BindingMethod::kPlugin) continue;
    const std::string& plugin = iface.plugin_name;
    if (!absl::StartsWith(plugin, selection.prefix)) continue;
    if (!selection.plugin.empty() && plugin != selection.plugin) continue;
    const std::string binding = plugin.substr(selection.prefix.size());
    const auto& known = TapBindings();
    if (std::find(known.begin(), known.end(), binding) == known.end())
      return absl::InvalidArgumentError(absl::StrCat(
          "interface \"", iface.name, "\": binding plugin \"", plugin, "\" names no k6t binding (",
          selection.prefix, "{", absl::StrJoin(known, ","), "})"));
    out.push_back({iface.name, plugin, binding});
  }
  return out;
}

api::Vmi PlannerVmi(const api::Vmi& vmi, const SelectedInterface& one) {
  api::Vmi out = vmi;
  out.spec.domain.interfaces.clear();
  out.spec.networks.clear();
  for (const auto& iface : vmi.spec.domain.interfaces)
    if (iface.name == one.name) out.spec.domain.interfaces.push_back(iface);
  for (const auto& net : vmi.spec.networks)
    if (net.name == one.name) out.spec.networks.push_back(net);
  for (auto& iface : out.spec.domain.interfaces) binding::BindByName(iface, one.binding);
  return out;
}

}  // namespace k6t::sidecar
