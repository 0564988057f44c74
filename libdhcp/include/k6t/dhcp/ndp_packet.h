// ICMPv6 neighbour discovery messages of a router (RFC 4861): parse a Router Solicitation
// as it arrives on a raw ICMPv6 socket (ICMPv6 header first, no IPv6 header), encode a
// Router Advertisement. The checksum is left 0: the kernel fills it for ICMPv6 raw sockets.
// Errors: InvalidArgument for a message that is not what it should be (type, length,
// options), ResourceExhausted beyond the option-count bound. Thread-safety: pure functions.
// Privileges: none.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/dhcp/dhcpv6_packet.h"

namespace k6t::dhcp {

inline constexpr uint8_t kIcmpv6RouterSolicit = 133;
inline constexpr uint8_t kIcmpv6RouterAdvert = 134;
inline constexpr uint8_t kNdOptSourceLinkAddr = 1;
inline constexpr uint8_t kNdOptPrefixInfo = 3;
inline constexpr uint8_t kNdOptMtu = 5;
inline constexpr size_t kNdpMaxOptions = 32;

struct RouterSolicit {
  std::optional<Mac> source_link_addr;  // option 1 with an Ethernet address, if present
};

// RFC 4861 §6.1.1 checks that need only the ICMPv6 payload: type 133, code 0, >= 8 bytes,
// every option of non-zero length inside the message (a zero length would loop forever in a
// naive parser), at most kNdpMaxOptions options. The hop-limit-255 check needs the IPv6
// header and is the caller's (IPV6_RECVHOPLIMIT).
absl::StatusOr<RouterSolicit> ParseRouterSolicit(std::span<const uint8_t> icmp);

struct RouterAdvertParams {
  uint8_t cur_hop_limit = 64;
  bool managed = true;              // M: addresses by DHCPv6
  bool other = true;                // O: other configuration by DHCPv6
  uint16_t router_lifetime = 1800;  // seconds; > 0 makes the guest install a default route
  uint32_t reachable_time = 0;
  uint32_t retrans_timer = 0;
  std::optional<Mac> source_link_addr;
  uint32_t mtu = 0;  // 0: no MTU option
  // Prefix information: on-link (L), never autonomous (A) since DHCPv6 hands out the address.
  std::optional<Ipv6> prefix;
  uint8_t prefix_len = 64;
  uint32_t prefix_valid = 0xFFFFFFFFu;
  uint32_t prefix_preferred = 0xFFFFFFFFu;
};

std::vector<uint8_t> EncodeRouterAdvert(const RouterAdvertParams& p);

// For tests and the fuzzer: the inverse of EncodeRouterAdvert (ICMPv6 header first).
absl::StatusOr<RouterAdvertParams> ParseRouterAdvert(std::span<const uint8_t> icmp);

}  // namespace k6t::dhcp
