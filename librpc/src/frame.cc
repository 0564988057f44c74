// Framing of the command socket (see k6t/rpc/frame.h).
#include "k6t/rpc/frame.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace k6t::rpc {

using api::rpc::kFrameHeaderBytes;

std::string EncodeFrame(std::string_view payload) {
  if (payload.size() > 0xffffffffu) return {};
  const auto n = static_cast<uint32_t>(payload.size());
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload.data(), payload.size());
  return out;
}

FrameDecoder::FrameDecoder(size_t max_frame_bytes) : max_(max_frame_bytes) {}

absl::Status FrameDecoder::Feed(std::string_view bytes) {
  if (!error_.ok()) return error_;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (!in_payload_) {
      const size_t take = std::min(kFrameHeaderBytes - header_have_, bytes.size() - pos);
      std::memcpy(header_ + header_have_, bytes.data() + pos, take);
      header_have_ += take;
      pos += take;
      if (header_have_ < kFrameHeaderBytes) break;
      want_ = (size_t{header_[0]} << 24) | (size_t{header_[1]} << 16) | (size_t{header_[2]} << 8) |
              size_t{header_[3]};
      if (want_ > max_) {
        error_ = absl::ResourceExhaustedError(absl::StrCat(
            "frame of ", want_, " bytes exceeds the limit of ", max_, " bytes; framing lost"));
        header_have_ = 0;
        return error_;
      }
      in_payload_ = true;
      payload_.clear();
      // Reserve only what is already here: a peer announcing 4 MiB and sending 1 byte must not
      // make us allocate 4 MiB.
      payload_.reserve(std::min(want_, bytes.size() - pos));
    }
    const size_t take = std::min(want_ - payload_.size(), bytes.size() - pos);
    payload_.append(bytes.data() + pos, take);
    pos += take;
    if (payload_.size() == want_) {
      frames_.push_back(std::move(payload_));
      payload_ = std::string();
      in_payload_ = false;
      header_have_ = 0;
      ++completed_;
    }
  }
  return absl::OkStatus();
}

std::optional<std::string> FrameDecoder::Pop() {
  if (frames_.empty()) return std::nullopt;
  std::string f = std::move(frames_.front());
  frames_.pop_front();
  return f;
}

}  // namespace k6t::rpc
