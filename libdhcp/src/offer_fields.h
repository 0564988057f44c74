// Reading an offer's text fields (k6t/api/dhcp_offer.h) into wire values, with errors that
// name the field. Private to libdhcp.
#pragma once

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace k6t::dhcp::internal {

// "10.96.0.0/12" -> {"10.96.0.0", 12}; without a slash the prefix is `max`.
inline absl::StatusOr<std::pair<std::string, int>> SplitCidr(const std::string& cidr, int max) {
  const size_t slash = cidr.find('/');
  int len = max;
  if (slash != std::string::npos &&
      (!absl::SimpleAtoi(cidr.substr(slash + 1), &len) || len < 0 || len > max))
    return absl::InvalidArgumentError(absl::StrCat("\"", cidr, "\" has a bad prefix length"));
  return std::make_pair(cidr.substr(0, slash), len);
}

// Prefixes an error with the offer field it is about: "routes: ...".
inline absl::Status InField(const absl::Status& st, const char* field) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(field, ": ", st.message()));
}

}  // namespace k6t::dhcp::internal
