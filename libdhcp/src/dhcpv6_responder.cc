// Dhcpv6Responder and the router advertisement of a plan (responder.h).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "k6t/api/net.h"
#include "k6t/dhcp/dns_name.h"
#include "k6t/dhcp/responder.h"
#include "offer_fields.h"

namespace k6t::dhcp {

using internal::InField;

absl::StatusOr<Dhcpv6Responder> Dhcpv6Responder::Create(const api::DhcpV6Offer& o,
                                                        const Mac& server_mac,
                                                        const std::string& client_mac) {
  Dhcpv6Responder r;
  auto a = ParseIpv6(o.client_ip);
  if (!a.ok()) return InField(a.status(), "client_ip");
  if (o.prefix_len < 1 || o.prefix_len > 128)
    return absl::InvalidArgumentError(absl::StrCat("prefix_len ", o.prefix_len, " not in 1..128"));
  r.client_ = *a;
  r.prefix_len_ = o.prefix_len;
  r.lease_ = o.lease_seconds;
  r.duid_ = DuidLl(server_mac);
  if (!client_mac.empty()) {
    auto mac = ParseMac(client_mac);
    if (!mac.ok()) return InField(mac.status(), "client_mac");
    r.filter_ = *mac;
  }
  if (!o.dns_servers.empty()) {
    std::vector<Ipv6> dns;
    for (const auto& d : o.dns_servers) {
      auto x = ParseIpv6(d);
      if (!x.ok()) return InField(x.status(), "dns_servers");
      dns.push_back(*x);
    }
    r.config_options_.push_back({opt6::kDnsServers, EncodeAddresses(dns)});
  }
  // From the pod's resolv.conf: what cannot be offered is left out and reported, never fatal.
  SearchList search = BuildSearchList(o.search_domains, kMaxSearchListBytes);
  if (!search.wire.empty()) {
    std::string list;
    for (const auto& name : search.wire) list += name;
    r.config_options_.push_back({opt6::kDomainList, std::move(list)});
  }
  r.left_out_ = std::move(search.skipped);
  return r;
}

bool Dhcpv6Responder::OnLink(const Ipv6& a) const {
  for (int bit = 0; bit < prefix_len_; ++bit) {
    const uint8_t m = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((a[bit / 8] & m) != (client_[bit / 8] & m)) return false;
  }
  return true;
}

IaNa Dhcpv6Responder::Lease(const IaNa& requested) const {
  IaNa ia;
  ia.iaid = requested.iaid;
  ia.t1 = lease_ == 0xFFFFFFFFu ? lease_ : lease_ / 2;
  ia.t2 = lease_ == 0xFFFFFFFFu ? lease_ : static_cast<uint32_t>(uint64_t{lease_} * 4 / 5);
  ia.addresses.push_back(IaAddress{client_, lease_, lease_, {}});
  // RFC 8415 §18.3.4: an address the client holds that is not its lease is returned with
  // zero lifetimes so the client drops it.
  for (const auto& held : requested.addresses)
    if (held.address != client_ && ia.addresses.size() < 8)
      ia.addresses.push_back(IaAddress{held.address, 0, 0, {}});
  return ia;
}

Dhcpv6Outcome Dhcpv6Responder::Respond(std::span<const uint8_t> packet, const Ipv6& source) const {
  auto m = DecodeDhcpv6(packet);
  if (!m.ok()) return {std::nullopt, {}, absl::StrCat("malformed: ", m.status().message())};
  return Respond(*m, source);
}

Dhcpv6Outcome Dhcpv6Responder::Respond(const Dhcpv6Message& req, const Ipv6& source) const {
  using T = Dhcpv6Type;
  const std::string* client_id = req.Find(opt6::kClientId);
  const std::string* server_id = req.Find(opt6::kServerId);
  const T t = req.type;
  if (t == T::kAdvertise || t == T::kReply || t == T::kReconfigure)
    return {std::nullopt, {}, "ignored: a server message"};
  if (client_id == nullptr && t != T::kInformationRequest)
    return {std::nullopt, {}, "ignored: no client identifier"};
  if (client_id != nullptr && (client_id->empty() || client_id->size() > 130))
    return {std::nullopt, {}, "ignored: bad client identifier length"};
  // RFC 8415 §16: which messages must, and which must not, name a server.
  const bool needs_sid = t == T::kRequest || t == T::kRenew || t == T::kRelease || t == T::kDecline;
  const bool forbids_sid = t == T::kSolicit || t == T::kConfirm || t == T::kRebind;
  if (needs_sid && (server_id == nullptr || *server_id != duid_))
    return {std::nullopt, {}, "ignored: addressed to another server"};
  if (forbids_sid && server_id != nullptr) return {std::nullopt, {}, "ignored: server id present"};
  if (t == T::kInformationRequest && server_id != nullptr && *server_id != duid_)
    return {std::nullopt, {}, "ignored: addressed to another server"};
  if (filter_) {
    const auto duid_mac = client_id ? MacFromDuid(*client_id) : std::nullopt;
    if (!(duid_mac && *duid_mac == *filter_) && source != LinkLocalFromMac(*filter_))
      return {std::nullopt, {}, "ignored: client is not the VM's MAC"};
  }

  std::vector<IaNa> ias;
  for (const Dhcpv6Option* o : req.FindAll(opt6::kIaNa)) {
    auto ia = DecodeIaNa(o->data);
    if (!ia.ok())
      return {std::nullopt, {}, absl::StrCat("malformed IA_NA: ", ia.status().message())};
    ias.push_back(std::move(*ia));
  }

  Dhcpv6Message rep;
  rep.type = T::kReply;
  rep.xid = req.xid;
  rep.options.push_back({opt6::kServerId, duid_});
  if (client_id) rep.options.push_back({opt6::kClientId, *client_id});
  std::string note;
  auto add_leases = [&] {
    for (const auto& ia : ias) rep.options.push_back({opt6::kIaNa, EncodeIaNa(Lease(ia))});
  };
  switch (t) {
    case T::kSolicit:
      if (ias.empty()) return {std::nullopt, {}, "ignored: Solicit without IA_NA"};
      if (req.Find(opt6::kRapidCommit) != nullptr) {
        rep.options.push_back({opt6::kRapidCommit, ""});
        note = "Solicit (rapid commit): Reply ";
      } else {
        rep.type = T::kAdvertise;
        rep.options.push_back({opt6::kPreference, std::string(1, '\xff')});
        note = "Solicit: Advertise ";
      }
      add_leases();
      note += FormatIpv6(client_);
      break;
    case T::kRequest:
    case T::kRenew:
    case T::kRebind:
      add_leases();
      note = absl::StrCat("Request/Renew/Rebind: Reply ", FormatIpv6(client_));
      break;
    case T::kConfirm: {
      size_t n = 0;
      bool all_on_link = true;
      for (const auto& ia : ias)
        for (const auto& a : ia.addresses) {
          ++n;
          all_on_link = all_on_link && OnLink(a.address);
        }
      if (n == 0) return {std::nullopt, {}, "ignored: Confirm without addresses"};
      rep.options.push_back(
          {opt6::kStatusCode,
           all_on_link ? EncodeStatusCode(Dhcpv6Status::kSuccess, "on link")
                       : EncodeStatusCode(Dhcpv6Status::kNotOnLink, "address not on this link")});
      note = all_on_link ? "Confirm: Success" : "Confirm: NotOnLink";
      break;
    }
    case T::kRelease:
    case T::kDecline:
      rep.options.push_back({opt6::kStatusCode, EncodeStatusCode(Dhcpv6Status::kSuccess, "")});
      note = t == T::kRelease ? "Release (fixed address, nothing to free): Reply"
                              : "Decline (address in use on the link): Reply";
      break;
    case T::kInformationRequest:
      note = "Information-request: Reply";
      break;
    default:
      return {std::nullopt, {}, "ignored: unexpected message type"};
  }
  if (t != T::kRelease && t != T::kDecline && t != T::kConfirm)
    rep.options.insert(rep.options.end(), config_options_.begin(), config_options_.end());
  Dhcpv6Outcome out;
  out.payload = EncodeDhcpv6(rep);
  out.reply = std::move(rep);
  out.note = std::move(note);
  return out;
}

// ---------------------------------------------------------------------------- RA

Ipv6 LinkLocalFromMac(const Mac& m) {
  return Ipv6{0xfe, 0x80, 0,    0,    0,    0,    0,   0, static_cast<uint8_t>(m[0] ^ 0x02),
              m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]};
}

absl::StatusOr<RouterAdvertParams> MakeRouterAdvert(const api::RouterAdvert& ra, const Mac& mac) {
  RouterAdvertParams p;
  p.managed = ra.managed;
  p.other = ra.other;
  p.source_link_addr = mac;
  if (ra.mtu != 0) {
    if (ra.mtu < 1280 || ra.mtu > 65535)
      return absl::InvalidArgumentError(absl::StrCat("mtu ", ra.mtu, " not in 1280..65535"));
    p.mtu = static_cast<uint32_t>(ra.mtu);
  }
  if (!ra.prefix.empty()) {
    auto c = api::IpPrefix::Parse(ra.prefix);
    if (!c.ok()) return InField(c.status(), "prefix");
    if (!c->address().is_v6())
      return InField(
          absl::InvalidArgumentError(absl::StrCat("\"", c->ToString(), "\" is not an IPv6 prefix")),
          "prefix");
    const api::IpAddress net = c->Network();
    Ipv6 prefix;
    std::copy(net.bytes().begin(), net.bytes().end(), prefix.begin());
    p.prefix = prefix;
    p.prefix_len = static_cast<uint8_t>(c->length());
  }
  return p;
}

}  // namespace k6t::dhcp
