#include "k6t/launcher/launcher.h"

#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "domain_xml.h"
#include "host_caps.h"
#include "k6t/api/rpc.h"
#include "k6t/binding/cache.h"
#include "k6t/launcher/libvirt.h"
#include "libvirt_daemon.h"
#include "qemu_user.h"
#include "spdlog/spdlog.h"
#include "vm_storage.h"

namespace k6t::launcher {

namespace {

constexpr char kEmbedPrefix[] = "qemu:///embed";
// The QEMU guest agent's channel socket in the state dir; libvirt binds it and talks to the
// agent through it.
constexpr char kGuestAgentSocket[] = "qga.sock";

std::string EmbedRoot(const std::string& uri) {
  const size_t p = uri.find("root=");
  if (p == std::string::npos) return "";
  std::string root = uri.substr(p + 5);
  return root.substr(0, root.find('&'));
}

// The shared QEMU capabilities cache of these options (see libvirt_daemon.h).
CapsCache CapsOf(const LauncherOptions& options, const DomainOptions& domain) {
  CapsCache caps;
  caps.shared_root = options.caps_cache_root;
  caps.emulator = domain.emulator;
  caps.libvirtd = options.libvirtd;
  return caps;
}

class PhaseTimer {
 public:
  explicit PhaseTimer(const char* what) : what_(what), t0_(absl::Now()) {}
  ~PhaseTimer() { spdlog::info("phase {}: {}", what_, absl::FormatDuration(absl::Now() - t0_)); }

