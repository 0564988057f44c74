// Field readers shared by the RPC message sources (params strict, results lenient; errors
// name the field: "params.name: required"). Private to api/. Nothing here throws.
#pragma once

#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "k6t/api/rpc.h"

namespace k6t::api::rpc {

using nlohmann::json;

inline constexpr char kParams[] = "params";
inline constexpr char kResult[] = "result";

absl::Status FieldError(const std::string& path, absl::string_view message);
std::string Path(const std::string& parent, const char* key);
absl::StatusOr<json> ParseObject(std::string_view text, const char* root);
absl::Status CheckKnown(const json& obj, const std::string& path,
                        std::initializer_list<const char*> known);
absl::Status GetString(const json& obj, const std::string& path, const char* key, bool required,
                       std::string* out, size_t min_len = 0,
                       size_t max_len = std::numeric_limits<size_t>::max());
absl::Status GetInt(const json& obj, const std::string& path, const char* key, bool required,
                    int64_t min, int64_t max, int64_t* out);
absl::Status GetBool(const json& obj, const std::string& path, const char* key, bool required,
                     bool* out);
absl::Status GetStringArray(const json& obj, const std::string& path, const char* key,
                            std::vector<std::string>* out);
void SetIfNotEmpty(json& j, const char* key, const std::string& value);

// Arrays of objects in results: the callback parses element i at its path.
template <typename T, typename Fn>
absl::Status GetObjectArray(const json& obj, const std::string& path, const char* key,
                            std::vector<T>* out, Fn parse_one) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return FieldError(Path(path, key), "must be an array");
  if (it->size() > kMaxResultInterfaces) {
    return FieldError(Path(path, key),
                      absl::StrCat("more than ", kMaxResultInterfaces, " entries"));
  }
  out->clear();
  for (size_t i = 0; i < it->size(); ++i) {
    const auto elem_path = absl::StrCat(path, ".", key, "[", i, "]");
    const auto& e = (*it)[i];
    if (!e.is_object()) return FieldError(elem_path, "must be an object");
    T value;
    if (auto s = parse_one(e, elem_path, &value); !s.ok()) return s;
    out->push_back(std::move(value));
  }
  return absl::OkStatus();
}

}  // namespace k6t::api::rpc
