#include "net_util.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace k6t::api::internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsIPv4(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  in_addr a;
  return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool IsIPv6(std::string_view s) {
  if (s.empty() || s.size() > 45 || s.find(':') == std::string_view::npos) return false;
  in6_addr a;
  return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

std::optional<Cidr> ParseCidr(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos || s.size() > 64) return std::nullopt;
  const std::string addr(s.substr(0, slash));
  const std::string_view len = s.substr(slash + 1);
  if (len.empty() || len.size() > 3) return std::nullopt;
  int prefix = 0;
  for (char c : len) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (len.size() > 1 && len[0] == '0') return std::nullopt;
  Cidr out;
  if (IsIPv4(addr)) {
    out.family = 4;
    inet_pton(AF_INET, addr.c_str(), out.addr.data());
    if (prefix > 32) return std::nullopt;
  } else if (IsIPv6(addr)) {
    out.family = 6;
    inet_pton(AF_INET6, addr.c_str(), out.addr.data());
    if (prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  out.prefix = prefix;
  return out;
}

std::string StripIPv4LeadingZeros(const std::string& s) {
  const size_t slash = s.find('/');
  const std::string addr = s.substr(0, slash);
  std::vector<std::string> parts = absl::StrSplit(addr, '.');
  if (parts.size() != 4) return s;
  for (auto& p : parts) {
    if (p.empty() || p.size() > 8) return s;
    for (char c : p)
      if (!std::isdigit(static_cast<unsigned char>(c))) return s;
    const size_t nz = p.find_first_not_of('0');
    p = nz == std::string::npos ? "0" : p.substr(nz);
  }
  std::string out = absl::StrJoin(parts, ".");
  if (slash != std::string::npos) out += s.substr(slash);
  return out;
}

std::optional<std::vector<uint8_t>> ParseMac(std::string_view s) {
  if (s.size() < 14) return std::nullopt;
  std::vector<uint8_t> out;
  if (s[2] == ':' || s[2] == '-') {
    if ((s.size() + 1) % 3 != 0) return std::nullopt;
    const size_t n = (s.size() + 1) / 3;
    if (n != 6 && n != 8 && n != 20) return std::nullopt;
    for (size_t i = 0; i < n; ++i) {
      const size_t x = i * 3;
      const int hi = HexValue(s[x]), lo = HexValue(s[x + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      if (i + 1 < n && s[x + 2] != s[2]) return std::nullopt;
      out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return out;
  }
  if (s[4] == '.') {
    if ((s.size() + 1) % 5 != 0) return std::nullopt;
    const size_t n = 2 * (s.size() + 1) / 5;
    if (n != 6 && n != 8 && n != 20) return std::nullopt;
    for (size_t i = 0; i < n / 2; ++i) {
      const size_t x = i * 5;
      for (size_t b = 0; b < 2; ++b) {
        const int hi = HexValue(s[x + 2 * b]), lo = HexValue(s[x + 2 * b + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<uint8_t>(hi << 4 | lo));
      }
      if (i + 1 < n / 2 && s[x + 4] != '.') return std::nullopt;
    }
    return out;
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> ParseQuantity(std::string_view s) {
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(s.substr(0, 64)), "\" is not a quantity: ", why));
  };
  size_t i = 0;
  if (i < s.size() && s[i] == '+') ++i;
  if (i < s.size() && s[i] == '-') return bad("negative");
  __int128 num = 0;
  int digits = 0, frac = 0;
  bool dot = false, saw_digit = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    saw_digit = true;
    if (digits == 0 && c == '0' && !dot) continue;  // leading zeros do not count
    if (++digits > 18) return bad("too many digits");
    num = num * 10 + (c - '0');
    if (dot) ++frac;
  }
  if (!saw_digit) return bad("missing number");
  const std::string_view suffix = s.substr(i);
  __int128 mul = 1, div = 1;
  for (int k = 0; k < frac; ++k) div *= 10;
  static const struct {
    const char* name;
    int base;
    int exp;
  } kSuffixes[] = {{"Ki", 1024, 1}, {"Mi", 1024, 2}, {"Gi", 1024, 3}, {"Ti", 1024, 4},
                   {"Pi", 1024, 5}, {"Ei", 1024, 6}, {"k", 10, 3},    {"M", 10, 6},
                   {"G", 10, 9},    {"T", 10, 12},   {"P", 10, 15},   {"E", 10, 18},
                   {"", 1, 0}};
  bool found = false;
  for (const auto& sfx : kSuffixes) {
    if (suffix == sfx.name) {
      for (int k = 0; k < sfx.exp; ++k) mul *= sfx.base;
      found = true;
      break;
    }
  }
  if (!found && suffix == "m") {
    div *= 1000;
    found = true;
  }
  if (!found && !suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view e = suffix.substr(1);
    bool neg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) neg = e[0] == '-', e.remove_prefix(1);
    if (e.empty() || e.size() > 2) return bad("bad exponent");
    int x = 0;
    for (char c : e) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad("bad exponent");
      x = x * 10 + (c - '0');
    }
    if (x > 18) return bad("exponent too large");
    for (int k = 0; k < x; ++k) (neg ? div : mul) *= 10;
    found = true;
  }
  if (!found) return bad("unknown suffix");
  const __int128 total = num * mul;
  __int128 bytes = (total + div - 1) / div;
  if (bytes > static_cast<__int128>(INT64_MAX)) return bad("too large");
  return static_cast<int64_t>(bytes);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace k6t::api::internal
