#include "k6t/dhcp/dns_name.h"

#include <gtest/gtest.h>

#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp {
namespace {

using testing::HexStr;
using testing::ToHex;

TEST(DomainList, EncodesWithoutCompression) {
  auto enc =
      EncodeDomainList({"default.svc.cluster.local", "svc.cluster.local", "example.COM."}, 255);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ(ToHex(*enc),
            ToHex(HexStr("07 64656661756c74 03 737663 07 636c7573746572 05 6c6f63616c 00"
                         "03 737663 07 636c7573746572 05 6c6f63616c 00"
                         "07 6578616d706c65 03 434f4d 00")));
  auto back = DecodeDomainList(*enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (std::vector<std::string>{"default.svc.cluster.local", "svc.cluster.local",
                                             "example.COM"}));
}

TEST(DomainList, EnforcesTheByteLimit) {
  // 4 x (1 + 62 + 1) = 256 bytes: one over a single DHCPv4 option.
  const std::string label(62, 'a');
  std::vector<std::string> names(4, label);
  for (int i = 0; i < 4; ++i) names[i][0] = static_cast<char>('a' + i);
  auto enc = EncodeDomainList(names, 255);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), absl::StatusCode::kResourceExhausted);
  names.pop_back();
  ASSERT_TRUE(EncodeDomainList(names, 255).ok());
  EXPECT_EQ(EncodeDomainList(names, 255)->size(), 192u);
}

TEST(DomainName, Validates) {
  EXPECT_TRUE(ValidateDomainName("cluster.local").ok());
  EXPECT_TRUE(ValidateDomainName("cluster.local.").ok());
  EXPECT_TRUE(ValidateDomainName("_srv.x-y.z9").ok());
  EXPECT_FALSE(ValidateDomainName("").ok());
  EXPECT_FALSE(ValidateDomainName(".").ok());
  EXPECT_FALSE(ValidateDomainName("a..b").ok());
  EXPECT_FALSE(ValidateDomainName("-a.b").ok());
  EXPECT_FALSE(ValidateDomainName("a b").ok());
  EXPECT_FALSE(ValidateDomainName("a/b").ok());
  EXPECT_TRUE(ValidateDomainName(std::string(63, 'a')).ok());
  EXPECT_FALSE(ValidateDomainName(std::string(64, 'a')).ok());
  // 253 characters is the longest name; 254 is one too many.
  std::string longest;
  while (longest.size() < 253) longest += longest.empty() ? "a" : ".a";
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_TRUE(ValidateDomainName(longest).ok());
  EXPECT_FALSE(ValidateDomainName(longest + "a").ok());
  EXPECT_EQ(*NormalizeDomainName("Cluster.LOCAL."), "cluster.local");
}

TEST(DomainList, DecodesBackwardPointers) {
  // "svc.cluster.local", then "default" + pointer to offset 0.
  auto wire = HexStr("03 737663 07 636c7573746572 05 6c6f63616c 00  07 64656661756c74 c0 00");
  auto names = DecodeDomainList(wire);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (std::vector<std::string>{"svc.cluster.local", "default.svc.cluster.local"}));
}

TEST(DomainList, RejectsLoopsAndTruncation) {
  EXPECT_FALSE(DecodeDomainList(HexStr("c0 00")).ok());              // points at itself
  EXPECT_FALSE(DecodeDomainList(HexStr("01 61 c0 05 00 00")).ok());  // forwards
  // "a" then a pointer back to "a": the walk would come back to the same pointer forever.
  EXPECT_FALSE(DecodeDomainList(HexStr("01 61 c0 00")).ok());
  EXPECT_FALSE(DecodeDomainList(HexStr("03 61 62")).ok());  // label truncated
  EXPECT_FALSE(DecodeDomainList(HexStr("01 61")).ok());     // no terminating 0
  EXPECT_FALSE(DecodeDomainList(HexStr("40")).ok());        // reserved label type
  EXPECT_FALSE(DecodeDomainList(HexStr("01 61 c0")).ok());  // pointer truncated
  std::string many;
  for (int i = 0; i < 65; ++i) many += HexStr("01 61 00");
  EXPECT_FALSE(DecodeDomainList(many).ok());
  EXPECT_TRUE(DecodeDomainList(many.substr(0, 64 * 3)).ok());
}

TEST(DomainList, RejectsNamesLongerThan253) {
  std::string wire;
  for (int i = 0; i < 5; ++i) wire += std::string(1, '\x3f') + std::string(63, 'a');
  wire.push_back('\0');
  EXPECT_FALSE(DecodeDomainList(wire).ok());
}

TEST(SearchList, NormalisesSkipsAndKeepsAPrefix) {
  const SearchList list = BuildSearchList(
      {"Default.SVC.cluster.local.", "-bad.example", "svc.cluster.local",
       "default.svc.cluster.local", "a.example", "cluster.local", "b.example"},
      27 + 19 + 11 + 14);  // the first three valid ones; cluster.local needs 15 more
  EXPECT_EQ(list.names, (std::vector<std::string>{"default.svc.cluster.local", "svc.cluster.local",
                                                  "a.example"}));
  ASSERT_EQ(list.wire.size(), 3u);
  EXPECT_EQ(ToHex(list.wire[2]), "01 61 07 65 78 61 6d 70 6c 65 00");
  // What was skipped, by reason; b.example would fit but comes after cluster.local.
  EXPECT_EQ(list.skipped,
            (std::vector<std::string>{
                "search domains that are not domain names: \"-bad.example\"",
                "repeated search domains: default.svc.cluster.local",
                "search domains beyond 71 bytes of search list: cluster.local, b.example"}));
  EXPECT_TRUE(BuildSearchList({}, 255).names.empty());
}

}  // namespace
}  // namespace k6t::dhcp
