// The JSON-RPC 2.0 envelope of the command protocol (see k6t/api/rpc.h).
#include "k6t/api/rpc.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc_json.h"

namespace k6t::api::rpc {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Status mapping

int ErrorCodeForStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnimplemented:
      return static_cast<int>(ErrorCode::kMethodNotFound);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return static_cast<int>(ErrorCode::kInvalidParams);
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
      return static_cast<int>(ErrorCode::kInternalError);
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return static_cast<int>(ErrorCode::kUnauthorized);
    case absl::StatusCode::kUnavailable:
      return static_cast<int>(ErrorCode::kBusy);
    case absl::StatusCode::kFailedPrecondition:
      return static_cast<int>(ErrorCode::kRestartRequired);
    case absl::StatusCode::kNotFound:
      return static_cast<int>(ErrorCode::kNotFound);
    case absl::StatusCode::kResourceExhausted:
      return static_cast<int>(ErrorCode::kResourceExhausted);
    case absl::StatusCode::kDeadlineExceeded:
      return static_cast<int>(ErrorCode::kDeadlineExceeded);
    default:
      return static_cast<int>(ErrorCode::kServerError);
  }
}

Error StatusToError(const absl::Status& status) {
  Error e;
  e.code = ErrorCodeForStatus(status.code());
  e.message = std::string(status.message());
  e.status = absl::StatusCodeToString(status.code());
  return e;
}

