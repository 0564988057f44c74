#include "k6t/binding/plan_json.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "plan_json_value.h"

namespace k6t::api {

// The DHCP offers are api types (k6t/api/dhcp_offer.h); their JSON functions must live in
// their namespace for nlohmann's argument-dependent lookup to find them.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Route, destination, gateway)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DhcpV4Offer, server_ip, client_ip, prefix_len,
                                                router, routes, mtu, dns_servers, search_domains,
                                                hostname, tftp_server_name, boot_file_name,
                                                ntp_servers, private_options, lease_seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DhcpV6Offer, client_ip, prefix_len, dns_servers,
                                                search_domains, lease_seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RouterAdvert, router_ip, prefix, mtu, managed,
                                                other)

}  // namespace k6t::api

namespace k6t::binding {

using nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CreateBridge, name, mac, mtu)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CreateTap, name, owner, group, queues, mtu)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RenameLink, from, to, index)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SetLinkMac, link, mac)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SetLinkMtu, link, mtu)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SetLinkMaster, link, master)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SetLinkUp, link, up)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SetPortLearning, link, learning)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AddAddress, link, cidr)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FlushAddresses, link, index, link_local)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AddRoute, link, destination, gateway)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeleteLink, name, kind)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SetSysctl, key, value, restore)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NftTable, family, name, body)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeleteNftTable, family, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PasstPlan, pod_interface, forwards, mtu)

void to_json(json& j, const CreatePlaceholder& o) {
  j = json{{"name", o.name},
           {"kind", o.kind == PlaceholderKind::kDummy ? "dummy" : "ifb"},
           {"mac", o.mac},
           {"mtu", o.mtu}};
}
void from_json(const json& j, CreatePlaceholder& o) {
  o.name = j.value("name", "");
  o.kind = j.value("kind", "dummy") == "ifb" ? PlaceholderKind::kIfb : PlaceholderKind::kDummy;
  o.mac = j.value("mac", "");
  o.mtu = j.value("mtu", 0);
}

namespace {

// Variant index -> the "op" tag written in JSON. Order matches Operation's alternatives.
constexpr const char* kOpNames[] = {
    "create_bridge",     "create_tap",   "create_placeholder", "rename_link",
    "set_link_mac",      "set_link_mtu", "set_link_master",    "set_link_up",
    "set_port_learning", "add_address",  "flush_addresses",    "add_route",
    "set_sysctl",        "nft_table",    "delete_link",        "delete_nft_table",
};
static_assert(std::size(kOpNames) == std::variant_size_v<Operation>);

template <size_t I = 0>
absl::StatusOr<Operation> OpFromTag(const std::string& tag, const json& j) {
  if constexpr (I < std::variant_size_v<Operation>) {
    if (tag == kOpNames[I]) return Operation(j.get<std::variant_alternative_t<I, Operation>>());
    return OpFromTag<I + 1>(tag, j);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown operation \"", tag, "\""));
  }
}

template <typename T>
void PutOptional(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}
template <typename T>
void GetOptional(const json& j, const char* key, std::optional<T>& v) {
  if (j.contains(key) && !j[key].is_null()) v = j[key].get<T>();
}

json DeviceToJson(const GuestDevice& d) {
  json j{{"kind", DeviceKindName(d.kind)},
         {"alias", d.alias},
         {"mac", d.mac},
         {"model", d.model},
         {"tap", d.tap},
         {"mtu", d.mtu},
         {"queues", d.queues},
         {"vhost", d.vhost},
         {"link_up", d.link_up},
         {"guest_pci_address", d.guest_pci_address},
         {"host_pci_address", d.host_pci_address}};
  PutOptional(j, "boot_order", d.boot_order);
  PutOptional(j, "acpi_index", d.acpi_index);
  return j;
}

// Throws json exceptions on a wrong type; PlanFromJsonValue turns them into a status.
absl::StatusOr<GuestDevice> DeviceFromJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("device is not an object");
  GuestDevice d;
  const std::string kind = j.value("kind", "");
  auto k = DeviceKindFromName(kind);
  if (!k) return absl::InvalidArgumentError(absl::StrCat("unknown device kind \"", kind, "\""));
  d.kind = *k;
  d.alias = j.value("alias", "");
  d.mac = j.value("mac", "");
  d.model = j.value("model", "");
  d.tap = j.value("tap", "");
  d.mtu = j.value("mtu", 0);
  d.queues = j.value("queues", 1);
  d.vhost = j.value("vhost", false);
  d.link_up = j.value("link_up", true);
  d.guest_pci_address = j.value("guest_pci_address", "");
  d.host_pci_address = j.value("host_pci_address", "");
  GetOptional(j, "boot_order", d.boot_order);
  GetOptional(j, "acpi_index", d.acpi_index);
  return d;
}

}  // namespace

