#include "logging/json_log.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "nlohmann/json.hpp"

namespace k6t::binding {
namespace {

bool IsKeyChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (!first && (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-'));
}

// JSON's number grammar: what strtod takes beyond it (hex, "inf", "1e3x" prefixes) stays text.
bool IsJsonNumber(std::string_view v) {
  size_t i = 0;
  auto digits = [&] {
    const size_t from = i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    return i > from;
  };
  if (i < v.size() && v[i] == '-') ++i;
  if (!digits()) return false;
  if (i < v.size() && v[i] == '.' && (++i, !digits())) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == v.size();
}

nlohmann::ordered_json Typed(std::string_view v) {
  if (v == "true") return true;
  if (v == "false") return false;
  if (!IsJsonNumber(v)) return std::string(v);
  const absl::string_view a(v.data(), v.size());
  int64_t i;
  if (absl::SimpleAtoi(a, &i)) return i;
  double d;
  if (absl::SimpleAtod(a, &d) && std::isfinite(d)) return d;
  return std::string(v);  // out of range
}

// The `key=value` words of `text`. A value runs to the next space, or over spaces to the
// bracket or quote that closes one it opens with (`resumed=[a, b]`, `name="x y"`).
void AddFields(std::string_view text, nlohmann::ordered_json& out) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t k = i;
    while (k < text.size() && IsKeyChar(text[k], k == i)) ++k;
    if (k == i || k >= text.size() || text[k] != '=') {
      while (i < text.size() && text[i] != ' ') ++i;
      continue;
    }
    const std::string key(text.substr(i, k - i));
    size_t v = k + 1, end = v;
    const char open = v < text.size() ? text[v] : ' ';
    const char close = open == '[' ? ']' : open == '"' ? '"' : open == '{' ? '}' : 0;
    if (close) {
      end = text.find(close, v + 1);
      end = end == std::string_view::npos ? text.size() : end + 1;
    } else {
      while (end < text.size() && text[end] != ' ') ++end;
    }
    std::string_view value = text.substr(v, end - v);
    if (open == '"' && value.size() >= 2 && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (!out.contains(key)) out[key] = open == '"' ? nlohmann::ordered_json(value) : Typed(value);
    i = end;
  }
}

}  // namespace

std::string JsonLogLine(absl::Time time, std::string_view level, std::string_view logger,
                        std::string_view msg) {
  nlohmann::ordered_json line;
  line["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
  line["level"] = level;
  line["logger"] = logger;
  line["msg"] = msg;
  AddFields(msg.substr(0, msg.find(": ")), line);
  // Messages may quote guest or kernel bytes: invalid UTF-8 is replaced, never thrown on.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace k6t::binding
