#include "k6t/launcher/domain_lifecycle.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

bool Running(const DomainStatus& s) {
  return s.phase == DomainPhase::kRunning || s.phase == DomainPhase::kPaused ||
         s.phase == DomainPhase::kShuttingDown;
}

const char* EventName(DomainEventKind k) {
  switch (k) {
    case DomainEventKind::kDefined:
      return "defined";
    case DomainEventKind::kUndefined:
      return "undefined";
    case DomainEventKind::kStarted:
      return "started";
    case DomainEventKind::kSuspended:
      return "suspended";
    case DomainEventKind::kResumed:
      return "resumed";
    case DomainEventKind::kShutdown:
      return "shutdown";
    case DomainEventKind::kStopped:
      return "stopped";
    case DomainEventKind::kCrashed:
      return "crashed";
    case DomainEventKind::kPmSuspended:
      return "pm-suspended";
  }
  return "?";
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

absl::StatusOr<std::unique_ptr<DomainLifecycle>> DomainLifecycle::Open(
    std::shared_ptr<Libvirt> libvirt, const std::string& uri, const std::string& name) {
  if (!libvirt) return absl::InvalidArgumentError("DomainLifecycle: no libvirt");
  std::unique_ptr<DomainLifecycle> d(new DomainLifecycle(std::move(libvirt), uri, name));
  if (auto s = d->Connect(); !s.ok()) return s;
  return d;
}

DomainLifecycle::~DomainLifecycle() {
  std::shared_ptr<LibvirtConnection> c;
  {
    std::lock_guard<std::mutex> l(conn_mu_);
    c = std::move(conn_);
  }
}

absl::Status DomainLifecycle::Connect() {
  uint64_t generation;
  {
    std::lock_guard<std::mutex> l(mu_);
    generation = ++generation_;
    lost_ = false;
  }
  LibvirtCallbacks cb;
  cb.on_lifecycle = [this, generation](const std::string& domain, const DomainEvent& e) {
    if (domain == name_) OnLifecycle(generation, e);
  };
  cb.on_device_removed = [this, generation](const std::string& domain, const std::string& alias) {
    if (domain == name_) OnDeviceRemoved(generation, alias);
  };
  cb.on_connection_lost = [this, generation] { OnConnectionLost(generation); };
  auto c = libvirt_->Connect(uri_, std::move(cb));
  if (!c.ok()) {
    OnConnectionLost(generation);
    return c.status();
  }
  std::lock_guard<std::mutex> l(conn_mu_);
  conn_ = std::move(*c);
  return absl::OkStatus();
}

absl::Status DomainLifecycle::Reconnect() {
  std::shared_ptr<LibvirtConnection> old;
  {
    std::lock_guard<std::mutex> l(conn_mu_);
    old = std::move(conn_);
  }
  old.reset();  // closed before the next one opens (calls in flight keep it until they end)
  if (auto s = Connect(); !s.ok()) return s;
  return RefreshState();
}

bool DomainLifecycle::connection_lost() const {
  std::lock_guard<std::mutex> l(mu_);
  return lost_;
}

std::shared_ptr<LibvirtConnection> DomainLifecycle::Connection() const {
  std::lock_guard<std::mutex> l(conn_mu_);
  return conn_;
}

absl::StatusOr<std::shared_ptr<LibvirtConnection>> DomainLifecycle::Connected(
    const char* what) const {
  auto c = Connection();
  if (!c)
    return absl::UnavailableError(absl::StrCat(what, " ", name_, ": not connected to ", uri_));
  return c;
}

absl::Status DomainLifecycle::RefreshState() {
  auto c = Connected("state of");
  if (!c.ok()) return c.status();
  uint64_t events_before;
  {
    std::lock_guard<std::mutex> l(mu_);
    events_before = events_seen_;
  }
  auto info = (*c)->GetState(name_);
  if (!info.ok() && !absl::IsNotFound(info.status())) return info.status();
  UpdateStatus(std::nullopt, [&](DomainStatus& s) {
    // An event that arrived during the read is at least as new as what was read: the event
    // stream stays the truth (a crash right after a start must not be read back as running).
    if (events_seen_ != events_before) return;
    if (!info.ok()) {
      s.phase = DomainPhase::kNone;
      return;
    }
    switch (info->state) {
      case DomainState::kRunning:
        s.phase = DomainPhase::kRunning;
        break;
      case DomainState::kPaused:
        s.phase = DomainPhase::kPaused;
        break;
      case DomainState::kShuttingDown:
        s.phase = DomainPhase::kShuttingDown;
        break;
      case DomainState::kShutOff:
        // A shut-off domain that never ran in this launcher is merely defined.
        if (s.phase == DomainPhase::kNone || s.phase == DomainPhase::kDefined) {
          s.phase = DomainPhase::kDefined;
        } else {
          s.phase = DomainPhase::kStopped;
          s.reason = info->reason;
        }
        break;
      case DomainState::kCrashed:
        s.phase = DomainPhase::kStopped;
        s.reason = StopReason::kCrashed;
        s.crashed = true;
        break;
      case DomainState::kOther:
        break;
    }
  });
  return absl::OkStatus();
}

void DomainLifecycle::UpdateStatus(std::optional<uint64_t> generation,
                                   const std::function<void(DomainStatus&)>& change) {
  EventCallback cb;
  DomainStatus s;
  {
    // Read, change and write under one lock: an event and a state read racing must not
    // undo each other (a late "defined" event would otherwise turn a running domain back).
    std::lock_guard<std::mutex> l(mu_);
    if (generation && *generation != generation_) return;
    s = status_;
    change(s);
    if (s.phase != status_.phase || s.reason != status_.reason) s.since = absl::Now();
    status_ = s;
    cb = event_cb_;
  }
  cv_.notify_all();
  if (cb) cb(s);
}

void DomainLifecycle::OnLifecycle(uint64_t generation, const DomainEvent& e) {
  UpdateStatus(generation, [&](DomainStatus& s) {
    ++events_seen_;
    switch (e.kind) {
      case DomainEventKind::kDefined:
        if (s.phase == DomainPhase::kNone) s.phase = DomainPhase::kDefined;
        break;
      case DomainEventKind::kUndefined:
        // A domain that stopped and was then undefined (a migration's source, undefined by
        // libvirt right after) keeps its stop and its reason: how the VM ended is what
        // Wait() reports.
        if (s.phase != DomainPhase::kStopped) s.phase = DomainPhase::kNone;
        break;
      case DomainEventKind::kStarted:
        // An incoming migration starts the domain paused; kResumed follows when it arrived.
        s.phase = e.migration ? DomainPhase::kPaused : DomainPhase::kRunning;
        s.reason = StopReason::kNone;
        break;
      case DomainEventKind::kResumed:
        s.phase = DomainPhase::kRunning;
        s.reason = StopReason::kNone;
        break;
      case DomainEventKind::kSuspended:
      case DomainEventKind::kPmSuspended:
        s.phase = DomainPhase::kPaused;
        break;
      case DomainEventKind::kShutdown:
        s.phase = DomainPhase::kShuttingDown;
        break;
      case DomainEventKind::kCrashed:
        s.crashed = true;
        break;
      case DomainEventKind::kStopped:
        s.phase = DomainPhase::kStopped;
        s.reason = e.reason;
        if (s.reason == StopReason::kCrashed) s.crashed = true;
        break;
    }
    spdlog::info(
        "domain {}: event {}{} -> {}{}", name_, EventName(e.kind),
        e.kind == DomainEventKind::kStopped ? absl::StrCat(" ", StopReasonName(e.reason)) : "",
        DomainPhaseName(s.phase),
        s.phase == DomainPhase::kStopped ? absl::StrCat(" (", StopReasonName(s.reason), ")")
                                         : std::string());
  });
}

void DomainLifecycle::OnDeviceRemoved(uint64_t generation, const std::string& alias) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (generation != generation_) return;
    removed_.insert(alias);
  }
  spdlog::debug("domain {}: device {} removed", name_, alias);
  cv_.notify_all();
}

