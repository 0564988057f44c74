#include "passt_service.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace k6t::launcher {
namespace {

using ::testing::ElementsAre;

binding::PasstPlan Plan(std::vector<std::pair<std::string, int>> forwards) {
  binding::PasstPlan p;
  p.pod_interface = "eth0";
  p.forwards = std::move(forwards);
  p.mac = "02:aa:bb:cc:dd:03";
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

}  // namespace
}  // namespace k6t::launcher
