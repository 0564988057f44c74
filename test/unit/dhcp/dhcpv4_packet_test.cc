#include "k6t/dhcp/dhcpv4_packet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp {
namespace {

using testing::Hex;
using testing::HexStr;
using testing::ToHex;

// A DISCOVER with the broadcast flag, option 53 and a parameter request list, by hand.
std::vector<uint8_t> DiscoverBytes() {
  std::vector<uint8_t> p =
      Hex("01 01 06 00  12 34 56 78  00 03 80 00"  // op htype hlen hops, xid, secs flags
          "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"  // ciaddr yiaddr siaddr giaddr
          "02 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00");   // chaddr
  p.resize(236, 0);                                             // sname, file
  auto tail = Hex("63 82 53 63  35 01 01  37 03 01 03 06  ff");
  p.insert(p.end(), tail.begin(), tail.end());
  return p;
}

TEST(Dhcpv4Packet, DecodesHandBuiltDiscover) {
  auto m = DecodeDhcpv4(DiscoverBytes());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->op, kBootRequest);
  EXPECT_EQ(m->xid, 0x12345678u);
  EXPECT_EQ(m->secs, 3);
  EXPECT_TRUE(m->broadcast());
  EXPECT_EQ(FormatMac(m->client_mac()), "02:00:00:00:00:01");
  EXPECT_EQ(m->Type(), Dhcpv4Type::kDiscover);
  ASSERT_EQ(m->options.size(), 2u);
  EXPECT_EQ(ToHex(*m->Find(opt4::kParamRequest)), "01 03 06");
}

TEST(Dhcpv4Packet, EncodesByteExactAndPadsToBootpMinimum) {
  Dhcpv4Message m;
  m.xid = 0x12345678;
  m.secs = 3;
  m.flags = kBroadcastFlag;
  m.chaddr[0] = 2;
  m.chaddr[5] = 1;
  m.options = {{opt4::kMessageType, "\x01"}, {opt4::kParamRequest, HexStr("01 03 06")}};
  auto enc = EncodeDhcpv4(m);
  ASSERT_TRUE(enc.ok()) << enc.status();
  std::vector<uint8_t> want = DiscoverBytes();
  want.resize(kBootpMinSize, 0);
  EXPECT_EQ(ToHex(enc->bytes), ToHex(want));
  EXPECT_FALSE(enc->overloaded);
}

TEST(Dhcpv4Packet, RoundTripsEveryHeaderField) {
  Dhcpv4Message m;
  m.op = kBootReply;
  m.hops = 1;
  m.xid = 0xdeadbeef;
  m.secs = 0xffff;
  m.flags = 0x0001;
  m.ciaddr = {1, 2, 3, 4};
  m.yiaddr = {5, 6, 7, 8};
  m.siaddr = {9, 10, 11, 12};
  m.giaddr = {13, 14, 15, 16};
  for (int i = 0; i < 16; ++i) m.chaddr[i] = static_cast<uint8_t>(0xa0 + i);
  m.sname[0] = 's';
  m.file[127] = 'f';
  m.options = {{opt4::kMessageType, "\x05"}, {opt4::kHostname, "vm"}};
  auto enc = EncodeDhcpv4(m);
  ASSERT_TRUE(enc.ok());
  auto back = DecodeDhcpv4(enc->bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->op, m.op);
  EXPECT_EQ(back->hops, 1);
  EXPECT_EQ(back->xid, m.xid);
  EXPECT_EQ(back->secs, m.secs);
  EXPECT_EQ(back->flags, m.flags);
  EXPECT_EQ(back->ciaddr, m.ciaddr);
  EXPECT_EQ(back->yiaddr, m.yiaddr);
  EXPECT_EQ(back->siaddr, m.siaddr);
  EXPECT_EQ(back->giaddr, m.giaddr);
  EXPECT_EQ(back->chaddr, m.chaddr);
  EXPECT_EQ(back->sname, m.sname);
  EXPECT_EQ(back->file, m.file);
  EXPECT_EQ(back->options, m.options);
}

TEST(Dhcpv4Packet, RejectsShortPackets) {
  auto p = DiscoverBytes();
  for (size_t n : {0, 1, 100, 235, 236, 239}) {
    auto m = DecodeDhcpv4(std::span<const uint8_t>(p.data(), n));
    EXPECT_FALSE(m.ok()) << n;
  }
  // Exactly the cookie and no options: valid, no message type.
  auto m = DecodeDhcpv4(std::span<const uint8_t>(p.data(), 240));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->Type().has_value());
}

