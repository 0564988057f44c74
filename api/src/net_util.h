// Text helpers shared by decoding, validation, network-status and the network values of
// net.h. Private to api/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace k6t::api::internal {

// "0127.0.0.3" -> "127.0.0.3" (also inside "010.0.2.0/24"), as KubeVirt does on decode.
// Strings that are not dotted decimal are returned unchanged.
std::string StripIPv4LeadingZeros(const std::string& s);

// `s` in double quotes for a message: at most 80 characters (then "..."), '"' and '\\'
// escaped, control characters as \xNN.
std::string Quote(std::string_view s);

// 0..15 for a hex digit of either case, -1 for anything else.
int HexDigitValue(char c);

// Kubernetes quantity ("256Mi", "1Gi", "512M", "1.5Gi", "1e9") in bytes, rounded up.
absl::StatusOr<int64_t> ParseQuantity(std::string_view s);

// Lowercase hex SHA-256 of `data` (OpenSSL EVP).
std::string Sha256Hex(std::string_view data);

}  // namespace k6t::api::internal
