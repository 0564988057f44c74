// Typed access to a decoded JSON tree that collects every problem with its JSON path
// instead of stopping at the first one. Private to api/.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k6t/api/errors.h"
#include "nlohmann/json.hpp"

namespace k6t::api::internal {

std::string JoinPath(const std::string& path, std::string_view key);
std::string IndexPath(const std::string& path, size_t index);

// "string \"x\"", "number 3.5", "boolean true", "an object", "a list", "null".
std::string DescribeJson(const nlohmann::json& v);

class JsonReader {
 public:
  JsonReader(std::vector<FieldError>* errors, std::vector<FieldError>* warnings)
      : errors_(errors), warnings_(warnings) {}

  // Each getter returns nullopt when the key is absent or null, and records an error
  // "<path>.<key>: expected ..., got ..." when the value has the wrong type.
  std::optional<std::string> String(const nlohmann::json& obj, std::string_view key,
                                    const std::string& path);
  std::optional<int64_t> Int(const nlohmann::json& obj, std::string_view key,
                             const std::string& path);
  std::optional<bool> Bool(const nlohmann::json& obj, std::string_view key,
                           const std::string& path);
  // Returns the member when it is an object (nullptr otherwise, with an error if present).
  const nlohmann::json* Object(const nlohmann::json& obj, std::string_view key,
                               const std::string& path);
  const nlohmann::json* Array(const nlohmann::json& obj, std::string_view key,
                              const std::string& path);
  // A list of strings; wrong-typed elements are reported and skipped.
  std::vector<std::string> StringList(const nlohmann::json& obj, std::string_view key,
                                      const std::string& path);
  // A map of strings (labels, annotations).
  std::vector<std::pair<std::string, std::string>> StringMap(const nlohmann::json& obj,
                                                             std::string_view key,
                                                             const std::string& path);

  // Warns about members of `obj` that are neither `known` nor `quiet` (fields of the
  // KubeVirt API that k6t has no use for and accepts silently).
  void CheckFields(const nlohmann::json& obj, const std::string& path,
                   std::initializer_list<std::string_view> known,
                   std::initializer_list<std::string_view> quiet = {});

  void Error(const std::string& path, std::string message);
  void Warning(const std::string& path, std::string message);
  void TypeError(const std::string& path, std::string_view expected, const nlohmann::json& got);

 private:
  const nlohmann::json* Member(const nlohmann::json& obj, std::string_view key);

  std::vector<FieldError>* errors_;
  std::vector<FieldError>* warnings_;
};

}  // namespace k6t::api::internal
