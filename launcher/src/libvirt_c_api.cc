// The libvirt seam on libvirt's C API. One virConnect per LibvirtConnection; domain handles
// looked up once per name and kept (every lookup is a round trip to a private daemon), dropped
// on (re)define, on undefine, and when libvirt says the domain is gone.
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "k6t/launcher/libvirt.h"
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

DomainStateInfo FromState(int state, int reason) {
  switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
      return {DomainState::kRunning, StopReason::kNone};
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
      return {DomainState::kPaused, StopReason::kNone};
    case VIR_DOMAIN_SHUTDOWN:
      return {DomainState::kShuttingDown, StopReason::kNone};
    case VIR_DOMAIN_SHUTOFF:
      return {DomainState::kShutOff, FromShutoffReason(reason)};
    case VIR_DOMAIN_CRASHED:
      return {DomainState::kCrashed, StopReason::kCrashed};
    default:
      return {DomainState::kOther, StopReason::kNone};
  }
}

// A lifecycle event in k6t's words; false for events the launcher does not follow.
bool FromLifecycle(int event, int detail, DomainEvent* out) {
  switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
      out->kind = DomainEventKind::kDefined;
      return true;
    case VIR_DOMAIN_EVENT_UNDEFINED:
      out->kind = DomainEventKind::kUndefined;
      return true;
    case VIR_DOMAIN_EVENT_STARTED:
      out->kind = DomainEventKind::kStarted;
      out->migration = detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED;
      return true;
    case VIR_DOMAIN_EVENT_SUSPENDED:
      out->kind = DomainEventKind::kSuspended;
      out->migration = detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED;
      return true;
    case VIR_DOMAIN_EVENT_RESUMED:
      out->kind = DomainEventKind::kResumed;
      out->migration = detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED;
      return true;
    case VIR_DOMAIN_EVENT_SHUTDOWN:
      out->kind = DomainEventKind::kShutdown;
      return true;
    case VIR_DOMAIN_EVENT_STOPPED:
      out->kind = DomainEventKind::kStopped;
      out->reason = FromStoppedDetail(detail);
      out->migration = out->reason == StopReason::kMigrated;
      return true;
    case VIR_DOMAIN_EVENT_CRASHED:
      out->kind = DomainEventKind::kCrashed;
      return true;
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
      out->kind = DomainEventKind::kPmSuspended;
      return true;
    default:
      return false;
  }
}

// The calling thread's last libvirt error as a status (codes as libvirt.h documents them).
absl::Status LibvirtError(const std::string& what) {
  virErrorPtr e = virGetLastError();
  const int code = e ? e->code : 0;
  std::string msg = absl::StrCat(what, ": ", LastLibvirtError());
  switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_DEVICE_MISSING:
      return absl::NotFoundError(msg);
    case VIR_ERR_OPERATION_INVALID:
      return absl::FailedPreconditionError(msg);
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_RPC:
    case VIR_ERR_AGENT_UNRESPONSIVE:  // not connected, or no answer within the timeout
    case VIR_ERR_AGENT_UNSYNCED:
      return absl::UnavailableError(msg);
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_CONFIG_UNSUPPORTED:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

bool NoDomain() {
  virErrorPtr e = virGetLastError();
  return e && e->code == VIR_ERR_NO_DOMAIN;
}

class CConnection : public LibvirtConnection {
 public:
  static absl::StatusOr<std::unique_ptr<LibvirtConnection>> Open(const std::string& uri,
                                                                 LibvirtCallbacks callbacks);
  ~CConnection() override;

  const std::string& uri() const override { return uri_; }
  absl::Status DefineDomain(const std::string& xml) override;
  absl::StatusOr<DomainStateInfo> GetState(const std::string& name) override;
  absl::Status StartDomain(const std::string& name) override {
    return WithDomain("start", name, [](virDomainPtr d) { return virDomainCreate(d); });
  }
  absl::Status ShutdownDomain(const std::string& name) override {
    return WithDomain("shutdown", name, [](virDomainPtr d) {
      return virDomainShutdownFlags(d, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN);
    });
  }
  absl::Status DestroyDomain(const std::string& name) override {
    return WithDomain("destroy", name, [](virDomainPtr d) { return virDomainDestroy(d); });
  }
  absl::Status UndefineDomain(const std::string& name) override;
  absl::StatusOr<std::string> GetXml(const std::string& name, bool inactive) override;
  absl::Status AttachDevice(const std::string& name, const std::string& xml,
                            DeviceFlags flags) override {
    return WithDomain("attach device to", name, [&](virDomainPtr d) {
      return virDomainAttachDeviceFlags(d, xml.c_str(), flags);
    });
  }
  absl::Status DetachDevice(const std::string& name, const std::string& xml,
                            DeviceFlags flags) override {
    return WithDomain("detach device from", name, [&](virDomainPtr d) {
      return virDomainDetachDeviceFlags(d, xml.c_str(), flags);
    });
  }
  absl::Status DetachDeviceAlias(const std::string& name, const std::string& alias,
                                 DeviceFlags flags) override {
    return WithDomain(
        absl::StrCat("detach device ", alias, " from").c_str(), name,
        [&](virDomainPtr d) { return virDomainDetachDeviceAlias(d, alias.c_str(), flags); });
  }
  absl::StatusOr<std::vector<GuestInterface>> GuestInterfaces(const std::string& name,
                                                              absl::Duration timeout) override;
  absl::Status Migrate(const std::string& name, const MigrationRequest& request) override;
  absl::StatusOr<MigrationProgress> JobProgress(const std::string& name) override;
  absl::Status AbortJob(const std::string& name) override {
    return WithDomain("abort the job of", name,
                      [](virDomainPtr d) { return virDomainAbortJob(d); });
  }
  absl::Status UpdateDevice(const std::string& name, const std::string& xml,
                            DeviceFlags flags) override {
    return WithDomain("update device of", name, [&](virDomainPtr d) {
      return virDomainUpdateDeviceFlags(d, xml.c_str(), flags);
    });
  }

 private:
  CConnection(std::string uri, LibvirtCallbacks callbacks)
      : uri_(std::move(uri)), callbacks_(std::move(callbacks)) {}

  // The domain's handle (a new reference the caller frees), nullptr with libvirt's error set.
  virDomainPtr Lookup(const std::string& name);
  void Forget(const std::string& name);
  absl::Status WithDomain(const char* what, const std::string& name,
                          const std::function<int(virDomainPtr)>& op);

  static int OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque);
  static void OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias, void* opaque);
  static void OnClose(virConnectPtr, int reason, void* opaque);

  const std::string uri_;
  const LibvirtCallbacks callbacks_;
  virConnectPtr conn_ = nullptr;
  int lifecycle_id_ = -1;
  int removed_id_ = -1;
  bool close_registered_ = false;
  std::mutex mu_;  // guards domains_
  std::map<std::string, virDomainPtr> domains_;
};

