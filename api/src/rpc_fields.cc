#include "rpc_fields.h"

#include "rpc_json.h"

namespace k6t::api::rpc {

absl::Status FieldError(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

std::string Path(const std::string& parent, const char* key) {
  return absl::StrCat(parent, ".", key);
}

absl::StatusOr<json> ParseObject(std::string_view text, const char* root) {
  auto j = ParseBoundedJson(text);
  if (!j.ok()) return FieldError(root, j.status().message());
  if (!j->is_object()) return FieldError(root, "must be an object");
  return j;
}

// Params are strict: an unknown field is most likely a typo the caller wants to hear about.
absl::Status CheckKnown(const json& obj, const std::string& path,
                        std::initializer_list<const char*> known) {
  for (const auto& [key, value] : obj.items()) {
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (!found) return FieldError(absl::StrCat(path, ".", key), "unknown field");
  }
  return absl::OkStatus();
}

absl::Status GetString(const json& obj, const std::string& path, const char* key, bool required,
                       std::string* out, size_t min_len, size_t max_len) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return required ? FieldError(Path(path, key), "required") : absl::OkStatus();
  }
  if (!it->is_string()) return FieldError(Path(path, key), "must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() < min_len || s.size() > max_len) {
    return FieldError(Path(path, key), absl::StrCat("must be ", min_len, "..", max_len, " bytes"));
  }
  *out = s;
  return absl::OkStatus();
}

absl::Status GetInt(const json& obj, const std::string& path, const char* key, bool required,
                    int64_t min, int64_t max, int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return required ? FieldError(Path(path, key), "required") : absl::OkStatus();
  }
  const auto range = absl::StrCat("must be an integer in [", min, ", ", max, "]");
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(max)) return FieldError(Path(path, key), range);
    *out = static_cast<int64_t>(v);
    return absl::OkStatus();
  }
  if (!it->is_number_integer()) return FieldError(Path(path, key), range);
  const auto v = it->get<int64_t>();
  if (v < min || v > max) return FieldError(Path(path, key), range);
  *out = v;
  return absl::OkStatus();
}

absl::Status GetBool(const json& obj, const std::string& path, const char* key, bool required,
                     bool* out) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return required ? FieldError(Path(path, key), "required") : absl::OkStatus();
  }
  if (!it->is_boolean()) return FieldError(Path(path, key), "must be a boolean");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status GetStringArray(const json& obj, const std::string& path, const char* key,
                            std::vector<std::string>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return FieldError(Path(path, key), "must be an array of strings");
  out->clear();
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& e = (*it)[i];
    if (!e.is_string()) {
      return FieldError(absl::StrCat(path, ".", key, "[", i, "]"), "must be a string");
    }
    out->push_back(e.get<std::string>());
  }
  return absl::OkStatus();
}

void SetIfNotEmpty(json& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

}  // namespace k6t::api::rpc
