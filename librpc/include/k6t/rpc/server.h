// The command-socket server: JSON-RPC 2.0 over a unix stream socket, the protocol of
// k6t/api/rpc.h. A service registers its methods, each a function from params JSON to result
// JSON; the server does the rest. One epoll thread does all socket I/O; methods run on a small
// worker pool so that a slow method (booting a VM) never holds back Ping, which is built in
// and answered on the I/O thread itself.
//
// Hostile or broken clients are bounded, never fatal: socket mode 0600, peer uid checked
// (SO_PEERCRED), frame size limit, a started frame must complete within frame_timeout
// (slowloris), per-connection limits on requests in flight and on unsent output (reading
// pauses until the client catches up), a client that stops reading is dropped after
// frame_timeout, and a global client limit.
//
// Errors: Start() names the socket path and the errno text (kInvalidArgument: bad path;
// kAlreadyExists: another server listens there; kFailedPrecondition: the path is not a
// socket; kInternal: the system refused). A method's error status goes to the client as the
// JSON-RPC error rpc.h maps it to; an exception thrown by a method becomes kInternal.
// Thread-safety: every member is thread-safe; Stop() must not be called from a method.
// Privileges: none of its own; the socket's directory must be writable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/api/rpc.h"

namespace k6t::rpc {

struct ServerOptions {
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

struct MethodOptions {
  // Never run two calls of this method at once (later calls wait in the queue), e.g. SyncVMI.
  bool exclusive = false;
};

// Takes the params object as JSON text; returns the result as JSON text (must be valid JSON,
// typically an object from api::rpc::ToJson) or a status mapped to a JSON-RPC error.
using MethodHandler = std::function<absl::StatusOr<std::string>(const std::string& params_json)>;

struct ServerStats {
  uint64_t accepted = 0;
  uint64_t refused_uid = 0;
  uint64_t refused_full = 0;
  uint64_t frames = 0;
  uint64_t malformed = 0;  // parse errors, invalid requests, unknown methods, oversize
  uint64_t timed_out = 0;  // slowloris, stalled readers (idle closes are not counted)
  uint64_t handled = 0;    // requests answered by a worker
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Also while serving. "Ping" is built in and cannot be replaced (refused with an error log).
  void Register(std::string method, MethodHandler handler, MethodOptions options = {});

  // Creates the socket (parent dir 0700 if missing; a stale socket file is replaced, a live one
  // or a non-socket file at the path is an error) and starts the I/O and worker threads.
  absl::Status Start();

  // Closes every client, removes the socket file (if it is still ours) and joins the threads;
  // waits for running methods to return. Idempotent; callable from any thread except from
  // within a method (that call is refused with an error log, the owner's later Stop() or the
  // destructor does the work).
  void Stop();

  ServerStats stats() const;
  size_t client_count() const;
  const std::string& socket_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace k6t::rpc
