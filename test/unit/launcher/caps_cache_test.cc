#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libvirt_daemon.h"

namespace k6t::launcher {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CapsCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/k6t-caps-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/qemu") << "fake emulator";
    std::ofstream(dir_ + "/libvirtd") << "fake daemon";
    cache_.shared_root = dir_ + "/shared";
    cache_.emulator = dir_ + "/qemu";
    cache_.libvirtd = dir_ + "/libvirtd";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_;
  CapsCache cache_;
};

TEST_F(CapsCacheTest, PublishThenSeedAnotherDaemon) {
  const std::string a = dir_ + "/a/cache";
  fs::create_directories(a + "/qemu/capabilities");
  std::ofstream(a + "/qemu/capabilities/abc.xml") << "<qemuCaps/>";
  std::ofstream(a + "/qemu/capabilities/ignored.tmp") << "x";
  EXPECT_EQ(cache_.Publish(a), 1);
  EXPECT_EQ(cache_.Publish(a), 0);  // unchanged: nothing rewritten
  EXPECT_THAT(cache_.SharedDir(), StartsWith(dir_ + "/shared/libvirt-"));
  EXPECT_EQ(ReadFile(cache_.SharedDir() + "/abc.xml"), "<qemuCaps/>");

  const std::string b = dir_ + "/b/cache";
  EXPECT_EQ(cache_.Seed(b), 1);
  EXPECT_EQ(ReadFile(b + "/qemu/capabilities/abc.xml"), "<qemuCaps/>");
  EXPECT_FALSE(fs::exists(b + "/qemu/capabilities/ignored.tmp"));
}

TEST_F(CapsCacheTest, KeyChangesWithTheEmulator) {
  const std::string before = cache_.SharedDir();
  std::ofstream(dir_ + "/qemu") << "a different, longer emulator binary";
  EXPECT_NE(cache_.SharedDir(), before);
}

TEST_F(CapsCacheTest, DisabledCacheDoesNothing) {
  cache_.shared_root.clear();
  EXPECT_EQ(cache_.Seed(dir_ + "/c"), 0);
  EXPECT_EQ(cache_.Publish(dir_ + "/c"), 0);
}

TEST(EmbedRoot, WritesQemuConf) {
  char tmpl[] = "/tmp/k6t-embed-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  ASSERT_TRUE(PrepareEmbedRoot(tmpl, QemuUser{107, 107}).ok());
  const std::string conf = ReadFile(std::string(tmpl) + "/etc/qemu.conf");
  EXPECT_THAT(conf, HasSubstr("user = \"+107\"\ngroup = \"+107\""));
  EXPECT_THAT(conf, HasSubstr("stdio_handler = \"file\""));
  EXPECT_THAT(conf, HasSubstr("security_driver = \"none\""));
  for (const char* d : {"run", "lib", "log", "cache"})
    EXPECT_TRUE(fs::is_directory(std::string(tmpl) + "/" + d)) << d;
  fs::remove_all(tmpl);
}

// One VM and one client: a handful of workers, not a host daemon's 5 + 5 + 5 (up to 20).
TEST(PrivateLibvirtdConfig, WorkerPoolsSizedForOneVm) {
  const std::string conf = LibvirtdConf();
  for (const char* line : {"\nmin_workers = 1\n", "\nmax_workers = 5\n", "\nprio_workers = 1\n",
                           "\nadmin_min_workers = 1\n", "\nadmin_max_workers = 1\n"})
    EXPECT_THAT(conf, HasSubstr(line));
}

TEST(PrivateLibvirtdConfig, EnvironmentHasOneArenaAndTheDriverDir) {
  setenv("MALLOC_ARENA_MAX", "8", 1);
  setenv("LIBVIRT_DRIVER_DIR", "/elsewhere", 1);
  const auto env = LibvirtdEnvironment("/state/libvirt/drivers");
  unsetenv("MALLOC_ARENA_MAX");
  unsetenv("LIBVIRT_DRIVER_DIR");
  EXPECT_THAT(env, Contains(StartsWith("PATH=")));  // the rest of the environment is kept
  EXPECT_THAT(env, Contains(StartsWith("MALLOC_ARENA_MAX=")).Times(1));
  EXPECT_THAT(env, Contains("MALLOC_ARENA_MAX=1"));
  EXPECT_THAT(env, Contains(StartsWith("LIBVIRT_DRIVER_DIR=")).Times(1));
  EXPECT_THAT(env, Contains("LIBVIRT_DRIVER_DIR=/state/libvirt/drivers"));
  EXPECT_THAT(LibvirtdEnvironment(""), Not(Contains(StartsWith("LIBVIRT_DRIVER_DIR="))));
}

TEST(PrivateLibvirtdConfig, DriverDirHoldsOnlyTheQemuDriver) {
  char tmpl[] = "/tmp/k6t-drivers-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = std::string(tmpl) + "/drivers";
  if (!PrepareQemuOnlyDriverDir(dir)) {
    fs::remove_all(tmpl);
    GTEST_SKIP() << "libvirt's QEMU driver module is not installed";
  }
  ASSERT_TRUE(PrepareQemuOnlyDriverDir(dir));  // again: idempotent
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
    EXPECT_TRUE(fs::is_symlink(e.symlink_status()));
    EXPECT_TRUE(fs::is_regular_file(e.path())) << "dangling: " << e.path();
  }
  EXPECT_EQ(names, std::vector<std::string>{"libvirt_driver_qemu.so"});
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace k6t::launcher
