#include "json_reader.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace k6t::api::internal {

using nlohmann::json;

std::string JoinPath(const std::string& path, std::string_view key) {
  std::string k(key);
  return path.empty() ? k : absl::StrCat(path, ".", k);
}

std::string IndexPath(const std::string& path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

std::string DescribeJson(const json& v) {
  switch (v.type()) {
    case json::value_t::string: {
      std::string s = v.get<std::string>();
      if (s.size() > 64) s = s.substr(0, 64) + "...";
      return absl::StrCat("string ", json(s).dump(-1, ' ', false, json::error_handler_t::replace));
    }
    case json::value_t::boolean:
      return v.get<bool>() ? "boolean true" : "boolean false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return absl::StrCat("number ", v.dump());
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "a list";
    case json::value_t::null:
      return "null";
    default:
      return "an unsupported value";
  }
}

const json* JsonReader::Member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void JsonReader::Error(const std::string& path, std::string message) {
  errors_->push_back(FieldError{path, std::move(message)});
}

void JsonReader::Warning(const std::string& path, std::string message) {
  warnings_->push_back(FieldError{path, std::move(message)});
}

void JsonReader::TypeError(const std::string& path, std::string_view expected, const json& got) {
  Error(path, absl::StrCat("expected ", std::string(expected), ", got ", DescribeJson(got)));
}

std::optional<std::string> JsonReader::String(const json& obj, std::string_view key,
                                              const std::string& path) {
  const json* v = Member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    TypeError(JoinPath(path, key), "a string", *v);
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<int64_t> JsonReader::Int(const json& obj, std::string_view key,
                                       const std::string& path) {
  const json* v = Member(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();  // unsigned > INT64_MAX below
  if (v->is_number_unsigned()) {
    Error(JoinPath(path, key), absl::StrCat("integer ", v->dump(), " is out of range"));
    return std::nullopt;
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15)
      return static_cast<int64_t>(d);
  }
  TypeError(JoinPath(path, key), "an integer", *v);
  return std::nullopt;
}

std::optional<bool> JsonReader::Bool(const json& obj, std::string_view key,
                                     const std::string& path) {
  const json* v = Member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    TypeError(JoinPath(path, key), "a boolean", *v);
    return std::nullopt;
  }
  return v->get<bool>();
}

const json* JsonReader::Object(const json& obj, std::string_view key, const std::string& path) {
  const json* v = Member(obj, key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    TypeError(JoinPath(path, key), "an object", *v);
    return nullptr;
  }
  return v;
}

const json* JsonReader::Array(const json& obj, std::string_view key, const std::string& path) {
  const json* v = Member(obj, key);
  if (!v) return nullptr;
  if (!v->is_array()) {
    TypeError(JoinPath(path, key), "a list", *v);
    return nullptr;
  }
  return v;
}

std::vector<std::string> JsonReader::StringList(const json& obj, std::string_view key,
                                                const std::string& path) {
  std::vector<std::string> out;
  const json* arr = Array(obj, key, path);
  if (!arr) return out;
  const std::string base = JoinPath(path, key);
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& e = (*arr)[i];
    if (e.is_string()) {
      out.push_back(e.get<std::string>());
    } else {
      TypeError(IndexPath(base, i), "a string", e);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> JsonReader::StringMap(const json& obj,
                                                                       std::string_view key,
                                                                       const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  const json* m = Object(obj, key, path);
  if (!m) return out;
  const std::string base = JoinPath(path, key);
  for (const auto& [k, v] : m->items()) {
    if (v.is_string()) {
      out.emplace_back(k, v.get<std::string>());
    } else {
      TypeError(JoinPath(base, k), "a string", v);
    }
  }
  return out;
}

void JsonReader::CheckFields(const json& obj, const std::string& path,
                             std::initializer_list<std::string_view> known,
                             std::initializer_list<std::string_view> quiet) {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    auto in = [&k](std::initializer_list<std::string_view> set) {
      for (auto s : set)
        if (s == k) return true;
      return false;
    };
    if (in(known) || in(quiet)) continue;
    Warning(JoinPath(path, k), "unknown field, ignored");
  }
}

}  // namespace k6t::api::internal
