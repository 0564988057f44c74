#include "rpc_json.h"

#include "absl/strings/str_cat.h"
#include "k6t/api/rpc.h"

namespace k6t::api::rpc {

namespace {

// Depth of brackets outside strings; stops scanning once the bound is passed.
bool WithinDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseBoundedJson(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty payload is not JSON");
  if (!WithinDepth(text, kMaxJsonDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(e.what());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", e.what()));
  }
}

std::string DumpJson(const nlohmann::json& j) {
  try {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception&) {
    return "null";  // not reachable with error_handler_t::replace; keeps the no-throw promise
  }
}

std::string QuoteForMessage(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string shown(s.substr(0, kMax));
  if (s.size() > kMax) shown += "...";
  return DumpJson(nlohmann::json(shown));
}

}  // namespace k6t::api::rpc
