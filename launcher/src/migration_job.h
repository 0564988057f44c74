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

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "hotplug.h"
#include "k6t/api/rpc.h"
#include "k6t/launcher/launcher.h"

namespace k6t::launcher {

class DhcpService;

// Where the target's QEMU listens: the migration stream and the copy of pod-local disks.
struct IncomingUris {
  std::string migrate;  // tcp://ADDR or unix:///PATH
  std::string disks;    // "" with TCP (libvirt's NBD server on the same address), else unix://
};

// tcp:// on the first global address of `interface` (IPv4 first); sockets in a directory of
// `state_dir` that the QEMU user owns when `interface` is empty (both pods on one node).
absl::StatusOr<IncomingUris> IncomingMigrateUris(const std::string& interface,
                                                 const std::string& state_dir,
                                                 const QemuUser& qemu_user);

class MigrationJob {
 public:
  // `hotplug` unplugs the VM's SR-IOV VFs before it leaves and plugs them after it arrived
  // (VFs cannot migrate; KubeVirt does the same). `dhcp` and `hotplug` may be null.
  MigrationJob(Launcher& launcher, DhcpService* dhcp, Hotplug* hotplug)
      : launcher_(launcher), dhcp_(dhcp), hotplug_(hotplug) {}
  ~MigrationJob();  // waits for a running migration's thread (Launcher::Stop aborts it first)

  absl::StatusOr<api::rpc::PrepareMigrationTargetResult> PrepareTarget(
      const api::rpc::PrepareMigrationTargetParams& params);
  absl::Status Start(const api::rpc::MigrateParams& params);
  api::rpc::GetMigrationResult Get();
  // True when a running migration was asked to stop.
  absl::StatusOr<bool> Abort();
  // Target: the VM arrived; its SR-IOV interfaces are plugged (this pod's VFs) and, when
  // PrepareTarget asked for it, the links of its bridge/l2bridge interfaces go down and up
  // (the guest renews its DHCP lease). A failure is logged: the VM runs on, as after a failed
  // hotplug.
  void AfterArrival();

 private:
  void Run(MigrationRequest request);
  // The VMI interfaces bound to SR-IOV VFs (hostdev devices).
  std::vector<std::string> VfInterfaces() const;
  // Plugs `names` back (after a failed or cancelled migration, or on the target).
  void Replug(const std::vector<std::string>& names, const char* why);

  Launcher& launcher_;
  DhcpService* const dhcp_;
  Hotplug* const hotplug_;
  std::mutex mu_;
  std::thread thread_;
  api::rpc::GetMigrationResult last_;  // state and message; figures of the last poll
  bool abort_requested_ = false;
  std::atomic<bool> link_refresh_{false};
};

}  // namespace k6t::launcher
