// The little of libvirt's domain XML the fake needs, worked on the text: the documents are
// our own generator's output and device fragments, not arbitrary XML. Private to the fake.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace k6t::launcher::testing::fake_xml {

std::string NameOf(const std::string& xml);       // <name>
std::string AliasOf(const std::string& element);  // <alias name=...>
std::string MacOf(const std::string& element);    // <mac address=...>

// One <interface> or <hostdev> element of <devices>: its byte range.
struct Span {
  size_t begin = 0, end = 0;
  std::string kind;  // interface | hostdev
  std::string Of(const std::string& xml) const { return xml.substr(begin, end - begin); }
};
// The devices in document order.
std::vector<Span> Devices(const std::string& xml);
// The device with `alias`, else (no alias given) the interface with `mac`.
std::optional<Span> FindDevice(const std::string& xml, const std::string& alias,
                               const std::string& mac);

// `element` plugged into `xml`'s <devices>, on the lowest free pcie-root-port unless it names
// its own guest address. Internal (libvirt's "No more available PCI slots") when none is free.
absl::StatusOr<std::string> PlugInto(const std::string& xml, std::string element,
                                     const std::string& kind);
// Every device without a guest address gets one (libvirt does this at define).
absl::StatusOr<std::string> AssignAddresses(std::string xml);
// Every device without an alias gets libvirt's own (net0, hostdev0, ...), as in live XML.
std::string AssignAliases(std::string xml);

}  // namespace k6t::launcher::testing::fake_xml
