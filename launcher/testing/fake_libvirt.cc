#include "k6t/launcher/testing/fake_libvirt.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fake_domain_xml.h"

namespace k6t::launcher::testing {
namespace {

using fake_xml::AliasOf;
using fake_xml::AssignAddresses;
using fake_xml::AssignAliases;
using fake_xml::Devices;
using fake_xml::FindDevice;
using fake_xml::MacOf;
using fake_xml::NameOf;
using fake_xml::PlugInto;
using fake_xml::Span;

std::string Scope(DeviceFlags flags) {
  std::vector<std::string> parts;
  if (flags & kLive) parts.push_back("live");
  if (flags & kConfig) parts.push_back("config");
  return parts.empty() ? "current" : absl::StrJoin(parts, "|");
}

bool Mutating(LibvirtCall c) {
  return c != LibvirtCall::kConnect && c != LibvirtCall::kGetState && c != LibvirtCall::kGetXml &&
         c != LibvirtCall::kGuestInterfaces && c != LibvirtCall::kJobProgress;
}

}  // namespace

const char* LibvirtCallName(LibvirtCall call) {
  switch (call) {
    case LibvirtCall::kConnect:
      return "connect";
    case LibvirtCall::kDefine:
      return "define";
    case LibvirtCall::kGetState:
      return "get-state";
    case LibvirtCall::kStart:
      return "start";
    case LibvirtCall::kShutdown:
      return "shutdown";
    case LibvirtCall::kDestroy:
      return "destroy";
    case LibvirtCall::kUndefine:
      return "undefine";
    case LibvirtCall::kGetXml:
      return "get-xml";
    case LibvirtCall::kAttachDevice:
      return "attach";
    case LibvirtCall::kDetachDevice:
      return "detach";
    case LibvirtCall::kDetachDeviceAlias:
      return "detach-alias";
    case LibvirtCall::kUpdateDevice:
      return "update";
    case LibvirtCall::kGuestInterfaces:
      return "guest-interfaces";
    case LibvirtCall::kMigrate:
      return "migrate";
    case LibvirtCall::kJobProgress:
      return "job-progress";
    case LibvirtCall::kAbortJob:
      return "abort-job";
  }
  return "?";
}

// One connection: every call takes the fake's lock, so calls are atomic against each other
// and against the world's changes.
class FakeLibvirt::Connection : public LibvirtConnection {
 public:
  Connection(FakeLibvirt* fake, int id, std::string uri)
      : fake_(fake), id_(id), uri_(std::move(uri)) {}
  ~Connection() override { fake_->Disconnect(id_); }

  const std::string& uri() const override { return uri_; }

