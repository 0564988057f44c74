// `k6t-handler status` against a real command-socket server (librpc) in a temp dir: the table
// and JSON it prints, its usage errors, and an unreachable launcher.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "k6t/api/rpc.h"
#include "k6t/rpc/server.h"
#include "verb_status.h"

namespace k6t::handler {
namespace {

namespace msg = api::rpc;
using ::testing::HasSubstr;

class StatusVerbTest : public ::testing::Test {
 protected:
  StatusVerbTest() {
    char tmpl[] = "/tmp/k6t-status-test-XXXXXX";
    const char* d = mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    dir_ = d ? d : "";
  }
  ~StatusVerbTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string SocketPath() const { return dir_ + "/launcher-sock"; }
  rpc::ServerOptions Options() const {
    rpc::ServerOptions o;
    o.socket_path = SocketPath();
    return o;
  }
  std::string dir_;
};

TEST_F(StatusVerbTest, PrintsTableAndJson) {
  auto server = std::make_unique<rpc::Server>(Options());
  server->Register("GetStatus", [](const std::string&) -> absl::StatusOr<std::string> {
    msg::StatusInterface a;
    a.name = "default";
    a.pod_interface_name = "eth0";
    a.mac = "02:00:00:aa:bb:01";
    a.ip_address = "10.244.1.9";
    a.ip_addresses = {"10.244.1.9", "fd00:10:244::9"};
    a.link_state = "up";
    a.queue_count = 2;
    a.info_source = "domain, multus-status";
    msg::StatusInterface b;
    b.name = "blue";
    b.pod_interface_name = "pod16477688c0e";
    b.mac = "02:00:00:aa:bb:02";
    b.link_state = "down";
    b.queue_count = 1;
    b.info_source = "domain";
    return msg::ToJson(msg::GetStatusResult{"Running", {a, b}});
  });
  ASSERT_TRUE(server->Start().ok());
  std::string sock = SocketPath();
  std::vector<std::string> args = {"status", "--launcher-socket", sock};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());

  ::testing::internal::CaptureStdout();
  int rc = handler::RunStatus(static_cast<int>(argv.size()), argv.data());
  std::string table = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(table, HasSubstr("phase: Running"));
  EXPECT_THAT(table, ::testing::ContainsRegex(
                         "NAME +POD-IFACE +GUEST-IFACE +MAC +IPS +LINK +QUEUES +SOURCE"));
  EXPECT_THAT(table, ::testing::ContainsRegex(
                         "default +eth0 +- +02:00:00:aa:bb:01 +10.244.1.9,fd00:10:244::9 +up +2 +"
                         "domain, multus-status"));
  EXPECT_THAT(table, ::testing::ContainsRegex(
                         "blue +pod16477688c0e +- +02:00:00:aa:bb:02 +- +down +1 +domain"));

  args.push_back("--output=json");
  argv.clear();
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  rc = handler::RunStatus(static_cast<int>(argv.size()), argv.data());
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["phase"], "Running");
  EXPECT_EQ(j["interfaces"][0]["podInterfaceName"], "eth0");
  EXPECT_EQ(j["interfaces"][0]["ipAddresses"][1], "fd00:10:244::9");
  EXPECT_EQ(j["interfaces"][1]["linkState"], "down");

  // Usage errors and an unreachable launcher.
  std::vector<std::string> bad = {"status", "--output", "yaml", "--launcher-socket", sock};
  argv.clear();
  for (auto& a : bad) argv.push_back(a.data());
  EXPECT_EQ(handler::RunStatus(static_cast<int>(argv.size()), argv.data()), 2);
  std::vector<std::string> nosock = {"status"};
  argv.clear();
  for (auto& a : nosock) argv.push_back(a.data());
  EXPECT_EQ(handler::RunStatus(static_cast<int>(argv.size()), argv.data()), 2);
  std::vector<std::string> gone = {"status", "--launcher-socket", dir_ + "/nope", "--timeout", "1"};
  argv.clear();
  for (auto& a : gone) argv.push_back(a.data());
  EXPECT_EQ(handler::RunStatus(static_cast<int>(argv.size()), argv.data()), 1);
}

}  // namespace
}  // namespace k6t::handler
