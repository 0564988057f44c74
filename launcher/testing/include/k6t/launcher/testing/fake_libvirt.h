// An in-memory libvirt for unit tests: domains with their persistent and live XML, states
// and stop reasons as libvirt keeps them; PCI addresses on the domain's pcie-root-ports and
// aliases given to devices as libvirt gives them; lifecycle and device-removed events
// delivered asynchronously on an event thread of its own, in libvirt's order (a call
// returns before its events arrive). The guest and the rest of the world are driven by the
// test: a guest that ignores the power button or never releases a device, a domain stopped
// or undefined by someone else, a daemon that dies and refuses connections for a while.
// Any call can be made to fail by kind and occurrence, which is how "libvirt refused, and
// nothing was left half-done" is tested without a daemon.
//
// Errors: the codes libvirt.h documents (NotFound for an absent domain or device,
// FailedPrecondition for a state that forbids the call, Unavailable on a broken connection).
// Thread-safety: every method is thread-safe. Callbacks run on the fake's event thread; the
// fake must outlive its connections (the Launcher and DomainLifecycle hold it by shared_ptr).
// Privileges: none.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/launcher/libvirt.h"

namespace k6t::launcher::testing {

// Every call a connection (or Connect) makes, for failure injection and counting.
enum class LibvirtCall {
  kConnect,
  kDefine,
  kGetState,
  kStart,
  kShutdown,
  kDestroy,
  kUndefine,
  kGetXml,
  kAttachDevice,
  kDetachDevice,
  kDetachDeviceAlias,
  kUpdateDevice,
  kGuestInterfaces,
  kMigrate,
  kJobProgress,
  kAbortJob,
};
const char* LibvirtCallName(LibvirtCall call);

class FakeLibvirt : public Libvirt {
 public:
  FakeLibvirt();
  ~FakeLibvirt() override;  // stops the event thread; undelivered events are dropped

  absl::StatusOr<std::unique_ptr<LibvirtConnection>> Connect(const std::string& uri,
                                                             LibvirtCallbacks callbacks) override;

  // ---- Failure injection. The `nth` call of `call` (0-based, counted from now) fails with
  // `status` and changes nothing.
  void FailCall(LibvirtCall call, absl::Status status = absl::InternalError("injected failure"),
                int nth = 0);
  // The Nth mutating call of any kind (define, start, shutdown, destroy, undefine, attach,
  // detach, update), counted from now.
  void FailMutation(int n, absl::Status status = absl::InternalError("injected failure"));
  // Calls of `call` made so far (failed ones included).
  int calls(LibvirtCall call) const;
  // Every call so far, in order: "<call> <domain>[ <detail>]", e.g. "attach k6t_vm live|config".
  std::vector<std::string> call_log() const;

  // ---- The world outside the launcher.
  // A domain someone else defined, and started when `running` (a launcher before its
  // restart). Its events go to the connections open now.
  absl::Status AddDomain(const std::string& xml, bool running);
  // The domain stopped without the launcher asking: kShutdown the guest powered off,
  // kCrashed it panicked (on_crash=destroy), kFailed QEMU died, kDestroyed someone ran
  // `virsh destroy`; the events are libvirt's for that case.
  absl::Status StopOutside(const std::string& name, StopReason reason);
  absl::Status UndefineOutside(const std::string& name);
  // The guest answers the ACPI power button (default true).
  void SetGuestHonoursPowerButton(bool yes);
  // The guest releases a device asked to be detached (default true); when false the detach
  // stays pending (the device remains in the live XML) until ReleaseDevice.
  void SetGuestReleasesDevices(bool yes);
  absl::Status ReleaseDevice(const std::string& name, const std::string& alias);
  // What the guest agent answers while the domain runs (default: not connected, Unavailable).
  void SetGuestAgent(absl::StatusOr<std::vector<GuestInterface>> answer);
  // Migration, source side: Migrate completes at once (the events of a domain migrated
  // away, then its undefinition) unless failed by FailCall(kMigrate); JobProgress answers
  // `progress`; the requests seen are kept.
  void SetJobProgress(MigrationProgress progress);
  std::vector<MigrationRequest> migrations() const;
  // Target side: a domain arriving by migration (defined, started paused, then resumed
  // unless `resumes` is false, with libvirt's migration events).
  absl::Status ArriveByMigration(const std::string& xml, bool resumes = true);
  // The daemon died: every open connection breaks (on_connection_lost; its later calls are
  // Unavailable, its events lost). The domains keep running, as QEMU does.
  void DropConnections();
  // The next `n` Connect calls fail with Unavailable (a restarted daemon not ready yet).
  void RefuseConnections(int n);

