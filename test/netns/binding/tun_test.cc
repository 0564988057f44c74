// Persistent taps through /dev/net/tun, inside scratch namespaces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

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

class TunTest : public ScratchNetnsTest {
 protected:
  TunTest() : ScratchNetnsTest("tun") {}
  absl::Status Create(const TapSpec& spec) {
    return In(*thread_, [&] { return NewTun()->CreateTap(spec); });
  }
  std::optional<Link> Get(const std::string& name) {
    auto l = In(*thread_, [&] { return NewNetlink()->GetLink(name); });
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *l : std::nullopt;
  }
  std::string Details(const std::string& name) { return ns_->Exec("ip -d link show " + name).out; }
};

TEST_F(TunTest, CreatesPersistentSingleQueueTapWithOwnerGroupAndMtu) {
  ASSERT_TRUE(Create(TapSpec{"tap0", 61107, 61108, 1, 1400}).ok());
  auto l = Get("tap0");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->kind, "tun");
  EXPECT_EQ(l->mtu, 1400);
  std::string d = Details("tap0");
  EXPECT_THAT(d, HasSubstr("tun type tap"));
  EXPECT_THAT(d, HasSubstr("persist on"));
  EXPECT_THAT(d, HasSubstr("user 61107"));
  EXPECT_THAT(d, HasSubstr("group 61108"));
  EXPECT_THAT(d, Not(HasSubstr("multi_queue")));
  // Only in this namespace (a name unlikely to exist on the host for another reason).
  const std::string unique = "tq" + std::to_string(getpid());
  ASSERT_TRUE(Create(TapSpec{unique, 0, 0, 1, 0}).ok());
  EXPECT_EQ(ns_->Exec("ip link show " + unique).code, 0);
  EXPECT_NE(::k6t::testing::Sh("ip link show " + unique).code, 0) << "leaked into the host";
}

TEST_F(TunTest, CreatesMultiQueueTap) {
  ASSERT_TRUE(Create(TapSpec{"tapmq", 0, 0, 4, 0}).ok());
  std::string d = Details("tapmq");
  EXPECT_THAT(d, HasSubstr("multi_queue"));
  EXPECT_THAT(d, HasSubstr("user root group root"));
  EXPECT_THAT(d, HasSubstr("persist on"));
}

TEST_F(TunTest, RecreatingTheSameTapIsSuccessAndAdjustsMtu) {
  ASSERT_TRUE(Create(TapSpec{"tap1", 61107, 61107, 1, 1500}).ok());
  const int index = Get("tap1")->index;
  absl::Status again = Create(TapSpec{"tap1", 61107, 61107, 1, 1400});
  ASSERT_TRUE(again.ok()) << again;
  auto l = Get("tap1");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->index, index) << "must reuse, not recreate";
  EXPECT_EQ(l->mtu, 1400);
  ASSERT_TRUE(Create(TapSpec{"tapm", 61107, 61107, 2, 0}).ok());
  EXPECT_TRUE(Create(TapSpec{"tapm", 61107, 61107, 8, 0}).ok()) << "queue count is not a property";
}

TEST_F(TunTest, ConflictingRecreateIsAnErrorThatSaysWhy) {
  ASSERT_TRUE(Create(TapSpec{"tap2", 61107, 61107, 1, 0}).ok());
  absl::Status owner = Create(TapSpec{"tap2", 0, 61107, 1, 0});
  EXPECT_EQ(owner.code(), absl::StatusCode::kAlreadyExists) << owner;
  EXPECT_THAT(std::string(owner.message()), HasSubstr("tap2"));
  EXPECT_THAT(std::string(owner.message()), HasSubstr("owner 61107"));
  absl::Status group = Create(TapSpec{"tap2", 61107, 61005, 1, 0});
  EXPECT_EQ(group.code(), absl::StatusCode::kAlreadyExists) << group;
  absl::Status mq = Create(TapSpec{"tap2", 61107, 61107, 4, 0});
  EXPECT_EQ(mq.code(), absl::StatusCode::kAlreadyExists) << mq;
  EXPECT_THAT(std::string(mq.message()), HasSubstr("single-queue"));
  // The existing tap is untouched.
  EXPECT_THAT(Details("tap2"), HasSubstr("user 61107"));
}

TEST_F(TunTest, TapNameTakenByAnotherKindIsAnError) {
  ASSERT_EQ(ns_->Exec("ip link add tap3 type bridge").code, 0);
  absl::Status st = Create(TapSpec{"tap3", 0, 0, 1, 0});
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("bridge"));
  ASSERT_EQ(ns_->Exec("ip tuntap add tap4 mode tap").code, 0);  // no owner
  absl::Status unowned = Create(TapSpec{"tap4", 0, 0, 1, 0});
  EXPECT_EQ(unowned.code(), absl::StatusCode::kAlreadyExists) << unowned;
  EXPECT_THAT(std::string(unowned.message()), HasSubstr("owner unset"));
}

TEST_F(TunTest, FailureBeforePersistLeavesNothing) {
  // An MTU the kernel refuses fails after TUNSETIFF but before TUNSETPERSIST.
  absl::Status st = Create(TapSpec{"tap5", 0, 0, 1, 70000});
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("tap5"));
  EXPECT_FALSE(Get("tap5").has_value());
}

TEST_F(TunTest, BadNameIsRejected) {
  EXPECT_EQ(Create(TapSpec{"much-too-long-tap-name", 0, 0, 1, 0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Create(TapSpec{"", 0, 0, 1, 0}).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace k6t::binding
