// The network values of k6t/api/net.h: every form accepted and refused, the canonical text,
// round trips.
#include "k6t/api/net.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "absl/strings/str_format.h"

namespace k6t::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ---- MacAddress ----

TEST(MacAddressTest, AcceptsEveryFormOfGoParseMacWithSixBytes) {
  const std::string want = "02:00:5e:00:53:01";
  for (const char* text :
       {"02:00:5e:00:53:01", "02:00:5E:00:53:01", "02-00-5e-00-53-01", "02-00-5E-00-53-01",
        "0200.5e00.5301", "0200.5E00.5301", "0200.5e00.5301", "02:00:5e:00:53:01"}) {
    auto mac = MacAddress::Parse(text);
    ASSERT_TRUE(mac.ok()) << text << ": " << mac.status();
    EXPECT_EQ(mac->ToString(), want) << text;
    EXPECT_EQ(mac->bytes(), (MacAddress::Bytes{0x02, 0x00, 0x5e, 0x00, 0x53, 0x01})) << text;
  }
  EXPECT_EQ(MacAddress::Parse("De:aD:bE:eF:0a:Ff")->ToString(), "de:ad:be:ef:0a:ff");
  EXPECT_EQ(MacAddress::Parse("FFFF.FFFF.FFFF")->ToString(), "ff:ff:ff:ff:ff:ff");
}

TEST(MacAddressTest, RefusesMalformedTextAndSaysWhy) {
  struct Case {
    std::string text;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"", "too short"},
           {"02:00:5e:00:53", "5 bytes"},             // one pair short
           {"02:00:5e:00:53:0", "not pairs"},         // a half byte
           {"02:00:5e:00:53:01:", "not pairs"},       // trailing separator
           {"02:00:5e:00:53:01 ", "not pairs"},       // trailing space
           {" 02:00:5e:00:53:01", "separator"},       // leading space
           {"02:00-5e:00:53:01", "separator 2"},      // mixed separators
           {"02-00:5e-00-53-01", "separator 2"},      // mixed, the other way
           {"02:00:5e:00:53:0g", "byte 6"},           // not hex
           {"0x:00:5e:00:53:01", "byte 1"},           //
           {"02:00:5e:00:53:01:02", "7 bytes"},       // seven
           {"0200.5e00.530", "too short"},            // a dotted group short
           {"0200.5e00.53011", "groups of four"},     // a dotted group long
           {"0200.5e00:5301", "separator 2"},         // dotted then colon
           {"0200.5e0g.5301", "group 2"},             // not hex
           {"0200:5e00:5301", "no ':', '-' or '.'"},  // groups of four need dots
           {"02.00.5e.00.53.01", "no ':', '-' or '.'"},
           {"02005e005301", "too short"},
           {"02:00:5e:00:53:01\n", "not pairs"},
           {std::string("02:00:5e:00\0:53:01", 17), "separator 4"},
       }) {
    auto mac = MacAddress::Parse(c.text);
    ASSERT_FALSE(mac.ok()) << c.text;
    EXPECT_EQ(mac.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(mac.status().message(), HasSubstr("is not a MAC address")) << c.text;
    EXPECT_THAT(mac.status().message(), HasSubstr(c.why)) << c.text;
  }
}

TEST(MacAddressTest, WellFormedLongerAddressesAreOutOfRange) {
  // Go's net.ParseMAC parses EUI-64 and InfiniBand addresses; an Ethernet NIC cannot use them.
  for (const char* text :
       {"00:00:00:00:fe:80:00:00", "00-00-00-00-FE-80-00-00", "0000.0000.fe80.0000",
        "00:00:00:00:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01",
        "0000.0000.fe80.0000.0000.0000.0000.0000.0000.0001"}) {
    auto mac = MacAddress::Parse(text);
    ASSERT_FALSE(mac.ok()) << text;
    EXPECT_EQ(mac.status().code(), absl::StatusCode::kOutOfRange) << text;
    EXPECT_THAT(mac.status().message(), HasSubstr("an Ethernet MAC has 6 bytes")) << text;
  }
}

TEST(MacAddressTest, LongTextIsRefusedBeforeItIsRead) {
  const std::string longest(MacAddress::kMaxTextSize, '0');  // the size bound, not a form
  EXPECT_THAT(MacAddress::Parse(longest).status().message(), Not(HasSubstr("longer than")));
  const std::string huge(1 << 20, 'a');
  auto mac = MacAddress::Parse(huge);
  ASSERT_FALSE(mac.ok());
  EXPECT_THAT(mac.status().message(), HasSubstr("longer than 59 characters"));
  EXPECT_LT(mac.status().message().size(), 200u);  // the message quotes a bounded prefix
}

