#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "k6t/dhcp/dns_name.h"
#include "k6t/dhcp/responder.h"
#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp {
namespace {

using api::DhcpV6Offer;
using api::RouterAdvert;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::HexStr;
using testing::ToHex;

const Mac kBridge{2, 0, 0, 0, 0, 0};
const Mac kGuest{2, 0x11, 0x22, 0x33, 0x44, 0x55};

DhcpV6Offer Offer() {
  DhcpV6Offer o;
  o.client_ip = "fd10:0:2::2";
  o.prefix_len = 120;
  o.dns_servers = {"fd00:10:96::a"};
  o.search_domains = {"svc.cluster.local", "cluster.local"};
  o.lease_seconds = 1000;
  return o;
}

Dhcpv6Responder Make(const std::string& filter = "") {
  auto r = Dhcpv6Responder::Create(Offer(), kBridge, filter);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

Dhcpv6Message Msg(Dhcpv6Type t, const Mac& mac = kGuest) {
  Dhcpv6Message m;
  m.type = t;
  m.xid = 0x123456;
  m.options.push_back({opt6::kClientId, DuidLl(mac)});
  return m;
}

std::string Ia(uint32_t iaid, const std::vector<std::string>& addrs = {}) {
  IaNa ia;
  ia.iaid = iaid;
  for (const auto& a : addrs) ia.addresses.push_back({*ParseIpv6(a), 0, 0, {}});
  return EncodeIaNa(ia);
}

const Ipv6 kSrc = LinkLocalFromMac(kGuest);

Dhcpv6Message Decoded(const Dhcpv6Outcome& out) {
  auto m = DecodeDhcpv6(out.payload);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : Dhcpv6Message{};
}

TEST(Dhcpv6Responder, SolicitGetsAdvertiseWithLeaseDnsAndDomains) {
  auto req = Msg(Dhcpv6Type::kSolicit);
  req.options.push_back({opt6::kIaNa, Ia(7)});
  auto out = Make().Respond(req, kSrc);
  ASSERT_TRUE(out.reply) << out.note;
  const auto m = Decoded(out);
  EXPECT_EQ(m.type, Dhcpv6Type::kAdvertise);
  EXPECT_EQ(m.xid, 0x123456u);
  EXPECT_EQ(ToHex(*m.Find(opt6::kServerId)), "00 03 00 01 02 00 00 00 00 00");
  EXPECT_EQ(*m.Find(opt6::kClientId), DuidLl(kGuest));
  EXPECT_EQ(ToHex(*m.Find(opt6::kPreference)), "ff");
  EXPECT_EQ(m.Find(opt6::kRapidCommit), nullptr);
  auto ia = DecodeIaNa(*m.Find(opt6::kIaNa));
  ASSERT_TRUE(ia.ok());
  EXPECT_EQ(ia->iaid, 7u);
  EXPECT_EQ(ia->t1, 500u);
  EXPECT_EQ(ia->t2, 800u);
  ASSERT_EQ(ia->addresses.size(), 1u);
  EXPECT_EQ(FormatIpv6(ia->addresses[0].address), "fd10:0:2::2");
  EXPECT_EQ(ia->addresses[0].preferred, 1000u);
  EXPECT_EQ(ia->addresses[0].valid, 1000u);
  EXPECT_EQ(ToHex(*m.Find(opt6::kDnsServers)),
            ToHex(HexStr("fd00 0010 0096 0000 0000 0000 0000 000a")));
  EXPECT_EQ(*DecodeDomainList(*m.Find(opt6::kDomainList)),
            (std::vector<std::string>{"svc.cluster.local", "cluster.local"}));
}

TEST(Dhcpv6Responder, RapidCommitSolicitGetsReply) {
  auto req = Msg(Dhcpv6Type::kSolicit);
  req.options.push_back({opt6::kRapidCommit, ""});
  req.options.push_back({opt6::kIaNa, Ia(1)});
  auto out = Make().Respond(req, kSrc);
  ASSERT_TRUE(out.reply);
  const auto m = Decoded(out);
  EXPECT_EQ(m.type, Dhcpv6Type::kReply);
  EXPECT_NE(m.Find(opt6::kRapidCommit), nullptr);
  EXPECT_NE(m.Find(opt6::kIaNa), nullptr);
}

TEST(Dhcpv6Responder, RequestRenewRebindGetReply) {
  auto r = Make();
  for (auto t : {Dhcpv6Type::kRequest, Dhcpv6Type::kRenew}) {
    auto req = Msg(t);
    req.options.push_back({opt6::kServerId, r.server_duid()});
    req.options.push_back({opt6::kIaNa, Ia(3, {"fd10:0:2::2"})});
    auto out = r.Respond(req, kSrc);
    ASSERT_TRUE(out.reply) << out.note;
    EXPECT_EQ(Decoded(out).type, Dhcpv6Type::kReply);
    auto ia = DecodeIaNa(*Decoded(out).Find(opt6::kIaNa));
    ASSERT_TRUE(ia.ok());
    EXPECT_EQ(ia->addresses.size(), 1u);
  }
  auto rebind = Msg(Dhcpv6Type::kRebind);
  rebind.options.push_back({opt6::kIaNa, Ia(3, {"fd10:0:2::99"})});
  auto out = r.Respond(rebind, kSrc);
  ASSERT_TRUE(out.reply);
  auto ia = DecodeIaNa(*Decoded(out).Find(opt6::kIaNa));
  ASSERT_TRUE(ia.ok());
  ASSERT_EQ(ia->addresses.size(), 2u);  // ours, and the foreign one with zero lifetimes
  EXPECT_EQ(FormatIpv6(ia->addresses[1].address), "fd10:0:2::99");
  EXPECT_EQ(ia->addresses[1].valid, 0u);
  EXPECT_EQ(ia->addresses[1].preferred, 0u);
}

TEST(Dhcpv6Responder, ServerIdentifierRules) {
  auto r = Make();
  auto req = Msg(Dhcpv6Type::kRequest);  // no server id
  req.options.push_back({opt6::kIaNa, Ia(1)});
  EXPECT_FALSE(r.Respond(req, kSrc).reply);
  req.options.push_back({opt6::kServerId, DuidLl({2, 0, 0, 0, 0, 1})});  // someone else
  EXPECT_THAT(r.Respond(req, kSrc).note, HasSubstr("another server"));
  auto solicit = Msg(Dhcpv6Type::kSolicit);
  solicit.options.push_back({opt6::kIaNa, Ia(1)});
  solicit.options.push_back({opt6::kServerId, r.server_duid()});
  EXPECT_FALSE(r.Respond(solicit, kSrc).reply);
  Dhcpv6Message no_client;
  no_client.type = Dhcpv6Type::kSolicit;
  no_client.options.push_back({opt6::kIaNa, Ia(1)});
  EXPECT_THAT(r.Respond(no_client, kSrc).note, HasSubstr("client identifier"));
}

TEST(Dhcpv6Responder, ConfirmSaysSuccessOnLinkElseNotOnLink) {
  auto r = Make();
  auto req = Msg(Dhcpv6Type::kConfirm);
  req.options.push_back({opt6::kIaNa, Ia(1, {"fd10:0:2::2"})});
  auto out = r.Respond(req, kSrc);
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(*DecodeStatusCode(*Decoded(out).Find(opt6::kStatusCode)), Dhcpv6Status::kSuccess);
  EXPECT_EQ(Decoded(out).Find(opt6::kIaNa), nullptr);

  req = Msg(Dhcpv6Type::kConfirm);
  req.options.push_back({opt6::kIaNa, Ia(1, {"fd10:0:2::2", "fd10:0:3::2"})});
  out = r.Respond(req, kSrc);
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(*DecodeStatusCode(*Decoded(out).Find(opt6::kStatusCode)), Dhcpv6Status::kNotOnLink);
  // Still within the /120: on link.
  req = Msg(Dhcpv6Type::kConfirm);
  req.options.push_back({opt6::kIaNa, Ia(1, {"fd10:0:2::ff"})});
  EXPECT_EQ(*DecodeStatusCode(*Decoded(r.Respond(req, kSrc)).Find(opt6::kStatusCode)),
            Dhcpv6Status::kSuccess);
  // Nothing to confirm: no reply (RFC 8415 §18.3.3).
  EXPECT_FALSE(r.Respond(Msg(Dhcpv6Type::kConfirm), kSrc).reply);
}

TEST(Dhcpv6Responder, ReleaseDeclineAndInformationRequest) {
  auto r = Make();
  for (auto t : {Dhcpv6Type::kRelease, Dhcpv6Type::kDecline}) {
    auto req = Msg(t);
    req.options.push_back({opt6::kServerId, r.server_duid()});
    req.options.push_back({opt6::kIaNa, Ia(1, {"fd10:0:2::2"})});
    auto out = r.Respond(req, kSrc);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(*DecodeStatusCode(*Decoded(out).Find(opt6::kStatusCode)), Dhcpv6Status::kSuccess);
  }
  Dhcpv6Message info;
  info.type = Dhcpv6Type::kInformationRequest;
  info.xid = 9;
  auto out = r.Respond(info, kSrc);
  ASSERT_TRUE(out.reply) << out.note;
  const auto m = Decoded(out);
  EXPECT_EQ(m.type, Dhcpv6Type::kReply);
  EXPECT_EQ(m.Find(opt6::kIaNa), nullptr);
  EXPECT_NE(m.Find(opt6::kDnsServers), nullptr);
  EXPECT_NE(m.Find(opt6::kDomainList), nullptr);
}

TEST(Dhcpv6Responder, IgnoresServerMessagesAndBadIas) {
  auto r = Make();
  for (auto t : {Dhcpv6Type::kAdvertise, Dhcpv6Type::kReply, Dhcpv6Type::kReconfigure})
    EXPECT_FALSE(r.Respond(Msg(t), kSrc).reply);
  auto req = Msg(Dhcpv6Type::kSolicit);
  req.options.push_back({opt6::kIaNa, "\x01\x02"});
  EXPECT_THAT(r.Respond(req, kSrc).note, HasSubstr("IA_NA"));
  EXPECT_FALSE(r.Respond(Msg(Dhcpv6Type::kSolicit), kSrc).reply);  // no IA_NA
}

TEST(Dhcpv6Responder, MacFilterByDuidOrEui64Source) {
  auto r = Make("02:11:22:33:44:55");
  auto req = Msg(Dhcpv6Type::kSolicit);
  req.options.push_back({opt6::kIaNa, Ia(1)});
  EXPECT_TRUE(r.Respond(req, *ParseIpv6("fe80::1234")).reply);  // DUID-LL carries the MAC
  auto other = Msg(Dhcpv6Type::kSolicit, {2, 0, 0, 0, 0, 0x66});
  other.options.push_back({opt6::kIaNa, Ia(1)});
  EXPECT_FALSE(r.Respond(other, *ParseIpv6("fe80::1234")).reply);
  // A DUID-UUID: recognised by the EUI-64 link-local address.
  auto uuid = other;
  uuid.options[0].data = HexStr("0004 00112233445566778899aabbccddeeff");
  EXPECT_TRUE(r.Respond(uuid, kSrc).reply);
  EXPECT_FALSE(r.Respond(uuid, *ParseIpv6("fe80::1234")).reply);
}

TEST(Dhcpv6Responder, RejectsBadOffers) {
  DhcpV6Offer o = Offer();
  o.client_ip = "10.0.2.2";
  EXPECT_THAT(Dhcpv6Responder::Create(o, kBridge, "").status().message(), HasSubstr("client_ip"));
  o = Offer();
  o.dns_servers = {"10.96.0.10"};
  EXPECT_THAT(Dhcpv6Responder::Create(o, kBridge, "").status().message(), HasSubstr("dns_servers"));
  o = Offer();
  o.prefix_len = 0;
  EXPECT_FALSE(Dhcpv6Responder::Create(o, kBridge, "").ok());
}

// A search list that cannot be offered whole is trimmed (and reported), never refused: one
// interface's DNS configuration never costs the guest its address.
TEST(Dhcpv6Responder, SearchListsThatCannotBeOfferedAreTrimmedNotRefused) {
  DhcpV6Offer o = Offer();
  o.search_domains = {"svc.cluster.local", "bad..domain"};
  for (int i = 0; i < 20; ++i)
    o.search_domains.push_back(absl::StrCat("n", 10 + i, "-", std::string(56, 'x'), ".example"));
  auto r = Dhcpv6Responder::Create(o, kBridge, "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->left_out(), ElementsAre(HasSubstr("bad..domain"), HasSubstr("beyond 1024")));
  auto req = Msg(Dhcpv6Type::kSolicit);
  req.options.push_back({opt6::kIaNa, Ia(7)});
  auto out = r->Respond(req, kSrc);
  ASSERT_TRUE(out.reply);
  const Dhcpv6Message reply = Decoded(out);
  const std::string* list = reply.Find(opt6::kDomainList);
  ASSERT_NE(list, nullptr);
  EXPECT_LE(list->size(), kMaxSearchListBytes);
  auto names = DecodeDomainList(*list);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(names->front(), "svc.cluster.local");
  EXPECT_EQ(names->size(), 1u + (1024 - 19) / 70);  // 19 bytes, then 70 per long name
}

TEST(RouterAdvertFromPlan, MasqueradeDefaults) {
  auto p =
      MakeRouterAdvert(RouterAdvert{"fd10:0:2::1", "fd10:0:2::1/120", 1400, true, true}, kBridge);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(FormatIpv6(*p->prefix), "fd10:0:2::");  // host bits cleared
  EXPECT_EQ(p->prefix_len, 120);
  EXPECT_EQ(p->mtu, 1400u);
  EXPECT_GT(p->router_lifetime, 0);
  EXPECT_TRUE(p->managed && p->other);
  EXPECT_EQ(p->source_link_addr, kBridge);
  EXPECT_FALSE(MakeRouterAdvert(RouterAdvert{"", "fd10::/129", 0, true, true}, kBridge).ok());
  EXPECT_FALSE(MakeRouterAdvert(RouterAdvert{"", "10.0.2.0/24", 0, true, true}, kBridge).ok());
  EXPECT_FALSE(MakeRouterAdvert(RouterAdvert{"", "fd10::/64", 1000, true, true}, kBridge).ok());
  EXPECT_EQ(FormatIpv6(LinkLocalFromMac(kBridge)), "fe80::ff:fe00:0");
  EXPECT_EQ(FormatIpv6(LinkLocalFromMac(kGuest)), "fe80::11:22ff:fe33:4455");
}

}  // namespace
}  // namespace k6t::dhcp
