#include "k6t/api/network_status.h"

#include "absl/strings/str_cat.h"
#include "json_reader.h"
#include "k6t/api/errors.h"
#include "k6t/api/net.h"
#include "net_util.h"

namespace k6t::api {
namespace {

using internal::IndexPath;
using internal::JoinPath;
using nlohmann::json;

constexpr size_t kMaxBytes = 1 << 20;
constexpr size_t kMaxEntries = 256;
constexpr int kMaxDepth = 16;

struct TooDeep {};

absl::StatusOr<json> ParseBounded(std::string_view text, const char* what) {
  if (text.size() > kMaxBytes)
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", text.size(), " bytes, more than the limit of ", kMaxBytes));
  try {
    return json::parse(text.begin(), text.end(), [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is nested deeper than ", kMaxDepth, " levels"));
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON: ", e.what()));
  }
}

std::string Quote(const std::string& s) {
  return json(s.size() > 80 ? s.substr(0, 80) + "..." : s)
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

class Reader {
 public:
  Reader() : r_(&errors_, &ignored_) {}

  std::string Ip(const json& obj, const char* key, const std::string& p) {
    auto s = r_.String(obj, key, p).value_or("");
    if (!s.empty() && !IpAddress::Parse(s).ok())
      r_.Error(JoinPath(p, key), absl::StrCat(Quote(s), " is not an IP address"));
    return s;
  }
  std::vector<std::string> Ips(const json& obj, const char* key, const std::string& p) {
    auto list = r_.StringList(obj, key, p);
    for (size_t i = 0; i < list.size(); ++i)
      if (!IpAddress::Parse(list[i]).ok())
        r_.Error(IndexPath(JoinPath(p, key), i),
                 absl::StrCat(Quote(list[i]), " is not an IP address"));
    return list;
  }
  // Canonical form when valid (net.h), like the VMI's own MACs.
  std::string Mac(const json& obj, const char* key, const std::string& p) {
    auto s = r_.String(obj, key, p).value_or("");
    if (s.empty()) return s;
    auto mac = MacAddress::Parse(s);
    if (!mac.ok()) {
      r_.Error(JoinPath(p, key), absl::StrCat(Quote(s), " is not a MAC address"));
      return s;
    }
    return mac->ToString();
  }
  std::optional<int64_t> Mtu(const json& obj, const char* key, const std::string& p) {
    auto m = r_.Int(obj, key, p);
    if (m && (*m < 0 || *m > 65535)) {
      r_.Error(JoinPath(p, key), absl::StrCat(*m, " is not in 0..65535"));
      return std::nullopt;
    }
    return m;
  }
  std::optional<DeviceInfo> Device(const json& obj, const char* key, const std::string& p) {
    const json* d = r_.Object(obj, key, p);
    if (!d) return std::nullopt;
    const std::string dp = JoinPath(p, key);
    DeviceInfo out;
    out.type = r_.String(*d, "type", dp).value_or("");
    out.version = r_.String(*d, "version", dp).value_or("");
    if (const json* pci = r_.Object(*d, "pci", dp)) {
      const std::string pp = JoinPath(dp, "pci");
      PciDeviceInfo x;
      x.pci_address = r_.String(*pci, "pci-address", pp).value_or("");
      x.vhost_net = r_.String(*pci, "vhost-net", pp).value_or("");
      x.rdma_device = r_.String(*pci, "rdma-device", pp).value_or("");
      x.pf_pci_address = r_.String(*pci, "pf-pci-address", pp).value_or("");
      x.representor_device = r_.String(*pci, "representor-device", pp).value_or("");
      for (const auto& [k, v] :
           {std::pair<const char*, const std::string&>{"pci-address", x.pci_address},
            {"pf-pci-address", x.pf_pci_address}})
        if (!v.empty() && !PciAddress::Parse(v).ok())
          r_.Error(JoinPath(pp, k), absl::StrCat(Quote(v), " is not a PCI address (DDDD:BB:SS.F)"));
      out.pci = x;
    }
    return out;
  }

  internal::JsonReader& r() { return r_; }
  std::vector<FieldError>& errors() { return errors_; }

 private:
  std::vector<FieldError> errors_;
  std::vector<FieldError> ignored_;  // unknown fields: Multus adds some now and then
  internal::JsonReader r_;
};

json DeviceJson(const DeviceInfo& d) {
  json o = json::object();
  if (!d.type.empty()) o["type"] = d.type;
  if (!d.version.empty()) o["version"] = d.version;
  if (d.pci) {
    json p = json::object();
    if (!d.pci->pci_address.empty()) p["pci-address"] = d.pci->pci_address;
    if (!d.pci->vhost_net.empty()) p["vhost-net"] = d.pci->vhost_net;
    if (!d.pci->rdma_device.empty()) p["rdma-device"] = d.pci->rdma_device;
    if (!d.pci->pf_pci_address.empty()) p["pf-pci-address"] = d.pci->pf_pci_address;
    if (!d.pci->representor_device.empty()) p["representor-device"] = d.pci->representor_device;
    o["pci"] = p;
  }
  return o;
}

}  // namespace

absl::StatusOr<std::vector<NetworkStatusEntry>> ParseNetworkStatus(std::string_view text) {
  auto doc = ParseBounded(text, "network-status");
  if (!doc.ok()) return doc.status();
  if (!doc->is_array())
    return absl::InvalidArgumentError(
        absl::StrCat("network-status: expected a list, got ", internal::DescribeJson(*doc)));
  if (doc->size() > kMaxEntries)
    return absl::InvalidArgumentError(
        absl::StrCat("network-status has ", doc->size(), " entries, more than ", kMaxEntries));
  Reader rd;
  auto& r = rd.r();
  std::vector<NetworkStatusEntry> out;
  for (size_t i = 0; i < doc->size(); ++i) {
    const json& e = (*doc)[i];
    const std::string p = IndexPath("", i);
    if (!e.is_object()) {
      r.TypeError(p, "an object", e);
      continue;
    }
    NetworkStatusEntry x;
    x.name = r.String(e, "name", p).value_or("");
    if (x.name.empty()) r.Error(JoinPath(p, "name"), "required");
    x.interface = r.String(e, "interface", p).value_or("");
    if (x.interface.size() > 15)
      r.Error(JoinPath(p, "interface"),
              absl::StrCat(Quote(x.interface), " is longer than IFNAMSIZ-1 (15)"));
    x.ips = rd.Ips(e, "ips", p);
    x.mac = rd.Mac(e, "mac", p);
    x.mtu = rd.Mtu(e, "mtu", p);
    x.is_default = r.Bool(e, "default", p).value_or(false);
    if (const json* dns = r.Object(e, "dns", p)) {
      const std::string dp = JoinPath(p, "dns");
      x.dns.nameservers = rd.Ips(*dns, "nameservers", dp);
      x.dns.domain = r.String(*dns, "domain", dp).value_or("");
      x.dns.search = r.StringList(*dns, "search", dp);
    }
    x.gateway = rd.Ips(e, "gateway", p);
    x.device_info = rd.Device(e, "device-info", p);
    out.push_back(std::move(x));
  }
  if (!rd.errors().empty()) {
    auto st = ErrorsToStatus(rd.errors());
    return absl::InvalidArgumentError(absl::StrCat("network-status: ", st.message()));
  }
  return out;
}

std::string SerializeNetworkStatus(const std::vector<NetworkStatusEntry>& entries) {
  json out = json::array();
  for (const auto& e : entries) {
    json o = {{"name", e.name}};
    if (!e.interface.empty()) o["interface"] = e.interface;
    if (!e.ips.empty()) o["ips"] = e.ips;
    if (!e.mac.empty()) o["mac"] = e.mac;
    if (e.mtu) o["mtu"] = *e.mtu;
    o["default"] = e.is_default;
    if (!e.dns.nameservers.empty() || !e.dns.domain.empty() || !e.dns.search.empty()) {
      json d = json::object();
      if (!e.dns.nameservers.empty()) d["nameservers"] = e.dns.nameservers;
      if (!e.dns.domain.empty()) d["domain"] = e.dns.domain;
      if (!e.dns.search.empty()) d["search"] = e.dns.search;
      o["dns"] = d;
    }
    if (!e.gateway.empty()) o["gateway"] = e.gateway;
    if (e.device_info) o["device-info"] = DeviceJson(*e.device_info);
    out.push_back(o);
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<std::vector<NetworkInfoInterface>> ParseNetworkInfo(std::string_view text) {
  auto doc = ParseBounded(text, "network-info");
  if (!doc.ok()) return doc.status();
  if (!doc->is_object())
    return absl::InvalidArgumentError(
        absl::StrCat("network-info: expected an object, got ", internal::DescribeJson(*doc)));
  Reader rd;
  auto& r = rd.r();
  std::vector<NetworkInfoInterface> out;
  if (const json* ifs = r.Array(*doc, "interfaces", "")) {
    if (ifs->size() > kMaxEntries)
      return absl::InvalidArgumentError(
          absl::StrCat("network-info has ", ifs->size(), " interfaces, more than ", kMaxEntries));
    for (size_t i = 0; i < ifs->size(); ++i) {
      const json& e = (*ifs)[i];
      const std::string p = IndexPath("interfaces", i);
      if (!e.is_object()) {
        r.TypeError(p, "an object", e);
        continue;
      }
      NetworkInfoInterface x;
      x.network = r.String(e, "network", p).value_or("");
      if (x.network.empty()) r.Error(JoinPath(p, "network"), "required");
      x.device_info = rd.Device(e, "deviceInfo", p);
      x.mac = rd.Mac(e, "mac", p);
      x.mtu = rd.Mtu(e, "mtu", p);
      out.push_back(std::move(x));
    }
  }
  if (!rd.errors().empty()) {
    auto st = ErrorsToStatus(rd.errors());
    return absl::InvalidArgumentError(absl::StrCat("network-info: ", st.message()));
  }
  return out;
}

}  // namespace k6t::api
