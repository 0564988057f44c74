// Small checks and message helpers shared by the validators. Private to api/.
#pragma once

#include <string>

namespace k6t::api::internal {

// A value quoted for a message: at most 80 characters, quotes, backslashes and control
// characters escaped.
std::string Quote(const std::string& s);

// DNS-1123 label (hostnames, disk names) and subdomain (network and claim names), as
// Kubernetes validates them.
bool IsDnsLabel(const std::string& s);
bool IsDnsSubdomain(const std::string& s);

}  // namespace k6t::api::internal
