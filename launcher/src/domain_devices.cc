#include "domain_devices.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"
#include "k6t/domxml/xml.h"

namespace k6t::launcher {
namespace {

using domxml::Element;

int Number(const std::string& s) { return static_cast<int>(std::strtol(s.c_str(), nullptr, 0)); }

LiveDevice ReadDevice(const Element& e) {
  LiveDevice d;
  d.kind = e.name();
  d.alias = e.Child("alias").Attr("name");
  d.mac = e.Child("mac").Attr("address");
  if (d.kind == "interface") d.target = e.Child("target").Attr("dev");
  d.link_state = e.Child("link").Attr("state") == "down" ? "down" : "up";
  d.model = e.Child("model").Attr("type");
  if (Element driver = e.Child("driver"); driver.HasAttr("queues"))
    d.queues = std::max(1, Number(driver.Attr("queues")));
  d.element = e.Emit();
  return d;
}

// The buses of the guest PCI addresses in a device's subtree (not the host address under a
// hostdev's <source>).
void GuestBuses(const Element& e, std::set<int>& buses) {
  for (const Element& c : e.Children()) {
    if (c.name() == "address" && c.Attr("type") == "pci" && e.name() != "source" &&
        c.HasAttr("bus"))
      buses.insert(Number(c.Attr("bus")));
    GuestBuses(c, buses);
  }
}

}  // namespace

const LiveDevice* LiveDomain::FindAlias(std::string_view alias) const {
  for (const auto& d : devices)
    if (!alias.empty() && d.alias == alias) return &d;
  return nullptr;
}

absl::StatusOr<LiveDomain> ParseLiveDomain(std::string_view xml) {
  auto doc = domxml::ParseXml(xml, "domain XML");
  if (!doc.ok()) return doc.status();
  if (doc->root().name() != "domain")
    return absl::InvalidArgumentError(
        absl::StrCat("domain XML: <", doc->root().name(), "> is not a <domain> document"));
  LiveDomain out;
  std::set<int> root_ports, used_buses;
  for (const Element& e : doc->root().Child("devices").Children()) {
    const std::string name = e.name();
    if (name == "interface" || name == "hostdev")
      out.devices.push_back(ReadDevice(e));
    else if (name == "controller" && e.Attr("model") == "pcie-root-port")
      root_ports.insert(Number(e.Attr("index")));
    GuestBuses(e, used_buses);
  }
  out.root_ports = static_cast<int>(root_ports.size());
  for (int index : root_ports)
    if (!used_buses.count(index)) ++out.free_root_ports;
  return out;
}

absl::StatusOr<std::string> WithLinkState(std::string_view element, bool up) {
  auto doc = domxml::ParseXml(element, "live device");
  if (!doc.ok()) return doc.status();
  Element iface = doc->root();
  if (iface.name() != "interface")
    return absl::InvalidArgumentError(
        absl::StrCat("live device: a <", iface.name(), "> has no link state"));
  Element link = iface.Child("link");
  if (!link) link = iface.Add("link");
  link.Set("state", up ? "up" : "down");
  return doc->Emit();
}

absl::StatusOr<std::string> WithoutHostdevs(std::string_view domain_xml,
                                            const std::set<std::string>& aliases) {
  auto doc = domxml::ParseXml(domain_xml, "domain XML");
  if (!doc.ok()) return doc.status();
  for (Element& e : doc->root().Child("devices").Children("hostdev"))
    if (aliases.count(e.Child("alias").Attr("name"))) e.Remove();
  return doc->Emit();
}

}  // namespace k6t::launcher
