// nlohmann helpers shared by the RPC sources; private to api/ so that nlohmann stays out of the
// public headers. Nothing here throws.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace k6t::api::rpc {

// Parses one JSON value, refusing nesting deeper than kMaxJsonDepth before nlohmann sees it
// (its recursion must stay bounded for hostile input). kInvalidArgument with nlohmann's
// position-bearing message on a syntax or UTF-8 error.
absl::StatusOr<nlohmann::json> ParseBoundedJson(std::string_view text);

// Compact dump; invalid UTF-8 in strings is replaced rather than thrown about.
std::string DumpJson(const nlohmann::json& j);

// A key or value quoted for an error message, truncated to a readable length.
std::string QuoteForMessage(std::string_view s);

}  // namespace k6t::api::rpc