TEST(MacAddressTest, EveryFormRoundTripsThroughTheCanonicalText) {
  std::mt19937 rng(14);
  for (int i = 0; i < 500; ++i) {
    MacAddress::Bytes b;
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    const MacAddress mac(b);
    const std::string colon = mac.ToString();
    ASSERT_EQ(colon.size(), 17u);
    EXPECT_EQ(*MacAddress::Parse(colon), mac);
    const std::string dash =
        absl::StrFormat("%02X-%02X-%02X-%02X-%02X-%02X", b[0], b[1], b[2], b[3], b[4], b[5]);
    EXPECT_EQ(*MacAddress::Parse(dash), mac) << dash;
    const std::string dotted =
        absl::StrFormat("%02x%02X.%02x%02X.%02x%02X", b[0], b[1], b[2], b[3], b[4], b[5]);
    EXPECT_EQ(*MacAddress::Parse(dotted), mac) << dotted;
  }
}

TEST(MacAddressTest, BitsAndBytes) {
  const MacAddress multicast = *MacAddress::Parse("01:00:5e:00:00:01");
  EXPECT_TRUE(multicast.IsMulticast());
  EXPECT_FALSE(multicast.IsLocallyAdministered());
  const MacAddress local = *MacAddress::Parse("02:6b:36:00:00:01");
  EXPECT_FALSE(local.IsMulticast());
  EXPECT_TRUE(local.IsLocallyAdministered());
  EXPECT_FALSE(local.IsBroadcast());
  EXPECT_TRUE(MacAddress::Parse("ff:ff:ff:ff:ff:ff")->IsBroadcast());
  EXPECT_TRUE(MacAddress::Parse("ff:ff:ff:ff:ff:ff")->IsMulticast());
  EXPECT_TRUE(MacAddress().IsZero());
  EXPECT_EQ(MacAddress().ToString(), "00:00:00:00:00:00");
  EXPECT_FALSE(local.IsZero());

  const uint8_t six[] = {0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x05};
  ASSERT_TRUE(MacAddress::FromBytes(six).has_value());
  EXPECT_EQ(MacAddress::FromBytes(six)->ToString(), "0a:58:0a:f4:00:05");
  EXPECT_FALSE(MacAddress::FromBytes(std::span(six, 5)).has_value());
  const uint8_t eight[8] = {};
  EXPECT_FALSE(MacAddress::FromBytes(eight).has_value());

  EXPECT_LT(*MacAddress::Parse("02:00:00:00:00:01"), *MacAddress::Parse("02:00:00:00:00:02"));
  EXPECT_EQ(*MacAddress::Parse("0200.0000.0001"), *MacAddress::Parse("02-00-00-00-00-01"));
}

TEST(FormatHardwareAddressTest, AnyLength) {
  EXPECT_EQ(FormatHardwareAddress({}), "");
  const uint8_t one[] = {0xAB};
  EXPECT_EQ(FormatHardwareAddress(one), "ab");
  const uint8_t four[] = {10, 0, 2, 15};  // an ipip tunnel's "MAC"
  EXPECT_EQ(FormatHardwareAddress(four), "0a:00:02:0f");
}

// ---- IpAddress ----

TEST(IpAddressTest, ParsesBothFamiliesIntoCanonicalText) {
  struct Case {
    const char* text;
    IpFamily family;
    const char* canonical;
  };
  for (const Case& c :
       {Case{"10.0.2.2", IpFamily::kV4, "10.0.2.2"}, Case{"0.0.0.0", IpFamily::kV4, "0.0.0.0"},
        Case{"255.255.255.255", IpFamily::kV4, "255.255.255.255"},
        Case{"fd10:0:2::2", IpFamily::kV6, "fd10:0:2::2"},
        Case{"FD10:0000:0002:0000:0000:0000:0000:0002", IpFamily::kV6, "fd10:0:2::2"},
        Case{"fd10:0:2:0::2", IpFamily::kV6, "fd10:0:2::2"}, Case{"::", IpFamily::kV6, "::"},
        Case{"::ffff:10.0.2.2", IpFamily::kV6, "::ffff:10.0.2.2"},
        Case{"fe80::1", IpFamily::kV6, "fe80::1"}}) {
    auto a = IpAddress::Parse(c.text);
    ASSERT_TRUE(a.ok()) << c.text << ": " << a.status();
    EXPECT_EQ(a->family(), c.family) << c.text;
    EXPECT_EQ(a->ToString(), c.canonical) << c.text;
    EXPECT_EQ(a->bytes().size(), c.family == IpFamily::kV4 ? 4u : 16u);
    EXPECT_EQ(*IpAddress::Parse(a->ToString()), *a) << c.text;
  }
  EXPECT_EQ(IpAddress::Parse("10.0.2.2")->bit_length(), 32);
  EXPECT_EQ(IpAddress::Parse("::1")->bit_length(), 128);
}

