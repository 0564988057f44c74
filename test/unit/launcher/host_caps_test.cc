#include "host_caps.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

class HostCapsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/k6t-hostcaps-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    paths_.kvm_device = dir_ + "/kvm";
    paths_.cpuinfo = dir_ + "/cpuinfo";
    paths_.vhost_net = dir_ + "/vhost-net";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  std::string dir_;
  HostPaths paths_;
};

TEST_F(HostCapsTest, AutoWithoutKvmDeviceIsTcg) {
  Write(paths_.cpuinfo, "flags\t\t: fpu vmx sse\n");
  auto c = ResolveAccel(Accel::kAuto, paths_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->accel, Accel::kTcg);
  EXPECT_NE(c->reason.find("not usable"), std::string::npos) << c->reason;
}

TEST_F(HostCapsTest, AutoWithParavirtualKvmIsTcg) {
  Write(paths_.kvm_device, "");
  Write(paths_.cpuinfo, "processor\t: 0\nflags\t\t: fpu sse hypervisor\n");
  auto c = ResolveAccel(Accel::kAuto, paths_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->accel, Accel::kTcg);
  EXPECT_NE(c->reason.find("no vmx/svm"), std::string::npos) << c->reason;
}

TEST_F(HostCapsTest, AutoWithHardwareVirtIsKvm) {
  Write(paths_.kvm_device, "");
  Write(paths_.cpuinfo, "flags\t\t: fpu svm sse\n");
  auto c = ResolveAccel(Accel::kAuto, paths_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->accel, Accel::kKvm);
}

TEST_F(HostCapsTest, ExplicitKvmNeedsTheDevice) {
  EXPECT_FALSE(ResolveAccel(Accel::kKvm, paths_).ok());
  EXPECT_EQ(ResolveAccel(Accel::kTcg, paths_)->accel, Accel::kTcg);
}

TEST_F(HostCapsTest, VhostNetPresence) {
  EXPECT_FALSE(HostHasVhostNet(paths_));
  Write(paths_.vhost_net, "");
  EXPECT_TRUE(HostHasVhostNet(paths_));
}

TEST(Accel, Parse) {
  EXPECT_EQ(*ParseAccel("auto"), Accel::kAuto);
  EXPECT_EQ(*ParseAccel("kvm"), Accel::kKvm);
  EXPECT_EQ(*ParseAccel("tcg"), Accel::kTcg);
  EXPECT_FALSE(ParseAccel("hvf").ok());
}

TEST(ScopedCpuPin, PinsToTheLowestAllowedCpuAndRestores) {
  cpu_set_t before, during, after;
  ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
  int lowest = 0;
  while (!CPU_ISSET(lowest, &before)) ++lowest;
  {
    ScopedCpuPin pin;
    ASSERT_EQ(sched_getaffinity(0, sizeof(during), &during), 0);
    EXPECT_EQ(CPU_COUNT(&during), 1);
    EXPECT_TRUE(CPU_ISSET(lowest, &during));
  }
  ASSERT_EQ(sched_getaffinity(0, sizeof(after), &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
}

}  // namespace
}  // namespace k6t::launcher
