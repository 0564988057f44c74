#include "k6t/api/errors.h"

#include "absl/strings/str_join.h"

namespace k6t::api {

absl::Status ErrorsToStatus(const std::vector<FieldError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(
      errors, "\n", [](std::string* out, const FieldError& e) { out->append(e.ToString()); }));
}

}  // namespace k6t::api
