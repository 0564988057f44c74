// /proc/sys/net from a NetnsThread reads and writes that namespace only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "k6t/binding/kernel.h"
#include "k6t/binding/netns.h"
#include "support/scratch_netns.h"

namespace k6t::binding {
namespace {

using ::k6t::testing::In;
using ::k6t::testing::ScratchNetns;
using ::testing::HasSubstr;

class SysctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* slot : {&a_, &b_}) {
      auto ns = ScratchNetns::Create("sysctl");
      ASSERT_TRUE(ns.ok()) << ns.status();
      *slot = std::move(*ns);
    }
    auto ta = NetnsThread::Enter(a_->path());
    ASSERT_TRUE(ta.ok()) << ta.status();
    ta_ = std::move(*ta);
    auto tb = NetnsThread::Enter(b_->path());
    ASSERT_TRUE(tb.ok()) << tb.status();
    tb_ = std::move(*tb);
  }
  void TearDown() override {
    ta_.reset();
    tb_.reset();
    a_.reset();
    b_.reset();
  }
  static absl::StatusOr<std::string> Read(NetnsThread& t, const std::string& key) {
    return In(t, [&] { return NewSysctl()->Read(key); });
  }
  static absl::Status Write(NetnsThread& t, const std::string& key, const std::string& v) {
    return In(t, [&] { return NewSysctl()->Write(key, v); });
  }

  std::unique_ptr<ScratchNetns> a_, b_;
  std::unique_ptr<NetnsThread> ta_, tb_;
};

TEST_F(SysctlTest, WriteInOneNamespaceIsInvisibleElsewhere) {
  for (const std::string key :
       {"ipv4/conf/lo/route_localnet", "ipv4/ip_forward", "ipv6/conf/all/forwarding"}) {
    auto host = NewSysctl()->Read(key);  // this test thread is in the host namespace
    ASSERT_TRUE(host.ok()) << host.status();
    auto in_a = Read(*ta_, key);
    auto in_b = Read(*tb_, key);
    ASSERT_TRUE(in_a.ok() && in_b.ok());
    const std::string next = *in_a == "1" ? "0" : "1";
    ASSERT_TRUE(Write(*ta_, key, next).ok()) << key;
    EXPECT_EQ(*Read(*ta_, key), next) << key;
    EXPECT_EQ(a_->Exec("cat /proc/sys/net/" + key).out, next + "\n") << key;
    EXPECT_EQ(*Read(*tb_, key), *in_b) << key << " leaked into namespace B";
    EXPECT_EQ(*NewSysctl()->Read(key), *host) << key << " leaked into the host";
  }
}

TEST_F(SysctlTest, PerLinkKeysExistOnlyWhereTheLinkIs) {
  ASSERT_EQ(a_->Exec("ip link add br-s type bridge").code, 0);
  ASSERT_TRUE(Write(*ta_, "ipv4/conf/br-s/arp_ignore", "1").ok());
  EXPECT_EQ(*Read(*ta_, "ipv4/conf/br-s/arp_ignore"), "1");
  auto missing = Read(*tb_, "ipv4/conf/br-s/arp_ignore");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("br-s"));
}

TEST_F(SysctlTest, ValuesAreTrimmedAndMultiFieldValuesKept) {
  auto range = Read(*ta_, "ipv4/ip_local_port_range");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->find('\n'), std::string::npos);
  EXPECT_NE(range->find('\t'), std::string::npos) << *range;
}

TEST_F(SysctlTest, RejectsBadKeysAndValues) {
  auto s = NewSysctl();
  for (const std::string key :
       {"../../../etc/passwd", "ipv4/../ipv4/ip_forward", "/ipv4/ip_forward", "IPV4/ip_forward",
        "ipv4/ip_forward;rm", "", "ipv4//ip_forward"}) {
    EXPECT_EQ(s->Read(key).status().code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(s->Write(key, "1").code(), absl::StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(Read(*ta_, "ipv4/no_such_key").status().code(), absl::StatusCode::kNotFound);
  absl::Status bad = Write(*ta_, "ipv4/ip_forward", "not-a-number");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("ip_forward"));
}

}  // namespace
}  // namespace k6t::binding
