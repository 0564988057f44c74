#include "k6t/dhcp/dhcpv6_packet.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bytes.h"
#include "k6t/api/net.h"

namespace k6t::dhcp {
namespace {

std::span<const uint8_t> Span(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

const std::string* Dhcpv6Message::Find(uint16_t code) const {
  for (const auto& o : options)
    if (o.code == code) return &o.data;
  return nullptr;
}

std::vector<const Dhcpv6Option*> Dhcpv6Message::FindAll(uint16_t code) const {
  std::vector<const Dhcpv6Option*> out;
  for (const auto& o : options)
    if (o.code == code) out.push_back(&o);
  return out;
}

absl::StatusOr<std::vector<Dhcpv6Option>> DecodeDhcpv6Options(std::span<const uint8_t> data) {
  std::vector<Dhcpv6Option> out;
  internal::Reader r(data);
  while (r.remaining() > 0) {
    if (out.size() >= kDhcpv6MaxOptions)
      return absl::ResourceExhaustedError(
          absl::StrCat("more than ", kDhcpv6MaxOptions, " DHCPv6 options"));
    Dhcpv6Option o;
    uint16_t len = 0;
    if (!r.U16(o.code) || !r.U16(len))
      return absl::InvalidArgumentError("DHCPv6 option header truncated");
    if (!r.String(len, o.data))
      return absl::InvalidArgumentError(absl::StrCat("DHCPv6 option ", o.code, " claims ", len,
                                                     " bytes, ", r.remaining(), " left"));
    out.push_back(std::move(o));
  }
  return out;
}

void EncodeDhcpv6Options(const std::vector<Dhcpv6Option>& options, std::string& out) {
  for (const auto& o : options) {
    out += internal::BeU16(o.code);
    out += internal::BeU16(static_cast<uint16_t>(o.data.size()));
    out += o.data;
  }
}

absl::StatusOr<Dhcpv6Message> DecodeDhcpv6(std::span<const uint8_t> p) {
  if (p.size() < 4)
    return absl::InvalidArgumentError(absl::StrCat("DHCPv6 message of ", p.size(), " bytes"));
  Dhcpv6Message m;
  if (p[0] == 0 || p[0] > 13)
    return absl::InvalidArgumentError(absl::StrCat("DHCPv6 message type ", p[0]));
  m.type = static_cast<Dhcpv6Type>(p[0]);
  if (m.type == Dhcpv6Type::kRelayForw || m.type == Dhcpv6Type::kRelayRepl)
    return absl::InvalidArgumentError("DHCPv6 relay messages are not served");
  m.xid = static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
  auto opts = DecodeDhcpv6Options(p.subspan(4));
  if (!opts.ok()) return opts.status();
  m.options = std::move(*opts);
  return m;
}

std::vector<uint8_t> EncodeDhcpv6(const Dhcpv6Message& m) {
  std::string body;
  EncodeDhcpv6Options(m.options, body);
  std::vector<uint8_t> out;
  out.reserve(4 + body.size());
  out.push_back(static_cast<uint8_t>(m.type));
  out.push_back(static_cast<uint8_t>(m.xid >> 16));
  out.push_back(static_cast<uint8_t>(m.xid >> 8));
  out.push_back(static_cast<uint8_t>(m.xid));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

absl::StatusOr<IaNa> DecodeIaNa(std::string_view data) {
  internal::Reader r(Span(data));
  IaNa ia;
  if (!r.U32(ia.iaid) || !r.U32(ia.t1) || !r.U32(ia.t2))
    return absl::InvalidArgumentError("IA_NA shorter than 12 bytes");
  auto opts = DecodeDhcpv6Options(Span(data.substr(12)));
  if (!opts.ok()) return opts.status();
  for (auto& o : *opts) {
    if (o.code != opt6::kIaAddr) {
      ia.options.push_back(std::move(o));
      continue;
    }
    internal::Reader a(Span(o.data));
    IaAddress addr;
    std::span<const uint8_t> raw;
    if (!a.Bytes(16, raw) || !a.U32(addr.preferred) || !a.U32(addr.valid))
      return absl::InvalidArgumentError("IAADDR shorter than 24 bytes");
    std::copy(raw.begin(), raw.end(), addr.address.begin());
    auto sub = DecodeDhcpv6Options(Span(std::string_view(o.data).substr(24)));
    if (!sub.ok()) return sub.status();
    addr.options = std::move(*sub);
    ia.addresses.push_back(std::move(addr));
  }
  return ia;
}

std::string EncodeIaNa(const IaNa& ia) {
  std::string out = internal::BeU32(ia.iaid) + internal::BeU32(ia.t1) + internal::BeU32(ia.t2);
  for (const auto& a : ia.addresses) {
    std::string body(a.address.begin(), a.address.end());
    body += internal::BeU32(a.preferred) + internal::BeU32(a.valid);
    EncodeDhcpv6Options(a.options, body);
    EncodeDhcpv6Options({Dhcpv6Option{opt6::kIaAddr, body}}, out);
  }
  EncodeDhcpv6Options(ia.options, out);
  return out;
}

std::string EncodeStatusCode(Dhcpv6Status status, std::string_view message) {
  return internal::BeU16(static_cast<uint16_t>(status)) + std::string(message);
}

absl::StatusOr<Dhcpv6Status> DecodeStatusCode(std::string_view data) {
  if (data.size() < 2) return absl::InvalidArgumentError("status code shorter than 2 bytes");
  return static_cast<Dhcpv6Status>(static_cast<uint8_t>(data[0]) << 8 |
                                   static_cast<uint8_t>(data[1]));
}

absl::StatusOr<std::vector<uint16_t>> DecodeOro(std::string_view data) {
  if (data.size() % 2 != 0) return absl::InvalidArgumentError("ORO of odd length");
  std::vector<uint16_t> out;
  for (size_t i = 0; i < data.size(); i += 2)
    out.push_back(static_cast<uint16_t>(static_cast<uint8_t>(data[i]) << 8 |
                                        static_cast<uint8_t>(data[i + 1])));
  return out;
}

std::string EncodeOro(const std::vector<uint16_t>& codes) {
  std::string out;
  for (uint16_t c : codes) out += internal::BeU16(c);
  return out;
}

std::string EncodeAddresses(const std::vector<Ipv6>& addresses) {
  std::string out;
  for (const auto& a : addresses) out.append(a.begin(), a.end());
  return out;
}

absl::StatusOr<std::vector<Ipv6>> DecodeAddresses(std::string_view data) {
  if (data.size() % 16 != 0)
    return absl::InvalidArgumentError("address list length not a multiple of 16");
  std::vector<Ipv6> out(data.size() / 16);
  for (size_t i = 0; i < out.size(); ++i) std::copy_n(data.begin() + 16 * i, 16, out[i].begin());
  return out;
}

std::string DuidLl(const Mac& mac) {
  return internal::BeU16(3) + internal::BeU16(1) + std::string(mac.begin(), mac.end());
}

std::optional<Mac> MacFromDuid(std::string_view duid) {
  if (duid.size() < 4) return std::nullopt;
  const uint16_t type =
      static_cast<uint16_t>(static_cast<uint8_t>(duid[0]) << 8 | static_cast<uint8_t>(duid[1]));
  const uint16_t hw =
      static_cast<uint16_t>(static_cast<uint8_t>(duid[2]) << 8 | static_cast<uint8_t>(duid[3]));
  size_t off = 0;
  if (type == 1)
    off = 8;  // type, hw type, time
  else if (type == 3)
    off = 4;  // type, hw type
  else
    return std::nullopt;
  if (hw != 1 || duid.size() != off + 6) return std::nullopt;
  Mac m;
  std::copy_n(duid.begin() + off, 6, m.begin());
  return m;
}

// Text to and from the codec's bytes through the tree's one vocabulary (net.h).
absl::StatusOr<Ipv6> ParseIpv6(std::string_view text) {
  auto a = api::IpAddress::Parse(text);
  if (!a.ok()) return a.status();
  if (!a->is_v6())
    return absl::InvalidArgumentError(
        absl::StrCat("\"", a->ToString(), "\" is not an IPv6 address"));
  Ipv6 out;
  std::copy(a->bytes().begin(), a->bytes().end(), out.begin());
  return out;
}

std::string FormatIpv6(const Ipv6& a) { return api::IpAddress::V6(a).ToString(); }

}  // namespace k6t::dhcp
