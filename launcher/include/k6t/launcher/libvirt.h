// libvirt as the launcher sees it: a connection to one libvirt (the embedded QEMU driver, a
// private libvirtd, any URI) and the calls the launcher makes on the domains it holds, by
// domain name. One real implementation on the libvirt C API (LibvirtCApi()) and an in-memory
// fake for unit tests (k6t/launcher/testing/fake_libvirt.h). Everything above this seam —
// lifecycle, adoption, reconnect, hotplug — is plain C++ that runs without a daemon.
//
// Errors: libvirt's error codes mapped once, the message naming the call and the domain:
// no such domain NotFound; no such device NotFound; the domain's state forbids it (not
// running, already running) FailedPrecondition; the connection is gone (daemon died, RPC
// failed) Unavailable; XML libvirt refused InvalidArgument; anything else Internal.
// Thread-safety: a connection may be used from several threads at once. Callbacks run on the
// implementation's event thread (libvirt's event loop), one at a time, never after the
// connection's destructor has returned; they must not destroy their own connection.
// Privileges: whatever the URI needs (the embedded driver and a private daemon run as the
// launcher: root in the pod, see launcher/README.md "Least privilege").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace k6t::launcher {

// Why a domain stopped (libvirt's VIR_DOMAIN_EVENT_STOPPED_* details and shut-off reasons).
enum class StopReason {
  kNone,
  kShutdown,
  kDestroyed,
  kCrashed,
  kFailed,
  kSaved,
  kMigrated,
  kOther
};
const char* StopReasonName(StopReason r);

// What virDomainGetState says, in k6t's words.
enum class DomainState { kRunning, kPaused, kShuttingDown, kShutOff, kCrashed, kOther };
struct DomainStateInfo {
  DomainState state = DomainState::kOther;
  StopReason reason = StopReason::kNone;  // kShutOff: why
};

// One lifecycle event (VIR_DOMAIN_EVENT_ID_LIFECYCLE).
enum class DomainEventKind {
  kDefined,
  kUndefined,
  kStarted,
  kSuspended,
  kResumed,
  kShutdown,  // the guest is shutting down (its stop follows as kStopped)
  kStopped,
  kCrashed,  // the guest panicked; what libvirt does next (on_crash) follows as more events
  kPmSuspended,
};
struct DomainEvent {
  DomainEventKind kind = DomainEventKind::kDefined;
  StopReason reason = StopReason::kNone;  // kStopped: why
  bool migration = false;  // the detail says the event is part of a migration (in or out)
};

// What a connection reports, on the implementation's event thread.
struct LibvirtCallbacks {
  std::function<void(const std::string& domain, const DomainEvent& event)> on_lifecycle;
  // A live detach completed: the guest released the device (VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED).
  std::function<void(const std::string& domain, const std::string& alias)> on_device_removed;
  // The connection broke (daemon died, keepalive timeout); every later call is Unavailable.
  std::function<void()> on_connection_lost;
};

// One interface as the guest sees it (the QEMU guest agent's guest-network-get-interfaces).
struct GuestInterface {
  std::string name;                    // the guest's name for it: eth0, enp1s0
  std::string mac;                     // lower-case colon form; "" when the guest gives none
  std::vector<std::string> addresses;  // "10.0.2.2/24", "fd10:0:2::2/120"

  bool operator==(const GuestInterface&) const = default;
};

// QEMU's own default for the longest pause at the end of a live migration.
inline constexpr absl::Duration kDefaultMaxDowntime = absl::Milliseconds(300);

// One live migration, as the source's libvirt is asked to run it.
struct MigrationRequest {
  std::string dest_uri;     // the destination libvirt: qemu+unix:///system?socket=PATH
  std::string migrate_uri;  // where QEMU sends the state: tcp://ADDR[:PORT] or unix:///PATH;
                            // "" lets libvirt choose from the destination's host name
  std::string dest_xml;     // the domain as the destination defines it ("": the source's)
  // Disks (targets: vda, ...) whose top image is copied to the destination's own file of
  // the same size (VIR_MIGRATE_NON_SHARED_INC with VIR_MIGRATE_PARAM_MIGRATE_DISKS); the
  // backing chain below stays, the destination has the same base. Empty: nothing copied.
  std::vector<std::string> copy_disks;
  std::string disks_uri;  // the destination's NBD server for the copy: unix:///PATH, or ""
                          // for TCP on the migrate_uri's address
  absl::Duration max_downtime = absl::ZeroDuration();  // 0: kDefaultMaxDowntime
  uint64_t bandwidth_mib_s = 0;                        // 0: unlimited
};