absl::StatusOr<std::unique_ptr<LibvirtConnection>> CConnection::Open(const std::string& uri,
                                                                     LibvirtCallbacks callbacks) {
  if (auto s = EnsureLibvirtEventLoop(); !s.ok()) return s;
  std::unique_ptr<CConnection> c(new CConnection(uri, std::move(callbacks)));
  c->conn_ = virConnectOpen(uri.c_str());
  if (!c->conn_)
    return absl::UnavailableError(absl::StrCat("connect to ", uri, ": ", LastLibvirtError()));
  // The embedded driver has no RPC: keepalive does not apply there.
  if (!absl::StartsWith(uri, "qemu:///embed") && virConnectSetKeepAlive(c->conn_, 5, 3) < 0)
    spdlog::debug("keepalive on {}: {}", uri, LastLibvirtError());
  c->close_registered_ =
      virConnectRegisterCloseCallback(c->conn_, &CConnection::OnClose, c.get(), nullptr) == 0;
  c->lifecycle_id_ = virConnectDomainEventRegisterAny(
      c->conn_, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
      VIR_DOMAIN_EVENT_CALLBACK(&CConnection::OnLifecycle), c.get(), nullptr);
  if (c->lifecycle_id_ < 0) return LibvirtError(absl::StrCat("register lifecycle events on ", uri));
  c->removed_id_ = virConnectDomainEventRegisterAny(
      c->conn_, nullptr, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
      VIR_DOMAIN_EVENT_CALLBACK(&CConnection::OnDeviceRemoved), c.get(), nullptr);
  if (c->removed_id_ < 0) spdlog::warn("device-removed events on {}: {}", uri, LastLibvirtError());
  return c;
}

CConnection::~CConnection() {
  if (!conn_) return;
  if (lifecycle_id_ >= 0) virConnectDomainEventDeregisterAny(conn_, lifecycle_id_);
  if (removed_id_ >= 0) virConnectDomainEventDeregisterAny(conn_, removed_id_);
  if (close_registered_) virConnectUnregisterCloseCallback(conn_, &CConnection::OnClose);
  for (auto& [name, dom] : domains_) virDomainFree(dom);
  virConnectClose(conn_);
}

virDomainPtr CConnection::Lookup(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) {
    virDomainPtr dom = virDomainLookupByName(conn_, name.c_str());
    if (!dom) return nullptr;
    it = domains_.emplace(name, dom).first;
  }
  if (virDomainRef(it->second) < 0) return nullptr;
  return it->second;
}

