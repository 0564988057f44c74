#include "domain_lifecycle.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "absl/strings/str_cat.h"
#include "libvirt_event_loop.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

StopReason FromStoppedDetail(int detail) {
  switch (detail) {
    case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
      return StopReason::kShutdown;
    case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
      return StopReason::kDestroyed;
    case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
      return StopReason::kCrashed;
    case VIR_DOMAIN_EVENT_STOPPED_FAILED:
      return StopReason::kFailed;
    case VIR_DOMAIN_EVENT_STOPPED_SAVED:
      return StopReason::kSaved;
    case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
      return StopReason::kMigrated;
    default:
      return StopReason::kOther;
  }
}

StopReason FromShutoffReason(int reason) {
  switch (reason) {
    case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
      return StopReason::kShutdown;
    case VIR_DOMAIN_SHUTOFF_DESTROYED:
      return StopReason::kDestroyed;
    case VIR_DOMAIN_SHUTOFF_CRASHED:
      return StopReason::kCrashed;
    case VIR_DOMAIN_SHUTOFF_FAILED:
      return StopReason::kFailed;
    case VIR_DOMAIN_SHUTOFF_SAVED:
      return StopReason::kSaved;
    case VIR_DOMAIN_SHUTOFF_MIGRATED:
      return StopReason::kMigrated;
    default:
      return StopReason::kOther;
  }
}

absl::Status LibvirtError(const std::string& what) {
  virErrorPtr e = virGetLastError();
  const int code = e ? e->code : 0;
  std::string msg = absl::StrCat(what, ": ", LastLibvirtError());
  if (code == VIR_ERR_NO_DOMAIN) return absl::NotFoundError(msg);
  if (code == VIR_ERR_OPERATION_INVALID) return absl::FailedPreconditionError(msg);
  if (code == VIR_ERR_NO_CONNECT || code == VIR_ERR_SYSTEM_ERROR || code == VIR_ERR_RPC)
    return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

}  // namespace

const char* DomainPhaseName(DomainPhase p) {
  switch (p) {
    case DomainPhase::kNone:
      return "none";
    case DomainPhase::kDefined:
      return "defined";
    case DomainPhase::kRunning:
      return "running";
    case DomainPhase::kPaused:
      return "paused";
    case DomainPhase::kShuttingDown:
      return "shutting-down";
    case DomainPhase::kStopped:
      return "stopped";
  }
  return "?";
}

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kNone:
      return "none";
    case StopReason::kShutdown:
      return "shutdown";
    case StopReason::kDestroyed:
      return "destroyed";
    case StopReason::kCrashed:
      return "crashed";
    case StopReason::kFailed:
      return "failed";
    case StopReason::kSaved:
      return "saved";
    case StopReason::kMigrated:
      return "migrated";
    case StopReason::kOther:
      return "other";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<DomainLifecycle>> DomainLifecycle::Open(const std::string& uri,
                                                                       const std::string& name) {
  if (auto s = EnsureLibvirtEventLoop(); !s.ok()) return s;
  std::unique_ptr<DomainLifecycle> d(new DomainLifecycle(uri, name));
  if (auto s = d->Connect(); !s.ok()) return s;
  return d;
}

DomainLifecycle::~DomainLifecycle() { Disconnect(); }

absl::Status DomainLifecycle::Connect() {
  std::lock_guard<std::mutex> l(conn_mu_);
  virConnectPtr c = virConnectOpen(uri_.c_str());
  if (!c)
    return absl::UnavailableError(absl::StrCat("connect to ", uri_, ": ", LastLibvirtError()));
  // The embedded driver has no RPC: keepalive does not apply there.
  if (uri_.rfind("qemu:///embed", 0) != 0 && virConnectSetKeepAlive(c, 5, 3) < 0)
    spdlog::debug("keepalive on {}: {}", uri_, LastLibvirtError());
  virConnectRegisterCloseCallback(c, &DomainLifecycle::OnClose, this, nullptr);
  int id = virConnectDomainEventRegisterAny(
      c, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
      VIR_DOMAIN_EVENT_CALLBACK(&DomainLifecycle::OnLifecycle), this, nullptr);
  if (id < 0) {
    absl::Status s = LibvirtError(absl::StrCat("register lifecycle events on ", uri_));
    virConnectClose(c);
    return s;
  }
  const int removed_id = virConnectDomainEventRegisterAny(
      c, nullptr, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
      VIR_DOMAIN_EVENT_CALLBACK(&DomainLifecycle::OnDeviceRemoved), this, nullptr);
  if (removed_id < 0) spdlog::warn("device-removed events on {}: {}", uri_, LastLibvirtError());
  conn_ = c;
  callback_id_ = id;
  removed_callback_id_ = removed_id;
  {
    std::lock_guard<std::mutex> m(mu_);
    lost_ = false;
  }
  return absl::OkStatus();
}

