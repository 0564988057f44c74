// The command protocol without sockets: framing (k6t/rpc/frame.h), the JSON-RPC envelope,
// status mapping and the typed messages (k6t/api/rpc.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "k6t/api/rpc.h"
#include "k6t/rpc/frame.h"

namespace k6t::api::rpc {
namespace {

using ::k6t::rpc::EncodeFrame;
using ::k6t::rpc::FrameDecoder;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Header(uint32_t n) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(n >> 24);
  h[1] = static_cast<char>(n >> 16);
  h[2] = static_cast<char>(n >> 8);
  h[3] = static_cast<char>(n);
  return h;
}

// ---------------------------------------------------------------------------------------------
// Framing

TEST(FrameTest, EncodeIsBigEndianLengthThenPayload) {
  const std::string f = EncodeFrame("{\"a\":1}");
  ASSERT_EQ(f.size(), 4u + 7u);
  EXPECT_EQ(f.substr(0, 4), std::string("\0\0\0\x07", 4));
  EXPECT_EQ(f.substr(4), "{\"a\":1}");
  const std::string big(0x010203, 'x');
  EXPECT_EQ(EncodeFrame(big).substr(0, 4), std::string("\x00\x01\x02\x03", 4));
}

TEST(FrameTest, ByteAtATimeAndMergedFrames) {
  const std::string stream = EncodeFrame("one") + EncodeFrame("two") + EncodeFrame("three");
  FrameDecoder bytewise;
  for (char c : stream) ASSERT_TRUE(bytewise.Feed(&c, 1).ok());
  FrameDecoder merged;
  ASSERT_TRUE(merged.Feed(stream).ok());
  for (FrameDecoder* d : {&bytewise, &merged}) {
    EXPECT_EQ(d->pending_frames(), 3u);
    EXPECT_EQ(d->Pop(), "one");
    EXPECT_EQ(d->Pop(), "two");
    EXPECT_EQ(d->Pop(), "three");
    EXPECT_EQ(d->Pop(), std::nullopt);
    EXPECT_EQ(d->partial_bytes(), 0u);
    EXPECT_EQ(d->frames_completed(), 3u);
  }
}

TEST(FrameTest, SplitAcrossEveryBoundary) {
  const std::string stream = EncodeFrame("hello") + EncodeFrame("world!");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    ASSERT_TRUE(d.Feed(std::string_view(stream).substr(0, cut)).ok());
    ASSERT_TRUE(d.Feed(std::string_view(stream).substr(cut)).ok());
    EXPECT_EQ(d.Pop(), "hello") << "cut at " << cut;
    EXPECT_EQ(d.Pop(), "world!") << "cut at " << cut;
  }
}

TEST(FrameTest, PartialBytesCountsAStartedFrame) {
  FrameDecoder d;
  const std::string f = EncodeFrame("abcdef");
  ASSERT_TRUE(d.Feed(f.substr(0, 2)).ok());
  EXPECT_EQ(d.partial_bytes(), 2u);
  ASSERT_TRUE(d.Feed(f.substr(2, 5)).ok());
  EXPECT_EQ(d.partial_bytes(), 7u);
  EXPECT_EQ(d.pending_frames(), 0u);
  ASSERT_TRUE(d.Feed(f.substr(7)).ok());
  EXPECT_EQ(d.partial_bytes(), 0u);
  EXPECT_EQ(d.Pop(), "abcdef");
}

TEST(FrameTest, ZeroLengthFrameIsAnEmptyPayload) {
  FrameDecoder d;
  ASSERT_TRUE(d.Feed(EncodeFrame("") + EncodeFrame("x")).ok());
  EXPECT_EQ(d.Pop(), "");
  EXPECT_EQ(d.Pop(), "x");
  // ...which is not a request: a parse error, not a lost framing.
  ParsedRequest p = ParseRequest("");
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(p.error->code, static_cast<int>(ErrorCode::kParseError));
}

