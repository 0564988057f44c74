#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  char tmpl[] = "/tmp/k6t-child-XXXXXX";
  return mkdtemp(tmpl) ? tmpl : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ChildProcess, RunsWithoutShellAndLogsOutput) {
  const std::string dir = TempDir();
  SpawnOptions o;
  o.argv = {"/bin/echo", "hello; not a shell $HOME"};
  o.log_file = dir + "/out.log";
  auto c = ChildProcess::Spawn(o);
  ASSERT_TRUE(c.ok()) << c.status();
  auto st = c->Wait(absl::Seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << DescribeWaitStatus(*st);
  EXPECT_EQ(ReadFile(dir + "/out.log"), "hello; not a shell $HOME\n");
  std::filesystem::remove_all(dir);
}

TEST(ChildProcess, ExecFailureIsReportedWithErrno) {
  SpawnOptions o;
  o.argv = {"/nonexistent/k6t-daemon"};
  auto c = ChildProcess::Spawn(o);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("execve"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("No such file"));
}

TEST(ChildProcess, StopTerminatesAndReaps) {
  SpawnOptions o;
  o.argv = {"/bin/sleep", "60"};
  auto c = ChildProcess::Spawn(o);
  ASSERT_TRUE(c.ok());
  const pid_t pid = c->pid();
  EXPECT_TRUE(c->running());
  EXPECT_FALSE(c->Poll().has_value());
  const int st = c->Stop(absl::Seconds(5));
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) << DescribeWaitStatus(st);
  EXPECT_FALSE(c->running());
  EXPECT_NE(kill(pid, 0), 0);  // reaped: no zombie left
}

TEST(ChildProcess, DestructorKillsARunningChild) {
  pid_t pid;
  {
    SpawnOptions o;
    o.argv = {"/bin/sleep", "60"};
    auto c = ChildProcess::Spawn(o);
    ASSERT_TRUE(c.ok());
    pid = c->pid();
  }
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(ChildProcess, DescribesWaitStatus) {
  EXPECT_EQ(DescribeWaitStatus(3 << 8), "exited 3");
  EXPECT_THAT(DescribeWaitStatus(SIGKILL), HasSubstr("signal 9"));
}

TEST(ChildProcess, KeepsOnlyTheInheritedDescriptors) {
  int kept[2], other[2];
  ASSERT_EQ(pipe2(kept, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(other, O_CLOEXEC), 0);
  SpawnOptions o;
  // Writes to the inherited pipe; the other CLOEXEC pipe must be closed in the child.
  o.argv = {
      "/bin/sh", "-c",
      "echo inherited >&" + std::to_string(kept[1]) + " && ! true >&" + std::to_string(other[1])};
  o.inherit_fds = {kept[1]};
  auto c = ChildProcess::Spawn(o);
  ASSERT_TRUE(c.ok()) << c.status();
  auto st = c->Wait(absl::Seconds(10));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << DescribeWaitStatus(*st);
  close(kept[1]);
  char buf[32] = {};
  EXPECT_GT(read(kept[0], buf, sizeof(buf) - 1), 0);
  EXPECT_STREQ(buf, "inherited\n");
  // Still CLOEXEC in the launcher itself.
  EXPECT_NE(fcntl(other[1], F_GETFD) & FD_CLOEXEC, 0);
  for (int fd : {kept[0], other[0], other[1]}) close(fd);
}

}  // namespace
}  // namespace k6t::launcher
