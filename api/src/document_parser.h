// Turns manifest text (JSON, or YAML with any number of documents) into nlohmann::json
// documents, so that one decoder serves both formats. Private to api/.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/decode.h"
#include "nlohmann/json.hpp"

namespace k6t::api::internal {

// kInvalidArgument with "line L, column C" for syntax errors; kResourceExhausted naming the
// bound for size/depth/node/document limits. Empty YAML documents are skipped.
absl::StatusOr<std::vector<nlohmann::json>> ParseDocuments(std::string_view text,
                                                           const DecodeLimits& limits);

// True for JSON input (parsed by nlohmann): a list, or an object whose first key is quoted.
bool LooksLikeJson(std::string_view text);

}  // namespace k6t::api::internal
