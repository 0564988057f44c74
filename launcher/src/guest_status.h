// The guest agent's view of the guest's interfaces merged into what GetStatus reports, by
// KubeVirt's rules (k6t/api/rpc.h, GetStatus): matched by MAC; the guest's interface name
// and addresses (link-local ones left out); the pod's addresses kept for masquerade and
// passt, whose guest addresses are private; guest-only interfaces (not loopback) appended.
// Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k6t/api/rpc.h"
#include "k6t/launcher/libvirt.h"

namespace k6t::launcher {

// "10.0.2.2/24" -> "10.0.2.2" (text without a '/' is returned as is).
std::string WithoutPrefix(const std::string& cidr);

// `binding_of`: VMI interface name -> its binding ("masquerade", "bridge", ...).
void MergeGuestInterfaces(const std::vector<GuestInterface>& guest,
                          const std::map<std::string, std::string>& binding_of,
                          std::vector<api::rpc::StatusInterface>& status);

}  // namespace k6t::launcher