TEST(Dhcpv4Packet, RejectsBadCookieAndHlen) {
  auto p = DiscoverBytes();
  p[239] = 0x64;
  EXPECT_THAT(DecodeDhcpv4(p).status().message(), ::testing::HasSubstr("cookie"));
  p = DiscoverBytes();
  p[2] = 17;
  EXPECT_THAT(DecodeDhcpv4(p).status().message(), ::testing::HasSubstr("hlen"));
}

TEST(Dhcpv4Packet, RejectsOptionRunningPastTheEnd) {
  auto p = DiscoverBytes();
  p.resize(240);
  auto bad = Hex("0c 05 61 62");  // hostname claims 5 bytes, 2 present
  p.insert(p.end(), bad.begin(), bad.end());
  auto m = DecodeDhcpv4(p);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), ::testing::HasSubstr("claims 5 bytes, 2 left"));
  p.resize(240);
  p.push_back(12);  // code without a length byte
  EXPECT_FALSE(DecodeDhcpv4(p).ok());
}

TEST(Dhcpv4Packet, ToleratesMissingEndAndSkipsPad) {
  auto p = DiscoverBytes();
  p.resize(240);
  auto opts = Hex("00 00 35 01 03 00 0c 02 76 6d");
  p.insert(p.end(), opts.begin(), opts.end());
  auto m = DecodeDhcpv4(p);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Type(), Dhcpv4Type::kRequest);
  EXPECT_EQ(*m->Find(opt4::kHostname), "vm");
}

TEST(Dhcpv4Packet, StopsAtEndOption) {
  auto p = DiscoverBytes();
  p.resize(240);
  auto opts = Hex("35 01 03 ff 0c 99");  // garbage after End is ignored
  p.insert(p.end(), opts.begin(), opts.end());
  auto m = DecodeDhcpv4(p);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->options.size(), 1u);
}

TEST(Dhcpv4Packet, ConcatenatesRepeatedOptions) {  // RFC 3396
  auto p = DiscoverBytes();
  p.resize(240);
  auto opts = Hex("77 03 01 61 00  35 01 01  77 04 01 62 00 00 ff");
  p.insert(p.end(), opts.begin(), opts.end());
  auto m = DecodeDhcpv4(p);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->options.size(), 2u);
  EXPECT_EQ(m->options[0].code, opt4::kDomainSearch);
  EXPECT_EQ(ToHex(m->options[0].data), "01 61 00 01 62 00 00");
}

TEST(Dhcpv4Packet, DecodesOverloadedFileAndSname) {
  auto p = DiscoverBytes();
  p.resize(240);
  auto opts = Hex("34 01 03  35 01 01  ff");
  p.insert(p.end(), opts.begin(), opts.end());
  // file (offset 108): hostname "vm", then a second part of option 119; sname (44): domain.
  auto file = Hex("0c 02 76 6d  77 02 01 61  ff");
  std::copy(file.begin(), file.end(), p.begin() + 108);
  auto sname = Hex("0f 03 63 6f 6d  77 01 00  ff");
  std::copy(sname.begin(), sname.end(), p.begin() + 44);
  auto m = DecodeDhcpv4(p);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m->Find(opt4::kHostname), "vm");
  EXPECT_EQ(*m->Find(opt4::kDomainName), "com");
  // Concatenation order: options, file, sname.
  EXPECT_EQ(ToHex(*m->Find(opt4::kDomainSearch)), "01 61 00");
  EXPECT_EQ(m->file, decltype(m->file){});
  EXPECT_EQ(m->sname, decltype(m->sname){});
}

TEST(Dhcpv4Packet, OverloadOfFileOnlyLeavesSnameAlone) {
  auto p = DiscoverBytes();
  p.resize(240);
  auto opts = Hex("34 01 01 ff");
  p.insert(p.end(), opts.begin(), opts.end());
  p[44] = 'x';  // sname is a server name, not options
  auto file = Hex("0c 01 76 ff");
  std::copy(file.begin(), file.end(), p.begin() + 108);
  auto m = DecodeDhcpv4(p);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m->Find(opt4::kHostname), "v");
  EXPECT_EQ(m->sname[0], 'x');
}

TEST(Dhcpv4Packet, RejectsBadOverloadValuesAndTruncatedOverloadedFields) {
  for (const char* v : {"34 01 00 ff", "34 01 04 ff", "34 02 01 01 ff"}) {
    auto p = DiscoverBytes();
    p.resize(240);
    auto opts = Hex(v);
    p.insert(p.end(), opts.begin(), opts.end());
    EXPECT_FALSE(DecodeDhcpv4(p).ok()) << v;
  }
  auto p = DiscoverBytes();
  p.resize(240);
  auto opts = Hex("34 01 02 ff");
  p.insert(p.end(), opts.begin(), opts.end());
  p[44 + 62] = 12;  // an option header at the last bytes of sname claims 200 bytes
  p[44 + 63] = 200;
  EXPECT_FALSE(DecodeDhcpv4(p).ok());
}