void CConnection::Forget(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = domains_.find(name);
  if (it == domains_.end()) return;
  virDomainFree(it->second);
  domains_.erase(it);
}

absl::Status CConnection::WithDomain(const char* what, const std::string& name,
                                     const std::function<int(virDomainPtr)>& op) {
  virDomainPtr dom = Lookup(name);
  if (!dom) return LibvirtError(absl::StrCat(what, " ", name, ": lookup"));
  const int rc = op(dom);
  // Read the error before virDomainFree: every public libvirt call resets the thread's last
  // error, which made failed starts read "no error".
  const absl::Status st = rc >= 0 ? absl::OkStatus() : LibvirtError(absl::StrCat(what, " ", name));
  const bool gone = rc < 0 && NoDomain();
  virDomainFree(dom);
  if (gone) Forget(name);  // undefined behind our back: look it up again next time
  return st;
}

absl::Status CConnection::DefineDomain(const std::string& xml) {
  virDomainPtr dom = virDomainDefineXML(conn_, xml.c_str());
  if (!dom) return LibvirtError("define domain");
  const char* n = virDomainGetName(dom);
  const std::string name = n ? n : "";
  // A redefinition may carry another UUID: the handle just returned is the one to keep.
  Forget(name);
  std::lock_guard<std::mutex> l(mu_);
  domains_.emplace(name, dom);
  return absl::OkStatus();
}

absl::StatusOr<DomainStateInfo> CConnection::GetState(const std::string& name) {
  int state = 0, reason = 0;
  absl::Status s = WithDomain(
      "state of", name, [&](virDomainPtr d) { return virDomainGetState(d, &state, &reason, 0); });
  if (!s.ok()) return s;
  return FromState(state, reason);
}

absl::Status CConnection::UndefineDomain(const std::string& name) {
  absl::Status s = WithDomain("undefine", name, [](virDomainPtr d) {
    return virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_NVRAM);
  });
  Forget(name);
  return s;
}

absl::StatusOr<std::string> CConnection::GetXml(const std::string& name, bool inactive) {
  std::string out;
  absl::Status s = WithDomain("get XML of", name, [&](virDomainPtr d) {
    char* x = virDomainGetXMLDesc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
    if (!x) return -1;
    out = x;
    free(x);
    return 0;
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<GuestInterface>> CConnection::GuestInterfaces(const std::string& name,
                                                                         absl::Duration timeout) {
  std::vector<GuestInterface> out;
  bool unsupported = false;
  const int seconds = std::max<int>(1, static_cast<int>(absl::ToInt64Seconds(timeout)));
  absl::Status s = WithDomain("ask the guest agent of", name, [&](virDomainPtr d) {
    // Bounds every agent command of this domain (libvirt's default is to block).
    if (virDomainAgentSetResponseTimeout(d, seconds, 0) < 0) return -1;
    virDomainInterfacePtr* ifaces = nullptr;
    const int n =
        virDomainInterfaceAddresses(d, &ifaces, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0);
    if (n < 0) {
      if (virErrorPtr e = virGetLastError()) unsupported = e->code == VIR_ERR_ARGUMENT_UNSUPPORTED;
      return -1;
    }
    for (int i = 0; i < n; ++i) {
      GuestInterface g;
      g.name = ifaces[i]->name ? ifaces[i]->name : "";
      g.mac = ifaces[i]->hwaddr ? absl::AsciiStrToLower(ifaces[i]->hwaddr) : "";
      for (unsigned j = 0; j < ifaces[i]->naddrs; ++j)
        if (ifaces[i]->addrs[j].addr)
          g.addresses.push_back(
              absl::StrCat(ifaces[i]->addrs[j].addr, "/", ifaces[i]->addrs[j].prefix));
      out.push_back(std::move(g));
      virDomainInterfaceFree(ifaces[i]);
    }
    free(ifaces);
    return 0;
  });
  // A domain without the agent's channel: "QEMU guest agent is not configured".
  if (!s.ok() && unsupported) return absl::UnavailableError(s.message());
  if (!s.ok()) return s;
  return out;
}

absl::Status CConnection::Migrate(const std::string& name, const MigrationRequest& request) {
  virTypedParameterPtr params = nullptr;
  int n = 0, max = 0;
  bool ok = true;
  if (!request.migrate_uri.empty())
    ok = ok && virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_URI,
                                       request.migrate_uri.c_str()) == 0;
  if (!request.dest_xml.empty())
    ok = ok && virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_DEST_XML,
                                       request.dest_xml.c_str()) == 0;
  if (request.bandwidth_mib_s > 0)
    ok = ok && virTypedParamsAddULLong(&params, &n, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
                                       request.bandwidth_mib_s) == 0;
  // An explicit list: libvirt would otherwise also copy the node's shared disks (hostDisk,
  // claims) onto themselves.
  for (const std::string& disk : request.copy_disks)
    ok = ok && virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_MIGRATE_DISKS,
                                       disk.c_str()) == 0;
  if (!request.copy_disks.empty() && !request.disks_uri.empty())
    ok = ok && virTypedParamsAddString(&params, &n, &max, VIR_MIGRATE_PARAM_DISKS_URI,
                                       request.disks_uri.c_str()) == 0;
  if (!ok) {
    virTypedParamsFree(params, n);
    return LibvirtError(absl::StrCat("migrate ", name, ": parameters"));
  }
  unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                       VIR_MIGRATE_UNDEFINE_SOURCE;
  if (!request.copy_disks.empty()) flags |= VIR_MIGRATE_NON_SHARED_INC;
  bool cancelled = false;
  absl::Status s = WithDomain("migrate", name, [&](virDomainPtr d) {
    // Set every time: QEMU keeps the limit for the life of the process, so an earlier
    // attempt's limit would otherwise apply to this one.
    const absl::Duration downtime =
        request.max_downtime > absl::ZeroDuration() ? request.max_downtime : kDefaultMaxDowntime;
    if (virDomainMigrateSetMaxDowntime(d, absl::ToInt64Milliseconds(downtime), 0) < 0) return -1;
    const int rc = virDomainMigrateToURI3(d, request.dest_uri.c_str(), params, n, flags);
    if (rc < 0)
      if (virErrorPtr e = virGetLastError()) cancelled = e->code == VIR_ERR_OPERATION_ABORTED;
    return rc;
  });
  virTypedParamsFree(params, n);
  if (s.ok()) Forget(name);  // undefined here: the domain lives on the destination now
  if (!s.ok() && cancelled) return absl::AbortedError(s.message());
  return s;
}

