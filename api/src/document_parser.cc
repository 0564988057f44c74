#include "document_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/exceptions.h"
#include "yaml-cpp/mark.h"
#include "yaml-cpp/parser.h"
#include "yaml-cpp/yaml.h"

namespace k6t::api::internal {
namespace {

using nlohmann::json;

// Thrown from inside the parsers' callbacks to stop them at a bound; never leaves this file.
struct LimitExceeded {
  std::string message;
};

absl::Status SyntaxError(size_t line, size_t column, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("syntax error at line ", line, ", column ", column, ": ", what));
}

// YAML 1.2 core-schema resolution of plain scalars (what Kubernetes' YAML reader does for
// these spellings); anything else stays a string.
json ResolvePlainScalar(const std::string& v) {
  if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") return nullptr;
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  const char* b = v.data();
  const char* e = v.data() + v.size();
  const char* digits = b;
  bool neg = false;
  if (*digits == '-' || *digits == '+') neg = (*digits++ == '-');
  auto parse_int = [&](const char* p, int base) -> std::optional<json> {
    if (p == e) return std::nullopt;
    int64_t out = 0;
    auto [end, ec] = std::from_chars(p, e, out, base);
    if (ec != std::errc() || end != e) return std::nullopt;
    return json(neg ? -out : out);
  };
  if (e - digits > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    if (auto r = parse_int(digits + 2, digits[1] == 'x' ? 16 : 8)) return *r;
    return v;
  }
  if (digits != e && std::all_of(digits, e, [](char c) { return c >= '0' && c <= '9'; })) {
    if (auto r = parse_int(digits, 10)) return *r;
  }
  static const char* const kInf[] = {".inf", ".Inf", ".INF"};
  for (const char* s : kInf)
    if (std::string_view(digits, e - digits) == s)
      return neg ? -std::numeric_limits<double>::infinity()
                 : std::numeric_limits<double>::infinity();
  if (v == ".nan" || v == ".NaN" || v == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  const char* p = digits;
  size_t int_digits = 0, frac_digits = 0;
  while (p != e && std::isdigit(static_cast<unsigned char>(*p))) ++p, ++int_digits;
  if (p != e && *p == '.') {
    ++p;
    while (p != e && std::isdigit(static_cast<unsigned char>(*p))) ++p, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return v;
  if (p != e && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p != e && (*p == '-' || *p == '+')) ++p;
    size_t exp_digits = 0;
    while (p != e && std::isdigit(static_cast<unsigned char>(*p))) ++p, ++exp_digits;
    if (exp_digits == 0) return v;
  }
  if (p != e) return v;
  double d = std::strtod(v.c_str(), nullptr);
  return d;
}

// Builds json values from yaml-cpp's event stream. Walking events instead of yaml-cpp's
// node tree lets us expand aliases ourselves and stop at the node bound before any
// memory is spent on an expansion.
class JsonBuilder : public YAML::EventHandler {
 public:
  explicit JsonBuilder(const DecodeLimits& limits) : limits_(limits) {}

  std::optional<json> TakeDocument() { return std::move(doc_); }

  void OnDocumentStart(const YAML::Mark&) override {
    doc_.reset();
    stack_.clear();
    anchors_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Add(mark, json(nullptr), anchor, 1, 0);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YAML::ParserException(mark, "unknown alias");
    Add(mark, it->second.value, 0, it->second.nodes, it->second.bytes);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const bool is_string = tag == "!" || tag == "tag:yaml.org,2002:str";
    Add(mark, is_string ? json(value) : ResolvePlainScalar(value), anchor, 1, value.size());
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, json::array(), anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, json::object(), anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    json value;
    YAML::anchor_t anchor;
    size_t nodes_at_start;
    size_t bytes_at_start;
    std::optional<std::string> key;  // for maps: the key waiting for its value
    YAML::Mark mark;
  };
  struct Anchored {
    json value;
    size_t nodes;
    size_t bytes;
  };

  void Count(size_t nodes, size_t bytes) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > limits_.max_nodes)
      throw LimitExceeded{absl::StrCat("document has more than ", limits_.max_nodes,
                                       " nodes after alias expansion (max_nodes)")};
    // Aliases of long strings: bound the expanded text as well as the node count.
    if (bytes_ > 4 * limits_.max_bytes)
      throw LimitExceeded{absl::StrCat("document expands to more than ", 4 * limits_.max_bytes,
                                       " bytes of text after alias expansion")};
  }

