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

const Volume* Vmi::FindVolume(const std::string& name) const {
  for (const auto& v : spec.volumes)
    if (v.name == name) return &v;
  return nullptr;
}

int64_t Vmi::VolumeIndex(const std::string& name) const {
  for (size_t i = 0; i < spec.volumes.size(); ++i)
    if (spec.volumes[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace k6t::api