  absl::Status DefineDomain(const std::string& xml) override {
    std::lock_guard<std::mutex> l(fake_->mu_);
    if (auto s = fake_->Begin(LibvirtCall::kDefine, id_, NameOf(xml)); !s.ok()) return s;
    return fake_->Define(xml);
  }
  absl::StatusOr<DomainStateInfo> GetState(const std::string& name) override {
    std::lock_guard<std::mutex> l(fake_->mu_);
    if (auto s = fake_->Begin(LibvirtCall::kGetState, id_, name); !s.ok()) return s;
    auto d = fake_->Get(name, "state of");
    if (!d.ok()) return d.status();
    return DomainStateInfo{(*d)->state, (*d)->reason};
  }
  absl::Status StartDomain(const std::string& name) override {
    return On(LibvirtCall::kStart, name, "", [&](Domain& d) { return fake_->Start(d); });
  }
  absl::Status ShutdownDomain(const std::string& name) override {
    return On(LibvirtCall::kShutdown, name, "", [&](Domain& d) { return fake_->Shutdown(d); });
  }
  absl::Status DestroyDomain(const std::string& name) override {
    return On(LibvirtCall::kDestroy, name, "", [&](Domain& d) { return fake_->Destroy(d); });
  }
  absl::Status UndefineDomain(const std::string& name) override {
    return On(LibvirtCall::kUndefine, name, "", [&](Domain& d) { return fake_->Undefine(d); });
  }
  absl::StatusOr<std::string> GetXml(const std::string& name, bool inactive) override {
    std::string out;
    absl::Status s = On(LibvirtCall::kGetXml, name, inactive ? "inactive" : "", [&](Domain& d) {
      out = (inactive || !Active(d.state)) && d.persistent ? d.config : d.live;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<std::vector<GuestInterface>> GuestInterfaces(const std::string& name,
                                                              absl::Duration) override {
    std::vector<GuestInterface> out;
    absl::Status s = On(LibvirtCall::kGuestInterfaces, name, "", [&](Domain& d) -> absl::Status {
      if (!Active(d.state))
        return absl::FailedPreconditionError(
            "Requested operation is not valid: domain is not running");
      if (!fake_->guest_agent_.ok()) return fake_->guest_agent_.status();
      out = *fake_->guest_agent_;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  absl::Status AttachDevice(const std::string& name, const std::string& xml,
                            DeviceFlags flags) override {
    return On(LibvirtCall::kAttachDevice, name, absl::StrCat(AliasOf(xml), " ", Scope(flags)),
              [&](Domain& d) { return fake_->Attach(d, xml, flags); });
  }
  absl::Status DetachDevice(const std::string& name, const std::string& xml,
                            DeviceFlags flags) override {
    return On(LibvirtCall::kDetachDevice, name, absl::StrCat(AliasOf(xml), " ", Scope(flags)),
              [&](Domain& d) -> absl::Status {
                auto s = FindDevice(Active(d.state) ? d.live : d.config, AliasOf(xml), MacOf(xml));
                if (!s) return absl::NotFoundError("device not found: no matching device");
                const std::string alias = AliasOf(s->Of(Active(d.state) ? d.live : d.config));
                return fake_->Detach(d, alias, flags);
              });
  }
  absl::Status DetachDeviceAlias(const std::string& name, const std::string& alias,
                                 DeviceFlags flags) override {
    return On(LibvirtCall::kDetachDeviceAlias, name, absl::StrCat(alias, " ", Scope(flags)),
              [&](Domain& d) { return fake_->Detach(d, alias, flags); });
  }
  absl::Status UpdateDevice(const std::string& name, const std::string& xml,
                            DeviceFlags flags) override {
    return On(LibvirtCall::kUpdateDevice, name, absl::StrCat(AliasOf(xml), " ", Scope(flags)),
              [&](Domain& d) { return fake_->Update(d, xml, flags); });
  }

  absl::Status Migrate(const std::string& name, const MigrationRequest& request) override {
    return On(LibvirtCall::kMigrate, name, request.dest_uri,
              [&](Domain& d) { return fake_->MigrateAway(d, request); });
  }
  absl::StatusOr<MigrationProgress> JobProgress(const std::string& name) override {
    MigrationProgress p;
    absl::Status s = On(LibvirtCall::kJobProgress, name, "", [&](Domain&) {
      p = fake_->progress_;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return p;
  }
  absl::Status AbortJob(const std::string& name) override {
    return On(LibvirtCall::kAbortJob, name, "", [&](Domain&) -> absl::Status {
      if (!fake_->progress_.active)
        return absl::FailedPreconditionError("Requested operation is not valid: no job is active");
      fake_->progress_.active = false;
      return absl::OkStatus();
    });
  }

 private:
  absl::Status On(LibvirtCall call, const std::string& name, const std::string& detail,
                  const std::function<absl::Status(Domain&)>& op) {
    std::lock_guard<std::mutex> l(fake_->mu_);
    const std::string what = detail.empty() ? name : absl::StrCat(name, " ", detail);
    if (auto s = fake_->Begin(call, id_, what); !s.ok()) return s;
    auto d = fake_->Get(name, LibvirtCallName(call));
    if (!d.ok()) return d.status();
    return op(**d);
  }

  FakeLibvirt* const fake_;
  const int id_;
  const std::string uri_;
};

FakeLibvirt::FakeLibvirt() : events_([this] { RunEvents(); }) {}

void FakeLibvirt::SetGuestAgent(absl::StatusOr<std::vector<GuestInterface>> answer) {
  std::lock_guard<std::mutex> l(mu_);
  guest_agent_ = std::move(answer);
}

FakeLibvirt::~FakeLibvirt() {
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  events_.join();
}

absl::StatusOr<std::unique_ptr<LibvirtConnection>> FakeLibvirt::Connect(
    const std::string& uri, LibvirtCallbacks callbacks) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto s = Begin(LibvirtCall::kConnect, 0, uri); !s.ok()) return s;
  if (refuse_connects_ > 0) {
    --refuse_connects_;
    return absl::UnavailableError(absl::StrCat("connect to ", uri, ": no daemon answers"));
  }
  const int id = next_conn_++;
  conns_[id] = Conn{std::move(callbacks), false};
  return std::unique_ptr<LibvirtConnection>(new Connection(this, id, uri));
}

void FakeLibvirt::Disconnect(int id) {
  {
    std::lock_guard<std::mutex> l(mu_);
    conns_.erase(id);
  }
  // A delivery to this connection that already started ends before it is gone.
  if (std::this_thread::get_id() != events_.get_id())
    std::lock_guard<std::mutex> wait_for_delivery(dispatch_mu_);
}

absl::Status FakeLibvirt::Begin(LibvirtCall call, int conn, const std::string& detail) {
  log_.push_back(detail.empty() ? LibvirtCallName(call)
                                : absl::StrCat(LibvirtCallName(call), " ", detail));
  const int n = calls_[call]++;
  if (conn != 0) {
    auto it = conns_.find(conn);
    if (it == conns_.end() || it->second.broken)
      return absl::UnavailableError(
          absl::StrCat(LibvirtCallName(call), ": the connection to libvirt is closed"));
  }
  auto& failures = failures_[call];
  if (auto it = failures.find(n); it != failures.end()) {
    absl::Status s = it->second;
    failures.erase(it);
    return s;
  }
  if (Mutating(call)) {
    const int m = mutations_++;
    if (fail_mutation_at_ && *fail_mutation_at_ == m) {
      fail_mutation_at_.reset();
      return fail_mutation_status_;
    }
  }
  return absl::OkStatus();
}

FakeLibvirt::Domain* FakeLibvirt::Find(const std::string& name) {
  auto it = domains_.find(name);
  return it == domains_.end() ? nullptr : &it->second;
}

absl::StatusOr<FakeLibvirt::Domain*> FakeLibvirt::Get(const std::string& name, const char* what) {
  Domain* d = Find(name);
  if (!d)
    return absl::NotFoundError(
        absl::StrCat(what, " ", name, ": Domain not found: no domain with matching name"));
  return d;
}

absl::Status FakeLibvirt::Define(const std::string& xml) {
  const std::string name = NameOf(xml);
  if (xml.find("<domain") == std::string::npos || name.empty())
    return absl::InvalidArgumentError("define: XML error: a <domain> with a <name> is required");
  auto config = AssignAddresses(xml);
  if (!config.ok()) return config.status();
  Domain& d = domains_[name];
  d.name = name;
  d.persistent = true;
  d.config = *config;
  Emit(name, {DomainEventKind::kDefined});
  return absl::OkStatus();
}

absl::Status FakeLibvirt::Start(Domain& d) {
  if (Active(d.state))
    return absl::FailedPreconditionError(
        absl::StrCat("start ", d.name,
                     ": Requested operation is not valid: domain is already "
                     "running"));
  d.live = AssignAliases(d.config);
  d.state = DomainState::kRunning;
  d.reason = StopReason::kNone;
  Emit(d.name, {DomainEventKind::kResumed});
  Emit(d.name, {DomainEventKind::kStarted});
  return absl::OkStatus();
}

absl::Status FakeLibvirt::Shutdown(Domain& d) {
  if (d.state != DomainState::kRunning)
    return absl::FailedPreconditionError(
        absl::StrCat("shutdown ", d.name,
                     ": Requested operation is not valid: domain is not "
                     "running"));
  if (!honours_power_button_) return absl::OkStatus();
  Enqueue([this, name = d.name] {
    std::lock_guard<std::mutex> l(mu_);
    Domain* d = Find(name);
    if (!d || d->state != DomainState::kRunning) return;
    Emit(name, {DomainEventKind::kShutdown});
    StopLocked(*d, StopReason::kShutdown);
  });
  return absl::OkStatus();
}

absl::Status FakeLibvirt::Destroy(Domain& d) {
  if (!Active(d.state))
    return absl::FailedPreconditionError(
        absl::StrCat("destroy ", d.name,
                     ": Requested operation is not valid: domain is not "
                     "running"));
  StopLocked(d, StopReason::kDestroyed);
  return absl::OkStatus();
}

absl::Status FakeLibvirt::Undefine(Domain& d) {
  const std::string name = d.name;
  if (Active(d.state)) {
    d.persistent = false;
    d.config.clear();
  } else {
    domains_.erase(name);
  }
  Emit(name, {DomainEventKind::kUndefined});
  return absl::OkStatus();
}

void FakeLibvirt::StopLocked(Domain& d, StopReason reason) {
  const std::string name = d.name;
  d.state = DomainState::kShutOff;
  d.reason = reason;
  d.live.clear();
  d.detaching.clear();
  Emit(name, {DomainEventKind::kStopped, reason, reason == StopReason::kMigrated});
  if (!d.persistent) domains_.erase(name);  // a transient domain ends with its run
}

absl::Status FakeLibvirt::Attach(Domain& d, const std::string& xml, DeviceFlags flags) {
  const std::vector<Span> devices = Devices("<devices>" + xml + "</devices>");
  const std::string kind = devices.size() == 1 ? devices.front().kind : "";
  if (kind.empty())
    return absl::InvalidArgumentError("attach: unsupported configuration: not a device");
  if ((flags & kLive || flags == 0) && !Active(d.state))
    return absl::FailedPreconditionError(absl::StrCat(
        "attach to ", d.name, ": Requested operation is not valid: domain is not running"));
  const std::string alias = AliasOf(xml);
  std::string live = d.live, config = d.config;
  if (flags & kLive || flags == 0) {
    if (!alias.empty() && FindDevice(live, alias, ""))
      return absl::FailedPreconditionError(absl::StrCat("attach: non unique alias ", alias));
    auto plugged = PlugInto(live, xml, kind);
    if (!plugged.ok()) return plugged.status();
    live = AssignAliases(*plugged);
  }
  if (flags & kConfig) {
    if (!alias.empty() && FindDevice(config, alias, ""))
      return absl::FailedPreconditionError(absl::StrCat("attach: non unique alias ", alias));
    auto plugged = PlugInto(config, xml, kind);
    if (!plugged.ok()) return plugged.status();
    config = *plugged;
  }
  d.live = live;
  d.config = config;
  return absl::OkStatus();
}

absl::Status FakeLibvirt::Detach(Domain& d, const std::string& alias, DeviceFlags flags) {
  const bool live = flags & kLive || flags == 0;
  if (live && !Active(d.state))
    return absl::FailedPreconditionError(absl::StrCat(
        "detach from ", d.name, ": Requested operation is not valid: domain is not running"));
  const std::optional<Span> in_live = live ? FindDevice(d.live, alias, "") : std::nullopt;
  const std::optional<Span> in_config =
      flags & kConfig ? FindDevice(d.config, alias, "") : std::nullopt;
  if ((live && !in_live) || (flags & kConfig && !in_config))
    return absl::NotFoundError(absl::StrCat(
        "detach from ", d.name, ": device not found: no device found with alias ", alias));
  if (in_config) d.config.erase(in_config->begin, in_config->end - in_config->begin);
  if (live && d.detaching.insert(alias).second && releases_devices_) {
    Enqueue([this, name = d.name, alias] {
      std::lock_guard<std::mutex> l(mu_);
      if (Domain* d = Find(name); d && d->detaching.count(alias)) {
        auto s = FindDevice(d->live, alias, "");
        if (s) d->live.erase(s->begin, s->end - s->begin);
        d->detaching.erase(alias);
        EmitRemoved(name, alias);
      }
    });
  }
  return absl::OkStatus();
}

absl::Status FakeLibvirt::Update(Domain& d, const std::string& xml, DeviceFlags flags) {
  const bool live = flags & kLive || flags == 0;
  if (live && !Active(d.state))
    return absl::FailedPreconditionError(absl::StrCat(
        "update device of ", d.name, ": Requested operation is not valid: domain is not running"));
  const std::string alias = AliasOf(xml), mac = MacOf(xml);
  const std::optional<Span> in_live = live ? FindDevice(d.live, alias, mac) : std::nullopt;
  const std::optional<Span> in_config =
      flags & kConfig ? FindDevice(d.config, alias, mac) : std::nullopt;
  if ((live && !in_live) || (flags & kConfig && !in_config))
    return absl::NotFoundError(absl::StrCat("update device of ", d.name,
                                            ": device not found: no device matching ",
                                            alias.empty() ? mac : alias));
  if (in_live) d.live.replace(in_live->begin, in_live->end - in_live->begin, xml);
  if (in_config) d.config.replace(in_config->begin, in_config->end - in_config->begin, xml);
  return absl::OkStatus();
}

// ---- Failure injection and counting.

void FakeLibvirt::FailCall(LibvirtCall call, absl::Status status, int nth) {
  std::lock_guard<std::mutex> l(mu_);
  failures_[call][calls_[call] + nth] = std::move(status);
}

void FakeLibvirt::FailMutation(int n, absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_mutation_at_ = mutations_ + n;
  fail_mutation_status_ = std::move(status);
}

int FakeLibvirt::calls(LibvirtCall call) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = calls_.find(call);
  return it == calls_.end() ? 0 : it->second;
}

std::vector<std::string> FakeLibvirt::call_log() const {
  std::lock_guard<std::mutex> l(mu_);
  return log_;
}

}  // namespace k6t::launcher::testing