 private:
  const char* what_;
  absl::Time t0_;
};

}  // namespace

const char* ExitCodeTable() {
  return "exit codes:\n"
         "  0  the guest powered off, or a graceful shutdown (SIGTERM) completed\n"
         "  1  unexpected internal error\n"
         "  2  bad command line\n"
         "  3  configuration: VMI unreadable/invalid, interface plans missing, no domain XML\n"
         "  4  libvirt could not be started or reached, or was lost for good\n"
         "  5  libvirt refused to define or start the domain\n"
         "  6  the guest crashed (or QEMU failed)\n"
         "  7  graceful shutdown timed out: the guest ignored ACPI power-off and was destroyed\n"
         "  8  the domain was destroyed (Kill, or by someone else)\n"
         "  9  the VM left by live migration: it runs in another pod now\n"
         " 10  --incoming: no VM arrived within --incoming-timeout, or its migration failed\n";
}

Launcher::Launcher(LauncherOptions options, api::Vmi vmi)
    : options_(std::move(options)),
      vmi_(std::move(vmi)),
      domain_options_(std::make_unique<DomainOptions>()) {
  if (!options_.emulator.empty()) domain_options_->emulator = options_.emulator;
  if (!options_.libvirt) options_.libvirt = LibvirtCApi();
}

Launcher::~Launcher() { Stop(); }

void Launcher::AddService(std::unique_ptr<LauncherService> service) {
  services_.push_back(std::move(service));
}

absl::Status Launcher::Fail(ExitCode code, absl::Status status) {
  failure_code_ = code;
  return status;
}

std::string Launcher::libvirt_uri() const { return uri_; }

// QEMU opens the kernel and initrd itself, as qemu_user_: refused here with the path that
// stops it rather than by QEMU's "could not open kernel file" after the domain is defined.
absl::Status Launcher::ResolveQemuUser() {
  auto user = ParseQemuUser(options_.qemu_user);
  if (!user.ok()) return user.status();
  qemu_user_ = *user;
  const auto& kb = vmi_.spec.domain.kernel_boot;
  const bool own_kernel = kb && !kb->kernel_path.empty();
  for (const std::string& f : {own_kernel ? kb->kernel_path : domain_options_->guest_kernel,
                               own_kernel ? kb->initrd_path : domain_options_->guest_initrd}) {
    if (f.empty() || access(f.c_str(), F_OK) != 0) continue;  // GenerateDomainXml reports it
    if (auto s = CheckAccessAs(f, qemu_user_, R_OK); !s.ok())
      return absl::PermissionDeniedError(
          absl::StrCat("QEMU runs as ", options_.qemu_user, " (--qemu-user): ", s.message()));
  }
  // The state dir itself is opened to QEMU later (PrepareStateDirFor); the dirs above it
  // are not the launcher's to change.
  const std::string above = std::filesystem::absolute(options_.state_dir).parent_path().string();
  if (auto s = CheckAccessAs(above, qemu_user_, X_OK); !s.ok())
    return absl::PermissionDeniedError(absl::StrCat("QEMU runs as ", options_.qemu_user,
                                                    " (--qemu-user) and must reach the state dir ",
                                                    options_.state_dir, ": ", s.message()));
  // libvirt probes QEMU with CAP_DAC_OVERRIDE (so the probe sees KVM) but validates its
  // capabilities cache by whether the QEMU user can open /dev/kvm: when it cannot, every
  // start re-probes (seconds; about a minute under heavy load).
  if (access("/dev/kvm", F_OK) == 0)
    if (auto s = CheckAccessAs("/dev/kvm", qemu_user_, R_OK | W_OK); !s.ok())
      spdlog::warn(
          "{}: libvirt will re-probe QEMU's capabilities at every start; give the QEMU user "
          "/dev/kvm (udev's default is mode 0666) or use --qemu-user=root",
          std::string(s.message()));
  spdlog::info("QEMU runs as uid {} gid {}", qemu_user_.uid, qemu_user_.gid);
  return absl::OkStatus();
}

absl::Status Launcher::StartLibvirt() {
  PhaseTimer t("libvirt ready");
  const CapsCache caps = CapsOf(options_, *domain_options_);
  std::string uri = options_.libvirt_uri.empty() ? kDefaultLibvirtMode : options_.libvirt_uri;
  // The source's libvirt connects to the target's: the in-process driver has no socket.
  if (options_.incoming && uri == "embed") uri = "private";
  if (options_.incoming && absl::StartsWith(uri, kEmbedPrefix))
    return absl::InvalidArgumentError(
        "--incoming needs a libvirt the source can reach: --libvirt-uri=private or a daemon's URI");
  if (uri == "embed")
    uri = absl::StrCat(kEmbedPrefix, "?root=", options_.state_dir, "/libvirt-embed");
  if (uri == "private") {
    PrivateLibvirtdOptions o;
    o.root = options_.state_dir + "/libvirt";
    o.libvirtd = options_.libvirtd;
    o.qemu_user = qemu_user_;
    o.dynamic_ownership = NeedsDynamicOwnership(vmi_);
    caps_cache_dir_ = o.root + "/cache";
    const int seeded = caps.Seed(caps_cache_dir_);
    spdlog::info("QEMU capabilities cache: {} file(s) seeded from {}", seeded, caps.SharedDir());
    auto d = PrivateLibvirtd::Start(o, [this](bool ready) {
      if (ready)
        ++daemon_restarts_seen_;
      else
        daemon_failed_ = true;
    });
    if (!d.ok()) return d.status();
    daemon_ = std::move(*d);
    uri = daemon_->Uri();
  } else if (absl::StartsWith(uri, kEmbedPrefix)) {
    const std::string root = EmbedRoot(uri);
    if (root.empty())
      return absl::InvalidArgumentError(absl::StrCat("libvirt URI ", uri, " has no root="));
    if (auto s = PrepareEmbedRoot(root, qemu_user_, NeedsDynamicOwnership(vmi_)); !s.ok()) return s;
    caps_cache_dir_ = root + "/cache";
    const int seeded = caps.Seed(caps_cache_dir_);
    spdlog::info("embedded libvirt driver at {}; {} capabilities file(s) seeded", root, seeded);
  }
  uri_ = uri;
  auto dom = DomainLifecycle::Open(options_.libvirt, uri_, DomainName(vmi_));
  if (!dom.ok()) return dom.status();
  domain_ = std::move(*dom);
  return absl::OkStatus();
}

absl::Status Launcher::Start() {
  const absl::Time t0 = absl::Now();
  // Host facts.
  auto accel = ResolveAccel(options_.accel);
  if (!accel.ok()) return Fail(ExitCode::kConfig, accel.status());
  spdlog::info("accelerator {} ({}{})", AccelName(accel->accel), accel->reason,
               options_.accel == Accel::kAuto ? ", --accel=auto" : "");
  domain_options_->accel = accel->accel;
  domain_options_->vhost_net = HostHasVhostNet();
  domain_options_->hotplug_ports = options_.hotplug_ports;
  if (!options_.guest_dir.empty()) {
    domain_options_->guest_kernel = options_.guest_dir + "/vmlinuz";
    domain_options_->guest_initrd = options_.guest_dir + "/initrd.cpio.gz";
  }
  domain_options_->serial_log = options_.state_dir + "/serial.log";
  // The console's and the guest agent's sockets, in the state dir when their paths fit.
  for (auto [socket, name, what] :
       {std::tuple{&domain_options_->serial_socket, api::rpc::kSerialConsoleSocket,
                   "serial console"},
        std::tuple{&domain_options_->guest_agent_socket, kGuestAgentSocket, "guest agent"},
        std::tuple{&domain_options_->vnc_socket, api::rpc::kVncSocket, "VNC"}}) {
    const std::string path = options_.state_dir + "/" + name;
    if (path.size() < sizeof(sockaddr_un::sun_path))
      *socket = path;
    else
      spdlog::warn("no {} socket: {} is too long for a unix socket path", what, path);
  }
  if (auto s = ResolveQemuUser(); !s.ok()) return Fail(ExitCode::kConfig, s);

  // Plans.
  {
    PhaseTimer t("read plans");
    auto cached = binding::ReadCachedInterfaces(options_.state_dir);
    if (!cached.ok())
      return Fail(ExitCode::kConfig,
                  absl::Status(cached.status().code(),
                               absl::StrCat("reading interface plans from ", options_.state_dir,
                                            ": ", cached.status().message())));
    plans_.clear();
    for (auto& c : *cached) {
      if (c.phase != binding::PlumbingPhase::kFinished)
        spdlog::warn("interface {}: plumbing phase is not finished; using its plan anyway",
                     c.plan.interface_name);
      plans_.push_back(std::move(c.plan));
    }
    spdlog::info("{} interface plan(s) read", plans_.size());
  }

  {
    ScopedCpuPin pin;  // the driver's host CPUID, which cached capabilities are checked against
    if (auto s = StartLibvirt(); !s.ok()) return Fail(ExitCode::kLibvirt, s);
  }

  for (; services_started_ < services_.size(); ++services_started_) {
    LauncherService& svc = *services_[services_started_];
    if (auto s = svc.Start(*this); !s.ok())
      return Fail(ExitCode::kConfig,
                  absl::Status(s.code(), absl::StrCat("service ", svc.name(), ": ", s.message())));
    svc.ContributeDomainOptions(*domain_options_);
  }

  // A launcher restarted while its VM kept running adopts it instead of starting another.
  auto running = domain_->Adopt();
  if (!running.ok()) return Fail(ExitCode::kLibvirt, running.status());
  {
    // Disks: made ready for a new start; for an adopted VM only described (its QEMU uses them).
    PhaseTimer t("disks");
    auto storage = *running
                       ? DescribeVmStorage(vmi_, options_.state_dir, options_.storage)
                       : PrepareVmStorage(vmi_, options_.state_dir, options_.storage, qemu_user_);
    if (!storage.ok()) return Fail(ExitCode::kConfig, storage.status());
    storage_ = std::make_unique<VmStorage>(*std::move(storage));
    domain_options_->disk_sources = storage_->disks;
  }

  auto xml = GenerateDomainXml(vmi_, plans_, *domain_options_);
  if (!xml.ok()) return Fail(ExitCode::kConfig, xml.status());
  generated_xml_ = *xml;

  if (*running) {
    spdlog::info("domain {} already running: adopted", domain_->name());
    incoming_arrived_ = true;
  } else {
    // Starts the serial log empty, so that it is this boot's, and writable by QEMU.
    if (auto s = PrepareStateDirFor(options_.state_dir, domain_options_->serial_log, qemu_user_);
        !s.ok())
      return Fail(ExitCode::kConfig, s);
    if (const std::string& vnc = domain_options_->vnc_socket; !vnc.empty())
      if (auto s = PrepareQemuOwnedDir(vnc.substr(0, vnc.rfind('/')), qemu_user_); !s.ok())
        return Fail(ExitCode::kConfig, s);
    // A socket left by an earlier QEMU would make the bind fail.
    for (const std::string* sock :
         {&domain_options_->serial_socket, &domain_options_->guest_agent_socket,
          &domain_options_->vnc_socket})
      if (!sock->empty()) unlink(sock->c_str());
    if (options_.incoming) {
      incoming_deadline_ = absl::Now() + options_.incoming_timeout;
      spdlog::info("waiting up to {} for domain {} to arrive by live migration at {}",
                   absl::FormatDuration(options_.incoming_timeout), domain_->name(), uri_);
      return absl::OkStatus();  // the source's libvirt defines and starts it here
    }
    {
      ScopedCpuPin pin;  // a probe run now records the same CPUID as StartLibvirt saw
      PhaseTimer t("define (includes QEMU capability probing when the cache is cold)");
      if (auto s = domain_->Define(generated_xml_); !s.ok()) return Fail(ExitCode::kDomainStart, s);
    }
    if (!caps_cache_dir_.empty()) {
      const CapsCache caps = CapsOf(options_, *domain_options_);
      const int n = caps.Publish(caps_cache_dir_);
      if (n > 0)
        spdlog::info("QEMU capabilities cache: {} file(s) published to {}", n, caps.SharedDir());
    }
    PhaseTimer t("start");
    if (auto s = domain_->Start(); !s.ok()) return Fail(ExitCode::kDomainStart, s);
  }
  spdlog::info("domain {} running ({} since launcher start)", domain_->name(),
               absl::FormatDuration(absl::Now() - t0));
  return absl::OkStatus();
}

std::optional<Outcome> Launcher::OutcomeOfStop(const DomainStatus& s) const {
  if (s.phase != DomainPhase::kStopped) return std::nullopt;
  if (auto requested = RequestedEnd()) return requested;
  switch (s.reason) {
    case StopReason::kShutdown:
      return Outcome{s.crashed ? ExitCode::kGuestCrashed : ExitCode::kGuestStopped,
                     "the guest powered off"};
    case StopReason::kCrashed:
      return Outcome{ExitCode::kGuestCrashed, "the guest crashed"};
    case StopReason::kFailed:
      return Outcome{ExitCode::kGuestCrashed, "QEMU failed"};
    case StopReason::kDestroyed:
      return Outcome{ExitCode::kKilled, "the domain was destroyed by someone else"};
    case StopReason::kMigrated:
      return Outcome{ExitCode::kMigrated, "the VM moved to another pod by live migration"};
    default:
      return Outcome{ExitCode::kKilled,
                     absl::StrCat("the domain stopped (", StopReasonName(s.reason), ")")};
  }
}

std::optional<Outcome> Launcher::Wait(absl::Duration timeout) {
  if (!domain_) return Outcome{ExitCode::kInternal, "not started"};
  if (awaiting_incoming()) return IncomingOutcome();
  const DomainStatus s = domain_->WaitForStopOrLoss(timeout);
  if (auto o = OutcomeOfStop(s)) return o;
  if (daemon_failed_) return Outcome{ExitCode::kLibvirt, "the private libvirtd keeps dying"};
  if (!domain_->connection_lost()) return std::nullopt;
  // The daemon went away. A private one is being restarted by its supervisor; an external
  // one may come back. Either way: try to reconnect, and let the next Wait() retry.
  if (daemon_ && daemon_->restarts() == 0 && daemon_restarts_seen_ == 0) {
    absl::SleepFor(std::min(timeout, absl::Milliseconds(200)));
  }
  if (auto r = domain_->Reconnect(); r.ok()) {
    spdlog::info("reconnected to {}; domain is {}", uri_, DomainPhaseName(domain_->status().phase));
    if (domain_->status().phase == DomainPhase::kNone)
      return Outcome{ExitCode::kKilled, "the domain vanished while libvirt was away"};
    if (domain_->status().phase == DomainPhase::kDefined)
      return Outcome{ExitCode::kGuestCrashed, "the domain stopped while libvirt was away"};
  } else {
    spdlog::warn("reconnect to {}: {}", uri_, r.ToString());
    absl::SleepFor(std::min(timeout, absl::Milliseconds(500)));
  }
  return std::nullopt;
}

void Launcher::ReconnectIfLost(absl::Duration patience) {
  // A SIGTERM can arrive while a restarted libvirtd is still coming up: acting on the lost
  // connection would misread the running domain as stopped.
  const absl::Time deadline = absl::Now() + patience;
  while (domain_->connection_lost() && absl::Now() < deadline) {
    if (auto r = domain_->Reconnect(); r.ok()) {
      spdlog::info("reconnected to {}; domain is {}", uri_,
                   DomainPhaseName(domain_->status().phase));
      return;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

absl::StatusOr<Outcome> Launcher::Shutdown(absl::Duration timeout) {
  if (!domain_) return Outcome{ExitCode::kGuestStopped, "nothing was running"};
  ReconnectIfLost(absl::Seconds(10));
  PhaseTimer t("graceful shutdown");
  auto r = domain_->Shutdown(timeout);
  if (!r.ok()) return r.status();
  switch (*r) {
    case ShutdownOutcome::kAlreadyStopped:
      if (auto o = OutcomeOfStop(domain_->status())) return *o;
      SetRequestedEnd(Outcome{ExitCode::kGuestStopped, "the domain was not running"});
      break;
    case ShutdownOutcome::kPoweredOff:
      SetRequestedEnd(Outcome{ExitCode::kGuestStopped, "the guest powered off on request"});
      break;
    case ShutdownOutcome::kDestroyedAfterTimeout:
      SetRequestedEnd(Outcome{ExitCode::kShutdownTimeout,
                              absl::StrCat("the guest ignored ACPI power-off for ",
                                           absl::FormatDuration(timeout), " and was destroyed")});
      break;
  }
  return *RequestedEnd();
}

absl::StatusOr<Outcome> Launcher::Kill() {
  if (!domain_) return Outcome{ExitCode::kKilled, "nothing was running"};
  ReconnectIfLost(absl::Seconds(10));
  SetRequestedEnd(Outcome{ExitCode::kKilled, "killed on request"});
  if (auto s = domain_->Destroy(); !s.ok()) return s;
  return *RequestedEnd();
}

absl::StatusOr<std::string> Launcher::DomainXml() {
  if (domain_) {
    auto x = domain_->Xml();
    if (x.ok() || !absl::IsNotFound(x.status())) return x;
  }
  if (generated_xml_.empty()) return absl::FailedPreconditionError("no domain XML yet");
  return generated_xml_;
}

std::optional<Outcome> Launcher::RequestedEnd() const {
  std::lock_guard<std::mutex> l(end_mu_);
  return requested_end_;
}

void Launcher::SetRequestedEnd(Outcome o) {
  std::lock_guard<std::mutex> l(end_mu_);
  requested_end_ = std::move(o);
}

DomainStatus Launcher::status() const { return domain_ ? domain_->status() : DomainStatus{}; }

void Launcher::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (size_t i = services_started_; i > 0; --i) services_[i - 1]->BeforeDomainStop();
  if (domain_) {
    if (auto s = domain_->Destroy(); !s.ok()) spdlog::warn("{}", s.ToString());
    if (auto s = domain_->Undefine(); !s.ok()) spdlog::warn("{}", s.ToString());
    domain_.reset();
  }
  if (storage_) {
    ReleaseVmStorage(*storage_);
    storage_.reset();
  }
  while (services_started_ > 0) services_[--services_started_]->Stop();
  if (daemon_) {
    PhaseTimer t("stop private libvirtd");
    daemon_->Stop();
    daemon_.reset();
  }
}

}  // namespace k6t::launcher
