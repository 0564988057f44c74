#include "fake_domain_xml.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"

namespace k6t::launcher::testing::fake_xml {
namespace {

std::string Capture(const std::string& text, const std::regex& re) {
  std::smatch m;
  return std::regex_search(text, m, re) ? m[1].str() : "";
}

// The PCI bus of a device's guest address (not the host address in a hostdev's <source>).
std::optional<int> GuestBus(std::string element) {
  const size_t s = element.find("<source"), e = element.find("</source>");
  if (s != std::string::npos && e != std::string::npos && e > s) element.erase(s, e + 9 - s);
  static const std::regex re("<address\\s+type=['\"]pci['\"][^>]*\\sbus=['\"]([^'\"]+)['\"]");
  const std::string bus = Capture(element, re);
  if (bus.empty()) return std::nullopt;
  return static_cast<int>(std::strtol(bus.c_str(), nullptr, 0));
}

// The lowest pcie-root-port nothing is plugged into.
std::optional<int> FreeRootPort(const std::string& xml) {
  static const std::regex controller("<controller[^>]*>");
  static const std::regex index("index=['\"](\\d+)['\"]");
  std::set<int> ports;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), controller);
       it != std::sregex_iterator(); ++it) {
    const std::string tag = it->str();
    if (tag.find("pcie-root-port") == std::string::npos) continue;
    const std::string n = Capture(tag, index);
    if (!n.empty()) ports.insert(std::atoi(n.c_str()));
  }
  for (const Span& s : Devices(xml))
    if (auto bus = GuestBus(s.Of(xml))) ports.erase(*bus);
  static const std::regex placed(
      "<controller[^>]*>\\s*<address\\s+type=['\"]pci['\"][^>]*\\sbus=['\"]([^'\"]+)['\"]");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), placed); it != std::sregex_iterator();
       ++it)
    ports.erase(static_cast<int>(std::strtol((*it)[1].str().c_str(), nullptr, 0)));
  if (ports.empty()) return std::nullopt;
  return *ports.begin();
}

std::string InsertBeforeClose(std::string element, const std::string& kind,
                              const std::string& text) {
  element.insert(element.rfind("</" + kind + ">"), text);
  return element;
}

std::string PciAddress(int bus) {
  char b[8];
  std::snprintf(b, sizeof(b), "0x%02x", bus);
  return absl::StrCat("<address type='pci' domain='0x0000' bus='", b,
                      "' slot='0x00' function='0x0'/>");
}

}  // namespace

std::string NameOf(const std::string& xml) {
  static const std::regex re("<name>([^<]+)</name>");
  return Capture(xml, re);
}

std::string AliasOf(const std::string& element) {
  static const std::regex re("<alias\\s+name=['\"]([^'\"]+)['\"]");
  return Capture(element, re);
}

std::string MacOf(const std::string& element) {
  static const std::regex re("<mac\\s+address=['\"]([^'\"]+)['\"]");
  return Capture(element, re);
}

std::vector<Span> Devices(const std::string& xml) {
  std::vector<Span> out;
  const size_t lo = xml.find("<devices>"), hi = xml.rfind("</devices>");
  if (lo == std::string::npos || hi == std::string::npos) return out;
  for (size_t pos = lo; pos < hi;) {
    const size_t i = xml.find("<interface", pos), h = xml.find("<hostdev", pos);
    const size_t b = std::min(i, h);
    if (b == std::string::npos || b >= hi) break;
    const std::string kind = b == i ? "interface" : "hostdev";
    const char next = xml[b + 1 + kind.size()];
    if (next != ' ' && next != '>') {
      pos = b + 1;
      continue;
    }
    const size_t close = xml.find("</" + kind + ">", b);
    if (close == std::string::npos) break;
    out.push_back({b, close + kind.size() + 3, kind});
    pos = out.back().end;
  }
  return out;
}

std::optional<Span> FindDevice(const std::string& xml, const std::string& alias,
                               const std::string& mac) {
  for (const Span& s : Devices(xml)) {
    const std::string element = s.Of(xml);
    if (!alias.empty() && AliasOf(element) == alias) return s;
    if (alias.empty() && !mac.empty() && s.kind == "interface" && MacOf(element) == mac) return s;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> PlugInto(const std::string& xml, std::string element,
                                     const std::string& kind) {
  if (!GuestBus(element)) {
    auto port = FreeRootPort(xml);
    if (!port) return absl::InternalError("internal error: No more available PCI slots");
    element = InsertBeforeClose(element, kind, PciAddress(*port));
  }
  std::string out = xml;
  out.insert(out.rfind("</devices>"), element);
  return out;
}

absl::StatusOr<std::string> AssignAddresses(std::string xml) {
  // The guest agent's virtio-serial controller, as libvirt places it: on a free root port.
  static const std::regex serial("<controller type='virtio-serial'([^/>]*)/>");
  for (std::smatch m; std::regex_search(xml, m, serial);) {
    auto port = FreeRootPort(xml);
    if (!port) return absl::InternalError("internal error: No more available PCI slots");
    xml.replace(m.position(0), m.length(0),
                absl::StrCat("<controller type='virtio-serial'", m[1].str(), ">", PciAddress(*port),
                             "</controller>"));
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const Span& s : Devices(xml)) {
      if (GuestBus(s.Of(xml))) continue;
      auto port = FreeRootPort(xml);
      if (!port) return absl::InternalError("internal error: No more available PCI slots");
      xml.replace(s.begin, s.end - s.begin,
                  InsertBeforeClose(s.Of(xml), s.kind, PciAddress(*port)));
      changed = true;
      break;
    }
  }
  return xml;
}

std::string AssignAliases(std::string xml) {
  std::set<std::string> used;
  for (const Span& s : Devices(xml)) used.insert(AliasOf(s.Of(xml)));
  for (bool changed = true; changed;) {
    changed = false;
    for (const Span& s : Devices(xml)) {
      if (!AliasOf(s.Of(xml)).empty()) continue;
      const std::string prefix = s.kind == "interface" ? "net" : "hostdev";
      int n = 0;
      while (used.count(absl::StrCat(prefix, n))) ++n;
      const std::string alias = absl::StrCat(prefix, n);
      used.insert(alias);
      xml.replace(
          s.begin, s.end - s.begin,
          InsertBeforeClose(s.Of(xml), s.kind, absl::StrCat("<alias name='", alias, "'/>")));
      changed = true;
      break;
    }
  }
  return xml;
}

}  // namespace k6t::launcher::testing::fake_xml
