#include "net_util.h"

#include <openssl/evp.h>

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace k6t::api::internal {

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Quote(std::string_view s) {
  const std::string_view v = s.substr(0, 80);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrCat("\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  if (s.size() > v.size()) out += "...";
  return out + "\"";
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