  void Open(const YAML::Mark& mark, json value, YAML::anchor_t anchor) {
    if (!stack_.empty() && stack_.back().value.is_object() && !stack_.back().key)
      throw YAML::ParserException(mark, "mapping keys must be scalars");
    if (static_cast<int>(stack_.size()) >= limits_.max_depth)
      throw LimitExceeded{absl::StrCat("nesting deeper than ", limits_.max_depth,
                                       " levels at line ", mark.line + 1, ", column ",
                                       mark.column + 1, " (max_depth)")};
    Count(1, 0);
    stack_.push_back(Frame{std::move(value), anchor, nodes_ - 1, bytes_, std::nullopt, mark});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor)
      anchors_[f.anchor] = Anchored{f.value, nodes_ - f.nodes_at_start, bytes_ - f.bytes_at_start};
    Attach(f.mark, std::move(f.value));
  }

  void Add(const YAML::Mark& mark, json value, YAML::anchor_t anchor, size_t nodes, size_t bytes) {
    Count(nodes, bytes);
    if (anchor) anchors_[anchor] = Anchored{value, nodes, bytes};
    Attach(mark, std::move(value));
  }

  void Attach(const YAML::Mark& mark, json value) {
    if (stack_.empty()) {
      doc_ = std::move(value);
      return;
    }
    Frame& top = stack_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
    } else if (!top.key) {
      if (value.is_string()) {
        top.key = value.get<std::string>();
      } else if (value.is_null()) {
        top.key = "";
      } else if (value.is_primitive()) {
        top.key = value.dump();
      } else {
        throw YAML::ParserException(mark, "mapping keys must be scalars");
      }
    } else {
      top.value[*top.key] = std::move(value);
      top.key.reset();
    }
  }

  const DecodeLimits& limits_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  std::optional<json> doc_;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

absl::StatusOr<std::vector<json>> ParseYaml(std::string_view text, const DecodeLimits& limits) {
  std::vector<json> docs;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    JsonBuilder builder(limits);
    while (parser.HandleNextDocument(builder)) {
      auto doc = builder.TakeDocument();
      if (!doc || doc->is_null()) continue;  // `---` with nothing after it
      if (docs.size() >= limits.max_documents)
        return absl::ResourceExhaustedError(
            absl::StrCat("more than ", limits.max_documents, " documents (max_documents)"));
      docs.push_back(std::move(*doc));
    }
  } catch (const LimitExceeded& e) {
    return absl::ResourceExhaustedError(e.message);
  } catch (const YAML::ParserException& e) {
    return SyntaxError(e.mark.line + 1, e.mark.column + 1, e.msg);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot parse YAML: ", e.what()));
  }
  return docs;
}

absl::StatusOr<std::vector<json>> ParseJson(std::string_view text, const DecodeLimits& limits) {
  size_t nodes = 0;
  auto bound = [&](int depth, json::parse_event_t event, json&) {
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start ||
        event == json::parse_event_t::value) {
      if (depth > limits.max_depth)
        throw LimitExceeded{
            absl::StrCat("nesting deeper than ", limits.max_depth, " levels (max_depth)")};
      if (++nodes > limits.max_nodes)
        throw LimitExceeded{
            absl::StrCat("document has more than ", limits.max_nodes, " nodes (max_nodes)")};
    }
    return true;
  };
  try {
    std::vector<json> docs;
    docs.push_back(json::parse(text.begin(), text.end(), bound));
    return docs;
  } catch (const LimitExceeded& e) {
    return absl::ResourceExhaustedError(e.message);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    size_t line = 1, column = 1;
    const size_t end = std::min(text.size(), e.byte > 0 ? e.byte - 1 : 0);
    for (size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    if (auto pos = what.find(": "); pos != std::string::npos) what = what.substr(pos + 2);
    return SyntaxError(line, column, what);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot parse JSON: ", e.what()));
  }
}

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629), or npos.
size_t InvalidUtf8Offset(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace

bool LooksLikeJson(std::string_view text) {
  auto next = [&](size_t from) {
    while (from < text.size() && std::isspace(static_cast<unsigned char>(text[from]))) ++from;
    return from;
  };
  const size_t first = next(0);
  if (first >= text.size()) return false;
  if (text[first] == '[') return true;
  if (text[first] != '{') return false;
  // `{"kind": ...}` is JSON; `{kind: ...}` is YAML flow style.
  const size_t second = next(first + 1);
  return second < text.size() && (text[second] == '"' || text[second] == '}');
}

absl::StatusOr<std::vector<json>> ParseDocuments(std::string_view text,
                                                 const DecodeLimits& limits) {
  if (text.size() > limits.max_bytes)
    return absl::ResourceExhaustedError(absl::StrCat("input is ", text.size(),
                                                     " bytes, more than the limit of ",
                                                     limits.max_bytes, " (max_bytes)"));
  if (text.find('\0') != std::string_view::npos)
    return absl::InvalidArgumentError(absl::StrCat("input contains a NUL byte at offset ",
                                                   text.find('\0'), "; not a text manifest"));
  // Kubernetes manifests are UTF-8; checking once here keeps every decoded string valid
  // (and so re-encodable as JSON unchanged).
  if (const size_t bad = InvalidUtf8Offset(text); bad != std::string_view::npos)
    return absl::InvalidArgumentError(
        absl::StrCat("input is not valid UTF-8 (byte offset ", bad, ")"));
  return LooksLikeJson(text) ? ParseJson(text, limits) : ParseYaml(text, limits);
}

}  // namespace k6t::api::internal
