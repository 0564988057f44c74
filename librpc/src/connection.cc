#include "connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "spdlog/spdlog.h"
#include "unix_socket.h"

namespace k6t::rpc {
namespace {
constexpr size_t kReadChunk = 64 * 1024;
}  // namespace

Connection::Connection(int fd, uint64_t id, Peer peer, const ConnectionLimits& limits)
    : fd_(fd),
      id_(id),
      peer_(peer),
      limits_(limits),
      decoder_(limits.max_frame_bytes),
      last_activity_(Clock::now()) {}

Connection::~Connection() { close(fd_); }

Connection::ReadOutcome Connection::ReadOnce() {
  char buf[kReadChunk];
  ssize_t r;
  do {
    r = recv(fd_, buf, sizeof(buf), 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadOutcome::kWouldBlock;
    spdlog::debug("command socket: client {} read: {}", id_, ErrnoText(errno));
    dead_ = true;
    return ReadOutcome::kFailed;
  }
  if (r == 0) {
    read_closed_ = true;
    return ReadOutcome::kEof;
  }
  const auto now = Clock::now();
  last_activity_ = now;
  const bool had_partial = decoder_.partial_bytes() > 0;
  const uint64_t before = decoder_.frames_completed();
  const absl::Status s = decoder_.Feed(buf, static_cast<size_t>(r));
  // A frame's clock starts at its first byte: a new partial frame after completed ones too.
  if (decoder_.partial_bytes() > 0 && (!had_partial || decoder_.frames_completed() != before))
    frame_start_ = now;
  if (!s.ok()) {
    framing_error_ = s;
    read_closed_ = true;
    return ReadOutcome::kFramingLost;
  }
  return ReadOutcome::kData;
}

std::optional<std::string> Connection::NextRequest() {
  if (dead_ || inflight_ >= limits_.max_inflight || out_bytes_ >= limits_.max_pending_output_bytes)
    return std::nullopt;
  return decoder_.Pop();
}

void Connection::Send(const std::string& payload) {
  if (dead_) return;
  if (out_.empty()) last_write_progress_ = Clock::now();
  std::string frame = EncodeFrame(payload);
  out_bytes_ += frame.size();
  out_.push_back(std::move(frame));
  Flush();
}

void Connection::Flush() {
  while (!out_.empty() && !dead_) {
    const std::string& front = out_.front();
    const ssize_t w = send(fd_, front.data() + out_offset_, front.size() - out_offset_,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        spdlog::debug("command socket: client {} write: {}", id_, ErrnoText(errno));
        dead_ = true;
      }
      return;
    }
    out_offset_ += static_cast<size_t>(w);
    out_bytes_ -= static_cast<size_t>(w);
    last_write_progress_ = Clock::now();
    if (out_offset_ == front.size()) {
      out_.pop_front();
      out_offset_ = 0;
    }
  }
}

bool Connection::ReadAllowed() const {
  return !read_closed_ && !dead_ && inflight_ < limits_.max_inflight &&
         out_bytes_ < limits_.max_pending_output_bytes && decoder_.pending_frames() == 0;
}

bool Connection::Finished() const {
  return read_closed_ && inflight_ == 0 && out_.empty() && decoder_.pending_frames() == 0;
}

uint32_t Connection::WantedEvents() const {
  uint32_t want = 0;
  if (ReadAllowed()) want |= EPOLLIN;
  if (!out_.empty()) want |= EPOLLOUT;
  return want;
}

Connection::Expiry Connection::Expired(Clock::time_point now) const {
  // Only while we are reading: a client whose reading we paused is not stalling.
  if (decoder_.partial_bytes() > 0 && ReadAllowed() && now - frame_start_ > limits_.frame_timeout)
    return Expiry::kFrameTimeout;
  if (!out_.empty() && now - last_write_progress_ > limits_.frame_timeout)
    return Expiry::kStalledReader;
  if (inflight_ == 0 && out_.empty() && decoder_.partial_bytes() == 0 &&
      decoder_.pending_frames() == 0 && now - last_activity_ > limits_.idle_timeout)
    return Expiry::kIdle;
  return Expiry::kNone;
}

}  // namespace k6t::rpc