TEST(FrameTest, OversizeHeaderPoisonsWithoutBufferingThePayload) {
  FrameDecoder d(1024);
  ASSERT_TRUE(d.Feed(EncodeFrame(std::string(1024, 'a'))).ok());  // exactly the limit is fine
  EXPECT_EQ(d.Pop()->size(), 1024u);
  absl::Status s = d.Feed(Header(1025) + std::string(100, 'b'));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("1025"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("1024"));
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(d.partial_bytes(), 0u);  // the 100 payload bytes were not kept
  // Stays failed: later bytes are not interpreted as frames.
  EXPECT_FALSE(d.Feed(EncodeFrame("ok")).ok());
  EXPECT_EQ(d.Pop(), std::nullopt);
}

TEST(FrameTest, DefaultLimitIsFourMiB) {
  FrameDecoder d;
  EXPECT_EQ(d.max_frame_bytes(), 4u << 20);
  EXPECT_TRUE(d.Feed(Header(4u << 20)).ok());
  FrameDecoder d2;
  EXPECT_FALSE(d2.Feed(Header((4u << 20) + 1)).ok());
  FrameDecoder d3;
  EXPECT_FALSE(d3.Feed(Header(0xffffffffu)).ok());
}

TEST(FrameTest, FramesBeforeAnOversizeHeaderSurvive) {
  FrameDecoder d(16);
  EXPECT_FALSE(d.Feed(EncodeFrame("first") + Header(17)).ok());
  EXPECT_EQ(d.Pop(), "first");
}

// ---------------------------------------------------------------------------------------------
// Requests

TEST(RequestTest, ParsesAWellFormedRequest) {
  ParsedRequest p = ParseRequest(
      R"({"jsonrpc":"2.0","id":42,"method":"Shutdown","params":{"timeout_seconds":3}})");
  ASSERT_FALSE(p.error) << p.error->message;
  ASSERT_TRUE(p.request);
  EXPECT_EQ(p.request->id_json, "42");
  EXPECT_EQ(p.request->method, "Shutdown");
  ShutdownParams sp;
  ASSERT_TRUE(FromJson(p.request->params_json, &sp).ok());
  EXPECT_EQ(sp.timeout_seconds, 3);
}

TEST(RequestTest, StringIdAndMissingParams) {
  ParsedRequest p = ParseRequest(R"({"jsonrpc":"2.0","id":"a-1","method":"Ping"})");
  ASSERT_TRUE(p.request);
  EXPECT_EQ(p.request->id_json, "\"a-1\"");
  EXPECT_EQ(p.request->params_json, "{}");
}

TEST(RequestTest, RoundTripThroughEncodeRequest) {
  Request r;
  r.id_json = "7";
  r.method = "SetLinkState";
  r.params_json = ToJson(SetLinkStateParams{"blue", "down"});
  ParsedRequest p = ParseRequest(EncodeRequest(r));
  ASSERT_TRUE(p.request);
  EXPECT_EQ(p.request->id_json, "7");
  EXPECT_EQ(p.request->method, "SetLinkState");
  SetLinkStateParams sp;
  ASSERT_TRUE(FromJson(p.request->params_json, &sp).ok());
  EXPECT_EQ(sp.name, "blue");
  EXPECT_EQ(sp.state, "down");
}

struct BadRequest {
  std::string payload;
  ErrorCode code;
  std::string mentions;
  std::string id_json;
};

class BadRequestTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(BadRequestTest, IsRejectedWithTheRightCode) {
  const BadRequest& b = GetParam();
  ParsedRequest p = ParseRequest(b.payload);
  ASSERT_FALSE(p.request.has_value());
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(p.error->code, static_cast<int>(b.code)) << p.error->message;
  EXPECT_THAT(p.error->message, HasSubstr(b.mentions));
  EXPECT_EQ(p.id_json, b.id_json);
}

