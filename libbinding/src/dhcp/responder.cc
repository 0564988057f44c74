#include "k6t/binding/dhcp/responder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "dhcp/bytes.h"
#include "k6t/api/net.h"
#include "k6t/binding/dhcp/dns_name.h"

namespace k6t::binding::dhcp {
namespace {

constexpr Ipv4 kZero4{};
constexpr Ipv4 kBroadcast4{255, 255, 255, 255};
constexpr Mac kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

absl::StatusOr<api::IpPrefix> PrefixOf(const std::string& text, api::IpFamily family) {
  auto p = api::IpPrefix::Parse(text);
  if (!p.ok()) return p.status();
  if (p->family() != family)
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not an IPv", static_cast<int>(family), " prefix"));
  return p;
}

std::string MacText(const Mac& m) { return api::MacAddress(m).ToString(); }

std::string U16(uint16_t v) { return internal::BeU16(v); }
std::string U32(uint32_t v) { return internal::BeU32(v); }

absl::StatusOr<std::optional<Mac>> Filter(const std::string& client_mac) {
  if (client_mac.empty()) return std::optional<Mac>();
  auto m = api::MacAddress::Parse(client_mac);
  if (!m.ok())
    return absl::InvalidArgumentError(absl::StrCat("client_mac: ", m.status().message()));
  return std::optional<Mac>(m->bytes());
}

absl::Status Field(absl::Status st, const char* field) {
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(field, ": ", st.message()));
}

std::string TypeName(Dhcpv4Type t) {
  switch (t) {
    case Dhcpv4Type::kDiscover:
      return "DISCOVER";
    case Dhcpv4Type::kOffer:
      return "OFFER";
    case Dhcpv4Type::kRequest:
      return "REQUEST";
    case Dhcpv4Type::kDecline:
      return "DECLINE";
    case Dhcpv4Type::kAck:
      return "ACK";
    case Dhcpv4Type::kNak:
      return "NAK";
    case Dhcpv4Type::kRelease:
      return "RELEASE";
    case Dhcpv4Type::kInform:
      return "INFORM";
  }
  return "?";
}

}  // namespace

// ---------------------------------------------------------------------------- DHCPv4