void DomainLifecycle::Disconnect() {
  std::lock_guard<std::mutex> l(conn_mu_);
  if (!conn_) return;
  if (callback_id_ >= 0) virConnectDomainEventDeregisterAny(conn_, callback_id_);
  if (removed_callback_id_ >= 0) virConnectDomainEventDeregisterAny(conn_, removed_callback_id_);
  removed_callback_id_ = -1;
  virConnectUnregisterCloseCallback(conn_, &DomainLifecycle::OnClose);
  ForgetDomainLocked();
  virConnectClose(conn_);
  conn_ = nullptr;
  callback_id_ = -1;
}

absl::Status DomainLifecycle::Reconnect() {
  Disconnect();
  if (auto s = Connect(); !s.ok()) return s;
  return RefreshState();
}

bool DomainLifecycle::connection_lost() const {
  std::lock_guard<std::mutex> l(mu_);
  return lost_;
}

void DomainLifecycle::ForgetDomainLocked() const {
  if (dom_) virDomainFree(dom_);
  dom_ = nullptr;
}

virDomainPtr DomainLifecycle::Lookup() const {
  std::lock_guard<std::mutex> l(conn_mu_);
  if (!conn_) return nullptr;
  if (!dom_) dom_ = virDomainLookupByName(conn_, name_.c_str());
  // The caller frees what it gets, as it would a fresh lookup.
  if (dom_ && virDomainRef(dom_) < 0) return nullptr;
  return dom_;
}

absl::Status DomainLifecycle::WithDomain(const char* what,
                                         const std::function<int(virDomainPtr)>& op) {
  virDomainPtr dom = Lookup();
  if (!dom) return LibvirtError(absl::StrCat(what, " ", name_, ": lookup"));
  int rc = op(dom);
  absl::Status s = rc < 0 ? LibvirtError(absl::StrCat(what, " ", name_)) : absl::OkStatus();
  if (absl::IsNotFound(s)) {
    std::lock_guard<std::mutex> l(conn_mu_);  // undefined behind our back: look it up again
    ForgetDomainLocked();
  }
  virDomainFree(dom);
  return s;
}

absl::Status DomainLifecycle::RefreshState() {
  virDomainPtr dom = Lookup();
  DomainStatus s = status();
  if (!dom) {
    s.phase = DomainPhase::kNone;
    SetStatus(s);
    return absl::OkStatus();
  }
  int state = 0, reason = 0;
  int rc = virDomainGetState(dom, &state, &reason, 0);
  virDomainFree(dom);
  if (rc < 0) return LibvirtError(absl::StrCat("state of ", name_));
  switch (state) {
    case VIR_DOMAIN_RUNNING:
      s.phase = DomainPhase::kRunning;
      break;
    case VIR_DOMAIN_BLOCKED:
      s.phase = DomainPhase::kRunning;
      break;
    case VIR_DOMAIN_PAUSED:
      s.phase = DomainPhase::kPaused;
      break;
    case VIR_DOMAIN_SHUTDOWN:
      s.phase = DomainPhase::kShuttingDown;
      break;
    case VIR_DOMAIN_PMSUSPENDED:
      s.phase = DomainPhase::kPaused;
      break;
    case VIR_DOMAIN_SHUTOFF:
      // A shut-off domain that never ran in this launcher is merely defined.
      if (s.phase == DomainPhase::kNone || s.phase == DomainPhase::kDefined) {
        s.phase = DomainPhase::kDefined;
      } else {
        s.phase = DomainPhase::kStopped;
        s.reason = FromShutoffReason(reason);
      }
      break;
    case VIR_DOMAIN_CRASHED:
      s.phase = DomainPhase::kStopped;
      s.reason = StopReason::kCrashed;
      s.crashed = true;
      break;
    default:
      break;
  }
  SetStatus(s);
  return absl::OkStatus();
}

