// What the pod's network namespace holds before k6t plans anything: its links with their
// addresses and routes, and the global sysctls a plan may change (so teardown can restore
// them). Read once per plan through the Netlink and Sysctl adapters.
//
// Errors: ObservePod returns the adapters' errors (kernel.h); a sysctl key that does not
// exist is left out, not an error. Thread-safety: ObservePod runs on the adapters' thread;
// PodState is a plain value. Privileges: none beyond being in the namespace (all reads).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

struct ObservedLink {
  Link link;
  std::vector<std::string> addresses;  // CIDRs, both families
  std::vector<Route> routes;           // main-table routes through this link

  // First global-unicast address of a family (not link-local, not loopback), or "".
  std::string GlobalIPv4() const;
  std::string GlobalIPv6() const;
};

struct PodState {
  std::map<std::string, ObservedLink> links;   // by name
  std::map<std::string, std::string> sysctls;  // the keys of GlobalSysctlKeys() that exist
  bool dummy_supported = true;

  const ObservedLink* Find(const std::string& name) const;
  // The value a global sysctl had when observed ("" when unknown): what teardown restores.
  std::string OriginalSysctl(const std::string& key) const;
};

// The namespace-wide keys bindings change: ip_forward, IPv6 forwarding, arp_ignore, ...
const std::vector<std::string>& GlobalSysctlKeys();

// Reads the namespace of the calling thread (run it on a NetnsThread).
absl::StatusOr<PodState> ObservePod(const Kernel& kernel);

}  // namespace k6t::binding
