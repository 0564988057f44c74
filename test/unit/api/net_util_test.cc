#include "api/src/net_util.h"

#include <gtest/gtest.h>

namespace k6t::api::internal {
namespace {

TEST(QuantityTest, Units) {
  EXPECT_EQ(*ParseQuantity("256Mi"), 256ll << 20);
  EXPECT_EQ(*ParseQuantity("1Gi"), 1ll << 30);
  EXPECT_EQ(*ParseQuantity("512M"), 512000000);
  EXPECT_EQ(*ParseQuantity("1.5Gi"), 1610612736);
  EXPECT_EQ(*ParseQuantity("1e9"), 1000000000);
  EXPECT_EQ(*ParseQuantity("128974848"), 128974848);
  EXPECT_EQ(*ParseQuantity("2k"), 2000);
  EXPECT_EQ(*ParseQuantity("1500m"), 2);  // rounded up, like resource.Quantity.Value()
  EXPECT_EQ(*ParseQuantity("0.5Ki"), 512);
}

TEST(QuantityTest, Rejects) {
  for (const char* bad :
       {"", "Mi", "-1Gi", "1Xi", "1.2.3", "abc", "1e", "99999999999999999999", "9Ei9", "10E"})
    EXPECT_FALSE(ParseQuantity(bad).ok()) << bad;
}

TEST(QuoteTest, BoundedAndEscaped) {
  EXPECT_EQ(Quote("eth0"), "\"eth0\"");
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quote(std::string("a\0b\n", 4)), "\"a\\x00b\\x0a\"");
  EXPECT_EQ(Quote(std::string(100, 'x')), "\"" + std::string(80, 'x') + "...\"");
}

TEST(HexDigitTest, EitherCase) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  for (char c : {'g', 'G', ' ', '\0', '/', ':', '@', '`'}) EXPECT_EQ(HexDigitValue(c), -1) << c;
}

TEST(StripIPv4LeadingZerosTest, LikeKubeVirtsDecode) {
  EXPECT_EQ(StripIPv4LeadingZeros("010.000.002.000/24"), "10.0.2.0/24");
  EXPECT_EQ(StripIPv4LeadingZeros("0127.0.0.3"), "127.0.0.3");
  EXPECT_EQ(StripIPv4LeadingZeros("fd10::/120"), "fd10::/120");
  EXPECT_EQ(StripIPv4LeadingZeros("not.an.ip.addr"), "not.an.ip.addr");
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex("blue"), "16477688c0e00699c6cfa4497a3612d7e83c532062b64b250fed8908128ed548");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace k6t::api::internal
