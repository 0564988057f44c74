// Reading an offer's text fields (k6t/api/dhcp_offer.h) into wire values, with errors that
// name the field. Private to libdhcp.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace k6t::dhcp::internal {

// Prefixes an error with the offer field it is about: "routes: ...".
inline absl::Status InField(const absl::Status& st, const char* field) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(field, ": ", st.message()));
}

}  // namespace k6t::dhcp::internal