TEST(IpAddressTest, RefusesWhatIsNotOneAddress) {
  for (const std::string& text : std::vector<std::string>{
           "", "10.0.2", "10.0.2.256", "010.0.2.2", "10.0.2.2/24", "10.0.2.2 ", " 10.0.2.2",
           "fe80::1%eth0", ":::", "fd10::2::3", "12345::", "abc", "10.0.2.2.", "1.2.3.-4",
           std::string("10.0.2.2\0.5", 11), std::string(46, '1')}) {
    auto a = IpAddress::Parse(text);
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(a.status().message(), HasSubstr("is not an IP")) << text;
  }
  EXPECT_THAT(IpAddress::Parse("10.0.2.256").status().message(), HasSubstr("IPv4"));
  EXPECT_THAT(IpAddress::Parse("fd10::2::3").status().message(), HasSubstr("IPv6"));
  EXPECT_THAT(IpAddress::Parse(std::string(1 << 16, '1')).status().message(),
              HasSubstr("longer than 45 characters"));
}

TEST(IpAddressTest, FromBytesAndOrdering) {
  const uint8_t four[] = {10, 0, 2, 2};
  EXPECT_EQ(IpAddress::FromBytes(four)->ToString(), "10.0.2.2");
  EXPECT_EQ(*IpAddress::FromBytes(four), IpAddress::V4({10, 0, 2, 2}));
  std::array<uint8_t, 16> sixteen{0xfd, 0x10, 0, 0, 0, 2};
  sixteen[15] = 2;
  EXPECT_EQ(IpAddress::FromBytes(sixteen)->ToString(), "fd10:0:2::2");
  EXPECT_EQ(*IpAddress::FromBytes(sixteen), IpAddress::V6(sixteen));
  EXPECT_FALSE(IpAddress::FromBytes(std::span(four, 3)).has_value());
  EXPECT_LT(*IpAddress::Parse("10.0.2.1"), *IpAddress::Parse("10.0.2.2"));
  // The same 4 bytes are different addresses in each family.
  EXPECT_NE(*IpAddress::Parse("0.0.0.0"), *IpAddress::Parse("::"));
  EXPECT_EQ(IpAddress().ToString(), "0.0.0.0");
}

TEST(IpAddressTest, LinkLocalAndLoopback) {
  for (const char* a : {"169.254.0.1", "169.254.75.10", "fe80::1", "febf::ffff"})
    EXPECT_TRUE(IpAddress::Parse(a)->IsLinkLocal()) << a;
  for (const char* a : {"169.255.0.1", "10.0.2.2", "fec0::1", "fe7f::1", "::1", "127.0.0.1"})
    EXPECT_FALSE(IpAddress::Parse(a)->IsLinkLocal()) << a;
  for (const char* a : {"127.0.0.1", "127.255.0.3", "::1"})
    EXPECT_TRUE(IpAddress::Parse(a)->IsLoopback()) << a;
  for (const char* a : {"128.0.0.1", "::", "::2", "::ffff:127.0.0.1", "fe80::1"})
    EXPECT_FALSE(IpAddress::Parse(a)->IsLoopback()) << a;
}

// ---- IpPrefix ----