INSTANTIATE_TEST_SUITE_P(
    Envelope, BadRequestTest,
    ::testing::Values(
        BadRequest{"not json", ErrorCode::kParseError, "parse error", "null"},
        BadRequest{"{\"jsonrpc\":\"2.0\",", ErrorCode::kParseError, "parse error", "null"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"P\xff\"}", ErrorCode::kParseError,
                   "UTF-8", "null"},
        BadRequest{std::string(100, '[') + std::string(100, ']'), ErrorCode::kParseError,
                   "nested deeper", "null"},
        BadRequest{"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Ping\"}]",
                   ErrorCode::kInvalidRequest, "batch", "null"},
        BadRequest{"42", ErrorCode::kInvalidRequest, "object", "null"},
        BadRequest{"{\"id\":1,\"method\":\"Ping\"}", ErrorCode::kInvalidRequest, "jsonrpc", "1"},
        BadRequest{"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"Ping\"}", ErrorCode::kInvalidRequest,
                   "jsonrpc", "1"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"method\":\"Ping\"}", ErrorCode::kInvalidRequest,
                   "notifications", "null"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"Ping\"}",
                   ErrorCode::kInvalidRequest, "id", "null"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"Ping\"}",
                   ErrorCode::kInvalidRequest, "id", "null"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":7}", ErrorCode::kInvalidRequest,
                   "method", "3"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"\"}", ErrorCode::kInvalidRequest,
                   "method", "3"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"Ping\",\"extra\":1}",
                   ErrorCode::kInvalidRequest, "extra", "3"},
        BadRequest{"{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"Ping\",\"params\":[1]}",
                   ErrorCode::kInvalidParams, "params", "\"x\""}));

// ---------------------------------------------------------------------------------------------
// Responses and status mapping

TEST(ResponseTest, ResultRoundTrip) {
  const std::string wire = EncodeResult("\"q\"", ToJson(PingResult{"1.2.3"}));
  auto r = ParseResponse(wire);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id_json, "\"q\"");
  EXPECT_FALSE(r->error);
  PingResult pr;
  ASSERT_TRUE(FromJson(r->result_json, &pr).ok());
  EXPECT_EQ(pr.version, "1.2.3");
}

