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

TEST(MacTest, GoParseMacForms) {
  EXPECT_EQ(ParseMac("de:ad:00:00:be:af")->size(), 6u);
  EXPECT_EQ(ParseMac("DE-AD-00-00-BE-AF")->size(), 6u);
  EXPECT_EQ(ParseMac("dead.0000.beaf")->size(), 6u);
  EXPECT_EQ(ParseMac("00:00:00:00:fe:80:00:00")->size(), 8u);
  EXPECT_FALSE(ParseMac("de:ad:00:00:be"));
  EXPECT_FALSE(ParseMac("de:ad-00:00:be:af"));
  EXPECT_FALSE(ParseMac("zz:ad:00:00:be:af"));
  EXPECT_FALSE(ParseMac("de:ad:00:00:be:af:"));
}

TEST(CidrTest, Parse) {
  auto c = ParseCidr("10.0.2.0/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->family, 4);
  EXPECT_EQ(c->prefix, 24);
  EXPECT_EQ(ParseCidr("fd10:0:2::/120")->family, 6);
  EXPECT_FALSE(ParseCidr("10.0.2.0"));
  EXPECT_FALSE(ParseCidr("10.0.2.0/33"));
  EXPECT_FALSE(ParseCidr("10.0.2.0/"));
  EXPECT_FALSE(ParseCidr("fd10::/129"));
  EXPECT_FALSE(ParseCidr("010.0.2.0/24"));
}

TEST(CidrTest, StripLeadingZeros) {
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
