// Address, MAC and quantity parsing shared by decoding, validation and network-status.
// Private to api/.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace k6t::api::internal {

struct Cidr {
  int family = 0;  // 4 or 6
  std::array<uint8_t, 16> addr{};
  int prefix = 0;
};

bool IsIPv4(std::string_view s);
bool IsIPv6(std::string_view s);
inline bool IsIP(std::string_view s) { return IsIPv4(s) || IsIPv6(s); }
// "10.0.2.0/24", "fd10:0:2::/120"; nullopt when malformed.
std::optional<Cidr> ParseCidr(std::string_view s);

// "0127.0.0.3" -> "127.0.0.3" (also inside "010.0.2.0/24"), as KubeVirt does on decode.
// Strings that are not dotted decimal are returned unchanged.
std::string StripIPv4LeadingZeros(const std::string& s);

// Go's net.ParseMAC: colon/dash separated pairs or dot-separated quads; 6, 8 or 20 bytes.
std::optional<std::vector<uint8_t>> ParseMac(std::string_view s);

// Kubernetes quantity ("256Mi", "1Gi", "512M", "1.5Gi", "1e9") in bytes, rounded up.
absl::StatusOr<int64_t> ParseQuantity(std::string_view s);

// Lowercase hex SHA-256 of `data` (OpenSSL EVP).
std::string Sha256Hex(std::string_view data);

}  // namespace k6t::api::internal
