// Command-socket input as a hostile peer would send it: arbitrary bytes, in arbitrary chunks,
// through the FrameDecoder, then every frame through the request parser, every params parser,
// the response parser and every result parser. Checks the invariants the server relies on
// (no crash, bounded buffering, encode/parse round trips).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "k6t/api/rpc.h"
#include "k6t/rpc/frame.h"

namespace rpc = k6t::api::rpc;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

template <typename T>
void TryParse(const std::string& json) {
  T value;
  if (rpc::FromJson(json, &value).ok()) {
    // Whatever parses must re-encode to something that parses to the same encoding.
    const std::string again = rpc::ToJson(value);
    T back;
    Check(rpc::FromJson(again, &back).ok());
    Check(rpc::ToJson(back) == again);
  }
}

void ExerciseFrame(const std::string& frame) {
  rpc::ParsedRequest p = rpc::ParseRequest(frame);
  Check(p.request.has_value() != p.error.has_value());
  if (p.error) {
    // The error response the server would send must itself be a valid response.
    auto r = rpc::ParseResponse(rpc::EncodeError(p.id_json, *p.error));
    Check(r.ok() && r->error && r->id_json == p.id_json);
  } else {
    const rpc::Request& req = *p.request;
    auto again = rpc::ParseRequest(rpc::EncodeRequest(req));
    Check(again.request && again.request->method == req.method &&
          again.request->id_json == req.id_json);
    TryParse<rpc::Empty>(req.params_json);
    TryParse<rpc::SyncVmiParams>(req.params_json);
    TryParse<rpc::ShutdownParams>(req.params_json);
    TryParse<rpc::InterfaceParams>(req.params_json);
    TryParse<rpc::SetLinkStateParams>(req.params_json);
    TryParse<rpc::PrepareMigrationTargetParams>(req.params_json);
    TryParse<rpc::MigrateParams>(req.params_json);
  }
  // The same bytes seen by the client as a response, and as each result.
  auto resp = rpc::ParseResponse(frame);
  if (resp.ok() && !resp->error) {
    auto wire = rpc::ParseResponse(rpc::EncodeResult(resp->id_json, resp->result_json));
    Check(wire.ok());
  } else if (resp.ok()) {
    (void)rpc::ErrorToStatus(*resp->error);
  }
  TryParse<rpc::PingResult>(frame);
  TryParse<rpc::SyncVmiResult>(frame);
  TryParse<rpc::GetDomainResult>(frame);
  TryParse<rpc::GetStatusResult>(frame);
  TryParse<rpc::ChangedResult>(frame);
  TryParse<rpc::PrepareMigrationTargetResult>(frame);
  TryParse<rpc::GetMigrationResult>(frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0 picks the chunking, byte 1 the frame limit; the rest is the stream.
  const size_t chunk = 1 + data[0] % 17;
  const size_t max_frame = data[1] & 1 ? 64 * 1024 : 256;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  k6t::rpc::FrameDecoder decoder(max_frame);
  size_t consumed_frames_bytes = 0;
  bool failed = false;
  for (size_t off = 0; off < stream.size() && !failed; off += chunk) {
    failed = !decoder.Feed(stream.substr(off, chunk)).ok();
    Check(decoder.partial_bytes() <= max_frame + rpc::kFrameHeaderBytes);
    while (auto frame = decoder.Pop()) {
      Check(frame->size() <= max_frame);
      consumed_frames_bytes += rpc::kFrameHeaderBytes + frame->size();
      ExerciseFrame(*frame);
    }
  }
  if (!failed) Check(consumed_frames_bytes + decoder.partial_bytes() == stream.size());
  // The whole input as one payload too: the request parser sees unframed bytes directly.
  ExerciseFrame(std::string(stream));
  return 0;
}
