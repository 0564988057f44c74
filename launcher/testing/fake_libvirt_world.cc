// FakeLibvirt's other half: the world outside the launcher (the guest, other users of
// libvirt, the daemon dying), what tests look at, and the event thread.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fake_domain_xml.h"
#include "k6t/launcher/testing/fake_libvirt.h"

namespace k6t::launcher::testing {
namespace {

const char* StateName(DomainState s) {
  switch (s) {
    case DomainState::kRunning:
      return "running";
    case DomainState::kPaused:
      return "paused";
    case DomainState::kShuttingDown:
      return "shutting-down";
    case DomainState::kShutOff:
      return "shut-off";
    case DomainState::kCrashed:
      return "crashed";
    case DomainState::kOther:
      return "other";
  }
  return "?";
}

}  // namespace

// ---- The world outside the launcher.

absl::Status FakeLibvirt::AddDomain(const std::string& xml, bool running) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto s = Define(xml); !s.ok()) return s;
  return running ? Start(domains_[fake_xml::NameOf(xml)]) : absl::OkStatus();
}

absl::Status FakeLibvirt::StopOutside(const std::string& name, StopReason reason) {
  std::lock_guard<std::mutex> l(mu_);
  auto d = Get(name, "stop");
  if (!d.ok()) return d.status();
  if (!Active((*d)->state))
    return absl::FailedPreconditionError(absl::StrCat(name, " is not running"));
  if (reason == StopReason::kShutdown) Emit(name, {DomainEventKind::kShutdown});
  if (reason == StopReason::kCrashed) Emit(name, {DomainEventKind::kCrashed});
  StopLocked(**d, reason);
  return absl::OkStatus();
}

void FakeLibvirt::SetJobProgress(MigrationProgress progress) {
  std::lock_guard<std::mutex> l(mu_);
  progress_ = progress;
}

std::vector<MigrationRequest> FakeLibvirt::migrations() const {
  std::lock_guard<std::mutex> l(mu_);
  return migrations_;
}

absl::Status FakeLibvirt::MigrateAway(Domain& d, const MigrationRequest& request) {
  if (!Active(d.state))
    return absl::FailedPreconditionError(
        absl::StrCat("Requested operation is not valid: domain ", d.name, " is not running"));
  migrations_.push_back(request);
  progress_.active = false;
  const std::string name = d.name;
  Emit(name, {DomainEventKind::kSuspended, StopReason::kNone, true});
  StopLocked(d, StopReason::kMigrated);
  return Undefine(d);  // VIR_MIGRATE_UNDEFINE_SOURCE
}

absl::Status FakeLibvirt::ArriveByMigration(const std::string& xml, bool resumes) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto s = Define(xml); !s.ok()) return s;
  Domain* d = Find(fake_xml::NameOf(xml));
  if (!d) return absl::InternalError("the arriving domain was not defined");
  d->live = fake_xml::AssignAliases(d->config);
  d->state = DomainState::kPaused;
  Emit(d->name, {DomainEventKind::kStarted, StopReason::kNone, true});
  if (!resumes) return absl::OkStatus();
  d->state = DomainState::kRunning;
  Emit(d->name, {DomainEventKind::kResumed, StopReason::kNone, true});
  return absl::OkStatus();
}

absl::Status FakeLibvirt::UndefineOutside(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  auto d = Get(name, "undefine");
  if (!d.ok()) return d.status();
  return Undefine(**d);
}

void FakeLibvirt::SetGuestHonoursPowerButton(bool yes) {
  std::lock_guard<std::mutex> l(mu_);
  honours_power_button_ = yes;
}

void FakeLibvirt::SetGuestReleasesDevices(bool yes) {
  std::lock_guard<std::mutex> l(mu_);
  releases_devices_ = yes;
}