void DomainLifecycle::OnConnectionLost(uint64_t generation) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (generation != generation_) return;
    lost_ = true;
  }
  cv_.notify_all();
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

absl::Status DomainLifecycle::Define(const std::string& xml) {
  auto c = Connected("define");
  if (!c.ok()) return c.status();
  if (auto st = (*c)->DefineDomain(xml); !st.ok()) return st;
  UpdateStatus(std::nullopt, [](DomainStatus& s) {
    if (s.phase == DomainPhase::kNone) s.phase = DomainPhase::kDefined;
  });
  return absl::OkStatus();
}

absl::Status DomainLifecycle::Start() {
  auto c = Connected("start");
  if (!c.ok()) return c.status();
  absl::Status s = (*c)->StartDomain(name_);
  if (s.ok()) RefreshState().IgnoreError();
  return s;
}

absl::StatusOr<bool> DomainLifecycle::Adopt() {
  // Treat a found domain as ours from now on: a shut-off one reports kDefined.
  if (auto s = RefreshState(); !s.ok()) return s;
  return Running(status());
}

absl::StatusOr<ShutdownOutcome> DomainLifecycle::Shutdown(absl::Duration timeout) {
  if (!Running(status())) return ShutdownOutcome::kAlreadyStopped;
  auto c = Connected("shutdown");
  absl::Status s = c.ok() ? (*c)->ShutdownDomain(name_) : c.status();
  if (!s.ok()) {
    if (RefreshState().ok() && !Running(status())) return ShutdownOutcome::kAlreadyStopped;
    spdlog::warn("ACPI shutdown of {} failed ({}); destroying", name_, s.ToString());
  } else if (WaitFor([](const DomainStatus& st) { return !Running(st); }, timeout)) {
    return ShutdownOutcome::kPoweredOff;
  } else {
    spdlog::warn("{} did not power off within {}; destroying", name_,
                 absl::FormatDuration(timeout));
  }
  if (auto d = Destroy(); !d.ok()) return d;
  return ShutdownOutcome::kDestroyedAfterTimeout;
}

