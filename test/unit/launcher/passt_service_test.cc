#include "passt_service.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

binding::PasstPlan Plan(std::vector<std::pair<std::string, int>> forwards) {
  binding::PasstPlan p;
  p.pod_interface = "eth0";
  p.forwards = std::move(forwards);
  p.mtu = 1400;
  return p;
}

TEST(PasstArgv, DeclaredPortsBecomeTcpAndUdpLists) {
  EXPECT_THAT(PasstArgv(Plan({{"tcp", 22}, {"udp", 53}, {"tcp", 8080}}), "/usr/bin/passt", 7,
                        "/s/passt/default.log"),
              ElementsAre("/usr/bin/passt", "--foreground", "--fd", "7", "--log-file",
                          "/s/passt/default.log", "--interface", "eth0", "--mtu", "1400",
                          "--tcp-ports", "22,8080", "--udp-ports", "53"));
}

TEST(PasstArgv, NoDeclaredPortsForwardsEveryPortOfBothProtocols) {
  EXPECT_THAT(PasstArgv(Plan({}), "/usr/bin/passt", 12, "/s/l"),
              ElementsAre("/usr/bin/passt", "--foreground", "--fd", "12", "--log-file", "/s/l",
                          "--interface", "eth0", "--mtu", "1400", "--tcp-ports", "all",
                          "--udp-ports", "all"));
}

TEST(PasstArgv, OnlyTheDeclaredProtocolIsForwarded) {
  binding::PasstPlan p = Plan({{"udp", 5353}});
  p.pod_interface.clear();
  p.mtu = 0;
  EXPECT_THAT(PasstArgv(p, "/p", 3, ""),
              ElementsAre("/p", "--foreground", "--fd", "3", "--udp-ports", "5353"));
}

TEST(PasstService, SocketLivesInTheStateDir) {
  EXPECT_EQ(PasstService::SocketPath("/run/k6t/vmi", "default"), "/run/k6t/vmi/passt/default.sock");
}

// Supervision against a stand-in for passt (a script that greets on the socket it was
// handed with --fd, then holds it): the test plays QEMU on the service's socket.
class PasstSupervision : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/k6t-passt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fake_ = dir_ + "/fake-passt";
    // argv: --foreground --fd N ...
    std::ofstream(fake_) << "#!/bin/sh\necho \"hello $$ $*\" >&$3\nexec sleep 600\n";
    ASSERT_EQ(chmod(fake_.c_str(), 0755), 0);
  }
  void TearDown() override {
    if (qemu_ >= 0) close(qemu_);
    std::filesystem::remove_all(dir_);
  }

  // Connects like QEMU's -netdev stream.
  void Connect(const std::string& path) {
    qemu_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    ASSERT_EQ(connect(qemu_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
        << strerror(errno);
  }

  // The next greeting on QEMU's side, or "" after `timeout_ms`.
  std::string Greeting(int timeout_ms = 10000) {
    std::string line;
    char c;
    while (line.empty() || line.back() != '\n') {
      pollfd p{qemu_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0 || read(qemu_, &c, 1) != 1) return "";
      line += c;
    }
    return line;
  }

  static pid_t PidOf(const std::string& greeting) {
    return static_cast<pid_t>(std::atoi(greeting.c_str() + strlen("hello ")));
  }

  std::string dir_, fake_;
  int qemu_ = -1;
};

TEST_F(PasstSupervision, RestartsOnTheSameConnectionWithinTheBudgetThenGivesUp) {
  PasstService svc(PasstServiceOptions{.state_dir = dir_,
                                       .passt = fake_,
                                       .max_restarts = 2,
                                       .restart_window = absl::Minutes(1),
                                       .stop_grace = absl::Seconds(1)});
  binding::InterfacePlan masq;
  masq.interface_name = "other";
  binding::InterfacePlan p;
  p.interface_name = "default";
  p.mtu = 1400;
  p.passt = Plan({{"tcp", 8080}});
  ASSERT_TRUE(svc.Listen({masq, p}).ok());
  DomainOptions o;
  svc.ContributeDomainOptions(o);
  ASSERT_EQ(o.passt_sockets.size(), 1u);
  const std::string sock = PasstService::SocketPath(dir_, "default");
  EXPECT_EQ(o.passt_sockets["default"], sock);

  Connect(sock);
  const std::string first = Greeting();
  ASSERT_THAT(first, HasSubstr("--foreground --fd "));
  EXPECT_THAT(first, HasSubstr("--log-file " + dir_ + "/passt/default.log"));
  EXPECT_THAT(first, HasSubstr("--tcp-ports 8080"));
  pid_t pid = PidOf(first);
  ASSERT_GT(pid, 0);

  for (int restart = 1; restart <= 2; ++restart) {
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    const std::string next = Greeting();
    ASSERT_THAT(next, HasSubstr("hello ")) << "restart " << restart;
    EXPECT_NE(PidOf(next), pid);
    pid = PidOf(next);
    // The new passt may greet before the service has counted it.
    for (int i = 0; i < 500 && svc.restarts("default") != restart; ++i) usleep(10000);
    EXPECT_EQ(svc.restarts("default"), restart);
  }
  // A third death within the window: no more passt on this connection.
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_EQ(Greeting(1500), "");
  EXPECT_EQ(svc.restarts("default"), 2);

  svc.Stop();
  EXPECT_FALSE(std::filesystem::exists(sock));
}

TEST_F(PasstSupervision, StopEndsPasstAndQemuHangingUpEndsIt) {
  PasstService svc(PasstServiceOptions{.state_dir = dir_, .passt = fake_});
  binding::InterfacePlan p;
  p.interface_name = "default";
  p.passt = Plan({});
  ASSERT_TRUE(svc.Listen({p}).ok());
  Connect(PasstService::SocketPath(dir_, "default"));
  pid_t pid = PidOf(Greeting());
  ASSERT_GT(pid, 0);
  // QEMU goes away: its passt is stopped and the socket takes the next QEMU.
  close(qemu_);
  qemu_ = -1;
  for (int i = 0; i < 500 && kill(pid, 0) == 0; ++i) usleep(10000);
  EXPECT_NE(kill(pid, 0), 0) << "passt " << pid << " outlived its QEMU connection";
  Connect(PasstService::SocketPath(dir_, "default"));
  pid = PidOf(Greeting());
  ASSERT_GT(pid, 0);
  svc.Stop();
  EXPECT_NE(kill(pid, 0), 0) << "passt " << pid << " outlived Stop()";
  EXPECT_EQ(svc.restarts("default"), 0);
}

TEST_F(PasstSupervision, MissingPasstFailsTheStartNamingTheInterface) {
  PasstService svc(PasstServiceOptions{.state_dir = dir_, .passt = dir_ + "/no-passt"});
  binding::InterfacePlan p;
  p.interface_name = "default";
  p.passt = Plan({});
  const absl::Status s = svc.Listen({p});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("\"default\""));
  EXPECT_THAT(s.message(), HasSubstr("No such file"));
}

}  // namespace
}  // namespace k6t::launcher
