#include "frames.h"

#include <gtest/gtest.h>

#include "rate_limiter.h"
#include "test/unit/dhcp/hex.h"

namespace k6t::dhcp::internal {
namespace {

using dhcp::testing::Hex;
using dhcp::testing::ToHex;

TEST(Frames, Udp4HeadersAndChecksumsVerify) {
  const std::vector<uint8_t> payload = {'h', 'e', 'l', 'l', 'o'};
  auto f = BuildUdp4({10, 0, 2, 1}, {10, 0, 2, 2}, 67, 68, payload);
  ASSERT_EQ(f.size(), 20u + 8 + 5);
  EXPECT_EQ(ToHex(std::span<const uint8_t>(f.data(), 10)), "45 10 00 21 00 00 00 00 40 11");
  EXPECT_EQ(ToHex(std::span<const uint8_t>(f.data() + 12, 8)), "0a 00 02 01 0a 00 02 02");
  EXPECT_EQ(ToHex(std::span<const uint8_t>(f.data() + 20, 6)), "00 43 00 44 00 0d");
  // A correct header sums to 0xffff, i.e. its checksum over itself is 0.
  EXPECT_EQ(InternetChecksum(std::span<const uint8_t>(f.data(), 20)), 0);
  std::vector<uint8_t> pseudo = {10, 0, 2, 1, 10, 0, 2, 2, 0, 17, 0, 13};
  pseudo.insert(pseudo.end(), f.begin() + 20, f.end());
  EXPECT_EQ(InternetChecksum(pseudo), 0);
}

TEST(Frames, ChecksumOfRfc1071Example) {
  // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2; the checksum is its complement.
  EXPECT_EQ(InternetChecksum(Hex("00 01 f2 03 f4 f5 f6 f7")), 0x220d);
  EXPECT_EQ(InternetChecksum(Hex("01")), 0xfeff);  // odd length pads with zero
}

TEST(RateLimiter, BurstThenRefill) {
  RateLimiter l(2.0, 3.0, 4);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(l.Allow(1, t0));
  EXPECT_TRUE(l.Allow(1, t0));
  EXPECT_TRUE(l.Allow(1, t0));
  EXPECT_FALSE(l.Allow(1, t0));
  EXPECT_TRUE(l.Allow(2, t0));  // other clients have their own budget
  EXPECT_TRUE(l.Allow(1, t0 + std::chrono::milliseconds(500)));
  EXPECT_FALSE(l.Allow(1, t0 + std::chrono::milliseconds(500)));
}

TEST(RateLimiter, TableIsBoundedAndOverflowShared) {
  RateLimiter l(1.0, 2.0, 4);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (uint64_t k = 0; k < 4; ++k) EXPECT_TRUE(l.Allow(k, t0));
  int allowed = 0;
  for (uint64_t k = 100; k < 10100; ++k) allowed += l.Allow(k, t0);
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(allowed, 2);  // the shared bucket's burst
  // Once the known clients' buckets are full again they are forgotten for new ones.
  EXPECT_TRUE(l.Allow(5000, t0 + std::chrono::seconds(10)));
  EXPECT_LE(l.size(), 4u);
}

}  // namespace
}  // namespace k6t::dhcp::internal
