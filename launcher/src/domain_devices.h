// What hotplug needs to know about a live domain, read from libvirt's own XML (through
// libxml2): the network devices by alias, and which pcie-root-ports still have nothing
// behind them. Also the one XML edit hotplug makes: the link state of a live <interface>.
//
// The input is libvirt's output (virDomainGetXMLDesc), not user input: what is not
// understood is skipped. Errors: InvalidArgument when the document is not a well-formed
// <domain> (or, for WithLinkState, not an <interface>). Thread-safety: pure functions.
// Privileges: none.
#pragma once

#include <set>
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
  std::string element;  // the whole element, as libvirt gave it (for UpdateDevice)
};

struct LiveDomain {
  std::vector<LiveDevice> devices;
  int root_ports = 0;
  int free_root_ports = 0;

  const LiveDevice* FindAlias(std::string_view alias) const;
};

absl::StatusOr<LiveDomain> ParseLiveDomain(std::string_view xml);

// `element` (one <interface>) with its <link state=...> set to up or down.
absl::StatusOr<std::string> WithLinkState(std::string_view element, bool up);

// `domain_xml` without the <hostdev> devices whose alias is in `aliases` (their controllers
// and root ports stay: what a domain looks like after those devices were unplugged live).
absl::StatusOr<std::string> WithoutHostdevs(std::string_view domain_xml,
                                            const std::set<std::string>& aliases);

}  // namespace k6t::launcher