absl::StatusOr<Dhcpv4Responder> Dhcpv4Responder::Create(const DhcpV4Offer& o,
                                                        const std::string& client_mac) {
  Dhcpv4Responder r;
  auto server = ParseIpv4(o.server_ip);
  if (!server.ok()) return Field(server.status(), "server_ip");
  auto client = ParseIpv4(o.client_ip);
  if (!client.ok()) return Field(client.status(), "client_ip");
  if (o.prefix_len < 1 || o.prefix_len > 32)
    return absl::InvalidArgumentError(absl::StrCat("prefix_len ", o.prefix_len, " not in 1..32"));
  r.server_ = *server;
  r.client_ = *client;
  r.lease_ = o.lease_seconds;
  r.mtu_ = o.mtu;
  auto filter = Filter(client_mac);
  if (!filter.ok()) return filter.status();
  r.filter_ = *filter;

  auto& opts = r.config_options_;
  opts.push_back({opt4::kSubnetMask, Ipv4Bytes(PrefixToMask(o.prefix_len))});
  std::optional<Ipv4> router;
  if (!o.router.empty()) {
    auto a = ParseIpv4(o.router);
    if (!a.ok()) return Field(a.status(), "router");
    router = *a;
    opts.push_back({opt4::kRouter, Ipv4Bytes(*a)});
  }
  // RFC 3442: a client that receives option 121 ignores option 3, so the default route must
  // be in the list (last, as KubeVirt does, for clients that install routes in order).
  std::vector<ClasslessRoute> routes;
  std::optional<ClasslessRoute> default_route;
  for (const Route& rt : o.routes) {
    if (rt.destination.find(':') != std::string::npos) continue;
    auto dst = PrefixOf(rt.destination, api::IpFamily::kV4);
    if (!dst.ok()) return Field(dst.status(), "routes");
    ClasslessRoute c;
    c.destination =
        internal::BytesOf<Ipv4>(dst->address());  // host bits set: the encoder refuses it
    c.prefix_len = dst->length();
    if (!rt.gateway.empty()) {
      auto gw = ParseIpv4(rt.gateway);
      if (!gw.ok()) return Field(gw.status(), "routes");
      c.router = *gw;
    }
    if (c.prefix_len == 0) {
      default_route = c;
    } else {
      routes.push_back(c);
    }
  }
  if (!routes.empty()) {
    if (!default_route && router) default_route = ClasslessRoute{{}, 0, *router};
    if (default_route) routes.push_back(*default_route);
    auto enc = EncodeClasslessRoutes(routes);
    if (!enc.ok()) return Field(enc.status(), "routes");
    opts.push_back({opt4::kClasslessRoutes, *enc});
  }
  if (!o.dns_servers.empty()) {
    std::string dns;
    for (const auto& d : o.dns_servers) {
      auto a = ParseIpv4(d);
      if (!a.ok()) return Field(a.status(), "dns_servers");
      dns += Ipv4Bytes(*a);
    }
    opts.push_back({opt4::kDns, dns});
  }
  if (o.mtu != 0) {
    if (o.mtu < 68 || o.mtu > 65535)
      return absl::InvalidArgumentError(absl::StrCat("mtu ", o.mtu, " not in 68..65535"));
    opts.push_back({opt4::kMtu, U16(static_cast<uint16_t>(o.mtu))});
  }
  if (!o.hostname.empty()) {
    if (absl::Status st = ValidateDomainName(o.hostname); !st.ok() || o.hostname.size() > 63)
      return absl::InvalidArgumentError(
          absl::StrCat("hostname \"", o.hostname, "\" is not a valid host name"));
    opts.push_back({opt4::kHostname, o.hostname});
  }
  if (!o.search_domains.empty()) {
    std::string longest;
    for (const auto& d : o.search_domains)
      if (d.size() > longest.size()) longest = d;
    auto list = EncodeDomainList(o.search_domains, 255);
    if (!list.ok()) return Field(list.status(), "search_domains");
    opts.push_back({opt4::kDomainName, longest});
    opts.push_back({opt4::kDomainSearch, *list});
  }
  if (!o.ntp_servers.empty()) {
    std::string ntp;
    for (const auto& n : o.ntp_servers) {
      auto a = ParseIpv4(n);
      if (!a.ok()) return Field(a.status(), "ntp_servers");
      ntp += Ipv4Bytes(*a);
    }
    opts.push_back({opt4::kNtp, ntp});
  }
  if (!o.tftp_server_name.empty()) opts.push_back({opt4::kTftpServer, o.tftp_server_name});
  if (!o.boot_file_name.empty()) opts.push_back({opt4::kBootFile, o.boot_file_name});
  for (const auto& [code, value] : o.private_options) {
    if (code < 224 || code > 254)
      return absl::InvalidArgumentError(
          absl::StrCat("private_options: code ", code, " not in 224..254"));
    if (value.size() > 255)
      return absl::InvalidArgumentError(
          absl::StrCat("private_options: option ", code, " longer than 255 bytes"));
    opts.push_back({static_cast<uint8_t>(code), value});
  }
  // Fail now, not at the first DISCOVER, when the options cannot fit a minimum-size reply.
  Dhcpv4Message probe;
  probe.options = opts;
  probe.options.insert(probe.options.begin(), {{opt4::kMessageType, "\x05"},
                                               {opt4::kServerId, Ipv4Bytes(r.server_)},
                                               {opt4::kLeaseTime, U32(r.lease_)},
                                               {opt4::kRenewalTime, U32(0)},
                                               {opt4::kRebindingTime, U32(0)}});
  if (auto enc = EncodeDhcpv4(probe); !enc.ok())
    return absl::InvalidArgumentError(absl::StrCat(
        "the offered DHCPv4 options exceed a 576-byte message: ", enc.status().message()));
  return r;
}

Dhcpv4Reply Dhcpv4Responder::Base(const Dhcpv4Message& req, Dhcpv4Type type) const {
  Dhcpv4Reply r;
  Dhcpv4Message& m = r.message;
  m.op = kBootReply;
  m.htype = req.htype;
  m.hlen = req.hlen;
  m.xid = req.xid;
  m.flags = req.flags;
  m.giaddr = req.giaddr;
  m.chaddr = req.chaddr;
  m.options.push_back({opt4::kMessageType, std::string(1, static_cast<char>(type))});
  m.options.push_back({opt4::kServerId, Ipv4Bytes(server_)});
  r.src_ip = server_;
  return r;
}

