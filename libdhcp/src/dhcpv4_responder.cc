// Dhcpv4Responder (responder.h): DHCPv4 requests in, replies out.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bytes.h"
#include "k6t/dhcp/responder.h"
#include "offer_fields.h"

namespace k6t::dhcp {
namespace {

constexpr Ipv4 kZero4{};
constexpr Ipv4 kBroadcast4{255, 255, 255, 255};
constexpr Mac kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr size_t kIpUdpHeaders = 28;

std::string U32(uint32_t v) { return internal::BeU32(v); }

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

// The reply's own options for a lease: type, server id, lease, renewal and rebinding times.
void AddLeaseTimes(uint32_t lease, Dhcpv4Message& m) {
  m.options.push_back({opt4::kLeaseTime, U32(lease)});
  if (lease != 0xFFFFFFFFu) {
    m.options.push_back({opt4::kRenewalTime, U32(lease / 2)});
    m.options.push_back(
        {opt4::kRebindingTime, U32(static_cast<uint32_t>(uint64_t{lease} * 7 / 8))});
  }
}

}  // namespace

absl::StatusOr<Dhcpv4Responder> Dhcpv4Responder::Create(const api::DhcpV4Offer& o,
                                                        const std::string& client_mac,
                                                        int link_mtu) {
  Dhcpv4Responder r;
  auto server = ParseIpv4(o.server_ip);
  if (!server.ok()) return internal::InField(server.status(), "server_ip");
  auto client = ParseIpv4(o.client_ip);
  if (!client.ok()) return internal::InField(client.status(), "client_ip");
  r.server_ = *server;
  r.client_ = *client;
  r.lease_ = o.lease_seconds;
  if (!client_mac.empty()) {
    auto mac = ParseMac(client_mac);
    if (!mac.ok()) return internal::InField(mac.status(), "client_mac");
    r.filter_ = *mac;
  }
  auto options = Dhcpv4Options::FromOffer(o);
  if (!options.ok()) return options.status();
  r.options_ = std::move(*options);

  // A reply must not be fragmented (clients read raw frames): it stays within the smaller
  // of the link's and the offer's MTU, and RFC 2131 lets it always reach 576 bytes.
  size_t mtu = 0;
  for (int m : {link_mtu, o.mtu})
    if (m > 0) mtu = mtu == 0 ? static_cast<size_t>(m) : std::min(mtu, static_cast<size_t>(m));
  r.max_message_ = std::max(mtu, kDhcpv4MinMaxMessage);

  // What the largest and the smallest OFFER leave out; every budget lies between.
  Dhcpv4Message offer = r.Base(Dhcpv4Message{}, Dhcpv4Type::kOffer).message;
  AddLeaseTimes(r.lease_, offer);
  auto at_max = r.options_->Fit(offer, r.max_message_ - kIpUdpHeaders);
  auto at_min = r.options_->Fit(offer, kDhcpv4MinMaxMessage - kIpUdpHeaders);
  if (!at_max.ok()) return at_max.status();  // FromOffer made sure the essentials fit 576
  if (!at_min.ok()) return at_min.status();
  r.dropped_at_max_ = at_max->left_out.size();
  r.dropped_at_min_ = at_min->left_out.size();
  r.left_out_ = r.options_->skipped();
  r.left_out_.insert(r.left_out_.end(), at_min->left_out.begin(), at_min->left_out.end());
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

// The client's option 57 counts the IP and UDP headers; never below the RFC floor of 576,
// never above max_message_.
size_t Dhcpv4Responder::Budget(const Dhcpv4Message& req) const {
  size_t max = kDhcpv4MinMaxMessage;
  if (const std::string* s = req.Find(opt4::kMaxMessageSize); s && s->size() == 2)
    max = std::max<size_t>(max, static_cast<uint8_t>((*s)[0]) << 8 | static_cast<uint8_t>((*s)[1]));
  return std::min(max, max_message_);
}

Dhcpv4Outcome Dhcpv4Responder::Finish(const Dhcpv4Message& req, Dhcpv4Reply r, bool configure,
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
  const size_t budget = Budget(req);
  if (!configure) {
    auto enc = EncodeDhcpv4(r.message, budget - kIpUdpHeaders);
    if (!enc.ok()) return Dhcpv4Outcome{std::nullopt, std::string(enc.status().message())};
    r.payload = std::move(enc->bytes);
    return Dhcpv4Outcome{std::move(r), std::move(note)};
  }
  // What a larger budget left out, the smallest budget's answer when it is the smallest.
  const size_t at_least = budget <= kDhcpv4MinMaxMessage ? dropped_at_min_ : dropped_at_max_;
  auto fit = options_->Fit(r.message, budget - kIpUdpHeaders, at_least);
  if (!fit.ok())  // cannot happen: Create checked the essentials at 576 bytes
    return Dhcpv4Outcome{std::nullopt,
                         absl::StrCat("reply does not fit: ", fit.status().message())};
  r.message = std::move(fit->message);
  r.payload = std::move(fit->bytes);
  if (!fit->left_out.empty())
    absl::StrAppend(&note, " (", budget, "-byte reply leaves out ",
                    absl::StrJoin(fit->left_out, ", "), ")");
  return Dhcpv4Outcome{std::move(r), std::move(note)};
}

Dhcpv4Outcome Dhcpv4Responder::Nak(const Dhcpv4Message& req, std::string why) const {
  Dhcpv4Reply r = Base(req, Dhcpv4Type::kNak);
  r.message.options.push_back({opt4::kMessage, why});
  return Finish(req, std::move(r), /*configure=*/false, absl::StrCat("NAK: ", why));
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
            absl::StrCat("ignored: client ", FormatMac(mac), " is not ", FormatMac(*filter_))};
  const auto type = req.Type();
  if (!type) return {std::nullopt, "ignored: no valid message type"};
  const std::string who = FormatMac(mac);

  auto lease = [&](Dhcpv4Type t) {
    Dhcpv4Reply r = Base(req, t);
    r.message.yiaddr = client_;
    AddLeaseTimes(lease_, r.message);
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
      return Finish(req, lease(Dhcpv4Type::kOffer), /*configure=*/true,
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
      return Finish(req, lease(Dhcpv4Type::kAck), /*configure=*/true,
                    absl::StrCat("REQUEST from ", who, ": ACK ", FormatIpv4(client_)));
    }
    case Dhcpv4Type::kInform: {
      // §4.3.5: configuration only; no lease time, no yiaddr; unicast to ciaddr.
      Dhcpv4Reply r = Base(req, Dhcpv4Type::kAck);
      r.message.ciaddr = req.ciaddr;
      return Finish(req, std::move(r), /*configure=*/true,
                    absl::StrCat("INFORM from ", who, ": ACK"));
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

}  // namespace k6t::dhcp