absl::StatusOr<MigrationProgress> CConnection::JobProgress(const std::string& name) {
  MigrationProgress p;
  absl::Status s = WithDomain("read the job of", name, [&](virDomainPtr d) {
    int type = VIR_DOMAIN_JOB_NONE;
    virTypedParameterPtr params = nullptr;
    int n = 0;
    if (virDomainGetJobStats(d, &type, &params, &n, 0) < 0) return -1;
    p.active = type == VIR_DOMAIN_JOB_BOUNDED || type == VIR_DOMAIN_JOB_UNBOUNDED;
    const std::pair<const char*, uint64_t*> fields[] = {
        {VIR_DOMAIN_JOB_DATA_TOTAL, &p.data_total},
        {VIR_DOMAIN_JOB_DATA_PROCESSED, &p.data_processed},
        {VIR_DOMAIN_JOB_DATA_REMAINING, &p.data_remaining},
        {VIR_DOMAIN_JOB_MEMORY_ITERATION, &p.iteration},
        {VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, &p.dirty_rate},
        {VIR_DOMAIN_JOB_DOWNTIME, &p.expected_downtime_ms},
        {VIR_DOMAIN_JOB_TIME_ELAPSED, &p.elapsed_ms}};
    for (const auto& [field, out] : fields) {
      unsigned long long v = 0;
      if (virTypedParamsGetULLong(params, n, field, &v) == 1) *out = v;
    }
    virTypedParamsFree(params, n);
    return 0;
  });
  if (!s.ok()) return s;
  return p;
}

int CConnection::OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  auto* self = static_cast<CConnection*>(opaque);
  const char* n = virDomainGetName(dom);
  DomainEvent e;
  if (!n || !FromLifecycle(event, detail, &e)) return 0;
  spdlog::debug("libvirt {}: domain {} event {} detail {}", self->uri_, n, event, detail);
  if (self->callbacks_.on_lifecycle) self->callbacks_.on_lifecycle(n, e);
  return 0;
}

void CConnection::OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias,
                                  void* opaque) {
  auto* self = static_cast<CConnection*>(opaque);
  const char* n = virDomainGetName(dom);
  if (!n || !alias) return;
  if (self->callbacks_.on_device_removed) self->callbacks_.on_device_removed(n, alias);
}

void CConnection::OnClose(virConnectPtr, int reason, void* opaque) {
  auto* self = static_cast<CConnection*>(opaque);
  spdlog::warn("libvirt connection {} closed (reason {})", self->uri_, reason);
  if (self->callbacks_.on_connection_lost) self->callbacks_.on_connection_lost();
}

class CApi : public Libvirt {
 public:
  absl::StatusOr<std::unique_ptr<LibvirtConnection>> Connect(const std::string& uri,
                                                             LibvirtCallbacks callbacks) override {
    return CConnection::Open(uri, std::move(callbacks));
  }
};

}  // namespace

std::shared_ptr<Libvirt> LibvirtCApi() { return std::make_shared<CApi>(); }

}  // namespace k6t::launcher
