// What the in-pod DHCPv4, DHCPv6 and router-advertisement servers offer a guest on one
// interface. The planner (libbinding) decides these values, the cache stores them, the
// servers (libdhcp) serve them; they live here, on the ground floor, so that libdhcp and
// its users (the launcher, a hook sidecar) need neither the planner nor the bindings.
//
// Plain values: no errors, no locking (copy or share read-only across threads), no
// privileges. libdhcp validates them (k6t/dhcp/responder.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace k6t::api {

struct Route {
  std::string destination;  // CIDR; "0.0.0.0/0" for the default route
  std::string gateway;      // "" or "0.0.0.0" for on-link
};

// Routing: `router` is the guest's default gateway (option 3), empty when the guest must
// get no default route from this interface; `routes` are the link's other routes (option
// 121, RFC 3442), possibly with the default route among them. A client that gets option
// 121 ignores option 3, so libdhcp puts the default route (this list's, else one via
// `router`) last in option 121 whenever it sends one.
struct DhcpV4Offer {
  std::string server_ip;                 // option 54, also the source address
  std::string client_ip;                 // 10.0.2.2
  int prefix_len = 24;                   // option 1
  std::string router;                    // option 3; empty: no default route
  std::vector<Route> routes;             // option 121
  int mtu = 0;                           // option 26
  std::vector<std::string> dns_servers;  // option 6
  // Option 119, the longest also as option 15. What a reply cannot hold is left out, the
  // last domains first (k6t/dhcp/dhcpv4_options.h).
  std::vector<std::string> search_domains;
  std::string hostname;                                      // option 12
  std::string tftp_server_name;                              // 66
  std::string boot_file_name;                                // 67
  std::vector<std::string> ntp_servers;                      // 42
  std::vector<std::pair<int, std::string>> private_options;  // 224..254
  uint32_t lease_seconds = 999u * 24 * 3600;
};

struct DhcpV6Offer {
  std::string client_ip;  // fd10:0:2::2
  int prefix_len = 120;
  std::vector<std::string> dns_servers;
  std::vector<std::string> search_domains;
  uint32_t lease_seconds = 999u * 24 * 3600;
};

struct RouterAdvert {
  std::string router_ip;  // link-local of the bridge is used as source; this is informative
  std::string prefix;     // fd10:0:2::/120 (advertised on-link, not autonomous)
  int mtu = 0;
  bool managed = true;  // M flag: addresses from DHCPv6
  bool other = true;    // O flag
};

struct DhcpPlan {
  std::string bridge;      // link the servers listen on
  std::string client_mac;  // only this MAC is served (bridge binding); empty: any
  std::optional<DhcpV4Offer> v4;
  std::optional<DhcpV6Offer> v6;
  std::optional<RouterAdvert> ra;
};

}  // namespace k6t::api
