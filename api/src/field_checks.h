// Small checks and message helpers shared by the validators. Private to api/.
#pragma once

#include <string>

namespace k6t::api::internal {

// DNS-1123 label (hostnames, disk names) and subdomain (network and claim names), as
// Kubernetes validates them.
bool IsDnsLabel(const std::string& s);
bool IsDnsSubdomain(const std::string& s);

}  // namespace k6t::api::internal