namespace {

std::optional<absl::StatusCode> StatusCodeFromName(const std::string& name) {
  for (int c = 0; c <= 16; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    if (code != absl::StatusCode::kOk && absl::StatusCodeToString(code) == name) return code;
  }
  return std::nullopt;
}

absl::StatusCode StatusCodeForError(int code) {
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kMethodNotFound:
      return absl::StatusCode::kUnimplemented;
    case ErrorCode::kInvalidParams:
      return absl::StatusCode::kInvalidArgument;
    case ErrorCode::kUnauthorized:
      return absl::StatusCode::kPermissionDenied;
    case ErrorCode::kBusy:
      return absl::StatusCode::kUnavailable;
    case ErrorCode::kRestartRequired:
      return absl::StatusCode::kFailedPrecondition;
    case ErrorCode::kNotFound:
      return absl::StatusCode::kNotFound;
    case ErrorCode::kResourceExhausted:
      return absl::StatusCode::kResourceExhausted;
    case ErrorCode::kDeadlineExceeded:
      return absl::StatusCode::kDeadlineExceeded;
    case ErrorCode::kServerError:
      return absl::StatusCode::kUnknown;
    default:  // parse error / invalid request: the client sent something wrong — our bug
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status ErrorToStatus(const Error& error) {
  absl::StatusCode code = StatusCodeForError(error.code);
  if (auto named = StatusCodeFromName(error.status)) code = *named;
  return absl::Status(code, error.message);
}

// ---------------------------------------------------------------------------------------------
// Envelope

namespace {

// An id that is not a JSON integer or string would make the frame invalid; send null instead.
std::string SafeId(const std::string& id_json) {
  auto j = ParseBoundedJson(id_json);
  if (!j.ok() || !(j->is_number_integer() || j->is_string())) return "null";
  return id_json;
}

}  // namespace

Error MakeError(ErrorCode code, std::string message) {
  Error e;
  e.code = static_cast<int>(code);
  e.message = std::move(message);
  return e;
}

bool IsValidJson(std::string_view text) { return ParseBoundedJson(text).ok(); }

ParsedRequest ParseRequest(std::string_view payload) {
  ParsedRequest out;
  auto parsed = ParseBoundedJson(payload);
  if (!parsed.ok()) {
    out.error = MakeError(ErrorCode::kParseError, std::string(parsed.status().message()));
    return out;
  }
  const json& j = *parsed;
  if (!j.is_object()) {
    out.error =
        MakeError(ErrorCode::kInvalidRequest, j.is_array() ? "batch requests are not supported"
                                                           : "a request must be a JSON object");
    return out;
  }
  // Read the id first so every later error can be correlated by the client.
  auto id = j.find("id");
  bool id_ok = false;
  if (id != j.end() && (id->is_number_integer() || id->is_string())) {
    out.id_json = DumpJson(*id);
    id_ok = true;
  }
  auto invalid = [&](std::string message) {
    out.error = MakeError(ErrorCode::kInvalidRequest, std::move(message));
    return out;
  };
  auto version = j.find("jsonrpc");
  if (version == j.end() || !version->is_string() ||
      version->get_ref<const std::string&>() != "2.0")
    return invalid("jsonrpc: must be \"2.0\"");
  if (id == j.end()) return invalid("id: required (notifications are not supported)");
  if (!id_ok) return invalid("id: must be an integer or a string");
  auto method = j.find("method");
  if (method == j.end() || !method->is_string()) return invalid("method: must be a string");
  const auto& name = method->get_ref<const std::string&>();
  if (name.empty() || name.size() > 128) return invalid("method: must be 1..128 bytes");
  for (const auto& [key, value] : j.items()) {
    if (key != "jsonrpc" && key != "id" && key != "method" && key != "params")
      return invalid(absl::StrCat(QuoteForMessage(key), ": unknown member of a request"));
  }
  Request r;
  r.id_json = out.id_json;
  r.method = name;
  auto params = j.find("params");
  if (params != j.end()) {
    if (!params->is_object()) {
      out.error = MakeError(ErrorCode::kInvalidParams, "params: must be an object");
      return out;
    }
    r.params_json = DumpJson(*params);
  }
  out.request = std::move(r);
  return out;
}

absl::StatusOr<Response> ParseResponse(std::string_view payload) {
  auto parsed = ParseBoundedJson(payload);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("response: ", parsed.status().message()));
  }
  const json& j = *parsed;
  if (!j.is_object()) return absl::DataLossError("response: not a JSON object");
  auto version = j.find("jsonrpc");
  if (version == j.end() || !version->is_string() ||
      version->get_ref<const std::string&>() != "2.0")
    return absl::DataLossError("response.jsonrpc: must be \"2.0\"");
  Response r;
  auto id = j.find("id");
  if (id == j.end()) return absl::DataLossError("response.id: missing");
  if (!id->is_null() && !id->is_number_integer() && !id->is_string())
    return absl::DataLossError("response.id: must be an integer, a string or null");
  r.id_json = DumpJson(*id);
  auto result = j.find("result");
  auto error = j.find("error");
  if ((result == j.end()) == (error == j.end()))
    return absl::DataLossError("response: exactly one of result and error must be present");
  if (result != j.end()) {
    r.result_json = DumpJson(*result);
    return r;
  }
  if (!error->is_object()) return absl::DataLossError("response.error: must be an object");
  Error e;
  auto code = error->find("code");
  if (code == error->end() || !code->is_number_integer())
    return absl::DataLossError("response.error.code: must be an integer");
  const auto c = code->get<int64_t>();
  if (c < INT32_MIN || c > INT32_MAX)
    return absl::DataLossError("response.error.code: out of range");
  e.code = static_cast<int>(c);
  auto message = error->find("message");
  if (message == error->end() || !message->is_string())
    return absl::DataLossError("response.error.message: must be a string");
  e.message = message->get<std::string>();
  auto data = error->find("data");
  if (data != error->end() && data->is_object()) {
    auto status = data->find("status");
    if (status != data->end() && status->is_string()) e.status = status->get<std::string>();
  }
  r.error = std::move(e);
  return r;
}

std::string EncodeRequest(const Request& request) {
  std::string params = IsValidJson(request.params_json) ? request.params_json : "{}";
  return absl::StrCat("{\"jsonrpc\":\"2.0\",\"id\":", SafeId(request.id_json),
                      ",\"method\":", DumpJson(json(request.method)), ",\"params\":", params, "}");
}

std::string EncodeResult(const std::string& id_json, const std::string& result_json) {
  if (!IsValidJson(result_json)) {
    return EncodeError(id_json, MakeError(ErrorCode::kInternalError,
                                          "the method produced a result that is not valid JSON"));
  }
  return absl::StrCat("{\"jsonrpc\":\"2.0\",\"id\":", SafeId(id_json), ",\"result\":", result_json,
                      "}");
}

std::string EncodeError(const std::string& id_json, const Error& error) {
  json e = {{"code", error.code}, {"message", error.message}};
  if (!error.status.empty()) e["data"] = {{"status", error.status}};
  json j = {{"jsonrpc", "2.0"}, {"error", std::move(e)}};
  // Splice the id to keep it verbatim (a large integer id must not go through a double).
  std::string body = DumpJson(j);
  return absl::StrCat("{\"id\":", SafeId(id_json), ",", body.substr(1));
}

}  // namespace k6t::api::rpc
