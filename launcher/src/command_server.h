// The launcher's command socket: JSON-RPC 2.0 over a unix stream socket, protocol in
// k6t/api/rpc.h. One epoll thread does all socket I/O; registered methods run on a small worker
// pool so that a slow method (booting a VM) never holds back Ping, which is answered on the I/O
// thread itself.
//
// Hostile or broken clients are bounded, never fatal: peer uid checked (SO_PEERCRED), frame size
// limit, a started frame must complete within frame_timeout (slowloris), per-connection limits
// on requests in flight and on unsent output (reading pauses until the client catches up), a
// client that stops reading is dropped after frame_timeout, and a global client limit.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/api/rpc.h"

namespace k6t::launcher {

struct CommandServerOptions {
  std::string socket_path;
  // Peers allowed to talk to us. Empty means {0, geteuid()}.
  std::vector<uid_t> allowed_uids;
  size_t max_frame_bytes = api::rpc::kDefaultMaxFrameBytes;
  int max_clients = 128;
  // A frame must be complete this long after its first byte; a client with unsent responses
  // must make write progress within it too.
  std::chrono::milliseconds frame_timeout{10'000};
  // A connection with nothing in flight and nothing buffered is closed after this.
  std::chrono::milliseconds idle_timeout{300'000};
  int worker_threads = 3;
  // Requests queued for the workers across all clients; beyond it new requests get `busy`.
  size_t max_queued_requests = 256;
  // Requests of one connection being executed or queued; reading pauses at this count.
  size_t max_inflight_per_client = 8;
  // Unsent response bytes of one connection at which reading pauses.
  size_t max_pending_output_bytes = 1u << 20;
  // Reported by the built-in Ping.
  std::string version = "k6t-launcher";
};

struct CommandMethodOptions {
  // Never run two calls of this method at once (later calls wait in the queue), e.g. SyncVMI.
  bool exclusive = false;
};

class CommandServer {
 public:
  // Takes the params object as JSON text; returns the result as JSON text (must be valid JSON,
  // typically an object from api::rpc::ToJson) or a status mapped to a JSON-RPC error.
  using Handler = std::function<absl::StatusOr<std::string>(const std::string& params_json)>;

  using MethodOptions = CommandMethodOptions;

  struct Stats {
    uint64_t accepted = 0;
    uint64_t refused_uid = 0;
    uint64_t refused_full = 0;
    uint64_t frames = 0;
    uint64_t malformed = 0;  // parse errors, invalid requests, unknown methods, oversize
    uint64_t timed_out = 0;  // slowloris, stalled readers, idle
    uint64_t handled = 0;    // requests answered by a worker
  };

  explicit CommandServer(CommandServerOptions options);
  ~CommandServer();
  CommandServer(const CommandServer&) = delete;
  CommandServer& operator=(const CommandServer&) = delete;

  // Thread-safe, also while serving. "Ping" is built in and cannot be replaced.
  void Register(std::string method, Handler handler, MethodOptions options = {});

  // Creates the socket (parent dir 0700 if missing; a stale socket file is replaced, a live one
  // or a non-socket file at the path is an error) and starts the I/O and worker threads.
  absl::Status Start();

  // Closes every client, removes the socket file (if it is still ours) and joins the threads;
  // waits for running handlers to return. Idempotent; callable from any thread except from
  // within a handler (that call is refused with an error log, the owner's later Stop() or the
  // destructor does the work).
  void Stop();

  Stats stats() const;
  size_t client_count() const;
  const std::string& socket_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace k6t::launcher
