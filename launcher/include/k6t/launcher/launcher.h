// k6t-launcher's core: from a VMI and the interface plans k6t-handler cached in the state
// dir to a running domain, and back down. Runs inside the pod netns.
//
// Order of Start(): resolve the accelerator and host facts -> read the cached plans ->
// bring libvirt up (private daemon, embedded driver or an existing URI) -> start the
// services (below) -> generate the domain XML -> adopt a running domain of that name or
// define + start it. Stop() undoes it in reverse.
//
// Extension points (for the command server, the DHCP servers, passt supervision):
// implement LauncherService and AddService() it before Start(). Services start, in the
// order added, before the domain is defined (the DHCP servers and passt must be listening
// when the guest boots; passt's socket paths go into the domain XML through
// ContributeDomainOptions), and stop in reverse order after the domain is gone. A
// command server gets the Launcher& and calls Shutdown()/Kill()/DomainXml()/status().
//
// Errors: Start() returns the failing phase's status and FailureCode() its exit code (the
// ExitCode table); Wait/Shutdown/Kill return an Outcome, the way the VM ended.
// Thread-safety: Start, Wait and Stop belong to one thread; Shutdown, Kill, DomainXml and
// status may also come from a service's threads (the command socket) while Wait runs.
// Privileges: root in the pod netns for the real libvirt (launcher/README.md lists the
// capabilities); none with a fake libvirt.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/plan.h"
#include "k6t/launcher/domain_lifecycle.h"
#include "k6t/launcher/options.h"

namespace k6t::launcher {

struct DomainOptions;  // domain_xml.h: what the domain XML generator is told
class PrivateLibvirtd;
struct VmStorage;  // vm_storage.h: the files behind the VM's disks

// Process exit codes; `k6t-launcher --help` prints this table.
enum class ExitCode : int {
  kGuestStopped = 0,     // the guest powered off, or a graceful shutdown completed
  kInternal = 1,         // unexpected error
  kUsage = 2,            // bad command line
  kConfig = 3,           // VMI unreadable/invalid, plans missing, domain XML not generated
  kLibvirt = 4,          // libvirt could not be started/reached, or was lost for good
  kDomainStart = 5,      // libvirt refused to define or start the domain
  kGuestCrashed = 6,     // the guest crashed (or QEMU failed)
  kShutdownTimeout = 7,  // SIGTERM/Shutdown: the guest ignored ACPI power-off; destroyed
  kKilled = 8,           // destroyed by Kill or by someone else
  kMigrated = 9,         // the VM left by live migration: it runs in another pod now
  kIncomingFailed = 10,  // --incoming: no VM arrived in time, or its migration failed
};
const char* ExitCodeTable();

class Launcher;

class LauncherService {
 public:
  virtual ~LauncherService() = default;
  virtual std::string name() const = 0;
  // Called before the domain XML is generated, after Start() of this service.
  virtual void ContributeDomainOptions(DomainOptions& options) { (void)options; }
  virtual absl::Status Start(Launcher& launcher) = 0;
  // Called by Launcher::Stop() before the domain is destroyed, for every started service:
  // a service that acts on the domain from its own threads (the command socket) stops them.
  virtual void BeforeDomainStop() {}
  // Called once, on the thread running Wait(), when the VM of an --incoming launcher has
  // arrived by live migration and runs here (e.g. to plug back what the source unplugged).
  virtual void AfterIncoming() {}
  virtual void Stop() = 0;
};

// How a launched VM ended, and the exit code it maps to.
struct Outcome {
  ExitCode code = ExitCode::kGuestStopped;
  std::string message;
};

// What the source of a live migration needs from its target (Launcher::PrepareIncoming).
struct IncomingTarget {
  std::string dest_uri;  // the target's libvirt
  std::string dest_xml;  // the domain as the target runs it (its paths, the guest's MACs)
  // DHCP offers whose client MAC changed to the guest's: the DHCP service serves these now.
  std::vector<binding::DhcpPlan> dhcp_changed;
};

class Launcher {
 public:
  Launcher(LauncherOptions options, api::Vmi vmi);
  ~Launcher();  // Stop()

  void AddService(std::unique_ptr<LauncherService> service);

