#include "k6t_interfaces.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

api::Vmi PlannerVmi(api::Vmi vmi, const std::vector<SelectedInterface>& selected) {
  for (auto& iface : vmi.spec.domain.interfaces) {
    auto it = std::find_if(selected.begin(), selected.end(),
                           [&](const SelectedInterface& s) { return s.name == iface.name; });
    if (it == selected.end()) continue;
    iface.plugin_name.clear();
    if (it->binding == "bridge") {
      iface.bindings = {api::BindingMethod::kBridge};
    } else if (it->binding == "masquerade") {
      iface.bindings = {api::BindingMethod::kMasquerade};
    } else {
      iface.bindings = {api::BindingMethod::kPlugin};
      iface.plugin_name = it->binding;
    }
  }
  return vmi;
}

}  // namespace k6t::sidecar
