// Typed params and results of the command protocol ⇄ JSON text (see k6t/api/rpc.h).
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "k6t/api/rpc.h"
#include "k6t/api/status_macros.h"
#include "rpc_fields.h"
#include "rpc_json.h"

namespace k6t::api::rpc {

using nlohmann::json;

namespace {

constexpr int64_t kMaxQueues = 65535;
constexpr int64_t kMaxRootPorts = 256;

absl::Status ParseInterfaceName(const json& obj, const std::string& path, std::string* out) {
  return GetString(obj, path, "name", /*required=*/true, out, 1, kMaxInterfaceNameBytes);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Params

absl::Status FromJson(std::string_view text, Empty*) {
  auto j = ParseObject(text, kParams);
  if (!j.ok()) return j.status();
  return CheckKnown(*j, kParams, {});
}

absl::Status FromJson(std::string_view text, SyncVmiParams* out) {
  auto j = ParseObject(text, kParams);
  if (!j.ok()) return j.status();
  K6T_RETURN_IF_ERROR(CheckKnown(*j, kParams, {"vmi"}));
  auto it = j->find("vmi");
  if (it == j->end()) return FieldError("params.vmi", "required");
  if (!it->is_object()) return FieldError("params.vmi", "must be a VirtualMachineInstance object");
  if (it->empty()) return FieldError("params.vmi", "must not be empty");
  out->vmi_json = DumpJson(*it);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, ShutdownParams* out) {
  auto j = ParseObject(text, kParams);
  if (!j.ok()) return j.status();
  K6T_RETURN_IF_ERROR(CheckKnown(*j, kParams, {"timeout_seconds"}));
  ShutdownParams v;
  K6T_RETURN_IF_ERROR(GetInt(*j, kParams, "timeout_seconds", /*required=*/false, 0,
                             kMaxShutdownTimeoutSeconds, &v.timeout_seconds));
  *out = v;
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, InterfaceParams* out) {
  auto j = ParseObject(text, kParams);
  if (!j.ok()) return j.status();
  K6T_RETURN_IF_ERROR(CheckKnown(*j, kParams, {"name"}));
  InterfaceParams v;
  K6T_RETURN_IF_ERROR(ParseInterfaceName(*j, kParams, &v.name));
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, SetLinkStateParams* out) {
  auto j = ParseObject(text, kParams);
  if (!j.ok()) return j.status();
  K6T_RETURN_IF_ERROR(CheckKnown(*j, kParams, {"name", "state"}));
  SetLinkStateParams v;
  K6T_RETURN_IF_ERROR(ParseInterfaceName(*j, kParams, &v.name));
  K6T_RETURN_IF_ERROR(GetString(*j, kParams, "state", /*required=*/true, &v.state));
  if (v.state != "up" && v.state != "down") {
    return FieldError("params.state",
                      absl::StrCat("must be \"up\" or \"down\", got ", QuoteForMessage(v.state)));
  }
  *out = std::move(v);
  return absl::OkStatus();
}

std::string ToJson(const Empty&) { return "{}"; }

std::string ToJson(const SyncVmiParams& v) {
  auto vmi = ParseBoundedJson(v.vmi_json);
  json j = {{"vmi", vmi.ok() ? *vmi : json(nullptr)}};
  return DumpJson(j);
}

std::string ToJson(const ShutdownParams& v) {
  return DumpJson(json{{"timeout_seconds", v.timeout_seconds}});
}

std::string ToJson(const InterfaceParams& v) { return DumpJson(json{{"name", v.name}}); }

std::string ToJson(const SetLinkStateParams& v) {
  return DumpJson(json{{"name", v.name}, {"state", v.state}});
}

// ---------------------------------------------------------------------------------------------
// Results (lenient: unknown fields are ignored, missing ones keep their defaults)

absl::Status FromJson(std::string_view text, PingResult* out) {
  auto j = ParseObject(text, kResult);
  if (!j.ok()) return j.status();
  PingResult v;
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "version", /*required=*/true, &v.version));
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, SyncVmiResult* out) {
  auto j = ParseObject(text, kResult);
  if (!j.ok()) return j.status();
  SyncVmiResult v;
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "phase", /*required=*/true, &v.phase));
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "domain_name", /*required=*/false, &v.domain_name));
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, GetDomainResult* out) {
  auto j = ParseObject(text, kResult);
  if (!j.ok()) return j.status();
  GetDomainResult v;
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "state", /*required=*/true, &v.state));
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "xml", /*required=*/false, &v.xml));
  K6T_RETURN_IF_ERROR(GetObjectArray(
      *j, kResult, "interfaces", &v.interfaces,
      [](const json& e, const std::string& p, DomainInterface* d) -> absl::Status {
        K6T_RETURN_IF_ERROR(GetString(e, p, "name", false, &d->name));
        K6T_RETURN_IF_ERROR(GetString(e, p, "mac", false, &d->mac));
        K6T_RETURN_IF_ERROR(GetString(e, p, "target", false, &d->target));
        K6T_RETURN_IF_ERROR(GetString(e, p, "link_state", false, &d->link_state));
        K6T_RETURN_IF_ERROR(GetString(e, p, "model", false, &d->model));
        K6T_RETURN_IF_ERROR(GetInt(e, p, "queues", false, 0, kMaxQueues, &d->queues));
        K6T_RETURN_IF_ERROR(GetString(e, p, "kind", false, &d->kind));
        return GetString(e, p, "alias", false, &d->alias);
      }));
  K6T_RETURN_IF_ERROR(
      GetInt(*j, kResult, "free_root_ports", false, -1, kMaxRootPorts, &v.free_root_ports));
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, GetStatusResult* out) {
  auto j = ParseObject(text, kResult);
  if (!j.ok()) return j.status();
  GetStatusResult v;
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "phase", /*required=*/true, &v.phase));
  K6T_RETURN_IF_ERROR(GetObjectArray(
      *j, kResult, "interfaces", &v.interfaces,
      [](const json& e, const std::string& p, StatusInterface* s) -> absl::Status {
        K6T_RETURN_IF_ERROR(GetString(e, p, "name", false, &s->name));
        K6T_RETURN_IF_ERROR(GetString(e, p, "mac", false, &s->mac));
        K6T_RETURN_IF_ERROR(GetString(e, p, "ipAddress", false, &s->ip_address));
        K6T_RETURN_IF_ERROR(GetStringArray(e, p, "ipAddresses", &s->ip_addresses));
        K6T_RETURN_IF_ERROR(GetString(e, p, "podInterfaceName", false, &s->pod_interface_name));
        K6T_RETURN_IF_ERROR(GetString(e, p, "interfaceName", false, &s->interface_name));
        K6T_RETURN_IF_ERROR(GetString(e, p, "infoSource", false, &s->info_source));
        K6T_RETURN_IF_ERROR(GetInt(e, p, "queueCount", false, 0, kMaxQueues, &s->queue_count));
        return GetString(e, p, "linkState", false, &s->link_state);
      }));
  K6T_RETURN_IF_ERROR(GetString(*j, kResult, "guestAgent", false, &v.guest_agent));
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status FromJson(std::string_view text, ChangedResult* out) {
  auto j = ParseObject(text, kResult);
  if (!j.ok()) return j.status();
  ChangedResult v;
  K6T_RETURN_IF_ERROR(GetBool(*j, kResult, "changed", /*required=*/true, &v.changed));
  *out = v;
  return absl::OkStatus();
}

