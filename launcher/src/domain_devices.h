// What hotplug needs to know about a live domain, read from libvirt's own XML: the network
// devices (by alias), and which pcie-root-ports still have nothing behind them. Also the
// small XML edits hotplug makes (link state of a live <interface>).
//
// The input is libvirt's output (virDomainGetXMLDesc), not user input: the scanner expects
// well-formed XML and skips what it does not understand, returning an error only when the
// document is not XML at all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace k6t::launcher {

struct LiveDevice {
  std::string kind;  // "interface" | "hostdev"
  std::string alias;
  std::string mac;
  std::string target;      // tap device (interfaces)
  std::string link_state;  // "up" | "down"
  std::string model;
  int queues = 1;
  // Byte range of the whole element in the document it was read from.
  size_t begin = 0, end = 0;
};

struct LiveDomain {
  std::vector<LiveDevice> devices;
  int root_ports = 0;
  int free_root_ports = 0;

  const LiveDevice* FindAlias(std::string_view alias) const;
};

absl::StatusOr<LiveDomain> ParseLiveDomain(std::string_view xml);

// The alias a device fragment (a plan's domain_xml) declares: `<alias name='ua-blue'/>`.
std::string FragmentAlias(std::string_view fragment);

// `element` (one <interface>...</interface>) with its <link state=...> set to `up`/down.
std::string WithLinkState(std::string_view element, bool up);

}  // namespace k6t::launcher
