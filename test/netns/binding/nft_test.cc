// libnftables adapter: atomic replace, list, idempotent delete, in a scratch namespace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "k6t/binding/kernel.h"
#include "k6t/binding/netns.h"
#include "support/scratch_netns.h"

namespace k6t::binding {
namespace {

using ::k6t::testing::In;
using ::k6t::testing::ScratchNetns;
using ::k6t::testing::ScratchNetnsTest;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBody[] = R"(
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "eth0" tcp dport 8080 counter dnat to 10.0.2.2
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.0.2.2 counter masquerade
  })";

class NftTest : public ScratchNetnsTest {
 protected:
  NftTest() : ScratchNetnsTest("nft") {}
  void SetUp() override {
    ScratchNetnsTest::SetUp();
    if (HasFatalFailure()) return;
    nft_ = In(*thread_, [] { return NewNft(); });
  }
  void TearDown() override {
    if (thread_)
      In(*thread_, [this] {
        nft_.reset();
        return 0;
      });
    ScratchNetnsTest::TearDown();
  }
  absl::Status Replace(const std::string& f, const std::string& n, const std::string& body) {
    return In(*thread_, [&] { return nft_->ReplaceTable(f, n, body); });
  }
  absl::StatusOr<std::optional<std::string>> List(const std::string& f, const std::string& n) {
    return In(*thread_, [&] { return nft_->ListTable(f, n); });
  }
  absl::Status Delete(const std::string& f, const std::string& n) {
    return In(*thread_, [&] { return nft_->DeleteTable(f, n); });
  }

  std::unique_ptr<Nft> nft_;
};

TEST_F(NftTest, ReplacesAndListsATable) {
  ASSERT_TRUE(Replace("ip", "k6t-t", kBody).ok());
  auto listed = List("ip", "k6t-t");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_TRUE(listed->has_value());
  EXPECT_THAT(**listed, HasSubstr("table ip k6t-t {"));
  EXPECT_THAT(**listed, HasSubstr("dnat to 10.0.2.2"));
  EXPECT_THAT(**listed, HasSubstr("masquerade"));
  auto cli = ns_->Exec("nft list table ip k6t-t");
  EXPECT_EQ(cli.code, 0);
  EXPECT_EQ(cli.out, **listed);
  // Only in this namespace.
  EXPECT_THAT(::k6t::testing::Sh("nft list tables").out, Not(HasSubstr("k6t-t")));
}

TEST_F(NftTest, ReplaceDropsWhatTheNewBodyDoesNotHave) {
  ASSERT_TRUE(Replace("ip", "k6t-t", kBody).ok());
  ASSERT_TRUE(Replace("ip", "k6t-t", R"(
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
  })")
                  .ok());
  auto listed = List("ip", "k6t-t");
  ASSERT_TRUE(listed.ok() && listed->has_value());
  EXPECT_THAT(**listed, Not(HasSubstr("prerouting")));
  EXPECT_THAT(**listed, Not(HasSubstr("masquerade")));
}

TEST_F(NftTest, ABadBodyLeavesThePreviousTableUnchanged) {
  ASSERT_TRUE(Replace("ip", "k6t-t", kBody).ok());
  auto before = ns_->Exec("nft list table ip k6t-t");
  ASSERT_EQ(before.code, 0);
  // Parses, but the kernel rejects the second chain's jump: only the transaction as a whole
  // can keep the delete of the old table from taking effect.
  absl::Status st = Replace("ip", "k6t-t", R"(
  chain a {
    type filter hook forward priority 0; policy accept;
    counter
  }
  chain b {
    jump nosuchchain
  })");
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("k6t-t"));
  // Rejected by the kernel (not by nft's parser), after the delete was already queued.
  EXPECT_THAT(std::string(st.message()), HasSubstr("Could not process rule"));
  EXPECT_EQ(ns_->Exec("nft list table ip k6t-t").out, before.out);

  // A syntax error is rejected before anything is sent.
  absl::Status syntax = Replace("ip", "k6t-t", "chain c { this is not nft }");
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInvalidArgument) << syntax;
  EXPECT_THAT(std::string(syntax.message()), HasSubstr("Error"));
  EXPECT_EQ(ns_->Exec("nft list table ip k6t-t").out, before.out);
}

TEST_F(NftTest, BodyCannotEscapeItsTable) {
  absl::Status st = Replace("ip", "k6t-t", "}\nflush ruleset\ntable ip other {");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(Replace("ip", "k6t t", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Replace("ipx", "k6t-t", "").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NftTest, ListedBodyCanBeReplayed) {
  ASSERT_TRUE(Replace("ip", "k6t-i", kBody).ok());
  auto first = List("ip", "k6t-i");
  ASSERT_TRUE(first.ok() && first->has_value());
  const std::string& text = **first;
  std::string body = text.substr(text.find('{') + 1, text.rfind('}') - text.find('{') - 1);
  ASSERT_TRUE(Replace("ip", "k6t-i", body).ok());
  auto second = List("ip", "k6t-i");
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ(**second, text);
}

TEST_F(NftTest, InetTablesWork) {
  ASSERT_TRUE(Replace("inet", "k6t-i", R"(
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 22 counter accept
  })")
                  .ok());
  EXPECT_THAT(ns_->Exec("nft list table inet k6t-i").out, HasSubstr("tcp dport 22"));
}

TEST_F(NftTest, AbsentTablesListAsNulloptAndDeleteIsIdempotent) {
  auto none = List("ip6", "k6t-none");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(Delete("ip6", "k6t-none").ok());
  ASSERT_TRUE(
      Replace("ip6", "k6t-6", "chain c { type nat hook postrouting priority srcnat; }").ok());
  ASSERT_TRUE(Delete("ip6", "k6t-6").ok());
  auto gone = List("ip6", "k6t-6");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_THAT(ns_->Exec("nft list tables").out, Not(HasSubstr("k6t-6")));
  EXPECT_TRUE(Delete("ip6", "k6t-6").ok());
}

}  // namespace
}  // namespace k6t::binding