TEST(Dhcpv4Packet, SplitsLongOptionsIntoInstances) {
  Dhcpv4Message m;
  m.options = {{opt4::kMessageType, "\x02"}, {230, std::string(300, 'x')}};
  auto enc = EncodeDhcpv4(m, 1500);
  ASSERT_TRUE(enc.ok()) << enc.status();
  const auto& b = enc->bytes;
  EXPECT_EQ(b[243], 230);
  EXPECT_EQ(b[244], 255);
  EXPECT_EQ(b[244 + 1 + 255], 230);
  EXPECT_EQ(b[244 + 1 + 255 + 1], 45);
  EXPECT_EQ(b[244 + 1 + 255 + 2 + 45], opt4::kEnd);
  auto back = DecodeDhcpv4(b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back->Find(230), std::string(300, 'x'));
}

TEST(Dhcpv4Packet, OverloadsIntoFileAndSnameWhenOptionsDoNotFit) {
  Dhcpv4Message m;
  m.options = {{opt4::kMessageType, "\x05"},
               {224, std::string(40, 'a')},
               {225, std::string(100, 'b')},
               {226, std::string(50, 'c')}};
  // 300 bytes: 60 for options, 56 beside 52 (3) and End. Largest first: 225 (102) goes to
  // file, 226 (52) fits beside 53 (3), 224 (42) goes to sname.
  auto enc = EncodeDhcpv4(m, 300);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_TRUE(enc->overloaded);
  EXPECT_EQ(enc->bytes.size(), 300u);
  EXPECT_EQ(ToHex(std::span<const uint8_t>(enc->bytes.data() + 240, 6)), "34 01 03 35 01 05");
  EXPECT_EQ(enc->bytes[246], 226);  // options field, after the message type
  EXPECT_EQ(enc->bytes[108], 225);  // file
  EXPECT_EQ(enc->bytes[44], 224);   // sname
  auto back = DecodeDhcpv4(enc->bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back->Find(224), std::string(40, 'a'));
  EXPECT_EQ(*back->Find(225), std::string(100, 'b'));
  EXPECT_EQ(*back->Find(226), std::string(50, 'c'));
}

TEST(Dhcpv4Packet, PacksLargestFirstWhereFillingInOrderFails) {
  Dhcpv4Message m;
  m.options = {{opt4::kMessageType, "\x05"},
               {224, std::string(38, 'a')},   // 40
               {225, std::string(118, 'b')},  // 120
               {226, std::string(58, 'c')},   // 60
               {227, std::string(8, 'd')}};   // 10
  // In order: 53 + 224 fill the options field (56), 225 takes file, 226 sname, and 227
  // finds no room. Largest first: 225 in file, 226 in sname, 224 and 227 beside 53.
  auto enc = EncodeDhcpv4(m, 300);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ(enc->bytes.size(), 300u);
  auto back = DecodeDhcpv4(enc->bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Type(), Dhcpv4Type::kAck);
  EXPECT_EQ(*back->Find(224), std::string(38, 'a'));
  EXPECT_EQ(*back->Find(225), std::string(118, 'b'));
  EXPECT_EQ(*back->Find(226), std::string(58, 'c'));
  EXPECT_EQ(*back->Find(227), std::string(8, 'd'));
}

TEST(Dhcpv4Packet, SplitOptionPiecesKeepTheirOrderAcrossAreas) {
  Dhcpv4Message m;
  std::string long_value;
  for (int i = 0; i < 300; ++i) long_value.push_back(static_cast<char>('a' + i % 26));
  m.options = {{opt4::kMessageType, "\x02"}, {230, long_value}, {224, std::string(100, 'z')}};
  // 548 bytes (a 576-byte message): 304 for options beside 52 and End. 230's first piece
  // (257) takes the options field, 224 (102) file, and 230's second piece (47) fits
  // neither: it goes to sname, after the first piece in RFC 3396's concatenation order.
  auto enc = EncodeDhcpv4(m, 548);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ(enc->bytes[44], 230);   // sname
  EXPECT_EQ(enc->bytes[108], 224);  // file
  auto back = DecodeDhcpv4(enc->bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back->Find(230), long_value);
  EXPECT_EQ(*back->Find(224), std::string(100, 'z'));
}

