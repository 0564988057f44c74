#include "file_watch.h"

#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::handler {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class FileWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/k6t-file-watch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    vmi_ = dir_ + "/vmi.yaml";
    status_ = dir_ + "/network-status.json";
    Write(vmi_, "a");
    Write(status_, "[]");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }
  // What a controller or kubelet does: a new file renamed over the old one.
  static void Replace(const std::string& path, const std::string& text) {
    Write(path + ".tmp", text);
    std::filesystem::rename(path + ".tmp", path);
  }
  static bool Readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }

  std::string dir_, vmi_, status_;
};

TEST_F(FileWatchTest, ReportsAFileRenamedIntoPlace) {
  auto w = FileWatch::Open({vmi_, status_});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_FALSE(Readable((*w)->fd()));
  Replace(vmi_, "b");
  EXPECT_TRUE(Readable((*w)->fd()));
  auto changed = (*w)->Changed();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_THAT(*changed, ElementsAre(vmi_));
  EXPECT_FALSE(Readable((*w)->fd()));
}

TEST_F(FileWatchTest, ReportsAFileRewrittenInPlaceOnceClosed) {
  auto w = FileWatch::Open({vmi_, status_});
  ASSERT_TRUE(w.ok()) << w.status();
  {
    std::ofstream out(status_, std::ios::trunc);
    out << "[{" << std::flush;
    // Half written: nothing to read yet.
    auto mid = (*w)->Changed();
    ASSERT_TRUE(mid.ok());
    EXPECT_THAT(*mid, IsEmpty());
    out << "}]";
  }
  auto changed = (*w)->Changed();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_THAT(*changed, ElementsAre(status_));
}

TEST_F(FileWatchTest, IgnoresOtherFilesOfTheDirectory) {
  auto w = FileWatch::Open({vmi_});
  ASSERT_TRUE(w.ok()) << w.status();
  Replace(dir_ + "/other.yaml", "x");
  Write(status_, "[1]");  // in the directory, but not watched here
  auto changed = (*w)->Changed();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_THAT(*changed, IsEmpty());
}

TEST_F(FileWatchTest, ReportsBothFilesOfOneDirectory) {
  auto w = FileWatch::Open({vmi_, status_});
  ASSERT_TRUE(w.ok()) << w.status();
  Replace(status_, "[2]");
  Write(vmi_, "c");
  auto changed = (*w)->Changed();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_THAT(*changed, ElementsAre(status_, vmi_));
}

TEST_F(FileWatchTest, MissingDirectoryIsNotFoundAndNamed) {
  auto w = FileWatch::Open({dir_ + "/nope/vmi.yaml"});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(w.status().message()), ::testing::HasSubstr(dir_ + "/nope"));
}

}  // namespace
}  // namespace k6t::handler
