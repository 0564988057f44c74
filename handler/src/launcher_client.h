// The handler's side of the command socket (protocol in k6t/api/rpc.h): a synchronous
// JSON-RPC client over the launcher's unix socket. One call at a time per client (calls from
// several threads are serialized); open several clients for concurrency.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/api/rpc.h"

namespace k6t::handler {

class LauncherClient {
 public:
  // Connects to the launcher's socket, retrying while it does not exist yet or refuses
  // (a launcher still starting) until `timeout`. A zero timeout tries once.
  static absl::StatusOr<std::unique_ptr<LauncherClient>> Connect(
      const std::string& path, absl::Duration timeout,
      size_t max_frame_bytes = api::rpc::kDefaultMaxFrameBytes);

  ~LauncherClient();
  LauncherClient(const LauncherClient&) = delete;
  LauncherClient& operator=(const LauncherClient&) = delete;

  // Sends one request and waits for its response. A JSON-RPC error comes back as the absl
  // status the launcher returned (code and message, prefixed with the method). Timeout:
  // kDeadlineExceeded, and the connection stays usable (the late answer is skipped by id).
  // A connection the launcher closed between calls (idle timeout, restart) is reopened once,
  // transparently. Closed mid-call or desynchronized: kUnavailable, and every later call
  // fails the same (Connect again).
  absl::StatusOr<std::string> Call(const std::string& method, const std::string& params_json,
                                   absl::Duration timeout);

  absl::StatusOr<api::rpc::PingResult> Ping(absl::Duration timeout = absl::Seconds(5));
  // `vmi_json`: a VirtualMachineInstance object (api::EncodeVmiJson).
  absl::StatusOr<api::rpc::SyncVmiResult> SyncVMI(const std::string& vmi_json,
                                                  absl::Duration timeout = absl::Minutes(5));
  // Waits up to timeout_seconds for the guest to power off, plus 30 s for the launcher.
  absl::Status Shutdown(int64_t timeout_seconds);
  absl::Status Kill(absl::Duration timeout = absl::Seconds(30));
  absl::StatusOr<api::rpc::GetDomainResult> GetDomain(absl::Duration timeout = absl::Seconds(10));
  absl::StatusOr<api::rpc::GetStatusResult> GetStatus(absl::Duration timeout = absl::Seconds(10));
  // Each returns whether the domain changed.
  absl::StatusOr<bool> AttachInterface(const std::string& name,
                                       absl::Duration timeout = absl::Minutes(2));
  absl::StatusOr<bool> DetachInterface(const std::string& name,
                                       absl::Duration timeout = absl::Minutes(2));
  absl::StatusOr<bool> SetLinkState(const std::string& name, bool up,
                                    absl::Duration timeout = absl::Seconds(30));

  const std::string& path() const { return path_; }
  bool broken() const;

 private:
  LauncherClient(int fd, std::string path, size_t max_frame_bytes);
  absl::Status SendAll(const std::string& frame, absl::Time deadline, const std::string& method);
  absl::StatusOr<api::rpc::Response> Receive(const std::string& id_json, absl::Time deadline,
                                             const std::string& method);
  absl::Status Broken(absl::Status why);
  // The launcher closes idle connections; a clean EOF seen between calls reconnects once.
  absl::Status ReconnectIfClosedWhileIdle();
  // The connection-level error frame (id null) the launcher sent before closing, if any.
  absl::Status PendingRefusal();

  int fd_;
  std::string path_;
  size_t max_frame_bytes_;
  mutable std::mutex mu_;
  api::rpc::FrameDecoder decoder_;
  uint64_t next_id_ = 1;
  absl::Status broken_;  // OK while usable
};

}  // namespace k6t::handler
