// Binding name -> implementation. The five built-ins are registered in Global(); an
// embedding program registers its own with Register() before planning. Thread-safe.
//
// Errors: Register returns AlreadyExists for a taken name, InvalidArgument for a null
// binding; Find returns nullptr for an unknown name. Registration is process-wide for
// Global(); there is no unregister. Privileges: none.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/binding.h"

namespace k6t::binding {

class BindingRegistry {
 public:
  BindingRegistry() = default;
  // masquerade, bridge, l2bridge (alias managedtap), sriov, passt.
  static BindingRegistry& Global();
  static void RegisterBuiltins(BindingRegistry& registry);

  // AlreadyExists when `name` is taken.
  absl::Status Register(const std::string& name, std::shared_ptr<const Binding> binding);
  std::shared_ptr<const Binding> Find(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Binding>> bindings_;
};

// The registry name an interface asks for: "masquerade", "bridge", "sriov", "passt", or
// the plugin name of `binding: {name: X}` (lower-cased).
std::string BindingNameOf(const api::Interface& iface);

// The inverse, for callers that build an interface from a registry name (k6t-cni's config,
// the hook sidecar's k6t-<name> plugins): "masquerade" and "bridge" as KubeVirt's own binding
// methods, any other name as the plugin `binding: {name: <name>}`.
void BindByName(api::Interface& iface, const std::string& name);

}  // namespace k6t::binding