void DomainLifecycle::SetStatus(DomainStatus s) {
  EventCallback cb;
  {
    std::lock_guard<std::mutex> l(mu_);
    const bool changed = s.phase != status_.phase || s.reason != status_.reason;
    if (changed) s.since = absl::Now();
    status_ = s;
    cb = event_cb_;
  }
  cv_.notify_all();
  if (cb) cb(s);
}

void DomainLifecycle::OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias,
                                      void* opaque) {
  auto* self = static_cast<DomainLifecycle*>(opaque);
  const char* n = virDomainGetName(dom);
  if (!n || self->name_ != n || !alias) return;
  spdlog::debug("domain {}: device {} removed", self->name_, alias);
  {
    std::lock_guard<std::mutex> l(self->mu_);
    self->removed_.insert(alias);
  }
  self->cv_.notify_all();
}

void DomainLifecycle::ExpectRemoval(const std::string& alias) {
  std::lock_guard<std::mutex> l(mu_);
  removed_.erase(alias);
}

bool DomainLifecycle::WaitRemoved(const std::string& alias, absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  const bool removed = cv_.wait_for(l, absl::ToChronoMilliseconds(timeout), [&] {
    return removed_.count(alias) > 0 || lost_ || status_.phase != DomainPhase::kRunning;
  });
  return removed && removed_.count(alias) > 0;
}

int DomainLifecycle::OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail,
                                 void* opaque) {
  auto* self = static_cast<DomainLifecycle*>(opaque);
  const char* n = virDomainGetName(dom);
  if (!n || self->name_ != n) return 0;
  DomainStatus s = self->status();
  switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
      if (s.phase == DomainPhase::kNone) s.phase = DomainPhase::kDefined;
      break;
    case VIR_DOMAIN_EVENT_UNDEFINED:
      s.phase = DomainPhase::kNone;
      break;
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
      s.phase = DomainPhase::kRunning;
      s.reason = StopReason::kNone;
      break;
    case VIR_DOMAIN_EVENT_SUSPENDED:
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
      s.phase = DomainPhase::kPaused;
      break;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
      s.phase = DomainPhase::kShuttingDown;
      break;
    case VIR_DOMAIN_EVENT_CRASHED:
      s.crashed = true;
      break;
    case VIR_DOMAIN_EVENT_STOPPED:
      s.phase = DomainPhase::kStopped;
      s.reason = FromStoppedDetail(detail);
      if (s.reason == StopReason::kCrashed) s.crashed = true;
      break;
    default:
      return 0;
  }
  spdlog::info("domain {}: event {} detail {} -> {}{}", self->name_, event, detail,
               DomainPhaseName(s.phase),
               s.phase == DomainPhase::kStopped ? absl::StrCat(" (", StopReasonName(s.reason), ")")
                                                : std::string());
  self->SetStatus(s);
  return 0;
}

void DomainLifecycle::OnClose(virConnectPtr, int reason, void* opaque) {
  auto* self = static_cast<DomainLifecycle*>(opaque);
  spdlog::warn("libvirt connection {} closed (reason {})", self->uri_, reason);
  {
    std::lock_guard<std::mutex> l(self->mu_);
    self->lost_ = true;
  }
  self->cv_.notify_all();
}

absl::Status DomainLifecycle::Define(const std::string& xml) {
  virDomainPtr dom;
  {
    std::lock_guard<std::mutex> l(conn_mu_);
    if (!conn_) return absl::UnavailableError("define: not connected");
    ForgetDomainLocked();  // a redefinition may carry another UUID
    dom = virDomainDefineXML(conn_, xml.c_str());
  }
  if (!dom) return LibvirtError(absl::StrCat("define ", name_));
  virDomainFree(dom);
  DomainStatus s = status();
  if (s.phase == DomainPhase::kNone) {
    s.phase = DomainPhase::kDefined;
    SetStatus(s);
  }
  return absl::OkStatus();
}

absl::Status DomainLifecycle::Start() {
  absl::Status s = WithDomain("start", [](virDomainPtr d) { return virDomainCreate(d); });
  if (s.ok()) RefreshState().IgnoreError();
  return s;
}

absl::StatusOr<bool> DomainLifecycle::Adopt() {
  virDomainPtr dom = Lookup();
  if (!dom) return false;
  virDomainFree(dom);
  // Treat a found domain as ours from now on: a shut-off one reports kDefined.
  if (auto s = RefreshState(); !s.ok()) return s;
  return status().phase == DomainPhase::kRunning || status().phase == DomainPhase::kPaused;
}