json OperationToJson(const Operation& op) {
  json j = std::visit([](const auto& o) { return json(o); }, op);
  j["op"] = kOpNames[op.index()];
  return j;
}

absl::StatusOr<Operation> OperationFromJson(const json& j) {
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string())
    return absl::InvalidArgumentError("operation without an \"op\" tag");
  return OpFromTag(j["op"].get<std::string>(), j);
}

json DhcpPlanToJson(const DhcpPlan& d) {
  json j{{"bridge", d.bridge}, {"client_mac", d.client_mac}};
  PutOptional(j, "v4", d.v4);
  PutOptional(j, "v6", d.v6);
  PutOptional(j, "ra", d.ra);
  return j;
}

DhcpPlan DhcpPlanFromJson(const json& j) {
  DhcpPlan d;
  d.bridge = j.value("bridge", "");
  d.client_mac = j.value("client_mac", "");
  GetOptional(j, "v4", d.v4);
  GetOptional(j, "v6", d.v6);
  GetOptional(j, "ra", d.ra);
  return d;
}

json PlanToJsonValue(const InterfacePlan& p) {
  json ops = json::array();
  for (const auto& op : p.ops) ops.push_back(OperationToJson(op));
  json j{{"interface", p.interface_name},
         {"network", p.network_name},
         {"binding", p.binding},
         {"pod_interface", p.pod_interface},
         {"mac", p.mac},
         {"mtu", p.mtu},
         {"queues", p.queues},
         {"ops", ops},
         {"notes", p.notes},
         {"original",
          {{"mac", p.original_mac},
           {"mtu", p.original_mtu},
           {"index", p.original_index},
           {"addresses", p.original_addresses},
           {"link_local", p.original_link_local},
           {"routes", p.original_routes}}}};
  if (p.device) j["device"] = DeviceToJson(*p.device);
  if (p.dhcp) j["dhcp"] = DhcpPlanToJson(*p.dhcp);
  PutOptional(j, "passt", p.passt);
  return j;
}

absl::StatusOr<InterfacePlan> PlanFromJsonValue(const json& j) {
  try {
    InterfacePlan p;
    p.interface_name = j.at("interface").get<std::string>();
    p.network_name = j.value("network", "");
    p.binding = j.value("binding", "");
    p.pod_interface = j.value("pod_interface", "");
    p.mac = j.value("mac", "");
    p.mtu = j.value("mtu", 0);
    p.queues = j.value("queues", 1);
    for (const auto& o : j.value("ops", json::array())) {
      auto op = OperationFromJson(o);
      if (!op.ok()) return op.status();
      p.ops.push_back(*op);
    }
    // Schema 1 had the device as a libvirt XML fragment ("domain_xml"), not read any more.
    if (j.contains("device")) {
      auto d = DeviceFromJson(j["device"]);
      if (!d.ok()) return d.status();
      p.device = *std::move(d);
    }
    p.notes = j.value("notes", std::vector<std::string>{});
    if (j.contains("original")) {
      const json& o = j["original"];
      p.original_mac = o.value("mac", "");
      p.original_mtu = o.value("mtu", 0);
      p.original_index = o.value("index", 0);
      p.original_addresses = o.value("addresses", std::vector<std::string>{});
      p.original_link_local = o.value("link_local", std::vector<std::string>{});
      p.original_routes = o.value("routes", std::vector<Route>{});
    }
    if (j.contains("dhcp")) p.dhcp = DhcpPlanFromJson(j["dhcp"]);
    GetOptional(j, "passt", p.passt);
    return p;
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("bad plan JSON: ", e.what()));
  }
}

std::string PlanToJson(const InterfacePlan& plan) { return PlanToJsonValue(plan).dump(2); }

std::string PlansToJson(const std::vector<InterfacePlan>& plans) {
  json arr = json::array();
  for (const auto& p : plans) arr.push_back(PlanToJsonValue(p));
  return json{{"interfaces", arr}}.dump(2) + "\n";
}

absl::StatusOr<InterfacePlan> PlanFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("plan is not valid JSON");
  return PlanFromJsonValue(j);
}

}  // namespace k6t::binding