// A migration job's figures (libvirt's VIR_DOMAIN_JOB_* typed parameters).
struct MigrationProgress {
  bool active = false;
  uint64_t data_total = 0;      // bytes
  uint64_t data_processed = 0;  // bytes
  uint64_t data_remaining = 0;  // bytes
  uint64_t iteration = 0;       // memory pass (1 = the first full copy)
  uint64_t dirty_rate = 0;      // pages per second
  uint64_t expected_downtime_ms = 0;
  uint64_t elapsed_ms = 0;
};

// Where a device change applies (VIR_DOMAIN_AFFECT_LIVE / VIR_DOMAIN_AFFECT_CONFIG).
using DeviceFlags = unsigned int;
inline constexpr DeviceFlags kLive = 1;
inline constexpr DeviceFlags kConfig = 2;

class LibvirtConnection {
 public:
  virtual ~LibvirtConnection() = default;  // deregisters the callbacks and closes

  virtual const std::string& uri() const = 0;

  // Defines (or redefines) the persistent domain the XML names.
  virtual absl::Status DefineDomain(const std::string& xml) = 0;
  // The lookup: NotFound when no domain of that name exists (adoption asks this first).
  virtual absl::StatusOr<DomainStateInfo> GetState(const std::string& name) = 0;
  virtual absl::Status StartDomain(const std::string& name) = 0;
  // The ACPI power button: returns once the request is sent; the guest decides.
  virtual absl::Status ShutdownDomain(const std::string& name) = 0;
  // Hard stop; FailedPrecondition when the domain is not running.
  virtual absl::Status DestroyDomain(const std::string& name) = 0;
  // Removes the persistent definition (and its NVRAM); a running domain becomes transient.
  virtual absl::Status UndefineDomain(const std::string& name) = 0;
  // The live XML (`inactive`: the persistent definition), as virDomainGetXMLDesc.
  virtual absl::StatusOr<std::string> GetXml(const std::string& name, bool inactive) = 0;

  virtual absl::Status AttachDevice(const std::string& name, const std::string& xml,
                                    DeviceFlags flags) = 0;
  // A live detach returns once requested; on_device_removed says when the guest let go.
  virtual absl::Status DetachDevice(const std::string& name, const std::string& xml,
                                    DeviceFlags flags) = 0;
  virtual absl::Status DetachDeviceAlias(const std::string& name, const std::string& alias,
                                         DeviceFlags flags) = 0;
  virtual absl::Status UpdateDevice(const std::string& name, const std::string& xml,
                                    DeviceFlags flags) = 0;

  // The guest's interfaces through the QEMU guest agent (virDomainInterfaceAddresses with
  // the agent as source), waiting at most `timeout` for the agent. Unavailable when the
  // domain has no agent channel, the agent is not connected or it does not answer in time;
  // FailedPrecondition when the domain is not running.
  virtual absl::StatusOr<std::vector<GuestInterface>> GuestInterfaces(const std::string& name,
                                                                      absl::Duration timeout) = 0;

  // ---- Live migration (the source's side; the target only sees kStarted with `migration`,
  // the domain paused while the state arrives, then kResumed with `migration`).
  //
  // Moves the running domain `name` to the libvirt at `request.dest_uri` (peer to peer, live,
  // persistent on the destination, undefined here when it succeeds) and blocks until the
  // migration ends: OK when the guest runs on the destination; Aborted when AbortJob
  // cancelled it; any other error leaves the domain running here.
  virtual absl::Status Migrate(const std::string& name, const MigrationRequest& request) = 0;
  // The migration job's figures now (virDomainGetJobStats); `active` false when no job runs.
  virtual absl::StatusOr<MigrationProgress> JobProgress(const std::string& name) = 0;
  // Cancels the running migration (virDomainAbortJob); the domain keeps running here.
  virtual absl::Status AbortJob(const std::string& name) = 0;
};

class Libvirt {
 public:
  virtual ~Libvirt() = default;
  // Opens `uri`. The callbacks are called until the returned connection is destroyed.
  // Unavailable when nothing answers at `uri`.
  virtual absl::StatusOr<std::unique_ptr<LibvirtConnection>> Connect(
      const std::string& uri, LibvirtCallbacks callbacks) = 0;
};

// The libvirt C API (libvirt.so). Connecting starts libvirt's event loop thread once per
// process (the embedded driver, events and keepalive need it).
std::shared_ptr<Libvirt> LibvirtCApi();

}  // namespace k6t::launcher