TEST(ResponseTest, InvalidResultJsonBecomesAnInternalError) {
  auto r = ParseResponse(EncodeResult("1", "{not json"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, static_cast<int>(ErrorCode::kInternalError));
}

TEST(ResponseTest, GarbageIdIsSentAsNull) {
  auto r = ParseResponse(EncodeError("}{", Error{-32603, "x", ""}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id_json, "null");
}

TEST(ResponseTest, MalformedResponsesAreErrors) {
  for (const char* bad :
       {"", "[]", "{\"jsonrpc\":\"2.0\",\"result\":{}}", "{\"jsonrpc\":\"2.0\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"m\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}",
        "{\"jsonrpc\":\"2.0\",\"id\":[],\"result\":{}}"}) {
    EXPECT_FALSE(ParseResponse(bad).ok()) << bad;
  }
}

TEST(StatusMappingTest, EveryCodeRoundTripsWithItsMessage) {
  const std::pair<absl::StatusCode, ErrorCode> table[] = {
      {absl::StatusCode::kUnimplemented, ErrorCode::kMethodNotFound},
      {absl::StatusCode::kInvalidArgument, ErrorCode::kInvalidParams},
      {absl::StatusCode::kOutOfRange, ErrorCode::kInvalidParams},
      {absl::StatusCode::kInternal, ErrorCode::kInternalError},
      {absl::StatusCode::kDataLoss, ErrorCode::kInternalError},
      {absl::StatusCode::kUnknown, ErrorCode::kInternalError},
      {absl::StatusCode::kPermissionDenied, ErrorCode::kUnauthorized},
      {absl::StatusCode::kUnauthenticated, ErrorCode::kUnauthorized},
      {absl::StatusCode::kUnavailable, ErrorCode::kBusy},
      {absl::StatusCode::kFailedPrecondition, ErrorCode::kRestartRequired},
      {absl::StatusCode::kNotFound, ErrorCode::kNotFound},
      {absl::StatusCode::kResourceExhausted, ErrorCode::kResourceExhausted},
      {absl::StatusCode::kDeadlineExceeded, ErrorCode::kDeadlineExceeded},
      {absl::StatusCode::kCancelled, ErrorCode::kServerError},
      {absl::StatusCode::kAlreadyExists, ErrorCode::kServerError},
      {absl::StatusCode::kAborted, ErrorCode::kServerError},
  };
  for (const auto& [code, rpc_code] : table) {
    const absl::Status in(code, "interface \"blue\": ümlaut message");
    const std::string wire = EncodeError("5", StatusToError(in));
    auto r = ParseResponse(wire);
    ASSERT_TRUE(r.ok()) << wire;
    ASSERT_TRUE(r->error);
    EXPECT_EQ(r->error->code, static_cast<int>(rpc_code)) << absl::StatusCodeToString(code);
    EXPECT_EQ(ErrorToStatus(*r->error), in);
  }
}

TEST(StatusMappingTest, WithoutDataTheCodeDecides) {
  EXPECT_EQ(ErrorToStatus(Error{-32001, "nope", ""}).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorToStatus(Error{-32002, "busy", ""}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorToStatus(Error{-32003, "r", ""}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorToStatus(Error{-32004, "n", ""}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorToStatus(Error{-32005, "e", ""}).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorToStatus(Error{-32601, "m", ""}).code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ErrorToStatus(Error{-32602, "p", ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorToStatus(Error{-32700, "x", ""}).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ErrorToStatus(Error{-32004, "n", "bogus"}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorToStatus(Error{-32004, "n", "x"}).message(), "n");
}

// ---------------------------------------------------------------------------------------------
// Typed params: good input, and bad input naming the field

TEST(ParamsTest, GoodParams) {
  SyncVmiParams sv;
  ASSERT_TRUE(FromJson(R"({"vmi":{"kind":"VirtualMachineInstance","spec":{}}})", &sv).ok());
  EXPECT_EQ(nlohmann::json::parse(sv.vmi_json)["kind"], "VirtualMachineInstance");
  ShutdownParams sd;
  ASSERT_TRUE(FromJson("{}", &sd).ok());
  EXPECT_EQ(sd.timeout_seconds, 0);
  ASSERT_TRUE(FromJson(R"({"timeout_seconds":86400})", &sd).ok());
  EXPECT_EQ(sd.timeout_seconds, 86400);
  InterfaceParams ip;
  ASSERT_TRUE(FromJson(R"({"name":"blue"})", &ip).ok());
  EXPECT_EQ(ip.name, "blue");
  Empty e;
  EXPECT_TRUE(FromJson("{}", &e).ok());
}

TEST(ParamsTest, ToJsonRoundTrips) {
  SyncVmiParams sv{R"({"kind":"VirtualMachineInstance","metadata":{"name":"vm1"}})"};
  SyncVmiParams back;
  ASSERT_TRUE(FromJson(ToJson(sv), &back).ok());
  EXPECT_EQ(nlohmann::json::parse(back.vmi_json), nlohmann::json::parse(sv.vmi_json));
  ShutdownParams sd{30}, sd2;
  ASSERT_TRUE(FromJson(ToJson(sd), &sd2).ok());
  EXPECT_EQ(sd2.timeout_seconds, 30);
}

struct BadParams {
  std::string method;
  std::string json;
  std::string field;  // the message must start with this path
};

absl::Status ParseFor(const std::string& method, const std::string& json) {
  if (method == "SyncVMI") {
    SyncVmiParams p;
    return FromJson(json, &p);
  }
  if (method == "Shutdown") {
    ShutdownParams p;
    return FromJson(json, &p);
  }
  if (method == "Attach") {
    InterfaceParams p;
    return FromJson(json, &p);
  }
  if (method == "SetLinkState") {
    SetLinkStateParams p;
    return FromJson(json, &p);
  }
  if (method == "PrepareMigrationTarget") {
    PrepareMigrationTargetParams p;
    return FromJson(json, &p);
  }
  if (method == "Migrate") {
    MigrateParams p;
    return FromJson(json, &p);
  }
  Empty p;
  return FromJson(json, &p);
}

class BadParamsTest : public ::testing::TestWithParam<BadParams> {};

TEST_P(BadParamsTest, NamesTheField) {
  const BadParams& b = GetParam();
  absl::Status s = ParseFor(b.method, b.json);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << b.json;
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith(b.field + ":")) << s;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadParamsTest,
    ::testing::Values(
        BadParams{"SyncVMI", "{}", "params.vmi"},
        BadParams{"SyncVMI", R"({"vmi":"yaml text"})", "params.vmi"},
        BadParams{"SyncVMI", R"({"vmi":{}})", "params.vmi"},
        BadParams{"SyncVMI", R"({"vmi":{"a":1},"force":true})", "params.force"},
        BadParams{"Shutdown", R"({"timeout_seconds":"10"})", "params.timeout_seconds"},
        BadParams{"Shutdown", R"({"timeout_seconds":-1})", "params.timeout_seconds"},
        BadParams{"Shutdown", R"({"timeout_seconds":86401})", "params.timeout_seconds"},
        BadParams{"Shutdown", R"({"timeout_seconds":1.5})", "params.timeout_seconds"},
        BadParams{"Shutdown", R"({"timeout_seconds":18446744073709551615})",
                  "params.timeout_seconds"},
        BadParams{"Shutdown", R"({"timeout":10})", "params.timeout"},
        BadParams{"Attach", "{}", "params.name"},
        BadParams{"Attach", R"({"name":""})", "params.name"},
        BadParams{"Attach", R"({"name":7})", "params.name"},
        BadParams{"Attach", "{\"name\":\"" + std::string(254, 'n') + "\"}", "params.name"},
        BadParams{"SetLinkState", R"({"name":"blue"})", "params.state"},
        BadParams{"SetLinkState", R"({"name":"blue","state":"UP"})", "params.state"},
        BadParams{"SetLinkState", R"({"name":"blue","state":true})", "params.state"},
        BadParams{"SetLinkState", R"({"state":"up"})", "params.name"},
        BadParams{"PrepareMigrationTarget", "{}", "params.source_xml"},
        BadParams{"PrepareMigrationTarget", R"({"source_xml":""})", "params.source_xml"},
        BadParams{"PrepareMigrationTarget", R"({"source_xml":"<domain/>","migration_interface":1})",
                  "params.migration_interface"},
        BadParams{"Migrate", R"({"dest_xml":"<domain/>"})", "params.dest_uri"},
        BadParams{"Migrate", R"({"dest_uri":"qemu:///x","max_downtime_ms":60001})",
                  "params.max_downtime_ms"},
        BadParams{"Migrate", R"({"dest_uri":"qemu:///x","bandwidth_mib_s":-1})",
                  "params.bandwidth_mib_s"},
        BadParams{"Migrate", R"({"dest_uri":"qemu:///x","live":false})", "params.live"},
        BadParams{"Empty", R"({"x":1})", "params.x"}, BadParams{"Empty", "[]", "params"},
        BadParams{"Empty", "{", "params"}));

// ---------------------------------------------------------------------------------------------
// Typed results

TEST(ResultsTest, GetStatusUsesKubeVirtNamesAndOmitsEmpty) {
  GetStatusResult st;
  st.phase = "Running";
  StatusInterface a;
  a.name = "default";
  a.mac = "02:00:00:00:00:01";
  a.ip_address = "10.244.0.7";
  a.ip_addresses = {"10.244.0.7", "fd00::7"};
  a.pod_interface_name = "eth0";
  a.interface_name = "eth0";
  a.info_source = "domain, guest-agent";
  a.queue_count = 2;
  a.link_state = "up";
  StatusInterface b;
  b.name = "blue";
  b.mac = "02:00:00:00:00:02";
  st.interfaces = {a, b};
  const auto j = nlohmann::json::parse(ToJson(st));
  EXPECT_EQ(j["phase"], "Running");
  const auto& ja = j["interfaces"][0];
  EXPECT_EQ(ja["name"], "default");
  EXPECT_EQ(ja["mac"], "02:00:00:00:00:01");
  EXPECT_EQ(ja["ipAddress"], "10.244.0.7");
  EXPECT_EQ(ja["ipAddresses"], nlohmann::json({"10.244.0.7", "fd00::7"}));
  EXPECT_EQ(ja["podInterfaceName"], "eth0");
  EXPECT_EQ(ja["interfaceName"], "eth0");
  EXPECT_EQ(ja["infoSource"], "domain, guest-agent");
  EXPECT_EQ(ja["queueCount"], 2);
  EXPECT_EQ(ja["linkState"], "up");
  EXPECT_EQ(j["interfaces"][1], nlohmann::json({{"name", "blue"}, {"mac", "02:00:00:00:00:02"}}));

  GetStatusResult back;
  ASSERT_TRUE(FromJson(ToJson(st), &back).ok());
  EXPECT_EQ(back.phase, "Running");
  ASSERT_EQ(back.interfaces.size(), 2u);
  EXPECT_EQ(back.interfaces[0], a);
  EXPECT_EQ(back.interfaces[1], b);
}

TEST(ParamsTest, MigrationMessagesRoundTrip) {
  MigrateParams m{"qemu+unix:///system?socket=/s", "<domain/>", "tcp://10.10.0.2", "", 250, 100};
  MigrateParams m2;
  ASSERT_TRUE(FromJson(ToJson(m), &m2).ok());
  EXPECT_EQ(m2.dest_uri, m.dest_uri);
  EXPECT_EQ(m2.dest_xml, m.dest_xml);
  EXPECT_EQ(m2.migrate_uri, m.migrate_uri);
  EXPECT_THAT(ToJson(m), Not(HasSubstr("disks_uri"))) << "absent when there is none";
  m.disks_uri = "unix:///m/nbd.sock";
  ASSERT_TRUE(FromJson(ToJson(m), &m2).ok());
  EXPECT_EQ(m2.disks_uri, "unix:///m/nbd.sock");
  EXPECT_EQ(m2.max_downtime_ms, 250);
  EXPECT_EQ(m2.bandwidth_mib_s, 100);
  PrepareMigrationTargetParams p{"<domain/>", "net2"}, p2;
  ASSERT_TRUE(FromJson(ToJson(p), &p2).ok());
  EXPECT_EQ(p2.source_xml, "<domain/>");
  EXPECT_EQ(p2.migration_interface, "net2");
  PrepareMigrationTargetResult t{"qemu+unix:///system?socket=/t", "<domain/>", "unix:///m",
                                 "unix:///n"},
      t2;
  ASSERT_TRUE(FromJson(ToJson(t), &t2).ok());
  EXPECT_EQ(t2.migrate_uri, "unix:///m");
  EXPECT_EQ(t2.disks_uri, "unix:///n");
  GetMigrationResult g;
  g.state = "running";
  g.data_remaining = 1 << 20;
  g.iteration = 3;
  GetMigrationResult g2;
  ASSERT_TRUE(FromJson(ToJson(g), &g2).ok());
  EXPECT_EQ(g2.state, "running");
  EXPECT_EQ(g2.data_remaining, 1 << 20);
  EXPECT_EQ(g2.iteration, 3);
  EXPECT_FALSE(FromJson(R"({"state":"running","iteration":-1})", &g2).ok());
}

TEST(ResultsTest, GetDomainRoundTrip) {
  GetDomainResult d;
  d.state = "running";
  d.xml = "<domain type='qemu'>\n</domain>";
  d.interfaces = {
      {"default", "02:00:00:00:00:01", "tap0", "up", "virtio-non-transitional", 4, "ua-default"}};
  GetDomainResult back;
  ASSERT_TRUE(FromJson(ToJson(d), &back).ok());
  EXPECT_EQ(back.state, d.state);
  EXPECT_EQ(back.xml, d.xml);
  EXPECT_EQ(back.interfaces, d.interfaces);
}

TEST(ResultsTest, ResultsAreLenientAboutUnknownFieldsButCheckTypes) {
  PingResult p;
  EXPECT_TRUE(FromJson(R"({"version":"1","build":"x"})", &p).ok());
  ChangedResult c;
  EXPECT_TRUE(FromJson(R"({"changed":true})", &c).ok());
  EXPECT_TRUE(c.changed);
  absl::Status s = FromJson(R"({"changed":"yes"})", &c);
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("result.changed:"));
  GetStatusResult st;
  s = FromJson(R"({"phase":"Running","interfaces":[{"name":"a"},{"queueCount":"2"}]})", &st);
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("result.interfaces[1].queueCount:"));
  s = FromJson(R"({"phase":"Running","interfaces":[{"ipAddresses":["1.2.3.4",5]}]})", &st);
  EXPECT_THAT(std::string(s.message()),
              ::testing::StartsWith("result.interfaces[0].ipAddresses[1]:"));
  GetDomainResult d;
  s = FromJson(R"({"state":"running","interfaces":[{"queues":-1}]})", &d);
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("result.interfaces[0].queues:"));
  SyncVmiResult sv;
  s = FromJson(R"({"domain_name":"x"})", &sv);
  EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("result.phase:"));
}

}  // namespace
}  // namespace k6t::api::rpc
