#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libvirt_daemon.h"

namespace k6t::launcher {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
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

}  // namespace
}  // namespace k6t::launcher
