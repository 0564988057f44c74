#include "hook_input.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "k6t/api/decode.h"
#include "k6t/api/errors.h"
#include "k6t/api/validate.h"

namespace k6t::sidecar {
namespace {

absl::Status Prefixed(const char* what, const absl::Status& st) {
  return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
}

// The rules k6t plans from: interfaces, networks and the pod link names derived from them.
bool AboutNetworking(const api::FieldError& e) {
  return absl::StrContains(e.path, ".interfaces") || absl::StrContains(e.path, ".networks") ||
         absl::StrContains(e.path, "networkInterfaceMultiqueue");
}

}  // namespace

absl::StatusOr<HookInput> ParseHookInput(std::string_view domain_xml, std::string_view vmi_json,
                                         const std::set<std::string>& plugins) {
  auto doc = domxml::ParseXml(domain_xml, "domain XML");
  if (!doc.ok()) return doc.status();
  if (doc->root().name() != "domain")
    return absl::InvalidArgumentError(
        absl::StrCat("domain XML: <", doc->root().name(), "> is not a <domain> document"));

  // KubeVirt sends JSON; the decoder also takes YAML, which JSON is a subset of.
  const absl::string_view trimmed =
      absl::StripLeadingAsciiWhitespace(absl::string_view(vmi_json.data(), vmi_json.size()));
  if (trimmed.empty() || trimmed.front() != '{')
    return absl::InvalidArgumentError("VMI: not a JSON object");
  auto vmi = api::DecodeSingleVmi(vmi_json, "VMI");
  if (!vmi.ok()) {
    // Syntax errors already name the source; field errors are JSON paths.
    if (absl::StartsWith(vmi.status().message(), "VMI")) return vmi.status();
    return Prefixed("VMI", vmi.status());
  }

  api::ClusterConfig cfg;
  cfg.binding_plugins = plugins;
  if (plugins.empty())
    for (const auto& iface : vmi->spec.domain.interfaces)
      if (!iface.plugin_name.empty()) cfg.binding_plugins.insert(iface.plugin_name);
  std::vector<api::FieldError> errors;
  for (auto& e : api::Validate(*vmi, cfg))
    if (AboutNetworking(e)) errors.push_back(std::move(e));
  if (!errors.empty()) return Prefixed("VMI", api::ErrorsToStatus(errors));
  return HookInput{*std::move(doc), *std::move(vmi)};
}

}  // namespace k6t::sidecar
