// The command socket's framing (wire format in k6t/api/rpc.h, FRAMING): every message is a
// 4-byte big-endian length followed by that many bytes of JSON text. The server and the
// client both frame and unframe through this file; the fuzz target rpc_frame drives it with
// hostile byte streams.
//
// Errors: a header announcing more than the decoder's limit is kResourceExhausted (naming
// both sizes) and poisons the decoder: the framing of that stream is lost.
// Thread-safety: EncodeFrame is pure; a FrameDecoder belongs to one connection and is not
// thread-safe.
// Privileges: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "k6t/api/rpc.h"

namespace k6t::rpc {

// Prepends the 4-byte big-endian length. The caller checks the size against its limit (a
// payload above 4 GiB - 1 cannot be framed and yields an empty string).
std::string EncodeFrame(std::string_view payload);

// Streaming decoder: feed whatever bytes arrived, pop complete frames. A header announcing more
// than max_frame_bytes poisons the decoder (framing is lost); the oversize payload is never
// buffered. Memory held is at most one partial frame plus the complete frames not yet popped.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes = api::rpc::kDefaultMaxFrameBytes);

  // kResourceExhausted (naming the announced and the allowed size) once a header exceeds the
  // limit; every later call returns the same error and consumes nothing.
  absl::Status Feed(std::string_view bytes);
  absl::Status Feed(const char* data, size_t n) { return Feed(std::string_view(data, n)); }

  // The oldest complete frame's payload, if any.
  std::optional<std::string> Pop();

  size_t pending_frames() const { return frames_.size(); }
  // Bytes of a started but incomplete frame (header included); 0 between frames.
  size_t partial_bytes() const { return header_have_ + payload_.size(); }
  // Count of frames completed since construction (popped or not).
  uint64_t frames_completed() const { return completed_; }
  bool failed() const { return !error_.ok(); }
  size_t max_frame_bytes() const { return max_; }

 private:
  size_t max_;
  unsigned char header_[api::rpc::kFrameHeaderBytes] = {};
  size_t header_have_ = 0;
  size_t want_ = 0;  // payload length once the header is complete
  bool in_payload_ = false;
  std::string payload_;
  std::deque<std::string> frames_;
  uint64_t completed_ = 0;
  absl::Status error_;
};

}  // namespace k6t::rpc