Dhcpv4Outcome Dhcpv4Responder::Finish(const Dhcpv4Message& req, Dhcpv4Reply r,
                                      std::string note) const {
  // RFC 2131 §4.1 (giaddr is always 0 here: relayed requests are ignored).
  const bool nak = r.message.Type() == Dhcpv4Type::kNak;
  if (nak || (req.ciaddr == kZero4 && req.broadcast())) {
    r.broadcast = true;
    r.dst_ip = kBroadcast4;
    r.dst_mac = kBroadcastMac;
  } else {
    r.dst_ip = req.ciaddr != kZero4 ? req.ciaddr : r.message.yiaddr;
    r.dst_mac = req.client_mac();
  }
  if (r.dst_ip == kZero4) {  // an INFORM without ciaddr: nowhere to unicast
    r.broadcast = true;
    r.dst_ip = kBroadcast4;
    r.dst_mac = kBroadcastMac;
  }
  // The client's option 57 counts IP and UDP headers; never below the RFC floor of 576,
  // never above the link MTU.
  size_t max = kDhcpv4MinMaxMessage;
  if (const std::string* s = req.Find(opt4::kMaxMessageSize); s && s->size() == 2)
    max = std::max<size_t>(max, static_cast<uint8_t>((*s)[0]) << 8 | static_cast<uint8_t>((*s)[1]));
  max = std::min<size_t>(max, mtu_ >= 576 ? mtu_ : 1500);
  auto& options = r.message.options;
  while (true) {
    auto enc = EncodeDhcpv4(r.message, max - 28);
    if (enc.ok()) {
      r.payload = std::move(enc->bytes);
      break;
    }
    // Cannot happen for a validated offer at 576 bytes; kept as a bounded fallback: drop
    // the least important option (they are ordered by importance).
    if (options.size() <= 2) return Dhcpv4Outcome{std::nullopt, "reply does not fit"};
    options.pop_back();
  }
  return Dhcpv4Outcome{std::move(r), std::move(note)};
}

Dhcpv4Outcome Dhcpv4Responder::Nak(const Dhcpv4Message& req, std::string why) const {
  Dhcpv4Reply r = Base(req, Dhcpv4Type::kNak);
  r.message.options.push_back({opt4::kMessage, why});
  return Finish(req, std::move(r), absl::StrCat("NAK: ", why));
}

Dhcpv4Outcome Dhcpv4Responder::Respond(std::span<const uint8_t> packet) const {
  auto m = DecodeDhcpv4(packet);
  if (!m.ok())
    return Dhcpv4Outcome{std::nullopt, absl::StrCat("malformed: ", m.status().message())};
  return Respond(*m);
}