absl::Status DomainLifecycle::Destroy() {
  auto c = Connected("destroy");
  if (!c.ok()) return c.status();
  absl::Status s = (*c)->DestroyDomain(name_);
  // Absent or not running: nothing to stop.
  if (absl::IsNotFound(s) || absl::IsFailedPrecondition(s)) return absl::OkStatus();
  if (!s.ok()) return s;
  // The STOPPED event may trail the call; wait briefly so status() agrees.
  if (!WaitFor([](const DomainStatus& st) { return st.phase == DomainPhase::kStopped; },
               absl::Seconds(5)))
    RefreshState().IgnoreError();
  return absl::OkStatus();
}

absl::Status DomainLifecycle::Undefine() {
  auto c = Connected("undefine");
  if (!c.ok()) return c.status();
  absl::Status s = (*c)->UndefineDomain(name_);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::StatusOr<std::string> DomainLifecycle::Xml(bool inactive) {
  auto c = Connected("get XML of");
  if (!c.ok()) return c.status();
  return (*c)->GetXml(name_, inactive);
}

absl::StatusOr<std::vector<GuestInterface>> DomainLifecycle::GuestInterfaces(
    absl::Duration timeout) {
  auto c = Connected("ask the guest agent of");
  if (!c.ok()) return c.status();
  return (*c)->GuestInterfaces(name_, timeout);
}

absl::Status DomainLifecycle::Migrate(const MigrationRequest& request) {
  auto c = Connected("migrate");
  if (!c.ok()) return c.status();
  return (*c)->Migrate(name_, request);
}

absl::StatusOr<MigrationProgress> DomainLifecycle::JobProgress() {
  auto c = Connected("read the job of");
  if (!c.ok()) return c.status();
  return (*c)->JobProgress(name_);
}

absl::Status DomainLifecycle::AbortMigration() {
  auto c = Connected("abort the migration of");
  if (!c.ok()) return c.status();
  return (*c)->AbortJob(name_);
}

absl::Status DomainLifecycle::AttachDevice(const std::string& xml, DeviceFlags flags) {
  auto c = Connected("attach device to");
  return c.ok() ? (*c)->AttachDevice(name_, xml, flags) : c.status();
}

absl::Status DomainLifecycle::DetachDevice(const std::string& xml, DeviceFlags flags) {
  auto c = Connected("detach device from");
  return c.ok() ? (*c)->DetachDevice(name_, xml, flags) : c.status();
}

absl::Status DomainLifecycle::DetachDeviceAlias(const std::string& alias, DeviceFlags flags) {
  auto c = Connected("detach device from");
  return c.ok() ? (*c)->DetachDeviceAlias(name_, alias, flags) : c.status();
}

absl::Status DomainLifecycle::UpdateDevice(const std::string& xml, DeviceFlags flags) {
  auto c = Connected("update device of");
  return c.ok() ? (*c)->UpdateDevice(name_, xml, flags) : c.status();
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
