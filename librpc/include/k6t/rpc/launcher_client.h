// What k6t-handler asks of a VM's launcher, as one small interface: the calls of the command
// protocol (k6t/api/rpc.h, METHODS) with typed params and results. `sync`, `watch`, `status`
// and `stop` take a LauncherClient&; SocketLauncherClient is the real one (the launcher's
// command socket), k6t/rpc/testing/fake_launcher.h an in-memory launcher for unit tests.
//
// Errors: what the launcher returned, with its code (kFailedPrecondition: restart required or
// no running domain; kNotFound: no such interface or plan; kDeadlineExceeded: the guest did not
// release a device in time). A launcher that cannot be reached, or went away during a call, is
// kUnavailable: the outcome of that call is unknown, and so is kDeadlineExceeded from the
// client's own deadline (see CallDeadlines).
// Thread-safety: SocketLauncherClient serializes calls (one at a time); see each fake.
// Privileges: those of k6t/rpc/client.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/api/rpc.h"
#include "k6t/rpc/client.h"

namespace k6t::rpc {

class LauncherClient {
 public:
  virtual ~LauncherClient() = default;

  virtual absl::StatusOr<api::rpc::PingResult> Ping() = 0;
  // `vmi_json`: a VirtualMachineInstance object (api::EncodeVmiJson).
  virtual absl::StatusOr<api::rpc::SyncVmiResult> SyncVMI(const std::string& vmi_json) = 0;
  // ACPI power-off, destroyed after `timeout_seconds` (0: the launcher's default).
  virtual absl::Status Shutdown(int64_t timeout_seconds) = 0;
  virtual absl::Status Kill() = 0;
  virtual absl::StatusOr<api::rpc::GetDomainResult> GetDomain() = 0;
  virtual absl::StatusOr<api::rpc::GetStatusResult> GetStatus() = 0;
  // Each returns whether the domain changed.
  virtual absl::StatusOr<bool> AttachInterface(const std::string& name) = 0;
  virtual absl::StatusOr<bool> DetachInterface(const std::string& name) = 0;
  virtual absl::StatusOr<bool> SetLinkState(const std::string& name, bool up) = 0;
};

// How long the socket client waits for each answer.
struct CallDeadlines {
  absl::Duration ping = absl::Seconds(5);
  absl::Duration sync_vmi = absl::Minutes(5);
  // Shutdown waits for the guest's power-off timeout plus this, for the launcher itself.
  absl::Duration shutdown_grace = absl::Seconds(30);
  absl::Duration kill = absl::Seconds(30);
  absl::Duration get_domain = absl::Seconds(10);
  absl::Duration get_status = absl::Seconds(10);
  absl::Duration attach = absl::Minutes(2);
  absl::Duration detach = absl::Minutes(2);
  absl::Duration link_state = absl::Seconds(30);
  // PrepareMigrationTarget regenerates the domain XML; the others answer at once.
  absl::Duration migration = absl::Seconds(30);
};

// The launcher's command socket. A result the launcher sends that does not parse is kDataLoss.
class SocketLauncherClient final : public LauncherClient {
 public:
  // Client::Connect, then every call waits as long as `deadlines` says.
  static absl::StatusOr<std::unique_ptr<SocketLauncherClient>> Connect(
      const std::string& path, absl::Duration connect_timeout, CallDeadlines deadlines = {},
      size_t max_frame_bytes = api::rpc::kDefaultMaxFrameBytes);
  explicit SocketLauncherClient(std::unique_ptr<Client> client, CallDeadlines deadlines = {});

  absl::StatusOr<api::rpc::PingResult> Ping() override;
  absl::StatusOr<api::rpc::SyncVmiResult> SyncVMI(const std::string& vmi_json) override;
  absl::Status Shutdown(int64_t timeout_seconds) override;
  absl::Status Kill() override;
  absl::StatusOr<api::rpc::GetDomainResult> GetDomain() override;
  absl::StatusOr<api::rpc::GetStatusResult> GetStatus() override;
  absl::StatusOr<bool> AttachInterface(const std::string& name) override;
  absl::StatusOr<bool> DetachInterface(const std::string& name) override;
  absl::StatusOr<bool> SetLinkState(const std::string& name, bool up) override;

  // Live migration (api/rpc.h "Live migration"): the target's and the source's calls.
  absl::StatusOr<api::rpc::PrepareMigrationTargetResult> PrepareMigrationTarget(
      const api::rpc::PrepareMigrationTargetParams& params);
  absl::Status Migrate(const api::rpc::MigrateParams& params);
  absl::StatusOr<api::rpc::GetMigrationResult> GetMigration();
  absl::StatusOr<bool> AbortMigration();

  // The connection underneath, for raw calls.
  Client& client() { return *client_; }

 private:
  std::unique_ptr<Client> client_;
  CallDeadlines deadlines_;
};

}  // namespace k6t::rpc
