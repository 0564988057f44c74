#include "k6t/api/image_ref.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace k6t::api {
namespace {

constexpr size_t kMaxNameLen = 255;
constexpr size_t kMaxTagLen = 128;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A repository path component: lowercase alphanumerics separated by '.', '_', '__' or
// runs of '-'.
bool IsPathComponent(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (IsLowerAlnum(c) || c == '-') continue;
    if (c == '.' || c == '_') {
      if (!IsLowerAlnum(s[i - 1])) {
        if (!(c == '_' && s[i - 1] == '_' && i >= 2 && IsLowerAlnum(s[i - 2]))) return false;
      }
      continue;
    }
    return false;
  }
  return true;
}

bool IsTag(std::string_view s) {
  if (s.empty() || s.size() > kMaxTagLen) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(s.front())) return false;
  for (char c : s)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

bool IsDomain(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '[' && c != ']')
      return false;
  return true;
}

bool IsDigest(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view algo = s.substr(0, colon), hex = s.substr(colon + 1);
  for (char c : algo)
    if (!IsLowerAlnum(c) && c != '+' && c != '.' && c != '_' && c != '-') return false;
  if (hex.size() < 32 || hex.size() > 128) return false;
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  return algo != "sha256" || hex.size() == 64;
}

}  // namespace

std::string ImageReference::Name() const { return absl::StrCat(domain, "/", repository); }

std::string ImageReference::Canonical() const {
  std::string out = Name();
  if (!tag.empty()) absl::StrAppend(&out, ":", tag);
  if (!digest.empty()) absl::StrAppend(&out, "@", digest);
  return out;
}

absl::StatusOr<ImageReference> ParseImageReference(std::string_view ref) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(ref.substr(0, 80)), ref.size() > 80 ? "..." : "",
                     "\" is not an image reference: ", std::string(why)));
  };
  if (ref.empty()) return bad("empty");
  ImageReference out;
  std::string_view rest = ref;
  if (const size_t at = rest.find('@'); at != std::string_view::npos) {
    out.digest = std::string(rest.substr(at + 1));
    if (!IsDigest(out.digest)) return bad("malformed digest (want sha256:<64 hex digits>)");
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' after the last '/' (a ':' before it is a registry port).
  const size_t slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    out.tag = std::string(rest.substr(colon + 1));
    if (!IsTag(out.tag)) return bad("malformed tag");
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad("missing repository");
  if (rest.size() > kMaxNameLen) return bad("name longer than 255 characters");
  std::vector<std::string> parts = absl::StrSplit(std::string(rest), '/');
  const std::string& first = parts.front();
  const bool has_domain =
      parts.size() > 1 && (first.find_first_of(".:") != std::string::npos || first == "localhost" ||
                           std::any_of(first.begin(), first.end(), ::isupper));
  size_t start = 0;
  if (has_domain) {
    if (!IsDomain(first)) return bad("malformed registry host");
    out.domain = first;
    start = 1;
  } else {
    out.domain = "docker.io";
  }
  for (size_t i = start; i < parts.size(); ++i) {
    if (!IsPathComponent(parts[i]))
      return bad(absl::StrCat("malformed repository component \"", parts[i],
                              "\" (lowercase letters, digits and . _ -)"));
    if (!out.repository.empty()) out.repository += "/";
    out.repository += parts[i];
  }
  if (out.domain == "index.docker.io") out.domain = "docker.io";
  if (out.domain == "docker.io" && out.repository.find('/') == std::string::npos)
    out.repository = "library/" + out.repository;
  // The limit holds for the normalised name, so that its canonical spelling parses too.
  if (out.Name().size() > kMaxNameLen) return bad("name longer than 255 characters");
  if (out.tag.empty() && out.digest.empty()) out.tag = "latest";
  return out;
}

}  // namespace k6t::api
