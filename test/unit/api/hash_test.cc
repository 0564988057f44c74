// k6t/api/hash.h: FNV-1a 64 against the published test vectors, and the seed of k6t's
// earlier derived values.
#include "k6t/api/hash.h"

#include <gtest/gtest.h>

namespace k6t::api {
namespace {

TEST(Fnv1a64Test, PublishedVectors) {
  // From the FNV reference (Fowler, Noll, Vo: test vectors for FNV-1a 64).
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
  static_assert(Fnv1a64("a") == 0xaf63dc4c8601ec8cULL, "usable at compile time");
}

TEST(Fnv1a64Test, SeedChainsAndBytesAboveSevenBitsCount) {
  EXPECT_EQ(Fnv1a64("", 42), 42u);
  EXPECT_EQ(Fnv1a64("bar", Fnv1a64("foo")), Fnv1a64("foobar"));
  EXPECT_NE(Fnv1a64("\xff"), Fnv1a64("\x7f"));
  EXPECT_NE(Fnv1a64(std::string_view("a\0b", 3)), Fnv1a64("ab"));
}

TEST(Fnv1a64Test, K6tSeedGivesTheValuesEarlierReleasesDerived) {
  // The nftables fingerprint and the bridge MAC of a VMI with uid "uid", computed by the
  // hand-written loops this header replaced (the bytes of these values are in golden files
  // and running pods).
  EXPECT_EQ(Fnv1a64("uid/k6t-eth0", kFnv1a64K6tSeed), 0x9edc6cc91e1713abULL);
  EXPECT_NE(kFnv1a64K6tSeed, kFnv1a64Basis);
}

}  // namespace
}  // namespace k6t::api
