#include "frames.h"

#include "bytes.h"

namespace k6t::dhcp::internal {
namespace {

uint32_t Sum(std::span<const uint8_t> data, uint32_t acc) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) acc += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < data.size()) acc += static_cast<uint32_t>(data[i] << 8);
  return acc;
}

uint16_t Fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

}  // namespace

uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t initial) {
  return Fold(Sum(data, initial));
}

std::vector<uint8_t> BuildUdp4(const Ipv4& src, const Ipv4& dst, uint16_t src_port,
                               uint16_t dst_port, std::span<const uint8_t> payload) {
  const uint16_t udp_len = static_cast<uint16_t>(8 + payload.size());
  const uint16_t total = static_cast<uint16_t>(20 + udp_len);
  std::vector<uint8_t> out;
  out.reserve(total);
  Writer w(out);
  w.U8(0x45);  // version 4, 5-word header
  w.U8(0x10);  // TOS low delay, as ISC dhcpd and dnsmasq
  w.U16(total);
  w.U16(0);  // identification
  w.U16(0);  // no fragmentation flags
  w.U8(64);  // TTL
  w.U8(17);  // UDP
  w.U16(0);  // header checksum, below
  w.Bytes(src);
  w.Bytes(dst);
  const uint16_t ip_sum = InternetChecksum(std::span<const uint8_t>(out.data(), 20));
  out[10] = static_cast<uint8_t>(ip_sum >> 8);
  out[11] = static_cast<uint8_t>(ip_sum);
  w.U16(src_port);
  w.U16(dst_port);
  w.U16(udp_len);
  w.U16(0);  // checksum, below
  w.Bytes(payload);
  // Pseudo-header: addresses, protocol, UDP length.
  uint32_t acc = 17 + udp_len;
  acc = Sum(src, acc);
  acc = Sum(dst, acc);
  uint16_t udp_sum = Fold(Sum(std::span<const uint8_t>(out.data() + 20, udp_len), acc));
  if (udp_sum == 0) udp_sum = 0xFFFF;  // 0 means "no checksum" in UDP over IPv4
  out[26] = static_cast<uint8_t>(udp_sum >> 8);
  out[27] = static_cast<uint8_t>(udp_sum);
  return out;
}

}  // namespace k6t::dhcp::internal
