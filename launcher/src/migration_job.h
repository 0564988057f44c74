// The command socket's live-migration methods (k6t/api/rpc.h "Live migration"): on the
// target, PrepareMigrationTarget; on the source, one migration job at a time, run on a
// thread of its own (a migration outlives any RPC deadline) and followed through GetMigration
// and AbortMigration.
//
// Errors: FailedPrecondition for a call the launcher's state forbids (a job already running,
// no VM yet, not an --incoming launcher); NotFound for a migration interface without a
// usable address. Thread-safety: every method is thread-safe. Privileges: those of the
// launcher (its libvirt).
#pragma once

#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "k6t/api/rpc.h"
#include "k6t/launcher/launcher.h"

namespace k6t::launcher {

class DhcpService;

// Where the target's QEMU listens for the migration stream: tcp:// on the first global
// address of `interface` (IPv4 first), unix:// under `state_dir` when `interface` is empty.
absl::StatusOr<std::string> IncomingMigrateUri(const std::string& interface,
                                               const std::string& state_dir,
                                               const QemuUser& qemu_user);

class MigrationJob {
 public:
  MigrationJob(Launcher& launcher, DhcpService* dhcp) : launcher_(launcher), dhcp_(dhcp) {}
  ~MigrationJob();  // waits for a running migration's thread (Launcher::Stop aborts it first)

  absl::StatusOr<api::rpc::PrepareMigrationTargetResult> PrepareTarget(
      const api::rpc::PrepareMigrationTargetParams& params);
  absl::Status Start(const api::rpc::MigrateParams& params);
  api::rpc::GetMigrationResult Get();
  // True when a running migration was asked to stop.
  absl::StatusOr<bool> Abort();

 private:
  void Run(MigrationRequest request);

  Launcher& launcher_;
  DhcpService* const dhcp_;
  std::mutex mu_;
  std::thread thread_;
  api::rpc::GetMigrationResult last_;  // state and message; figures of the last poll
  bool abort_requested_ = false;
};

}  // namespace k6t::launcher