  // Everything up to a running domain. On error the returned status says which phase
  // failed; FailureCode() gives its exit code. Phase timings are logged at info.
  absl::Status Start();
  ExitCode FailureCode() const { return failure_code_; }

  // Waits up to `timeout` for the VM to end on its own (guest power-off, crash, destroyed
  // elsewhere, libvirt lost for good), reconnecting to a restarted daemon meanwhile.
  std::optional<Outcome> Wait(absl::Duration timeout);

  // ACPI power-off, destroy after `timeout`.
  absl::StatusOr<Outcome> Shutdown(absl::Duration timeout);
  // Immediate destroy.
  absl::StatusOr<Outcome> Kill();

  // The live domain XML from libvirt; before the domain exists, the generated one.
  absl::StatusOr<std::string> DomainXml();
  const std::string& GeneratedXml() const { return generated_xml_; }
  DomainStatus status() const;
  const api::Vmi& vmi() const { return vmi_; }
  const std::vector<binding::InterfacePlan>& plans() const { return plans_; }
  const DomainOptions& domain_options() const { return *domain_options_; }
  const LauncherOptions& options() const { return options_; }
  // Who QEMU runs as; resolved at the start of Start(), before the services start.
  const QemuUser& qemu_user() const { return qemu_user_; }
  std::string libvirt_uri() const;
  DomainLifecycle* domain() { return domain_.get(); }

  // ---- Live migration (launcher/README.md "Live migration").
  // Target (options.incoming): true until the VM has arrived.
  bool awaiting_incoming() const;
  // Target: the guest's MACs, read from the source's domain XML by device alias, replace the
  // plans' own (a bridge binding took the target pod link's MAC), and the domain XML is
  // generated again. FailedPrecondition when this launcher is not waiting for a VM;
  // InvalidArgument when `source_xml` is not a domain.
  absl::StatusOr<IncomingTarget> PrepareIncoming(const std::string& source_xml);
  // Source: moves the running VM to the target libvirt in `request`; blocks until it ends
  // (LibvirtConnection::Migrate). On success the VM is gone from here and Wait() returns
  // kMigrated; on failure or abort it keeps running here.
  absl::Status MigrateOut(const MigrationRequest& request);

  // Undefines the domain (destroying it if still running), stops the services and the
  // private daemon. Idempotent.
  void Stop();

 private:
  void ReconnectIfLost(absl::Duration patience);
  absl::Status ResolveQemuUser();
  absl::Status StartLibvirt();
  absl::Status Fail(ExitCode code, absl::Status status);
  std::optional<Outcome> OutcomeOfStop(const DomainStatus& s) const;

  LauncherOptions options_;
  api::Vmi vmi_;
  std::vector<std::unique_ptr<LauncherService>> services_;
  size_t services_started_ = 0;
  std::vector<binding::InterfacePlan> plans_;
  std::unique_ptr<DomainOptions> domain_options_;
  std::unique_ptr<VmStorage> storage_;  // the disks' files while the VM runs
  QemuUser qemu_user_;                  // options_.qemu_user, resolved by Start()
  std::string generated_xml_;
  std::string caps_cache_dir_;  // the private cache dir seeded from / published to the shared one
  std::string uri_;
  std::unique_ptr<PrivateLibvirtd> daemon_;
  std::atomic<int> daemon_restarts_seen_{0};
  std::atomic<bool> daemon_failed_{false};
  std::unique_ptr<DomainLifecycle> domain_;
  ExitCode failure_code_ = ExitCode::kInternal;
  // Set once the launcher itself ended the VM, so Wait() reports that outcome. Kill and
  // Shutdown may come from the command socket's threads while the main thread Wait()s.
  mutable std::mutex end_mu_;
  std::optional<Outcome> requested_end_;
  std::optional<Outcome> RequestedEnd() const;
  void SetRequestedEnd(Outcome o);
  bool stopped_ = false;
  // --incoming: when the wait for the VM ends; set once it has arrived.
  absl::Time incoming_deadline_ = absl::InfiniteFuture();
  std::atomic<bool> incoming_arrived_{false};
  std::optional<Outcome> IncomingOutcome();
};

}  // namespace k6t::launcher
