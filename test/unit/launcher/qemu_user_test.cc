#include "qemu_user.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(ParseQemuUser, NumbersNamesAndRoot) {
  auto a = ParseQemuUser("107");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->uid, 107u);
  EXPECT_EQ(a->gid, 107u);
  auto b = ParseQemuUser("107:36");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->gid, 36u);
  auto r = ParseQemuUser("root");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->root());
  EXPECT_FALSE(ParseQemuUser("107:qemu").ok());
  EXPECT_FALSE(ParseQemuUser("k6t-no-such-user").ok());
}

// Judged from the bits, whoever runs the test: a uid/gid that owns nothing here sees the
// "other" bits.
class CheckAccessAsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/k6t-qemu-user-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
    fs::create_directory(dir_ + "/guest");
    std::ofstream(dir_ + "/guest/vmlinuz") << "kernel";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
  const QemuUser stranger_{54321, 54321};
};

TEST_F(CheckAccessAsTest, ReadableFileUnderOpenDirs) {
  ::chmod((dir_ + "/guest").c_str(), 0755);
  ::chmod((dir_ + "/guest/vmlinuz").c_str(), 0644);
  EXPECT_TRUE(CheckAccessAs(dir_ + "/guest/vmlinuz", stranger_, R_OK).ok());
  EXPECT_FALSE(CheckAccessAs(dir_ + "/guest/vmlinuz", stranger_, W_OK).ok());
}

TEST_F(CheckAccessAsTest, AClosedDirectoryIsNamed) {
  ::chmod((dir_ + "/guest").c_str(), 0700);
  ::chmod((dir_ + "/guest/vmlinuz").c_str(), 0644);
  auto s = CheckAccessAs(dir_ + "/guest/vmlinuz", stranger_, R_OK);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("cannot enter " + dir_ + "/guest "));
  EXPECT_TRUE(CheckAccessAs(dir_ + "/guest/vmlinuz", QemuUser{0, 0}, R_OK).ok());
}

TEST_F(CheckAccessAsTest, EnteringADirectory) {
  ::chmod((dir_ + "/guest").c_str(), 0711);
  EXPECT_TRUE(CheckAccessAs(dir_ + "/guest", stranger_, X_OK).ok());
  ::chmod((dir_ + "/guest").c_str(), 0700);
  auto s = CheckAccessAs(dir_ + "/guest", stranger_, X_OK);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("cannot enter " + dir_ + "/guest "));
}

TEST_F(CheckAccessAsTest, GroupBitsApplyToTheGroup) {
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/guest").c_str(), &st), 0);
  ::chmod((dir_ + "/guest").c_str(), 0710);
  ::chmod((dir_ + "/guest/vmlinuz").c_str(), 0640);
  const QemuUser in_group{54321, st.st_gid};
  EXPECT_TRUE(CheckAccessAs(dir_ + "/guest/vmlinuz", in_group, R_OK).ok());
  EXPECT_FALSE(CheckAccessAs(dir_ + "/guest/vmlinuz", stranger_, R_OK).ok());
}

TEST_F(CheckAccessAsTest, PrepareStateDirLetsTheUserInAndWriteOnlyTheLog) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  std::ofstream(dir_ + "/plan.json") << "{}";
  ::chmod((dir_ + "/plan.json").c_str(), 0600);
  std::ofstream(dir_ + "/serial.log") << "the previous boot";
  ASSERT_TRUE(PrepareStateDirFor(dir_, dir_ + "/serial.log", stranger_).ok());
  EXPECT_TRUE(CheckAccessAs(dir_ + "/serial.log", stranger_, W_OK).ok());
  EXPECT_FALSE(CheckAccessAs(dir_ + "/plan.json", stranger_, R_OK).ok());
  EXPECT_EQ(fs::file_size(dir_ + "/serial.log"), 0u);
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_EQ(st.st_gid, stranger_.gid);
}

}  // namespace
}  // namespace k6t::launcher