Dhcpv4Outcome Dhcpv4Responder::Respond(const Dhcpv4Message& req) const {
  if (req.op != kBootRequest) return {std::nullopt, "ignored: not a BOOTREQUEST"};
  if (req.htype != 1 || req.hlen != 6) return {std::nullopt, "ignored: not Ethernet"};
  if (req.giaddr != kZero4) return {std::nullopt, "ignored: relayed (giaddr set)"};
  const Mac mac = req.client_mac();
  if (filter_ && mac != *filter_)
    return {std::nullopt,
            absl::StrCat("ignored: client ", MacText(mac), " is not ", MacText(*filter_))};
  const auto type = req.Type();
  if (!type) return {std::nullopt, "ignored: no valid message type"};
  const std::string who = MacText(mac);

  auto lease = [&](Dhcpv4Type t) {
    Dhcpv4Reply r = Base(req, t);
    r.message.yiaddr = client_;
    r.message.options.push_back({opt4::kLeaseTime, U32(lease_)});
    if (lease_ != 0xFFFFFFFFu) {
      r.message.options.push_back({opt4::kRenewalTime, U32(lease_ / 2)});
      r.message.options.push_back(
          {opt4::kRebindingTime, U32(static_cast<uint32_t>(uint64_t{lease_} * 7 / 8))});
    }
    r.message.options.insert(r.message.options.end(), config_options_.begin(),
                             config_options_.end());
    return r;
  };
  auto requested = [&]() -> std::optional<Ipv4> {
    const std::string* s = req.Find(opt4::kRequestedIp);
    if (s == nullptr || s->size() != 4) return std::nullopt;
    Ipv4 a;
    std::copy(s->begin(), s->end(), a.begin());
    return a;
  };

  switch (*type) {
    case Dhcpv4Type::kDiscover:
      return Finish(req, lease(Dhcpv4Type::kOffer),
                    absl::StrCat("DISCOVER from ", who, ": OFFER ", FormatIpv4(client_)));
    case Dhcpv4Type::kRequest: {
      // §4.3.2: SELECTING carries our server id and option 50; INIT-REBOOT only option 50;
      // RENEWING/REBINDING only ciaddr.
      if (const std::string* sid = req.Find(opt4::kServerId)) {
        if (*sid != Ipv4Bytes(server_))
          return {std::nullopt, absl::StrCat("REQUEST from ", who, " for another server")};
      }
      std::optional<Ipv4> want = requested();
      if (!want && req.ciaddr != kZero4) want = req.ciaddr;
      if (!want) return Nak(req, "REQUEST names no address");
      if (*want != client_)
        return Nak(req, absl::StrCat("address ", FormatIpv4(*want), " is not the client's"));
      return Finish(req, lease(Dhcpv4Type::kAck),
                    absl::StrCat("REQUEST from ", who, ": ACK ", FormatIpv4(client_)));
    }
    case Dhcpv4Type::kInform: {
      // §4.3.5: configuration only; no lease time, no yiaddr; unicast to ciaddr.
      Dhcpv4Reply r = Base(req, Dhcpv4Type::kAck);
      r.message.ciaddr = req.ciaddr;
      r.message.options.insert(r.message.options.end(), config_options_.begin(),
                               config_options_.end());
      return Finish(req, std::move(r), absl::StrCat("INFORM from ", who, ": ACK"));
    }
    case Dhcpv4Type::kDecline: {
      const auto a = requested();
      return {std::nullopt,
              absl::StrCat("DECLINE from ", who, " of ", a ? FormatIpv4(*a) : std::string("?"),
                           ": the address is in use on the link")};
    }
    case Dhcpv4Type::kRelease:
      return {std::nullopt,
              absl::StrCat("RELEASE from ", who, " (fixed address, nothing to free)")};
    default:
      return {std::nullopt, absl::StrCat("ignored: ", TypeName(*type), " is a server message")};
  }
}

// ---------------------------------------------------------------------------- DHCPv6

absl::StatusOr<Dhcpv6Responder> Dhcpv6Responder::Create(const DhcpV6Offer& o, const Mac& server_mac,
                                                        const std::string& client_mac) {
  Dhcpv6Responder r;
  auto a = ParseIpv6(o.client_ip);
  if (!a.ok()) return Field(a.status(), "client_ip");
  if (o.prefix_len < 1 || o.prefix_len > 128)
    return absl::InvalidArgumentError(absl::StrCat("prefix_len ", o.prefix_len, " not in 1..128"));
  r.client_ = *a;
  r.prefix_len_ = o.prefix_len;
  r.lease_ = o.lease_seconds;
  r.duid_ = DuidLl(server_mac);
  auto filter = Filter(client_mac);
  if (!filter.ok()) return filter.status();
  r.filter_ = *filter;
  if (!o.dns_servers.empty()) {
    std::vector<Ipv6> dns;
    for (const auto& d : o.dns_servers) {
      auto x = ParseIpv6(d);
      if (!x.ok()) return Field(x.status(), "dns_servers");
      dns.push_back(*x);
    }
    r.config_options_.push_back({opt6::kDnsServers, EncodeAddresses(dns)});
  }
  if (!o.search_domains.empty()) {
    auto list = EncodeDomainList(o.search_domains, 1024);
    if (!list.ok()) return Field(list.status(), "search_domains");
    r.config_options_.push_back({opt6::kDomainList, *list});
  }
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

absl::StatusOr<RouterAdvertParams> MakeRouterAdvert(const RouterAdvert& ra, const Mac& mac) {
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
    auto c = PrefixOf(ra.prefix, api::IpFamily::kV6);
    if (!c.ok()) return Field(c.status(), "prefix");
    p.prefix = internal::BytesOf<Ipv6>(c->Network());
    p.prefix_len = static_cast<uint8_t>(c->length());
  }
  return p;
}

}  // namespace k6t::binding::dhcp