TEST(Dhcpv4Packet, FailsWhenEvenOverloadingCannotFit) {
  Dhcpv4Message m;
  m.options = {{224, std::string(200, 'a')}, {225, std::string(200, 'b')}};
  auto enc = EncodeDhcpv4(m, 300);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), absl::StatusCode::kResourceExhausted);
  // With file in use (a boot file name), overloading is not possible either.
  Dhcpv4Message n;
  n.file[0] = 'b';
  n.options = {{224, std::string(100, 'a')}};
  EXPECT_FALSE(EncodeDhcpv4(n, 300).ok());
  EXPECT_TRUE(EncodeDhcpv4(n, 576).ok());
}

TEST(Dhcpv4Packet, RejectsReservedCodesOnEncode) {
  Dhcpv4Message m;
  m.options = {{opt4::kPad, ""}};
  EXPECT_FALSE(EncodeDhcpv4(m).ok());
  m.options = {{opt4::kEnd, ""}};
  EXPECT_FALSE(EncodeDhcpv4(m).ok());
}

TEST(Dhcpv4Packet, MessageTypeMustBeOneValidByte) {
  Dhcpv4Message m;
  m.Set(opt4::kMessageType, "\x09");
  EXPECT_FALSE(m.Type().has_value());
  m.Set(opt4::kMessageType, "\x01\x01");
  EXPECT_FALSE(m.Type().has_value());
  m.Set(opt4::kMessageType, "\x08");
  EXPECT_EQ(m.Type(), Dhcpv4Type::kInform);
}

// RFC 3442 §2 gives the encodings by example.
TEST(ClasslessRoutes, EncodesRfc3442Examples) {
  struct Case {
    Ipv4 dst;
    int len;
    const char* want;
  } cases[] = {
      {{0, 0, 0, 0}, 0, "00"},
      {{10, 0, 0, 0}, 8, "08 0a"},
      {{10, 0, 0, 0}, 24, "18 0a 00 00"},
      {{10, 17, 0, 0}, 16, "10 0a 11"},
      {{10, 27, 129, 0}, 24, "18 0a 1b 81"},
      {{10, 229, 0, 128}, 25, "19 0a e5 00 80"},
      {{10, 198, 122, 47}, 32, "20 0a c6 7a 2f"},
  };
  for (const auto& c : cases) {
    auto enc = EncodeClasslessRoutes({ClasslessRoute{c.dst, c.len, {10, 0, 0, 1}}});
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(ToHex(*enc), std::string(c.want) + " 0a 00 00 01");
    auto back = DecodeClasslessRoutes(*enc);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->at(0), (ClasslessRoute{c.dst, c.len, {10, 0, 0, 1}}));
  }
}

TEST(ClasslessRoutes, EncodesSeveralRoutesInOrder) {
  auto enc = EncodeClasslessRoutes(
      {{{10, 96, 0, 0}, 12, {0, 0, 0, 0}}, {{0, 0, 0, 0}, 0, {10, 244, 1, 1}}});
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(ToHex(*enc), "0c 0a 60 00 00 00 00 00 0a f4 01 01");
}

TEST(ClasslessRoutes, RejectsBadRoutes) {
  EXPECT_FALSE(EncodeClasslessRoutes({{{10, 0, 0, 1}, 24, {}}}).ok());  // host bits
  EXPECT_FALSE(EncodeClasslessRoutes({{{10, 0, 0, 0}, 33, {}}}).ok());
  EXPECT_FALSE(DecodeClasslessRoutes(HexStr("21 0a 00 00 00 00 0a 00 00 01")).ok());  // 33
  EXPECT_FALSE(DecodeClasslessRoutes(HexStr("18 0a 00 00 0a 00 00")).ok());           // truncated
  EXPECT_FALSE(DecodeClasslessRoutes(HexStr("18")).ok());
  auto empty = DecodeClasslessRoutes("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Dhcpv4Helpers, AddressesAndMasks) {
  EXPECT_EQ(FormatIpv4(PrefixToMask(24)), "255.255.255.0");
  EXPECT_EQ(FormatIpv4(PrefixToMask(0)), "0.0.0.0");
  EXPECT_EQ(FormatIpv4(PrefixToMask(32)), "255.255.255.255");
  EXPECT_EQ(FormatIpv4(PrefixToMask(25)), "255.255.255.128");
  EXPECT_EQ(FormatIpv4(*ParseIpv4("10.0.2.2")), "10.0.2.2");
  EXPECT_FALSE(ParseIpv4("10.0.2").ok());
  EXPECT_EQ(FormatMac(*ParseMac("02:AB:00:00:00:01")), "02:ab:00:00:00:01");
  EXPECT_FALSE(ParseMac("02:ab:00:00:00").ok());
  EXPECT_FALSE(ParseMac("02:ab:00:00:00:01:").ok());
  EXPECT_FALSE(ParseMac("02:ab:00:00:00:0g").ok());
}

}  // namespace
}  // namespace k6t::dhcp