TEST(IpPrefixTest, ParsesAndKeepsTheHostBits) {
  auto p = IpPrefix::Parse("10.0.2.1/24");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->ToString(), "10.0.2.1/24");
  EXPECT_EQ(p->address().ToString(), "10.0.2.1");
  EXPECT_EQ(p->length(), 24);
  EXPECT_EQ(p->family(), IpFamily::kV4);
  EXPECT_EQ(p->Network().ToString(), "10.0.2.0");
  EXPECT_EQ(p->Masked().ToString(), "10.0.2.0/24");
  EXPECT_EQ(IpPrefix::Parse("FD10:0:2::5/120")->ToString(), "fd10:0:2::5/120");
  EXPECT_EQ(IpPrefix::Parse("fd10:0:2::5/120")->Masked().ToString(), "fd10:0:2::/120");
  EXPECT_EQ(IpPrefix::Parse("10.255.255.255/9")->Masked().ToString(), "10.128.0.0/9");
  EXPECT_EQ(IpPrefix::Parse("0.0.0.0/0")->Masked().ToString(), "0.0.0.0/0");
  EXPECT_EQ(IpPrefix::Parse("::/0")->ToString(), "::/0");
  EXPECT_EQ(IpPrefix::Parse("10.0.2.2/32")->Masked().ToString(), "10.0.2.2/32");
  EXPECT_EQ(IpPrefix::Parse("fd10::1/128")->Masked().ToString(), "fd10::1/128");
}

TEST(IpPrefixTest, RefusesAndSaysWhy) {
  struct Case {
    std::string text;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"10.0.2.0", "no prefix length"},
           {"10.0.2.0/", "prefix length \"\""},
           {"10.0.2.0/33", "0..32"},
           {"fd10::/129", "0..128"},
           {"10.0.2.0/024", "prefix length \"024\""},
           {"10.0.2.0/+24", "prefix length"},
           {"10.0.2.0/ 24", "prefix length"},
           {"10.0.2.0/24 ", "prefix length"},
           {"10.0.2.0/2a", "prefix length"},
           {"10.0.2.0/1000", "prefix length"},
           {"10.0.2.0/24/8", "prefix length"},
           {"/24", "is not an IP address"},
           {"010.0.2.0/24", "is not an IPv4 address"},
           {"10.0.2.0.1/24", "is not an IPv4 address"},
           {std::string(60, '1'), "longer than 49 characters"},
       }) {
    auto p = IpPrefix::Parse(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(p.status().message(), HasSubstr("is not an IP prefix")) << c.text;
    EXPECT_THAT(p.status().message(), HasSubstr(c.why)) << c.text;
  }
  EXPECT_EQ(IpPrefix::Parse("10.0.2.0/0")->length(), 0);
  EXPECT_FALSE(IpPrefix::Make(*IpAddress::Parse("10.0.2.0"), 33).ok());
  EXPECT_FALSE(IpPrefix::Make(*IpAddress::Parse("10.0.2.0"), -1).ok());
  EXPECT_TRUE(IpPrefix::Make(*IpAddress::Parse("::"), 128).ok());
}

TEST(IpPrefixTest, HostAtOffset) {
  const IpPrefix net = *IpPrefix::Parse("10.0.2.77/24");  // host bits do not move the base
  EXPECT_EQ(net.Host(0)->ToString(), "10.0.2.0");
  EXPECT_EQ(net.Host(1)->ToString(), "10.0.2.1");
  EXPECT_EQ(net.Host(2)->ToString(), "10.0.2.2");
  EXPECT_EQ(net.Host(255)->ToString(), "10.0.2.255");
  EXPECT_FALSE(net.Host(256).has_value());
  EXPECT_EQ(IpPrefix::Parse("10.0.0.0/16")->Host(256)->ToString(), "10.0.1.0");  // carry
  EXPECT_EQ(IpPrefix::Parse("10.0.0.0/8")->Host(0xffffff)->ToString(), "10.255.255.255");
  EXPECT_EQ(IpPrefix::Parse("10.0.2.4/30")->Host(3)->ToString(), "10.0.2.7");
  EXPECT_FALSE(IpPrefix::Parse("10.0.2.4/30")->Host(4).has_value());
  EXPECT_EQ(IpPrefix::Parse("10.0.2.2/32")->Host(0)->ToString(), "10.0.2.2");
  EXPECT_FALSE(IpPrefix::Parse("10.0.2.2/32")->Host(1).has_value());
  EXPECT_EQ(IpPrefix::Parse("0.0.0.0/0")->Host(0xffffffff)->ToString(), "255.255.255.255");
  EXPECT_FALSE(IpPrefix::Parse("0.0.0.0/0")->Host(uint64_t{1} << 32).has_value());
  EXPECT_EQ(IpPrefix::Parse("fd10:0:2::/120")->Host(2)->ToString(), "fd10:0:2::2");
  EXPECT_FALSE(IpPrefix::Parse("fd10:0:2::/120")->Host(256).has_value());
  EXPECT_EQ(IpPrefix::Parse("fd10::/64")->Host(0x10000)->ToString(), "fd10::1:0");
  EXPECT_EQ(IpPrefix::Parse("fd10::/64")->Host(UINT64_MAX)->ToString(),
            "fd10::ffff:ffff:ffff:ffff");
  EXPECT_EQ(IpPrefix::Parse("::/0")->Host(UINT64_MAX)->ToString(), "::ffff:ffff:ffff:ffff");
}

