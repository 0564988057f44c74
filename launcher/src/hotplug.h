// Live changes to a running VM's NICs, as the command socket's AttachInterface,
// DetachInterface, SetLinkState and SyncVMI ask for them. The device of an interface is the
// one its plan (written to the state dir by k6t-handler) describes, emitted by libdomxml; a
// device is found in the live domain by its alias. Every call is idempotent: attaching what
// is attached, detaching what is gone or setting the link state it already has answer
// "unchanged". One change at a time (calls are serialized).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "domain_devices.h"
#include "k6t/api/rpc.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/cache.h"

namespace k6t::launcher {

class Launcher;
class DomainLifecycle;

// The DHCP servers as hotplug drives them (DhcpService; a fake in unit tests).
class HotplugDhcp {
 public:
  virtual ~HotplugDhcp() = default;
  // Serves one more interface; a bridge already served gets the new plan.
  virtual absl::Status Add(const binding::DhcpPlan& plan) = 0;
  // Stops serving one; a bridge not served is fine.
  virtual absl::Status Remove(const std::string& bridge) = 0;
};

class Hotplug {
 public:
  // `dhcp` may be null (no DHCP served).
  Hotplug(Launcher& launcher, HotplugDhcp* dhcp) : launcher_(launcher), dhcp_(dhcp) {}

  // Errors: kNotFound (no plan for `name`), kFailedPrecondition (no running domain, plumbing
  // not finished, no free pcie-root-port, a passt interface), libvirt's errors otherwise.
  // Nothing is left half-done: a failed attach stops the DHCP service it started.
  absl::StatusOr<bool> Attach(const std::string& name);
  // kDeadlineExceeded when the guest does not release the device in time.
  absl::StatusOr<bool> Detach(const std::string& name);
  absl::StatusOr<bool> SetLinkState(const std::string& name, bool up);

  // SyncVMI on a running domain: interfaces `absent` are detached, planned ones not in the
  // domain attached, link states set as the spec says. `changes` gets one line per change.
  absl::Status Reconcile(const api::Vmi& vmi, std::vector<std::string>* changes);

  absl::StatusOr<api::rpc::GetDomainResult> Domain();
  absl::StatusOr<api::rpc::GetStatusResult> Status();

  absl::Duration detach_timeout = absl::Seconds(10);

 private:
  // The running domain, the interface's cached plan (if any), the alias of its device, and
  // the live XML as read now.
  struct Target {
    DomainLifecycle* dom = nullptr;
    std::optional<binding::CachedInterface> cached;
    std::string alias;
    std::string xml;
    LiveDomain live;
  };
  absl::StatusOr<Target> Resolve(const std::string& what, const std::string& name);
  void StopDhcp(const Target& t);
  absl::StatusOr<bool> AttachLocked(const std::string& name);
  absl::StatusOr<bool> DetachLocked(const std::string& name);
  absl::StatusOr<bool> SetLinkStateLocked(const std::string& name, bool up);

  Launcher& launcher_;
  HotplugDhcp* dhcp_;
  std::mutex mu_;
};

}  // namespace k6t::launcher
