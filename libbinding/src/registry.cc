#include "k6t/binding/registry.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "bindings/bridge.h"
#include "bindings/l2bridge.h"
#include "bindings/masquerade.h"
#include "bindings/passt.h"
#include "bindings/sriov.h"

namespace k6t::binding {

BindingRegistry& BindingRegistry::Global() {
  static BindingRegistry* registry = [] {
    auto* r = new BindingRegistry;
    RegisterBuiltins(*r);
    return r;
  }();
  return *registry;
}

void BindingRegistry::RegisterBuiltins(BindingRegistry& r) {
  auto l2 = NewL2BridgeBinding();
  (void)r.Register("masquerade", NewMasqueradeBinding());
  (void)r.Register("bridge", NewBridgeBinding());
  (void)r.Register("l2bridge", l2);
  (void)r.Register("managedtap", l2);
  (void)r.Register("sriov", NewSriovBinding());
  (void)r.Register("passt", NewPasstBinding());
}

absl::Status BindingRegistry::Register(const std::string& name,
                                       std::shared_ptr<const Binding> binding) {
  if (!binding) return absl::InvalidArgumentError("binding " + name + " is null");
  std::lock_guard<std::mutex> lock(mu_);
  if (!bindings_.emplace(absl::AsciiStrToLower(name), std::move(binding)).second)
    return absl::AlreadyExistsError(absl::StrCat("binding \"", name, "\" is already registered"));
  return absl::OkStatus();
}

std::shared_ptr<const Binding> BindingRegistry::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bindings_.find(absl::AsciiStrToLower(name));
  return it == bindings_.end() ? nullptr : it->second;
}

std::vector<std::string> BindingRegistry::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [n, b] : bindings_) out.push_back(n);
  return out;
}

std::string BindingNameOf(const api::Interface& iface) {
  switch (iface.binding()) {
    case api::BindingMethod::kMasquerade:
      return "masquerade";
    case api::BindingMethod::kBridge:
      return "bridge";
    case api::BindingMethod::kSriov:
      return "sriov";
    case api::BindingMethod::kPasst:
      return "passt";
    case api::BindingMethod::kPlugin:
      return absl::AsciiStrToLower(iface.plugin_name);
    default:
      return api::BindingMethodField(iface.binding());
  }
}

void BindByName(api::Interface& iface, const std::string& name) {
  iface.plugin_name.clear();
  if (name == "masquerade") {
    iface.bindings = {api::BindingMethod::kMasquerade};
  } else if (name == "bridge") {
    iface.bindings = {api::BindingMethod::kBridge};
  } else {
    iface.bindings = {api::BindingMethod::kPlugin};
    iface.plugin_name = name;
  }
}

}  // namespace k6t::binding
