// One libvirt domain, by name, over the libvirt seam (libvirt.h): define, start, adopt a
// running one after a launcher restart, graceful shutdown with a deadline, destroy,
// undefine, live XML, device attach/detach/update for hotplug. Its status follows libvirt's
// lifecycle events; when the connection breaks (daemon restarted), Reconnect() opens a new
// one and re-reads the domain's state, since events sent meanwhile are lost.
//
// Errors: those of libvirt.h, prefixed by the call; Unavailable when not connected.
// Idempotent ends: Destroy of a stopped or absent domain and Undefine of an absent one are OK.
// Thread-safety: every method may be called from any thread; status changes arrive on the
// seam's event thread and wake the Wait* calls. Destroy the object only when no other thread
// is inside one of its methods.
// Privileges: none of its own (those of the libvirt URI).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/launcher/libvirt.h"

namespace k6t::launcher {

enum class DomainPhase { kNone, kDefined, kRunning, kPaused, kShuttingDown, kStopped };
const char* DomainPhaseName(DomainPhase p);

struct DomainStatus {
  DomainPhase phase = DomainPhase::kNone;
  StopReason reason = StopReason::kNone;  // meaningful when phase == kStopped
  bool crashed = false;                   // the guest panicked at some point
  absl::Time since = absl::InfinitePast();
};

// How a graceful shutdown ended.
enum class ShutdownOutcome { kAlreadyStopped, kPoweredOff, kDestroyedAfterTimeout };

class DomainLifecycle {
 public:
  using EventCallback = std::function<void(const DomainStatus&)>;

  // Connects to `uri` through `libvirt` and watches the domain `name`, which need not exist.
  static absl::StatusOr<std::unique_ptr<DomainLifecycle>> Open(std::shared_ptr<Libvirt> libvirt,
                                                               const std::string& uri,
                                                               const std::string& name);
  ~DomainLifecycle();

  const std::string& name() const { return name_; }
  const std::string& uri() const { return uri_; }

  // A new connection after the old one broke; the domain's state re-read from libvirt.
  absl::Status Reconnect();
  // The connection was closed under us (daemon died, keepalive timeout).
  bool connection_lost() const;

  absl::Status Define(const std::string& xml);
  absl::Status Start();
  // Looks for an existing domain of this name. True when it runs (or is paused or shutting down): a
  // launcher restart adopts the VM instead of starting a second one. A shut-off one reads kDefined.
  absl::StatusOr<bool> Adopt();
  // ACPI power button, then destroy if the guest has not stopped within `timeout`.
  absl::StatusOr<ShutdownOutcome> Shutdown(absl::Duration timeout);
  absl::Status Destroy();   // absent or stopped: OK
  absl::Status Undefine();  // absent: OK

  absl::StatusOr<std::string> Xml(bool inactive = false);
  // The guest's interfaces from its QEMU guest agent (LibvirtConnection::GuestInterfaces).
  absl::StatusOr<std::vector<GuestInterface>> GuestInterfaces(absl::Duration timeout);
  // Live migration of this domain to another libvirt (LibvirtConnection::Migrate): blocks
  // until it ends; the domain's status then reads kStopped with reason kMigrated.
  absl::Status Migrate(const MigrationRequest& request);
  absl::StatusOr<MigrationProgress> JobProgress();
  absl::Status AbortMigration();
  absl::Status AttachDevice(const std::string& xml, DeviceFlags flags = kLive);
  absl::Status DetachDevice(const std::string& xml, DeviceFlags flags = kLive);
  absl::Status DetachDeviceAlias(const std::string& alias, DeviceFlags flags = kLive);
  absl::Status UpdateDevice(const std::string& xml, DeviceFlags flags = kLive);
  // A live detach completes when the guest releases the device (libvirt's DEVICE_REMOVED
  // event). Call ExpectRemoval before the detach, then WaitRemoved; false on timeout, and
  // at once when the domain stops running or the connection is lost.
  void ExpectRemoval(const std::string& alias);
  bool WaitRemoved(const std::string& alias, absl::Duration timeout);

  DomainStatus status() const;
  // Blocks until the domain is stopped, the connection is lost, or timeout; returns status.
  DomainStatus WaitForStopOrLoss(absl::Duration timeout);
  // Blocks until `pred(status)` or timeout; returns whether it held.
  bool WaitFor(const std::function<bool(const DomainStatus&)>& pred, absl::Duration timeout);
  // Called (on the event thread, or the caller's for changes a call makes) on every change.
  void SetEventCallback(EventCallback cb);

 private:
  DomainLifecycle(std::shared_ptr<Libvirt> libvirt, std::string uri, std::string name)
      : libvirt_(std::move(libvirt)), uri_(std::move(uri)), name_(std::move(name)) {}
  absl::Status Connect();
  std::shared_ptr<LibvirtConnection> Connection() const;
  absl::StatusOr<std::shared_ptr<LibvirtConnection>> Connected(const char* what) const;
  absl::Status RefreshState();
  // Applies `change` to the status atomically (nothing when `generation` is not current's),
  // then wakes the waiters and calls the event callback.
  void UpdateStatus(std::optional<uint64_t> generation,
                    const std::function<void(DomainStatus&)>& change);
  // Events of a connection older than the current one are stale: they are ignored.
  void OnLifecycle(uint64_t generation, const DomainEvent& event);
  void OnDeviceRemoved(uint64_t generation, const std::string& alias);
  void OnConnectionLost(uint64_t generation);

  const std::shared_ptr<Libvirt> libvirt_;
  const std::string uri_;
  const std::string name_;

  mutable std::mutex conn_mu_;  // guards conn_
  // Shared with the calls in flight, so that a reconnect never closes a connection under one.
  std::shared_ptr<LibvirtConnection> conn_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;   // of conn_
  uint64_t events_seen_ = 0;  // lifecycle events applied, to tell a state read gone stale
  DomainStatus status_;
  bool lost_ = false;
  EventCallback event_cb_;
  std::set<std::string> removed_;  // aliases whose DEVICE_REMOVED arrived since ExpectRemoval
};

}  // namespace k6t::launcher