std::string ToJson(const PingResult& v) { return DumpJson(json{{"version", v.version}}); }

std::string ToJson(const SyncVmiResult& v) {
  return DumpJson(json{{"phase", v.phase}, {"domain_name", v.domain_name}});
}

std::string ToJson(const GetDomainResult& v) {
  json ifaces = json::array();
  for (const auto& d : v.interfaces) {
    ifaces.push_back({{"name", d.name},
                      {"mac", d.mac},
                      {"target", d.target},
                      {"link_state", d.link_state},
                      {"model", d.model},
                      {"queues", d.queues},
                      {"alias", d.alias},
                      {"kind", d.kind}});
  }
  return DumpJson(json{{"state", v.state},
                       {"xml", v.xml},
                       {"interfaces", std::move(ifaces)},
                       {"free_root_ports", v.free_root_ports}});
}

std::string ToJson(const GetStatusResult& v) {
  // KubeVirt's fields are all `omitempty`; so are ours, so that the output diffs cleanly
  // against a real VMI's status.interfaces.
  json ifaces = json::array();
  for (const auto& s : v.interfaces) {
    json e = json::object();
    SetIfNotEmpty(e, "name", s.name);
    SetIfNotEmpty(e, "mac", s.mac);
    SetIfNotEmpty(e, "ipAddress", s.ip_address);
    if (!s.ip_addresses.empty()) e["ipAddresses"] = s.ip_addresses;
    SetIfNotEmpty(e, "podInterfaceName", s.pod_interface_name);
    SetIfNotEmpty(e, "interfaceName", s.interface_name);
    SetIfNotEmpty(e, "infoSource", s.info_source);
    if (s.queue_count != 0) e["queueCount"] = s.queue_count;
    SetIfNotEmpty(e, "linkState", s.link_state);
    ifaces.push_back(std::move(e));
  }
  json out{{"phase", v.phase}, {"interfaces", std::move(ifaces)}};
  SetIfNotEmpty(out, "guestAgent", v.guest_agent);
  return DumpJson(out);
}

std::string ToJson(const ChangedResult& v) { return DumpJson(json{{"changed", v.changed}}); }

}  // namespace k6t::api::rpc
