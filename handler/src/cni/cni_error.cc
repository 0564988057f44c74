#include "cni/cni_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "nlohmann/json.hpp"

namespace k6t::handler::cni {
namespace {

constexpr char kCodeUrl[] = "k6t.dev/cni-code";
constexpr char kDetailsUrl[] = "k6t.dev/cni-details";

}  // namespace

absl::Status Error(int code, const std::string& msg, const std::string& details) {
  absl::Status st(absl::StatusCode::kFailedPrecondition, msg);
  st.SetPayload(kCodeUrl, absl::Cord(std::to_string(code)));
  if (!details.empty()) st.SetPayload(kDetailsUrl, absl::Cord(details));
  return st;
}

int CodeOf(const absl::Status& st) {
  if (auto p = st.GetPayload(kCodeUrl)) {
    int code = 0;
    if (absl::SimpleAtoi(std::string(*p), &code)) return code;
  }
  switch (st.code()) {
    case absl::StatusCode::kInvalidArgument:
      return kInvalidNetworkConfig;
    case absl::StatusCode::kUnavailable:
      return kTryAgainLater;
    default:
      return kPlumbingFailed;
  }
}

std::string DetailsOf(const absl::Status& st) {
  auto p = st.GetPayload(kDetailsUrl);
  return p ? std::string(*p) : std::string();
}

std::string EncodeError(const std::string& cni_version, const absl::Status& st) {
  nlohmann::json j = {
      {"cniVersion", cni_version}, {"code", CodeOf(st)}, {"msg", std::string(st.message())}};
  if (auto d = DetailsOf(st); !d.empty()) j["details"] = d;
  // Replacing invalid UTF-8 keeps a hostile config from turning an error into an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace k6t::handler::cni
