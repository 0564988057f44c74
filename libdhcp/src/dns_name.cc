#include "k6t/dhcp/dns_name.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace k6t::dhcp {
namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool LabelChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

}  // namespace

absl::Status ValidateDomainName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return absl::InvalidArgumentError("empty domain name");
  if (name.size() > kMaxDomainTextLength)
    return absl::InvalidArgumentError(
        absl::StrCat("domain name longer than 253 characters: ", Sv(name.substr(0, 40)), "..."));
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > kMaxLabelLength)
      return absl::InvalidArgumentError(
          absl::StrCat("domain name \"", Sv(name), "\" has an empty or >63-character label"));
    for (char c : label)
      if (!LabelChar(c))
        return absl::InvalidArgumentError(
            absl::StrCat("domain name \"", Sv(name), "\" has a character outside [A-Za-z0-9_-]"));
    if (label.front() == '-' || label.back() == '-')
      return absl::InvalidArgumentError(
          absl::StrCat("domain name \"", Sv(name), "\" has a label starting or ending in '-'"));
    start = dot + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeDomainName(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out.back() == '.') out.pop_back();
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (absl::Status st = ValidateDomainName(out); !st.ok()) return st;
  return out;
}

absl::StatusOr<std::string> EncodeDomainList(const std::vector<std::string>& names,
                                             size_t max_bytes) {
  std::string out;
  for (const std::string& raw : names) {
    if (absl::Status st = ValidateDomainName(raw); !st.ok()) return st;
    std::string_view name = raw;
    if (name.back() == '.') name.remove_suffix(1);
    size_t start = 0;
    while (start <= name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string_view::npos) dot = name.size();
      out.push_back(static_cast<char>(dot - start));
      out.append(name.substr(start, dot - start));
      start = dot + 1;
    }
    out.push_back('\0');
    if (out.size() > max_bytes)
      return absl::ResourceExhaustedError(
          absl::StrCat("domain list does not fit in ", max_bytes, " bytes at \"", raw, "\""));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeDomainList(std::string_view wire, size_t max_names) {
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < wire.size()) {
    if (names.size() >= max_names)
      return absl::ResourceExhaustedError(absl::StrCat("more than ", max_names, " domain names"));
    std::string name;
    size_t cur = pos;
    size_t next = 0;  // where the following name starts (set at the first pointer)
    bool jumped = false;
    int jumps = 0;
    while (true) {
      if (cur >= wire.size()) return absl::InvalidArgumentError("domain name truncated");
      const uint8_t len = static_cast<uint8_t>(wire[cur]);
      if (len == 0) {
        if (!jumped) next = cur + 1;
        break;
      }
      if ((len & 0xC0) == 0xC0) {
        if (cur + 1 >= wire.size())
          return absl::InvalidArgumentError("domain name pointer truncated");
        const size_t target =
            (static_cast<size_t>(len & 0x3F) << 8) | static_cast<uint8_t>(wire[cur + 1]);
        // Backwards only, and few: with the 253-character cap this bounds the walk even when
        // a pointer leads back to labels that reach the same pointer again.
        if (target >= cur) return absl::InvalidArgumentError("domain name pointer not backwards");
        if (++jumps > 32) return absl::InvalidArgumentError("domain name pointer loop");
        if (!jumped) next = cur + 2;
        jumped = true;
        cur = target;
        continue;
      }
      if (len > kMaxLabelLength)
        return absl::InvalidArgumentError("domain label longer than 63 or reserved type");
      if (cur + 1 + len > wire.size()) return absl::InvalidArgumentError("domain label truncated");
      if (!name.empty()) name.push_back('.');
      name.append(wire.substr(cur + 1, len));
      if (name.size() > kMaxDomainTextLength)
        return absl::InvalidArgumentError("domain name longer than 253 characters");
      cur += 1 + len;
    }
    names.push_back(std::move(name));
    pos = next;
  }
  return names;
}

SearchList BuildSearchList(const std::vector<std::string>& names, size_t max_bytes) {
  SearchList out;
  std::vector<std::string> invalid, repeated, surplus;
  size_t bytes = 0;
  for (const std::string& raw : names) {
    auto name = NormalizeDomainName(raw);
    if (!name.ok()) {
      invalid.push_back(absl::StrCat("\"", raw, "\""));
      continue;
    }
    if (std::find(out.names.begin(), out.names.end(), *name) != out.names.end()) {
      repeated.push_back(*name);
      continue;
    }
    auto wire = EncodeDomainList({*name}, kMaxDomainTextLength + 2);
    if (!surplus.empty() || !wire.ok() || bytes + wire->size() > max_bytes) {
      surplus.push_back(*name);
      continue;
    }
    bytes += wire->size();
    out.names.push_back(*std::move(name));
    out.wire.push_back(*std::move(wire));
  }
  if (!invalid.empty())
    out.skipped.push_back(
        absl::StrCat("search domains that are not domain names: ", absl::StrJoin(invalid, ", ")));
  if (!repeated.empty())
    out.skipped.push_back(absl::StrCat("repeated search domains: ", absl::StrJoin(repeated, ", ")));
  if (!surplus.empty())
    out.skipped.push_back(absl::StrCat("search domains beyond ", max_bytes,
                                       " bytes of search list: ", absl::StrJoin(surplus, ", ")));
  return out;
}

}  // namespace k6t::dhcp
