#include "logging/json_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "k6t/binding/logging.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

using nlohmann::json;

const absl::Time kT = absl::FromUnixMicros(1796150400123456);  // 2026-12-01T18:40:00.123456Z

json Line(std::string_view msg) {
  const std::string text = JsonLogLine(kT, "info", "k6t-handler", msg);
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  return json::parse(text);
}

TEST(JsonLogLine, CarriesTimeLevelLoggerAndTheWholeMessageInThatOrder) {
  const std::string text = JsonLogLine(kT, "warning", "k6t-launcher", "VM ended");
  EXPECT_EQ(text, R"({"time":"2026-12-01T18:40:00.123456Z","level":"warning",)"
                  R"("logger":"k6t-launcher","msg":"VM ended"})");
}

TEST(JsonLogLine, KeyValueWordsBecomeTypedFields) {
  const json j = Line(
      "setup vmi=default/vm interfaces=2 changed=0 resumed=[eth0, blue] apply_ms=3.10 "
      "ok=true name=\"a b\" mac=02:00:00:00:00:01 ip=10.0.2.2 neg=-4");
  EXPECT_EQ(j["msg"],
            "setup vmi=default/vm interfaces=2 changed=0 resumed=[eth0, blue] apply_ms=3.10 "
            "ok=true name=\"a b\" mac=02:00:00:00:00:01 ip=10.0.2.2 neg=-4");
  EXPECT_EQ(j["vmi"], "default/vm");
  EXPECT_EQ(j["interfaces"], 2);
  EXPECT_TRUE(j["interfaces"].is_number_integer());
  EXPECT_EQ(j["changed"], 0);
  EXPECT_EQ(j["resumed"], "[eth0, blue]");
  EXPECT_DOUBLE_EQ(j["apply_ms"].get<double>(), 3.1);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["name"], "a b");
  EXPECT_EQ(j["mac"], "02:00:00:00:00:01");
  EXPECT_EQ(j["ip"], "10.0.2.2");
  EXPECT_EQ(j["neg"], -4);
}

TEST(JsonLogLine, NotANumberStaysAString) {
  const json j = Line("x a=inf b=nan c=1e3x d=0x10 e= f=1. g=+1 h=1e400 i=-2.5e-3");
  EXPECT_EQ(j["a"], "inf");
  EXPECT_EQ(j["b"], "nan");
  EXPECT_EQ(j["c"], "1e3x");
  EXPECT_EQ(j["d"], "0x10");
  EXPECT_EQ(j["e"], "");
  EXPECT_EQ(j["f"], "1.");
  EXPECT_EQ(j["g"], "+1");
  EXPECT_EQ(j["h"], "1e400");
  EXPECT_DOUBLE_EQ(j["i"].get<double>(), -2.5e-3);
}

TEST(JsonLogLine, TextAfterTheFirstColonIsNotParsedForFields) {
  const json j = Line("reading VMI /tmp/vm.yaml: INVALID_ARGUMENT: spec.domain.x=1 is wrong");
  EXPECT_EQ(j.size(), 4u) << j.dump();
  const json k = Line("plumbing iface=eth0 op=3: kernel said key=value");
  EXPECT_EQ(k["iface"], "eth0");
  EXPECT_EQ(k["op"], 3);
  EXPECT_FALSE(k.contains("key"));
}

TEST(JsonLogLine, ReservedAndRepeatedKeysAreNotDuplicated) {
  const std::string text = JsonLogLine(kT, "info", "l", "msg=hi level=x time=1 a=1 a=2");
  const json j = json::parse(text);
  EXPECT_EQ(j["msg"], "msg=hi level=x time=1 a=1 a=2");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["time"], "2026-12-01T18:40:00.123456Z");
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(text.find("\"a\":2"), std::string::npos) << text;
}

TEST(JsonLogLine, EscapesControlCharactersQuotesAndInvalidUtf8) {
  const std::string msg = std::string("guest said \"hi\"\n\tback\\slash \x01 bad \xff\xfe end");
  const std::string text = JsonLogLine(kT, "error", "l", msg);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const json j = json::parse(text);  // throws on invalid JSON or UTF-8
  EXPECT_THAT(j["msg"].get<std::string>(), ::testing::StartsWith("guest said \"hi\"\n\tback\\"));
  EXPECT_THAT(j["msg"].get<std::string>(), ::testing::EndsWith(" end"));
}

TEST(JsonLogLine, UnterminatedBracketTakesTheRestOfTheWords) {
  const json j = Line("x list=[a, b");
  EXPECT_EQ(j["list"], "[a, b");
}

TEST(ParseLogFormat, KnowsTextAndJsonOnly) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  auto bad = ParseLogFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("\"xml\""));
  EXPECT_FALSE(SetupLogging("t", "yaml", LogStream::kStderr).ok());
}

TEST(SetupLogging, JsonDefaultLoggerWritesOneObjectPerLine) {
  spdlog::set_level(spdlog::level::info);
  SetupLogging("k6t-test", LogFormat::kJson, LogStream::kStderr);
  ::testing::internal::CaptureStderr();
  spdlog::info("phase setup_ms={:.2f} iface={}", 1.5, "eth0");
  spdlog::debug("not shown at info");
  spdlog::warn("second");
  const std::string out = ::testing::internal::GetCapturedStderr();
  SetupLogging("k6t-test", LogFormat::kText, LogStream::kStderr);
  const size_t nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos) << out;
  const json first = json::parse(out.substr(0, nl));
  EXPECT_EQ(first["logger"], "k6t-test");
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["msg"], "phase setup_ms=1.50 iface=eth0");
  EXPECT_DOUBLE_EQ(first["setup_ms"].get<double>(), 1.5);
  EXPECT_EQ(first["iface"], "eth0");
  const std::string rest = out.substr(nl + 1);
  ASSERT_FALSE(rest.empty()) << out;
  EXPECT_EQ(rest.back(), '\n');
  const json second = json::parse(rest.substr(0, rest.size() - 1));
  EXPECT_EQ(second["level"], "warning");
  EXPECT_EQ(second["msg"], "second");
}

}  // namespace
}  // namespace k6t::binding