  // ---- Looking.
  // Blocks until every event queued so far has been delivered (and what it caused).
  void WaitIdle();
  bool Exists(const std::string& name) const;
  std::optional<DomainStateInfo> State(const std::string& name) const;
  std::string LiveXml(const std::string& name) const;    // "" when not running
  std::string ConfigXml(const std::string& name) const;  // "" when transient
  int open_connections() const;
  // Every domain in a canonical text form (state, definitions, pending detaches), for
  // "exactly as before" comparisons.
  std::string Dump() const;

 private:
  class Connection;
  struct Domain {
    std::string name;
    bool persistent = true;
    std::string config;  // the persistent definition
    std::string live;    // while active
    DomainState state = DomainState::kShutOff;
    StopReason reason = StopReason::kNone;
    std::set<std::string> detaching;  // live detaches the guest has not completed
  };
  using Job = std::function<void()>;
  static bool Active(DomainState s) { return s != DomainState::kShutOff; }

  // Counts a call; the injected failure when due, Unavailable when the connection is broken.
  absl::Status Begin(LibvirtCall call, int conn, const std::string& detail);
  Domain* Find(const std::string& name);
  absl::StatusOr<Domain*> Get(const std::string& name, const char* what);

  // Connection calls, with mu_ held by the caller (Connection).
  absl::Status Define(const std::string& xml);
  absl::Status Start(Domain& d);
  absl::Status Shutdown(Domain& d);
  absl::Status Destroy(Domain& d);
  absl::Status Undefine(Domain& d);
  absl::Status Attach(Domain& d, const std::string& xml, DeviceFlags flags);
  absl::Status Detach(Domain& d, const std::string& alias, DeviceFlags flags);
  absl::Status Update(Domain& d, const std::string& xml, DeviceFlags flags);
  void StopLocked(Domain& d, StopReason reason);
  absl::Status MigrateAway(Domain& d, const MigrationRequest& request);

  // Event delivery on the event thread.
  void Emit(const std::string& name, DomainEvent e);
  void EmitRemoved(const std::string& name, const std::string& alias);
  void Enqueue(Job job);
  // The connections open and not broken: those an event happening now is for.
  std::set<int> Listening() const;
  // Calls `f` on the callbacks of the connections in `to` still open (and not broken,
  // unless `even_broken`: the news that they broke).
  void Deliver(const std::function<void(const LibvirtCallbacks&)>& f, const std::set<int>& to,
               bool even_broken = false);
  void RunEvents();
  void Disconnect(int id);

  mutable std::mutex mu_;  // guards everything below but the event queue
  MigrationProgress progress_;
  std::vector<MigrationRequest> migrations_;
  absl::StatusOr<std::vector<GuestInterface>> guest_agent_ =
      absl::UnavailableError("Guest agent is not connected");
  std::map<std::string, Domain> domains_;
  struct Conn {
    LibvirtCallbacks callbacks;
    bool broken = false;
  };
  std::map<int, Conn> conns_;
  int next_conn_ = 1;
  std::map<LibvirtCall, int> calls_;
  std::map<LibvirtCall, std::map<int, absl::Status>> failures_;  // call -> occurrence -> status
  int mutations_ = 0;
  std::optional<int> fail_mutation_at_;
  absl::Status fail_mutation_status_;
  std::vector<std::string> log_;
  int refuse_connects_ = 0;
  bool honours_power_button_ = true;
  bool releases_devices_ = true;

  // The event thread. dispatch_mu_ is held while callbacks run, so that a connection's
  // destructor can wait for a delivery to it to end.
  std::mutex dispatch_mu_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread events_;
};

}  // namespace k6t::launcher::testing
