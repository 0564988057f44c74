// The client side of the command socket (protocol in k6t/api/rpc.h): a synchronous JSON-RPC
// call over a unix stream socket, raw JSON in and out. The typed launcher calls sit on top of
// it (k6t/rpc/launcher_client.h); use this one directly for a method they do not cover.
//
// Errors: a JSON-RPC error comes back as the absl status the server returned (code and
// message, prefixed with the method). The connection's own failures: kDeadlineExceeded when
// no answer came in time (the connection stays usable: the late answer is skipped by its id),
// kUnavailable when the server closed the connection mid-call or the stream lost its framing
// (and every later call fails the same: Connect again), kPermissionDenied / kUnavailable for a
// server that refused the connection (uid not allowed, too many clients), kResourceExhausted
// for a request over the frame limit (not sent).
// Thread-safety: calls from several threads are serialized (one call at a time per client);
// open several clients for concurrency.
// Privileges: write access to the socket file, and a uid the server allows.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/api/rpc.h"

namespace k6t::rpc {

class Client {
 public:
  // Connects to the socket at `path`, retrying while it does not exist yet or refuses (a server
  // still starting) until `timeout`. A zero timeout tries once.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const std::string& path, absl::Duration timeout,
      size_t max_frame_bytes = api::rpc::kDefaultMaxFrameBytes);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and waits up to `timeout` for its response; the result object as JSON
  // text. A connection the server closed between calls (idle timeout, restart) is reopened
  // once, transparently.
  absl::StatusOr<std::string> Call(const std::string& method, const std::string& params_json,
                                   absl::Duration timeout);

  const std::string& path() const;
  // True once a call failed in a way that leaves the connection unusable.
  bool broken() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace k6t::rpc
