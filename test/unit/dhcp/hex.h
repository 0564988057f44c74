// Hex helpers for byte-exact test vectors: "35 01 01" <-> bytes. Spaces are ignored.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace k6t::dhcp::testing {

inline std::vector<uint8_t> Hex(std::string_view s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

inline std::string HexStr(std::string_view s) {
  std::vector<uint8_t> v = Hex(s);
  return std::string(v.begin(), v.end());
}

inline std::string ToHex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i) out.push_back(' ');
    out.push_back(d[b[i] >> 4]);
    out.push_back(d[b[i] & 15]);
  }
  return out;
}

inline std::string ToHex(std::string_view s) {
  return ToHex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

}  // namespace k6t::dhcp::testing
