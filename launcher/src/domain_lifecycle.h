// One libvirt domain through the libvirt C API: define, start, watch (lifecycle events on
// libvirt's event loop), graceful shutdown, destroy, undefine, re-adopt after a launcher
// restart, device attach/detach/update for hotplug. Also survives its daemon: Reconnect()
// opens a new connection and re-reads the domain's state.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

typedef struct _virConnect* virConnectPtr;
typedef struct _virDomain* virDomainPtr;

namespace k6t::launcher {

enum class DomainPhase { kNone, kDefined, kRunning, kPaused, kShuttingDown, kStopped };
// Why a domain stopped (libvirt's VIR_DOMAIN_EVENT_STOPPED_* and state reasons).
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

const char* DomainPhaseName(DomainPhase p);
const char* StopReasonName(StopReason r);

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
  using DeviceFlags = unsigned int;        // VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG ...
  static constexpr DeviceFlags kLive = 1;  // VIR_DOMAIN_AFFECT_LIVE
  static constexpr DeviceFlags kConfig = 2;  // VIR_DOMAIN_AFFECT_CONFIG

  // Opens `uri` (the libvirt event loop must be running) and watches the domain `name`,
  // which need not exist yet.
  static absl::StatusOr<std::unique_ptr<DomainLifecycle>> Open(const std::string& uri,
                                                               const std::string& name);
  ~DomainLifecycle();

  const std::string& name() const { return name_; }
  const std::string& uri() const { return uri_; }

  // New connection after the old one broke (daemon restarted); state re-read from libvirt.
  absl::Status Reconnect();
  // The connection was closed under us (daemon died, keepalive timeout).
  bool connection_lost() const;

  absl::Status Define(const std::string& xml);
  absl::Status Start();
  // Finds an existing domain of this name. True when it is running (a launcher restart
  // adopts the VM instead of starting a second one).
  absl::StatusOr<bool> Adopt();
  // ACPI power button, then destroy if the guest has not stopped within `timeout`.
  absl::StatusOr<ShutdownOutcome> Shutdown(absl::Duration timeout);
  absl::Status Destroy();   // absent or stopped: OK
  absl::Status Undefine();  // absent: OK

  absl::StatusOr<std::string> Xml(bool inactive = false);
  absl::Status AttachDevice(const std::string& xml, DeviceFlags flags = kLive);
  absl::Status DetachDevice(const std::string& xml, DeviceFlags flags = kLive);
  absl::Status DetachDeviceAlias(const std::string& alias, DeviceFlags flags = kLive);
  absl::Status UpdateDevice(const std::string& xml, DeviceFlags flags = kLive);
  // A live detach completes when the guest releases the device (libvirt's DEVICE_REMOVED
  // event). Call ExpectRemoval before the detach, then WaitRemoved.
  void ExpectRemoval(const std::string& alias);
  bool WaitRemoved(const std::string& alias, absl::Duration timeout);

  DomainStatus status() const;
  // Blocks until the domain is stopped, the connection is lost, or timeout; returns status.
  DomainStatus WaitForStopOrLoss(absl::Duration timeout);
  // Blocks until `pred(status)` or timeout; returns whether it held.
  bool WaitFor(const std::function<bool(const DomainStatus&)>& pred, absl::Duration timeout);
  void SetEventCallback(EventCallback cb);

 private:
  DomainLifecycle(std::string uri, std::string name)
      : uri_(std::move(uri)), name_(std::move(name)) {}
  absl::Status Connect();
  void Disconnect();
  // Looks the domain up on the current connection (nullptr when absent). Caller frees.
  virDomainPtr Lookup() const;
  absl::Status RefreshState();
  void SetStatus(DomainStatus s);
  absl::Status WithDomain(const char* what, const std::function<int(virDomainPtr)>& op);

  static int OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque);
  static void OnClose(virConnectPtr, int reason, void* opaque);
  static void OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias, void* opaque);

  const std::string uri_;
  const std::string name_;
  mutable std::mutex conn_mu_;  // guards conn_, dom_ and callback_id_
  virConnectPtr conn_ = nullptr;
  // The domain's handle on conn_, looked up once: every lookup is a round trip to a private
  // daemon. Dropped with the connection, on (un)define, and when libvirt says it is gone.
  mutable virDomainPtr dom_ = nullptr;
  void ForgetDomainLocked() const;
  int callback_id_ = -1;
  int removed_callback_id_ = -1;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  DomainStatus status_;
  bool lost_ = false;
  EventCallback event_cb_;
  std::set<std::string> removed_;  // aliases whose DEVICE_REMOVED arrived since ExpectRemoval
};

}  // namespace k6t::launcher
