#include "k6t/api/vmi.h"

namespace k6t::api {

const char* BindingMethodField(BindingMethod m) {
  switch (m) {
    case BindingMethod::kBridge:
      return "bridge";
    case BindingMethod::kMasquerade:
      return "masquerade";
    case BindingMethod::kSriov:
      return "sriov";
    case BindingMethod::kPasst:
      return "passtBinding";
    case BindingMethod::kPlugin:
      return "binding";
    case BindingMethod::kDeprecatedSlirp:
      return "slirp";
    case BindingMethod::kDeprecatedMacvtap:
      return "macvtap";
    case BindingMethod::kDeprecatedPasst:
      return "passt";
  }
  return "unknown";
}

const Network* Vmi::FindNetwork(const std::string& name) const {
  for (const auto& n : spec.networks)
    if (n.name == name) return &n;
  return nullptr;
}

const Interface* Vmi::FindInterface(const std::string& name) const {
  for (const auto& i : spec.domain.interfaces)
    if (i.name == name) return &i;
  return nullptr;
}

}  // namespace k6t::api
