// One client of the server as its I/O thread sees it: the bytes read and not yet framed, the
// requests it has in flight, the responses not yet sent, and the clocks that decide when a
// slow or silent client is dropped. Only the I/O thread touches a Connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "k6t/rpc/frame.h"
#include "peer_credentials.h"

namespace k6t::rpc {

using Clock = std::chrono::steady_clock;

struct ConnectionLimits {
  size_t max_frame_bytes = 0;
  size_t max_inflight = 1;              // requests queued or running; reading pauses there
  size_t max_pending_output_bytes = 0;  // unsent response bytes; reading pauses there
  std::chrono::milliseconds frame_timeout{0};
  std::chrono::milliseconds idle_timeout{0};
};

class Connection {
 public:
  // Takes ownership of `fd` (non-blocking).
  Connection(int fd, uint64_t id, Peer peer, const ConnectionLimits& limits);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  enum class ReadOutcome {
    kData,         // bytes were framed (frames may be ready)
    kWouldBlock,   // nothing more to read now
    kEof,          // the peer will send nothing more (read_closed() from now on)
    kFailed,       // the socket failed (dead() from now on)
    kFramingLost,  // a header over the limit: read_closed(), see framing_error()
  };
  // One recv() into the frame decoder.
  ReadOutcome ReadOnce();
  const absl::Status& framing_error() const { return framing_error_; }

  // The next request frame, if there is one and the connection is within its limits.
  std::optional<std::string> NextRequest();
  void RequestQueued() { ++inflight_; }
  void RequestDone() { --inflight_; }

  // Frames `payload` and sends as much as the socket takes now; the rest waits for Flush().
  // Dropped when the connection is dead.
  void Send(const std::string& payload);
  void Flush();

  // Whether to read from the socket now: not closed, and within the limits.
  bool ReadAllowed() const;
  // Read side closed, nothing in flight, nothing unsent: the connection has nothing left to do.
  bool Finished() const;
  // EPOLLIN / EPOLLOUT as the state asks for.
  uint32_t WantedEvents() const;

  enum class Expiry { kNone, kIdle, kFrameTimeout, kStalledReader };
  Expiry Expired(Clock::time_point now) const;

  void MarkDead() { dead_ = true; }
  bool dead() const { return dead_; }
  bool read_closed() const { return read_closed_; }

  int fd() const { return fd_; }
  uint64_t id() const { return id_; }
  const Peer& peer() const { return peer_; }
  // The epoll interest last registered (the I/O thread's bookkeeping).
  uint32_t registered_events = 0;

 private:
  int fd_;
  uint64_t id_;
  Peer peer_;
  const ConnectionLimits& limits_;
  FrameDecoder decoder_;
  absl::Status framing_error_;
  std::deque<std::string> out_;
  size_t out_offset_ = 0;  // bytes of out_.front() already sent
  size_t out_bytes_ = 0;
  size_t inflight_ = 0;
  Clock::time_point frame_start_{};
  Clock::time_point last_activity_;
  Clock::time_point last_write_progress_{};
  bool read_closed_ = false;  // EOF seen, or framing lost: nothing more will be read
  bool dead_ = false;         // close at the next opportunity, drop what is pending
};

}  // namespace k6t::rpc