TEST(IpPrefixTest, Contains) {
  const IpPrefix net = *IpPrefix::Parse("10.0.2.0/24");
  EXPECT_TRUE(net.Contains(*IpAddress::Parse("10.0.2.0")));
  EXPECT_TRUE(net.Contains(*IpAddress::Parse("10.0.2.255")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("10.0.3.1")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("::ffff:10.0.2.2")));  // other family
  EXPECT_TRUE(IpPrefix::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("192.0.2.1")));
  EXPECT_FALSE(IpPrefix::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("::")));
  EXPECT_TRUE(IpPrefix::Parse("10.0.2.128/25")->Contains(*IpAddress::Parse("10.0.2.200")));
  EXPECT_FALSE(IpPrefix::Parse("10.0.2.128/25")->Contains(*IpAddress::Parse("10.0.2.127")));
  EXPECT_TRUE(IpPrefix::Parse("fd10:0:2::/120")->Contains(*IpAddress::Parse("fd10:0:2::ff")));
  EXPECT_FALSE(IpPrefix::Parse("fd10:0:2::/120")->Contains(*IpAddress::Parse("fd10:0:2::100")));
}

TEST(IpPrefixTest, RoundTrips) {
  std::mt19937 rng(15);
  for (int i = 0; i < 300; ++i) {
    std::array<uint8_t, 16> b;
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    const bool v6 = i % 2 == 1;
    const IpAddress a = v6 ? IpAddress::V6(b) : IpAddress::V4({b[0], b[1], b[2], b[3]});
    const int len = static_cast<int>(rng() % (a.bit_length() + 1));
    const IpPrefix p = *IpPrefix::Make(a, len);
    EXPECT_EQ(*IpPrefix::Parse(p.ToString()), p) << p.ToString();
    EXPECT_TRUE(p.Contains(a));
    EXPECT_TRUE(p.Masked().Contains(a));
    EXPECT_EQ(p.Masked().Masked(), p.Masked());
    EXPECT_EQ(*p.Host(0), p.Network());
  }
}

// ---- PciAddress ----

TEST(PciAddressTest, KubeVirtsForm) {
  auto a = PciAddress::Parse("0000:81:01.0");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->domain, 0);
  EXPECT_EQ(a->bus, 0x81);
  EXPECT_EQ(a->slot, 0x01);
  EXPECT_EQ(a->function, 0);
  EXPECT_EQ(a->ToString(), "0000:81:01.0");
  auto b = PciAddress::Parse("FfFf:Ab:1F.7");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->domain, 0xffff);
  EXPECT_EQ(b->bus, 0xab);
  EXPECT_EQ(b->slot, 0x1f);
  EXPECT_EQ(b->function, 7);
  EXPECT_EQ(b->ToString(), "ffff:ab:1f.7");
  EXPECT_EQ(*PciAddress::Parse(b->ToString()), *b);
  EXPECT_LT(*PciAddress::Parse("0000:65:00.0"), *PciAddress::Parse("0000:65:00.2"));
}

TEST(PciAddressTest, RefusesAndSaysWhy) {
  struct Case {
    std::string text;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"0000:81:01.8", "function"},
           {"0000:81:01.10", "13 characters"},  // the KubeVirt API doc's own example
           {"81:01.0", "7 characters"},
           {"", "0 characters"},
           {"0000-81-01.0", "separators"},
           {"0000:81:01:0", "separators"},
           {"000g:81:01.0", "domain"},
           {"0000:8g:01.0", "bus"},
           {"0000:81:0x.0", "slot"},
           {"0000:81:01.a", "function"},
           {"0000:81:01.0 ", "13 characters"},
           {std::string(1 << 16, '0'), "65536 characters"},
       }) {
    auto a = PciAddress::Parse(c.text);
    ASSERT_FALSE(a.ok()) << c.text;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(a.status().message(), HasSubstr("is not a PCI address (DDDD:BB:SS.F)"));
    EXPECT_THAT(a.status().message(), HasSubstr(c.why)) << c.text;
    EXPECT_LT(a.status().message().size(), 200u);
  }
}

}  // namespace
}  // namespace k6t::api