absl::Status FakeLibvirt::ReleaseDevice(const std::string& name, const std::string& alias) {
  std::lock_guard<std::mutex> l(mu_);
  auto d = Get(name, "release device of");
  if (!d.ok()) return d.status();
  if (!(*d)->detaching.erase(alias))
    return absl::FailedPreconditionError(absl::StrCat("no detach of ", alias, " is pending"));
  if (auto s = fake_xml::FindDevice((*d)->live, alias, ""))
    (*d)->live.erase(s->begin, s->end - s->begin);
  EmitRemoved(name, alias);
  return absl::OkStatus();
}

void FakeLibvirt::DropConnections() {
  std::lock_guard<std::mutex> l(mu_);
  std::set<int> ids;
  for (auto& [id, c] : conns_) {
    if (c.broken) continue;
    c.broken = true;
    ids.insert(id);
  }
  Enqueue([this, ids] {
    Deliver(
        [](const LibvirtCallbacks& cb) {
          if (cb.on_connection_lost) cb.on_connection_lost();
        },
        ids, /*even_broken=*/true);
  });
}

void FakeLibvirt::RefuseConnections(int n) {
  std::lock_guard<std::mutex> l(mu_);
  refuse_connects_ = n;
}

// ---- Looking.

bool FakeLibvirt::Exists(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  return domains_.count(name) > 0;
}

std::optional<DomainStateInfo> FakeLibvirt::State(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return std::nullopt;
  return DomainStateInfo{it->second.state, it->second.reason};
}

std::string FakeLibvirt::LiveXml(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = domains_.find(name);
  return it == domains_.end() ? "" : it->second.live;
}

std::string FakeLibvirt::ConfigXml(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = domains_.find(name);
  return it == domains_.end() ? "" : it->second.config;
}

int FakeLibvirt::open_connections() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(conns_.size());
}

std::string FakeLibvirt::Dump() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  for (const auto& [name, d] : domains_) {
    absl::StrAppend(&out, "domain ", name, " ", StateName(d.state), " (", StopReasonName(d.reason),
                    ")", d.persistent ? " persistent" : " transient",
                    "\n  detaching: ", absl::StrJoin(d.detaching, ","), "\n  config:\n", d.config,
                    "\n  live:\n", d.live, "\n");
  }
  return out;
}

// ---- Events.

std::set<int> FakeLibvirt::Listening() const {
  std::set<int> ids;
  for (const auto& [id, c] : conns_)
    if (!c.broken) ids.insert(id);
  return ids;
}

void FakeLibvirt::Emit(const std::string& name, DomainEvent e) {
  Enqueue([this, name, e, to = Listening()] {
    Deliver(
        [&](const LibvirtCallbacks& cb) {
          if (cb.on_lifecycle) cb.on_lifecycle(name, e);
        },
        to);
  });
}

void FakeLibvirt::EmitRemoved(const std::string& name, const std::string& alias) {
  Enqueue([this, name, alias, to = Listening()] {
    Deliver(
        [&](const LibvirtCallbacks& cb) {
          if (cb.on_device_removed) cb.on_device_removed(name, alias);
        },
        to);
  });
}

void FakeLibvirt::Enqueue(Job job) {
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    queue_.push_back(std::move(job));
  }
  queue_cv_.notify_all();
}

void FakeLibvirt::Deliver(const std::function<void(const LibvirtCallbacks&)>& f,
                          const std::set<int>& to, bool even_broken) {
  std::lock_guard<std::mutex> delivering(dispatch_mu_);
  std::vector<LibvirtCallbacks> targets;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, c] : conns_)
      if (to.count(id) > 0 && (even_broken || !c.broken)) targets.push_back(c.callbacks);
  }
  for (const LibvirtCallbacks& cb : targets) f(cb);
}

void FakeLibvirt::RunEvents() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> l(queue_mu_);
      queue_cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    job();
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      busy_ = false;
    }
    queue_cv_.notify_all();
  }
}

void FakeLibvirt::WaitIdle() {
  std::unique_lock<std::mutex> l(queue_mu_);
  queue_cv_.wait(l, [&] { return stop_ || (queue_.empty() && !busy_); });
}

}  // namespace k6t::launcher::testing