absl::StatusOr<ShutdownOutcome> DomainLifecycle::Shutdown(absl::Duration timeout) {
  auto running = [](const DomainStatus& s) {
    return s.phase == DomainPhase::kRunning || s.phase == DomainPhase::kPaused ||
           s.phase == DomainPhase::kShuttingDown;
  };
  if (!running(status())) return ShutdownOutcome::kAlreadyStopped;
  absl::Status s = WithDomain("shutdown", [](virDomainPtr d) {
    return virDomainShutdownFlags(d, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN);
  });
  if (!s.ok()) {
    if (RefreshState().ok() && !running(status())) return ShutdownOutcome::kAlreadyStopped;
    spdlog::warn("ACPI shutdown of {} failed ({}); destroying", name_, s.ToString());
  } else if (WaitFor([&](const DomainStatus& st) { return !running(st); }, timeout)) {
    return ShutdownOutcome::kPoweredOff;
  } else {
    spdlog::warn("{} did not power off within {}; destroying", name_,
                 absl::FormatDuration(timeout));
  }
  if (auto d = Destroy(); !d.ok()) return d;
  return ShutdownOutcome::kDestroyedAfterTimeout;
}

absl::Status DomainLifecycle::Destroy() {
  virDomainPtr dom = Lookup();
  if (!dom) return absl::OkStatus();
  int active = virDomainIsActive(dom);
  int rc = active == 1 ? virDomainDestroy(dom) : 0;
  absl::Status s = rc < 0 ? LibvirtError(absl::StrCat("destroy ", name_)) : absl::OkStatus();
  virDomainFree(dom);
  if (s.ok() && active == 1) {
    // The STOPPED event may trail the API call; wait briefly so status() agrees.
    if (!WaitFor([](const DomainStatus& st) { return st.phase == DomainPhase::kStopped; },
                 absl::Seconds(5)))
      RefreshState().IgnoreError();
  }
  return s;
}

absl::Status DomainLifecycle::Undefine() {
  virDomainPtr dom = Lookup();
  if (!dom) return absl::OkStatus();
  int rc = virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM);
  absl::Status s = rc < 0 ? LibvirtError(absl::StrCat("undefine ", name_)) : absl::OkStatus();
  virDomainFree(dom);
  std::lock_guard<std::mutex> l(conn_mu_);
  ForgetDomainLocked();
  return s;
}

absl::StatusOr<std::string> DomainLifecycle::Xml(bool inactive) {
  std::string out;
  absl::Status s = WithDomain("get XML of", [&](virDomainPtr d) {
    char* x = virDomainGetXMLDesc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    if (!x) return -1;
    out = x;
    free(x);
    return 0;
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status DomainLifecycle::AttachDevice(const std::string& xml, DeviceFlags flags) {
  return WithDomain("attach device to", [&](virDomainPtr d) {
    return virDomainAttachDeviceFlags(d, xml.c_str(), flags);
  });
}

absl::Status DomainLifecycle::DetachDevice(const std::string& xml, DeviceFlags flags) {
  return WithDomain("detach device from", [&](virDomainPtr d) {
    return virDomainDetachDeviceFlags(d, xml.c_str(), flags);
  });
}

absl::Status DomainLifecycle::DetachDeviceAlias(const std::string& alias, DeviceFlags flags) {
  return WithDomain("detach device alias from", [&](virDomainPtr d) {
    return virDomainDetachDeviceAlias(d, alias.c_str(), flags);
  });
}

absl::Status DomainLifecycle::UpdateDevice(const std::string& xml, DeviceFlags flags) {
  return WithDomain("update device of", [&](virDomainPtr d) {
    return virDomainUpdateDeviceFlags(d, xml.c_str(), flags);
  });
}

DomainStatus DomainLifecycle::status() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

bool DomainLifecycle::WaitFor(const std::function<bool(const DomainStatus&)>& pred,
                              absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, absl::ToChronoNanoseconds(timeout), [&] { return pred(status_); });
}

DomainStatus DomainLifecycle::WaitForStopOrLoss(absl::Duration timeout) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, absl::ToChronoNanoseconds(timeout),
               [&] { return lost_ || status_.phase == DomainPhase::kStopped; });
  return status_;
}

void DomainLifecycle::SetEventCallback(EventCallback cb) {
  std::lock_guard<std::mutex> l(mu_);
  event_cb_ = std::move(cb);
}

}  // namespace k6t::launcher
