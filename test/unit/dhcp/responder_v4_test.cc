#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "k6t/dhcp/dns_name.h"
#include "k6t/dhcp/responder.h"
#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp {
namespace {

using api::DhcpV4Offer;
using ::testing::HasSubstr;
using testing::HexStr;
using ::testing::Not;
using testing::ToHex;

const Mac kGuest{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

DhcpV4Offer Masquerade() {
  DhcpV4Offer o;
  o.server_ip = "10.0.2.1";
  o.client_ip = "10.0.2.2";
  o.prefix_len = 24;
  o.router = "10.0.2.1";
  o.mtu = 1400;
  o.dns_servers = {"10.96.0.10", "10.96.0.11"};
  o.search_domains = {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"};
  o.hostname = "vm1";
  o.tftp_server_name = "tftp.example";
  o.boot_file_name = "pxelinux.0";
  o.ntp_servers = {"10.0.0.123"};
  o.private_options = {{240, "private-value"}, {254, "x"}};
  o.lease_seconds = 86400;
  return o;
}

Dhcpv4Message Request(Dhcpv4Type type, const Mac& mac = kGuest) {
  Dhcpv4Message m;
  m.xid = 0x01020304;
  std::copy(mac.begin(), mac.end(), m.chaddr.begin());
  m.options.push_back({opt4::kMessageType, std::string(1, static_cast<char>(type))});
  return m;
}

Dhcpv4Responder Make(const DhcpV4Offer& o, const std::string& mac = "") {
  auto r = Dhcpv4Responder::Create(o, mac);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

// What a client reads back from the reply bytes.
Dhcpv4Message Decode(const Dhcpv4Reply& r) {
  auto m = DecodeDhcpv4(r.payload);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : Dhcpv4Message{};
}

TEST(Dhcpv4Responder, DiscoverGetsOfferWithEveryOption) {
  auto out = Make(Masquerade()).Respond(Request(Dhcpv4Type::kDiscover));
  ASSERT_TRUE(out.reply) << out.note;
  const Dhcpv4Message m = Decode(*out.reply);
  EXPECT_EQ(m.op, kBootReply);
  EXPECT_EQ(m.xid, 0x01020304u);
  EXPECT_EQ(m.Type(), Dhcpv4Type::kOffer);
  EXPECT_EQ(FormatIpv4(m.yiaddr), "10.0.2.2");
  EXPECT_EQ(m.client_mac(), kGuest);
  EXPECT_EQ(ToHex(*m.Find(opt4::kServerId)), "0a 00 02 01");
  EXPECT_EQ(ToHex(*m.Find(opt4::kLeaseTime)), "00 01 51 80");
  EXPECT_EQ(ToHex(*m.Find(opt4::kRenewalTime)), "00 00 a8 c0");
  EXPECT_EQ(ToHex(*m.Find(opt4::kRebindingTime)), "00 01 27 50");
  EXPECT_EQ(ToHex(*m.Find(opt4::kSubnetMask)), "ff ff ff 00");
  EXPECT_EQ(ToHex(*m.Find(opt4::kRouter)), "0a 00 02 01");
  EXPECT_EQ(ToHex(*m.Find(opt4::kDns)), "0a 60 00 0a 0a 60 00 0b");
  EXPECT_EQ(ToHex(*m.Find(opt4::kMtu)), "05 78");
  EXPECT_EQ(*m.Find(opt4::kHostname), "vm1");
  EXPECT_EQ(*m.Find(opt4::kDomainName), "default.svc.cluster.local");
  EXPECT_EQ(ToHex(*m.Find(opt4::kDomainSearch)),
            ToHex(HexStr("07 64656661756c74 03 737663 07 636c7573746572 05 6c6f63616c 00"
                         "03 737663 07 636c7573746572 05 6c6f63616c 00"
                         "07 636c7573746572 05 6c6f63616c 00")));
  EXPECT_EQ(ToHex(*m.Find(opt4::kNtp)), "0a 00 00 7b");
  EXPECT_EQ(*m.Find(opt4::kTftpServer), "tftp.example");
  EXPECT_EQ(*m.Find(opt4::kBootFile), "pxelinux.0");
  EXPECT_EQ(*m.Find(240), "private-value");
  EXPECT_EQ(*m.Find(254), "x");
  EXPECT_EQ(m.Find(opt4::kClasslessRoutes), nullptr);  // masquerade: no routes
  EXPECT_EQ(m.options[0].code, opt4::kMessageType);
  // No broadcast bit, no ciaddr: unicast to yiaddr at chaddr.
  EXPECT_FALSE(out.reply->broadcast);
  EXPECT_EQ(FormatIpv4(out.reply->dst_ip), "10.0.2.2");
  EXPECT_EQ(out.reply->dst_mac, kGuest);
  EXPECT_EQ(FormatIpv4(out.reply->src_ip), "10.0.2.1");
  EXPECT_GE(out.reply->payload.size(), kBootpMinSize);
  EXPECT_LE(out.reply->payload.size(), kDhcpv4MinMaxMessage - 28);
}

TEST(Dhcpv4Responder, BroadcastBitMeansBroadcast) {
  auto req = Request(Dhcpv4Type::kDiscover);
  req.flags = kBroadcastFlag;
  auto out = Make(Masquerade()).Respond(req);
  ASSERT_TRUE(out.reply);
  EXPECT_TRUE(out.reply->broadcast);
  EXPECT_EQ(FormatIpv4(out.reply->dst_ip), "255.255.255.255");
  EXPECT_EQ(FormatMac(out.reply->dst_mac), "ff:ff:ff:ff:ff:ff");
  EXPECT_TRUE(Decode(*out.reply).broadcast());
}

TEST(Dhcpv4Responder, SelectingRequestGetsAck) {
  auto req = Request(Dhcpv4Type::kRequest);
  req.Set(opt4::kRequestedIp, HexStr("0a 00 02 02"));
  req.Set(opt4::kServerId, HexStr("0a 00 02 01"));
  auto out = Make(Masquerade()).Respond(req);
  ASSERT_TRUE(out.reply) << out.note;
  const auto m = Decode(*out.reply);
  EXPECT_EQ(m.Type(), Dhcpv4Type::kAck);
  EXPECT_EQ(FormatIpv4(m.yiaddr), "10.0.2.2");
  EXPECT_NE(m.Find(opt4::kLeaseTime), nullptr);
  EXPECT_THAT(out.note, HasSubstr("ACK 10.0.2.2"));
}

TEST(Dhcpv4Responder, RequestForAnotherAddressGetsBroadcastNak) {
  auto req = Request(Dhcpv4Type::kRequest);
  req.Set(opt4::kRequestedIp, HexStr("0a 00 02 63"));  // INIT-REBOOT with an old lease
  auto out = Make(Masquerade()).Respond(req);
  ASSERT_TRUE(out.reply);
  const auto m = Decode(*out.reply);
  EXPECT_EQ(m.Type(), Dhcpv4Type::kNak);
  EXPECT_EQ(m.yiaddr, Ipv4{});
  EXPECT_EQ(m.Find(opt4::kLeaseTime), nullptr);
  EXPECT_EQ(m.Find(opt4::kRouter), nullptr);
  EXPECT_THAT(*m.Find(opt4::kMessage), HasSubstr("10.0.2.99"));
  EXPECT_EQ(ToHex(*m.Find(opt4::kServerId)), "0a 00 02 01");
  EXPECT_TRUE(out.reply->broadcast);
}

TEST(Dhcpv4Responder, RenewingWithWrongCiaddrGetsNakAndRightOneUnicastAck) {
  auto r = Make(Masquerade());
  auto req = Request(Dhcpv4Type::kRequest);
  req.ciaddr = {10, 0, 2, 7};
  auto out = r.Respond(req);
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(Decode(*out.reply).Type(), Dhcpv4Type::kNak);

  req.ciaddr = {10, 0, 2, 2};
  req.flags = kBroadcastFlag;  // ignored when ciaddr is set (RFC 2131 §4.1)
  out = r.Respond(req);
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(Decode(*out.reply).Type(), Dhcpv4Type::kAck);
  EXPECT_FALSE(out.reply->broadcast);
  EXPECT_EQ(FormatIpv4(out.reply->dst_ip), "10.0.2.2");
  EXPECT_EQ(out.reply->dst_mac, kGuest);
}

TEST(Dhcpv4Responder, RequestWithoutAddressIsNaked) {
  auto out = Make(Masquerade()).Respond(Request(Dhcpv4Type::kRequest));
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(Decode(*out.reply).Type(), Dhcpv4Type::kNak);
}

TEST(Dhcpv4Responder, RequestForAnotherServerIsSilentlyIgnored) {
  auto req = Request(Dhcpv4Type::kRequest);
  req.Set(opt4::kRequestedIp, HexStr("0a 00 02 02"));
  req.Set(opt4::kServerId, HexStr("0a 00 02 fe"));
  auto out = Make(Masquerade()).Respond(req);
  EXPECT_FALSE(out.reply);
  EXPECT_THAT(out.note, HasSubstr("another server"));
}

TEST(Dhcpv4Responder, InformGetsAckWithoutLease) {
  auto req = Request(Dhcpv4Type::kInform);
  req.ciaddr = {10, 0, 2, 2};
  auto out = Make(Masquerade()).Respond(req);
  ASSERT_TRUE(out.reply);
  const auto m = Decode(*out.reply);
  EXPECT_EQ(m.Type(), Dhcpv4Type::kAck);
  EXPECT_EQ(m.yiaddr, Ipv4{});
  EXPECT_EQ(m.Find(opt4::kLeaseTime), nullptr);
  EXPECT_EQ(m.Find(opt4::kRenewalTime), nullptr);
  EXPECT_NE(m.Find(opt4::kDns), nullptr);
  EXPECT_EQ(FormatIpv4(out.reply->dst_ip), "10.0.2.2");
}

TEST(Dhcpv4Responder, InformWithoutCiaddrIsBroadcast) {
  auto out = Make(Masquerade()).Respond(Request(Dhcpv4Type::kInform));
  ASSERT_TRUE(out.reply);
  EXPECT_TRUE(out.reply->broadcast);
  EXPECT_EQ(FormatIpv4(out.reply->dst_ip), "255.255.255.255");
}

TEST(Dhcpv4Responder, ReleaseAndDeclineAreLoggedNotAnswered) {
  auto r = Make(Masquerade());
  auto out = r.Respond(Request(Dhcpv4Type::kRelease));
  EXPECT_FALSE(out.reply);
  EXPECT_THAT(out.note, HasSubstr("RELEASE"));
  auto decline = Request(Dhcpv4Type::kDecline);
  decline.Set(opt4::kRequestedIp, HexStr("0a 00 02 02"));
  out = r.Respond(decline);
  EXPECT_FALSE(out.reply);
  EXPECT_THAT(out.note, HasSubstr("DECLINE"));
  EXPECT_THAT(out.note, HasSubstr("10.0.2.2"));
}

TEST(Dhcpv4Responder, IgnoresServerMessagesRepliesRelaysAndNonEthernet) {
  auto r = Make(Masquerade());
  for (auto t : {Dhcpv4Type::kOffer, Dhcpv4Type::kAck, Dhcpv4Type::kNak})
    EXPECT_FALSE(r.Respond(Request(t)).reply);
  auto m = Request(Dhcpv4Type::kDiscover);
  m.op = kBootReply;
  EXPECT_FALSE(r.Respond(m).reply);
  m = Request(Dhcpv4Type::kDiscover);
  m.giaddr = {10, 1, 1, 1};
  EXPECT_FALSE(r.Respond(m).reply);
  m = Request(Dhcpv4Type::kDiscover);
  m.htype = 6;
  EXPECT_FALSE(r.Respond(m).reply);
  m = Request(Dhcpv4Type::kDiscover);
  m.options.clear();
  EXPECT_FALSE(r.Respond(m).reply);
}

TEST(Dhcpv4Responder, MacFilterServesOnlyTheVm) {
  auto r = Make(Masquerade(), "02:11:22:33:44:55");
  EXPECT_TRUE(r.Respond(Request(Dhcpv4Type::kDiscover)).reply);
  auto out = r.Respond(Request(Dhcpv4Type::kDiscover, {2, 0, 0, 0, 0, 0x66}));
  EXPECT_FALSE(out.reply);
  EXPECT_THAT(out.note, HasSubstr("02:00:00:00:00:66"));
}

TEST(Dhcpv4Responder, BridgeBindingRoutesPutDefaultLast) {
  DhcpV4Offer o;
  o.server_ip = "169.254.75.10";
  o.client_ip = "10.244.1.5";
  o.prefix_len = 24;
  o.router = "10.244.1.1";
  o.routes = {{"0.0.0.0/0", "10.244.1.1"}, {"10.96.0.0/12", "10.244.1.1"}, {"192.168.7.0/24", ""}};
  auto out = Make(o, "02:11:22:33:44:55").Respond(Request(Dhcpv4Type::kDiscover));
  ASSERT_TRUE(out.reply);
  const auto m = Decode(*out.reply);
  EXPECT_EQ(ToHex(*m.Find(opt4::kClasslessRoutes)),
            "0c 0a 60 0a f4 01 01 18 c0 a8 07 00 00 00 00 00 0a f4 01 01");
  EXPECT_EQ(ToHex(*m.Find(opt4::kServerId)), "a9 fe 4b 0a");
  EXPECT_EQ(FormatIpv4(out.reply->src_ip), "169.254.75.10");
  EXPECT_EQ(FormatIpv4(m.yiaddr), "10.244.1.5");
}

TEST(Dhcpv4Responder, RoutesWithoutDefaultGetOneFromTheRouter) {
  DhcpV4Offer o = Masquerade();
  o.routes = {{"10.96.0.0/12", "10.0.2.1"}};
  auto out = Make(o).Respond(Request(Dhcpv4Type::kDiscover));
  ASSERT_TRUE(out.reply);
  auto routes = DecodeClasslessRoutes(*Decode(*out.reply).Find(opt4::kClasslessRoutes));
  ASSERT_TRUE(routes.ok());
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ(routes->back(), (ClasslessRoute{{}, 0, {10, 0, 2, 1}}));
}

TEST(Dhcpv4Responder, HonoursClientMaxMessageSize) {
  DhcpV4Offer o = Masquerade();
  for (int code = 224; code <= 226; ++code)
    o.private_options.push_back({code, std::string(60, 'p')});
  auto r = Make(o);
  auto req = Request(Dhcpv4Type::kDiscover);
  auto small = r.Respond(req);
  ASSERT_TRUE(small.reply) << small.note;
  EXPECT_LE(small.reply->payload.size(), 548u);
  EXPECT_NE(Decode(*small.reply).Find(226), nullptr);  // still all there (overloaded)
  req.Set(opt4::kMaxMessageSize, HexStr("05 dc"));     // 1500
  auto big = r.Respond(req);
  ASSERT_TRUE(big.reply);
  EXPECT_GT(big.reply->payload.size(), 548u);
  EXPECT_LE(big.reply->payload.size(), 1400u - 28);  // capped by the link MTU
  req.Set(opt4::kMaxMessageSize, HexStr("00 10"));   // below 576: the floor applies
  auto floor = r.Respond(req);
  ASSERT_TRUE(floor.reply);
  EXPECT_LE(floor.reply->payload.size(), 548u);
}

TEST(Dhcpv4Responder, RejectsBadOffers) {
  auto bad = [](auto mutate) {
    DhcpV4Offer o = Masquerade();
    mutate(o);
    return Dhcpv4Responder::Create(o, "").status();
  };
  EXPECT_THAT(bad([](auto& o) { o.server_ip = "x"; }).message(), HasSubstr("server_ip"));
  EXPECT_THAT(bad([](auto& o) { o.client_ip = "fd10::2"; }).message(), HasSubstr("client_ip"));
  EXPECT_THAT(bad([](auto& o) { o.prefix_len = 33; }).message(), HasSubstr("prefix_len"));
  EXPECT_THAT(bad([](auto& o) { o.dns_servers = {"fd00::1"}; }).message(),
              HasSubstr("dns_servers"));
  EXPECT_THAT(bad([](auto& o) { o.ntp_servers = {"ntp.example"}; }).message(),
              HasSubstr("ntp_servers"));
  EXPECT_THAT(bad([](auto& o) {
                o.private_options = {{200, "x"}};
              }).message(),
              HasSubstr("224..254"));
  EXPECT_THAT(bad([](auto& o) { o.hostname = "a b"; }).message(), HasSubstr("hostname"));
  EXPECT_THAT(bad([](auto& o) {
                o.routes = {{"10.0.0.1/8", ""}};
              }).message(),
              HasSubstr("host bits"));
  EXPECT_THAT(bad([](auto& o) { o.mtu = 20; }).message(), HasSubstr("mtu"));
  EXPECT_FALSE(Dhcpv4Responder::Create(Masquerade(), "zz").ok());
}

// The pod's resolv.conf with six ~60-character search domains (Kubernetes allows 32, 2048
// characters): the offer used to be refused, leaving the guest without an address.
TEST(Dhcpv4Responder, SearchListsTooLongForOneReplyAreTrimmedNotRefused) {
  DhcpV4Offer o = Masquerade();
  o.search_domains.clear();
  for (int i = 0; i < 6; ++i)
    o.search_domains.push_back(absl::StrCat(
        "ns", i, "-", std::string(36, static_cast<char>('a' + i)), ".svc.cluster.example"));
  auto r = Dhcpv4Responder::Create(o, "");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->max_message(), 1400u);
  // A 576-byte reply leaves out the tail of the list, and the responder says what.
  auto req = Request(Dhcpv4Type::kDiscover);
  auto small = r->Respond(req);
  ASSERT_TRUE(small.reply) << small.note;
  EXPECT_LE(small.reply->payload.size(), 548u);
  auto search = DecodeDomainList(*Decode(*small.reply).Find(opt4::kDomainSearch));
  ASSERT_TRUE(search.ok());
  ASSERT_GE(search->size(), 1u);
  ASSERT_LT(search->size(), 6u);
  EXPECT_EQ(search->front(), o.search_domains.front());
  ASSERT_FALSE(r->left_out().empty());
  EXPECT_EQ(r->left_out().front(), "search domain " + o.search_domains.back());
  EXPECT_THAT(small.note, HasSubstr("leaves out search domain " + o.search_domains.back()));
  // A client that accepts 1500 bytes gets all six (within the 1400-byte MTU).
  req.Set(opt4::kMaxMessageSize, HexStr("05 dc"));
  auto big = r->Respond(req);
  ASSERT_TRUE(big.reply);
  EXPECT_LE(big.reply->payload.size(), 1400u - 28);
  search = DecodeDomainList(*Decode(*big.reply).Find(opt4::kDomainSearch));
  ASSERT_TRUE(search.ok());
  EXPECT_EQ(*search, o.search_domains);
  EXPECT_THAT(big.note, Not(HasSubstr("leaves out")));
}

TEST(Dhcpv4Responder, TheLinkMtuBoundsTheReplyWhenTheOfferHasNone) {
  DhcpV4Offer o = Masquerade();
  o.mtu = 0;
  for (int code = 224; code <= 228; ++code)
    o.private_options.push_back({code, std::string(200, 'p')});
  auto r = Dhcpv4Responder::Create(o, "", /*link_mtu=*/1000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->max_message(), 1000u);
  auto req = Request(Dhcpv4Type::kDiscover);
  req.Set(opt4::kMaxMessageSize, HexStr("ff ff"));
  auto out = r->Respond(req);
  ASSERT_TRUE(out.reply);
  EXPECT_LE(out.reply->payload.size(), 1000u - 28);
  EXPECT_GT(out.reply->payload.size(), 548u);
  // Without a link MTU either, nothing beyond the RFC's 576 bytes.
  auto unknown = Dhcpv4Responder::Create(o, "");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->max_message(), 576u);
  out = unknown->Respond(req);
  ASSERT_TRUE(out.reply);
  EXPECT_LE(out.reply->payload.size(), 548u);
}

TEST(Dhcpv4Responder, DecodesAndAnswersRawBytes) {
  auto enc = EncodeDhcpv4(Request(Dhcpv4Type::kDiscover));
  ASSERT_TRUE(enc.ok());
  auto r = Make(Masquerade());
  EXPECT_TRUE(r.Respond(enc->bytes).reply);
  auto out = r.Respond(std::span<const uint8_t>(enc->bytes.data(), 100));
  EXPECT_FALSE(out.reply);
  EXPECT_THAT(out.note, HasSubstr("malformed"));
}

}  // namespace
}  // namespace k6t::dhcp
