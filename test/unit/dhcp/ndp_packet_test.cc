#include "k6t/dhcp/ndp_packet.h"

#include <gtest/gtest.h>

#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(RouterSolicit, ParsesWithSourceLinkAddress) {
  auto rs = ParseRouterSolicit(Hex("85 00 0000 00000000  01 01 020000000002"));
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ(rs->source_link_addr, (Mac{2, 0, 0, 0, 0, 2}));
  auto bare = ParseRouterSolicit(Hex("85 00 1234 00000000"));
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->source_link_addr.has_value());
  // Unknown options are skipped.
  EXPECT_TRUE(
      ParseRouterSolicit(Hex("85 00 0000 00000000 fe 02 0000000000000000000000000000")).ok());
}

TEST(RouterSolicit, RejectsMalformed) {
  EXPECT_FALSE(ParseRouterSolicit(Hex("85 00 0000 000000")).ok());               // 7 bytes
  EXPECT_FALSE(ParseRouterSolicit(Hex("86 00 0000 00000000")).ok());             // an RA
  EXPECT_FALSE(ParseRouterSolicit(Hex("85 01 0000 00000000")).ok());             // code 1
  EXPECT_FALSE(ParseRouterSolicit(Hex("85 00 0000 00000000 01 00")).ok());       // length 0: loop
  EXPECT_FALSE(ParseRouterSolicit(Hex("85 00 0000 00000000 01 02 0200")).ok());  // truncated
  EXPECT_FALSE(ParseRouterSolicit(Hex("85 00 0000 00000000 01")).ok());
  std::vector<uint8_t> many = Hex("85 00 0000 00000000");
  for (size_t i = 0; i <= kNdpMaxOptions; ++i) {
    auto o = Hex("fe 01 000000000000");
    many.insert(many.end(), o.begin(), o.end());
  }
  EXPECT_EQ(ParseRouterSolicit(many).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(RouterAdvert, EncodesByteExact) {
  RouterAdvertParams p;
  p.managed = true;
  p.other = true;
  p.router_lifetime = 1800;
  p.source_link_addr = Mac{2, 0, 0, 0, 0, 0};
  p.mtu = 1400;
  p.prefix = *ParseIpv6("fd10:0:2::");
  p.prefix_len = 120;
  const auto b = EncodeRouterAdvert(p);
  EXPECT_EQ(ToHex(b),
            ToHex(Hex("86 00 0000 40 c0 0708 00000000 00000000"
                      "01 01 020000000000"
                      "05 01 0000 00000578"
                      "03 04 78 80 ffffffff ffffffff 00000000 fd100000000200000000000000000000")));
  auto back = ParseRouterAdvert(b);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->mtu, 1400u);
  EXPECT_EQ(back->prefix_len, 120);
  EXPECT_EQ(back->prefix, p.prefix);
  EXPECT_TRUE(back->managed && back->other);
  EXPECT_EQ(back->router_lifetime, 1800);
}

TEST(RouterAdvert, FlagsAndOptionalOptions) {
  RouterAdvertParams p;
  p.managed = false;
  p.other = true;
  EXPECT_EQ(ToHex(EncodeRouterAdvert(p)), "86 00 00 00 40 40 07 08 00 00 00 00 00 00 00 00");
  p.other = false;
  EXPECT_EQ(EncodeRouterAdvert(p)[5], 0);
}

}  // namespace
}  // namespace k6t::dhcp
