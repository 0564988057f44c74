#include "k6t/dhcp/dhcpv6_packet.h"

#include <gtest/gtest.h>

#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp {
namespace {

using testing::Hex;
using testing::HexStr;
using testing::ToHex;

// A Solicit as dhclient -6 sends it: client id (DUID-LLT), elapsed time, ORO, IA_NA.
const char* kSolicit =
    "01 abcdef"
    "0001 000e 0001 0001 2a2b2c2d 020000000002"  // client id: DUID-LLT, hw 1
    "0008 0002 0000"                             // elapsed time
    "0006 0004 0017 0018"                        // ORO: 23, 24
    "000e 0000"                                  // rapid commit
    "0003 000c 00000007 00000000 00000000";      // IA_NA iaid 7

TEST(Dhcpv6Packet, DecodesSolicit) {
  auto m = DecodeDhcpv6(Hex(kSolicit));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->type, Dhcpv6Type::kSolicit);
  EXPECT_EQ(m->xid, 0xabcdefu);
  ASSERT_EQ(m->options.size(), 5u);
  EXPECT_EQ(FormatMac(*MacFromDuid(*m->Find(opt6::kClientId))), "02:00:00:00:00:02");
  EXPECT_EQ(*DecodeOro(*m->Find(opt6::kOro)), (std::vector<uint16_t>{23, 24}));
  EXPECT_NE(m->Find(opt6::kRapidCommit), nullptr);
  auto ia = DecodeIaNa(*m->Find(opt6::kIaNa));
  ASSERT_TRUE(ia.ok());
  EXPECT_EQ(ia->iaid, 7u);
  EXPECT_TRUE(ia->addresses.empty());
}

TEST(Dhcpv6Packet, EncodesByteExact) {
  auto m = DecodeDhcpv6(Hex(kSolicit));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(ToHex(EncodeDhcpv6(*m)), ToHex(Hex(kSolicit)));
}

TEST(Dhcpv6Packet, RejectsTruncatedAndHostileMessages) {
  auto p = Hex(kSolicit);
  for (size_t n : {0, 1, 3}) EXPECT_FALSE(DecodeDhcpv6(std::span(p.data(), n)).ok()) << n;
  EXPECT_TRUE(DecodeDhcpv6(std::span(p.data(), 4)).ok());              // no options
  EXPECT_FALSE(DecodeDhcpv6(std::span(p.data(), 6)).ok());             // half an option header
  EXPECT_FALSE(DecodeDhcpv6(std::span(p.data(), p.size() - 1)).ok());  // last option short
  EXPECT_FALSE(DecodeDhcpv6(Hex("00 000000")).ok());                   // type 0
  EXPECT_FALSE(DecodeDhcpv6(Hex("0e 000000")).ok());                   // type 14
  EXPECT_FALSE(DecodeDhcpv6(Hex("0c 000000")).ok());                   // relay-forw
  std::vector<uint8_t> many = Hex("01 000001");
  for (size_t i = 0; i <= kDhcpv6MaxOptions; ++i) {
    auto o = Hex("0008 0002 0000");
    many.insert(many.end(), o.begin(), o.end());
  }
  EXPECT_EQ(DecodeDhcpv6(many).status().code(), absl::StatusCode::kResourceExhausted);
  many.resize(4 + 6 * kDhcpv6MaxOptions);
  EXPECT_TRUE(DecodeDhcpv6(many).ok());
}

TEST(Dhcpv6Packet, IaNaWithAddressByteExact) {
  IaNa ia;
  ia.iaid = 0x01020304;
  ia.t1 = 100;
  ia.t2 = 160;
  ia.addresses.push_back(IaAddress{*ParseIpv6("fd10:0:2::2"), 200, 300, {}});
  ia.options.push_back({opt6::kStatusCode, EncodeStatusCode(Dhcpv6Status::kSuccess, "ok")});
  const std::string enc = EncodeIaNa(ia);
  EXPECT_EQ(ToHex(enc), ToHex(HexStr("01020304 00000064 000000a0"
                                     "0005 0018 fd100000000200000000000000000002 000000c8 0000012c"
                                     "000d 0004 0000 6f6b")));
  auto back = DecodeIaNa(enc);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, ia);
  EXPECT_EQ(*DecodeStatusCode(back->options[0].data), Dhcpv6Status::kSuccess);
}

TEST(Dhcpv6Packet, RejectsMalformedIaNa) {
  EXPECT_FALSE(DecodeIaNa(HexStr("01020304 00000064")).ok());
  EXPECT_FALSE(DecodeIaNa(HexStr("01020304 00000064 000000a0 0005 0010 fd10")).ok());
  // IAADDR shorter than 24 bytes.
  EXPECT_FALSE(DecodeIaNa(HexStr("01020304 00000064 000000a0 0005 0002 fd10")).ok());
}

TEST(Dhcpv6Packet, OptionHelpers) {
  EXPECT_EQ(ToHex(DuidLl({2, 0, 0, 0, 0, 0})), "00 03 00 01 02 00 00 00 00 00");
  EXPECT_EQ(MacFromDuid(DuidLl({2, 0, 0, 0, 0, 9})), (Mac{2, 0, 0, 0, 0, 9}));
  EXPECT_FALSE(MacFromDuid(HexStr("0002 00000009 0102")).has_value());      // DUID-EN
  EXPECT_FALSE(MacFromDuid(HexStr("0003 0006 020000000009")).has_value());  // not Ethernet
  EXPECT_FALSE(MacFromDuid(HexStr("0003 0001 0200")).has_value());          // short
  EXPECT_FALSE(DecodeOro(HexStr("00 17 00")).ok());
  EXPECT_EQ(ToHex(EncodeOro({23, 24})), "00 17 00 18");
  const std::vector<Ipv6> dns = {*ParseIpv6("fd00::53"), *ParseIpv6("2001:db8::1")};
  EXPECT_EQ(ToHex(EncodeAddresses(dns)), ToHex(HexStr("fd000000000000000000000000000053"
                                                      "20010db8000000000000000000000001")));
  EXPECT_EQ(*DecodeAddresses(EncodeAddresses(dns)), dns);
  EXPECT_FALSE(DecodeAddresses(std::string(17, 'x')).ok());
  EXPECT_FALSE(DecodeStatusCode("\x01").ok());
  EXPECT_EQ(FormatIpv6(*ParseIpv6("FD10:0:2:0::2")), "fd10:0:2::2");
  EXPECT_FALSE(ParseIpv6("10.0.2.2").ok());
}

}  // namespace
}  // namespace k6t::dhcp
