#include "cni/cni_result.h"

#include "nlohmann/json.hpp"

namespace k6t::handler::cni {

using nlohmann::json;

std::string EncodeAddResult(std::string_view cni_version, const PrevResult* prev,
                            const std::vector<ResultInterface>& added) {
  json r = prev && prev->raw.is_object() ? prev->raw : json::object();
  r["cniVersion"] = std::string(cni_version);
  const bool legacy = !VersionAtLeast(cni_version, "1.0.0");
  if (auto it = r.find("ips"); it != r.end() && it->is_array()) {
    for (auto& ip : *it) {
      if (!ip.is_object()) continue;
      if (!legacy) {
        ip.erase("version");
        continue;
      }
      auto a = ip.find("address");
      if (a != ip.end() && a->is_string())
        ip["version"] = a->get<std::string>().find(':') == std::string::npos ? "4" : "6";
    }
  }
  json& ifaces = r["interfaces"];
  if (!ifaces.is_array()) ifaces = json::array();
  for (const auto& i : added) {
    json e = {{"name", i.name}};
    if (!i.mac.empty()) e["mac"] = i.mac;
    if (!i.sandbox.empty()) e["sandbox"] = i.sandbox;
    ifaces.push_back(std::move(e));
  }
  return r.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string EncodeVersion(std::string_view requested) {
  const std::string v =
      IsSupportedVersion(requested) ? std::string(requested) : SupportedVersions().back();
  return json{{"cniVersion", v}, {"supportedVersions", SupportedVersions()}}.dump();
}

}  // namespace k6t::handler::cni
