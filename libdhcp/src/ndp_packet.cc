#include "k6t/dhcp/ndp_packet.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bytes.h"

namespace k6t::dhcp {
namespace {

struct NdOption {
  uint8_t type;
  std::span<const uint8_t> body;  // after type and length
};

absl::StatusOr<std::vector<NdOption>> ParseNdOptions(std::span<const uint8_t> data) {
  std::vector<NdOption> out;
  size_t i = 0;
  while (i < data.size()) {
    if (out.size() >= kNdpMaxOptions)
      return absl::ResourceExhaustedError(
          absl::StrCat("more than ", kNdpMaxOptions, " ND options"));
    if (i + 2 > data.size()) return absl::InvalidArgumentError("ND option header truncated");
    const size_t len = static_cast<size_t>(data[i + 1]) * 8;
    if (len == 0) return absl::InvalidArgumentError("ND option of length 0");
    if (i + len > data.size())
      return absl::InvalidArgumentError(absl::StrCat("ND option ", data[i], " claims ", len,
                                                     " bytes, ", data.size() - i, " left"));
    out.push_back(NdOption{data[i], data.subspan(i + 2, len - 2)});
    i += len;
  }
  return out;
}

}  // namespace

absl::StatusOr<RouterSolicit> ParseRouterSolicit(std::span<const uint8_t> icmp) {
  if (icmp.size() < 8)
    return absl::InvalidArgumentError(
        absl::StrCat("router solicitation of ", icmp.size(), " bytes"));
  if (icmp[0] != kIcmpv6RouterSolicit || icmp[1] != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("ICMPv6 type ", icmp[0], " code ", icmp[1], " is not a router solicitation"));
  auto opts = ParseNdOptions(icmp.subspan(8));
  if (!opts.ok()) return opts.status();
  RouterSolicit rs;
  for (const auto& o : *opts)
    if (o.type == kNdOptSourceLinkAddr && o.body.size() == 6) {
      Mac m;
      std::copy(o.body.begin(), o.body.end(), m.begin());
      rs.source_link_addr = m;
    }
  return rs;
}

std::vector<uint8_t> EncodeRouterAdvert(const RouterAdvertParams& p) {
  std::vector<uint8_t> out;
  out.reserve(64);
  internal::Writer w(out);
  w.U8(kIcmpv6RouterAdvert);
  w.U8(0);
  w.U16(0);  // checksum: computed by the kernel
  w.U8(p.cur_hop_limit);
  w.U8(static_cast<uint8_t>((p.managed ? 0x80 : 0) | (p.other ? 0x40 : 0)));
  w.U16(p.router_lifetime);
  w.U32(p.reachable_time);
  w.U32(p.retrans_timer);
  if (p.source_link_addr) {
    w.U8(kNdOptSourceLinkAddr);
    w.U8(1);
    w.Bytes(*p.source_link_addr);
  }
  if (p.mtu > 0) {
    w.U8(kNdOptMtu);
    w.U8(1);
    w.U16(0);
    w.U32(p.mtu);
  }
  if (p.prefix) {
    w.U8(kNdOptPrefixInfo);
    w.U8(4);
    w.U8(p.prefix_len);
    w.U8(0x80);  // L=1, A=0
    w.U32(p.prefix_valid);
    w.U32(p.prefix_preferred);
    w.U32(0);
    w.Bytes(*p.prefix);
  }
  return out;
}

absl::StatusOr<RouterAdvertParams> ParseRouterAdvert(std::span<const uint8_t> icmp) {
  if (icmp.size() < 16 || icmp[0] != kIcmpv6RouterAdvert || icmp[1] != 0)
    return absl::InvalidArgumentError("not a router advertisement");
  internal::Reader r(icmp.subspan(4));
  RouterAdvertParams p;
  uint8_t flags = 0;
  r.U8(p.cur_hop_limit);
  r.U8(flags);
  r.U16(p.router_lifetime);
  r.U32(p.reachable_time);
  r.U32(p.retrans_timer);
  p.managed = flags & 0x80;
  p.other = flags & 0x40;
  auto opts = ParseNdOptions(icmp.subspan(16));
  if (!opts.ok()) return opts.status();
  for (const auto& o : *opts) {
    if (o.type == kNdOptSourceLinkAddr && o.body.size() == 6) {
      Mac m;
      std::copy(o.body.begin(), o.body.end(), m.begin());
      p.source_link_addr = m;
    } else if (o.type == kNdOptMtu && o.body.size() == 6) {
      internal::Reader b(o.body.subspan(2));
      b.U32(p.mtu);
    } else if (o.type == kNdOptPrefixInfo && o.body.size() == 30) {
      internal::Reader b(o.body);
      uint8_t pflags = 0;
      uint32_t reserved = 0;
      std::span<const uint8_t> prefix;
      b.U8(p.prefix_len);
      b.U8(pflags);
      b.U32(p.prefix_valid);
      b.U32(p.prefix_preferred);
      b.U32(reserved);
      b.Bytes(16, prefix);
      if ((pflags & 0x80) == 0 || (pflags & 0x40) != 0)
        return absl::InvalidArgumentError("prefix information is not on-link-only");
      Ipv6 a;
      std::copy(prefix.begin(), prefix.end(), a.begin());
      p.prefix = a;
    }
  }
  return p;
}

}  // namespace k6t::dhcp
