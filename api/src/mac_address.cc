// MacAddress: Go's net.ParseMAC grammar (what KubeVirt's admission accepts), 6 bytes only.
#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "k6t/api/net.h"
#include "net_util.h"

namespace k6t::api {
namespace {

// The byte whose two hex digits start at text[at]; nullopt when they are not hex.
std::optional<uint8_t> HexByte(std::string_view text, size_t at) {
  const int hi = internal::HexDigitValue(text[at]), lo = internal::HexDigitValue(text[at + 1]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi << 4 | lo);
}

absl::Status Malformed(std::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(internal::Quote(text), " is not a MAC address: ", why));
}

}  // namespace

std::string FormatHardwareAddress(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

absl::StatusOr<MacAddress> MacAddress::Parse(std::string_view text) {
  if (text.size() > kMaxTextSize)
    return Malformed(text.substr(0, kMaxTextSize),
                     absl::StrCat("longer than ", kMaxTextSize, " characters"));
  // Go's forms: pairs separated by ':' or '-' (one separator throughout), or groups of four
  // separated by '.'; 6 (EUI-48), 8 (EUI-64) or 20 (InfiniBand) bytes.
  if (text.size() < 14)
    return Malformed(text,
                     "too short (want aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff or aabb.ccdd.eeff)");
  std::vector<uint8_t> bytes;
  if (text[2] == ':' || text[2] == '-') {
    const char sep = text[2];
    if ((text.size() + 1) % 3 != 0) return Malformed(text, "not pairs of hex digits");
    const size_t n = (text.size() + 1) / 3;
    if (n != 6 && n != 8 && n != 20) return Malformed(text, absl::StrCat(n, " bytes"));
    for (size_t i = 0; i < n; ++i) {
      const size_t at = i * 3;
      auto b = HexByte(text, at);
      if (!b) return Malformed(text, absl::StrCat("byte ", i + 1, " is not two hex digits"));
      if (i + 1 < n && text[at + 2] != sep)
        return Malformed(text, absl::StrCat("separator ", i + 1, " is not '", std::string(1, sep),
                                            "' like the first"));
      bytes.push_back(*b);
    }
  } else if (text[4] == '.') {
    if ((text.size() + 1) % 5 != 0) return Malformed(text, "not groups of four hex digits");
    const size_t n = 2 * (text.size() + 1) / 5;
    if (n != 6 && n != 8 && n != 20) return Malformed(text, absl::StrCat(n, " bytes"));
    for (size_t g = 0; g < n / 2; ++g) {
      const size_t at = g * 5;
      auto hi = HexByte(text, at), lo = HexByte(text, at + 2);
      if (!hi || !lo)
        return Malformed(text, absl::StrCat("group ", g + 1, " is not four hex digits"));
      if (g + 1 < n / 2 && text[at + 4] != '.')
        return Malformed(text, absl::StrCat("separator ", g + 1, " is not '.'"));
      bytes.push_back(*hi);
      bytes.push_back(*lo);
    }
  } else {
    return Malformed(text, "no ':', '-' or '.' separator where one belongs");
  }
  if (bytes.size() != kSize)
    return absl::OutOfRangeError(absl::StrCat(
        internal::Quote(text), " is too long for a MAC address: ", bytes.size(), " bytes (",
        bytes.size() == 8 ? "EUI-64" : "InfiniBand", "); an Ethernet MAC has 6 bytes"));
  return *FromBytes(bytes);
}

std::optional<MacAddress> MacAddress::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSize) return std::nullopt;
  Bytes b;
  std::copy(bytes.begin(), bytes.end(), b.begin());
  return MacAddress(b);
}

std::string MacAddress::ToString() const { return FormatHardwareAddress(bytes_); }

}  // namespace k6t::api
