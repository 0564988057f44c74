// The IPv4+UDP headers of DHCPv4 replies, which leave on a packet socket (see server.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "k6t/dhcp/dhcpv4_packet.h"

namespace k6t::dhcp::internal {

// RFC 1071 one's-complement sum, folded and inverted.
uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t initial = 0);

// An IPv4 datagram (TTL 64, no options) carrying one UDP datagram with its checksum.
std::vector<uint8_t> BuildUdp4(const Ipv4& src, const Ipv4& dst, uint16_t src_port,
                               uint16_t dst_port, std::span<const uint8_t> payload);

}  // namespace k6t::dhcp::internal
