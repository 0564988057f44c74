#include "migration_job.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "dhcp_service.h"
#include "k6t/api/errno_status.h"
#include "k6t/api/net.h"
#include "qemu_user.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

namespace msg = api::rpc;

// The migration stream's socket on the target (the unix transport: both pods on one node).
constexpr char kIncomingDir[] = "migration";

// An interface address in k6t's vocabulary; nullopt for families other than IPv4/IPv6.
std::optional<api::IpAddress> AddressOf(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in*>(sa)->sin_addr;
    return api::IpAddress::FromBytes({reinterpret_cast<const uint8_t*>(&a), sizeof(a)});
  }
  if (sa->sa_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    return api::IpAddress::FromBytes({reinterpret_cast<const uint8_t*>(&a), sizeof(a)});
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<IncomingUris> IncomingMigrateUris(const std::string& interface,
                                                 const std::string& state_dir,
                                                 const QemuUser& qemu_user) {
  if (interface.empty()) {
    const std::string dir = absl::StrCat(state_dir, "/", kIncomingDir);
    if (auto s = PrepareQemuOwnedDir(dir, qemu_user); !s.ok()) return s;
    return IncomingUris{absl::StrCat("unix://", dir, "/qemu.sock"),
                        absl::StrCat("unix://", dir, "/nbd.sock")};
  }
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0)
    return api::ErrnoStatus("reading the pod's addresses (getifaddrs)", errno);
  std::optional<api::IpAddress> v4, v6;
  bool link_found = false;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_name || interface != a->ifa_name) continue;
    link_found = true;
    if (!a->ifa_addr) continue;
    const std::optional<api::IpAddress> ip = AddressOf(a->ifa_addr);
    if (!ip) continue;
    if (ip->is_v4() && !v4) v4 = ip;
    if (ip->is_v6() && !v6 && !ip->IsLinkLocal()) v6 = ip;
  }
  freeifaddrs(list);
  if (!link_found)
    return absl::NotFoundError(
        absl::StrCat("migration interface ", interface, ": no such link in the target pod"));
  if (v4) return IncomingUris{absl::StrCat("tcp://", v4->ToString()), ""};
  if (v6) return IncomingUris{absl::StrCat("tcp://[", v6->ToString(), "]"), ""};
  return absl::NotFoundError(
      absl::StrCat("migration interface ", interface, ": no global IP address"));
}

MigrationJob::~MigrationJob() {
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<msg::PrepareMigrationTargetResult> MigrationJob::PrepareTarget(
    const msg::PrepareMigrationTargetParams& params) {
  auto uris = IncomingMigrateUris(params.migration_interface, launcher_.options().state_dir,
                                  launcher_.qemu_user());
  if (!uris.ok()) return uris.status();
  auto target = launcher_.PrepareIncoming(params.source_xml);
  if (!target.ok()) return target.status();
  link_refresh_ = params.link_refresh;
  for (const binding::DhcpPlan& offer : target->dhcp_changed) {
    if (!dhcp_) break;
    // One interface not served only costs that guest a renewal; the migration goes on.
    if (auto s = dhcp_->Add(offer); !s.ok())
      spdlog::warn("DHCP on {} for the guest's MAC {}: {}", offer.bridge, offer.client_mac,
                   s.ToString());
  }
  return msg::PrepareMigrationTargetResult{target->dest_uri, target->dest_xml, uris->migrate,
                                           uris->disks};
}

absl::Status MigrationJob::Start(const msg::MigrateParams& params) {
  std::lock_guard<std::mutex> l(mu_);
  if (last_.state == "running")
    return absl::FailedPreconditionError("a migration of this VM is already running");
  if (launcher_.status().phase != DomainPhase::kRunning &&
      launcher_.status().phase != DomainPhase::kPaused)
    return absl::FailedPreconditionError(absl::StrCat(
        "migrate: the VM is not running (", DomainPhaseName(launcher_.status().phase), ")"));
  if (thread_.joinable()) thread_.join();  // the previous, finished job
  MigrationRequest r;
  r.dest_uri = params.dest_uri;
  r.dest_xml = params.dest_xml;
  r.migrate_uri = params.migrate_uri;
  r.disks_uri = params.disks_uri;
  r.max_downtime = absl::Milliseconds(params.max_downtime_ms);
  r.bandwidth_mib_s = static_cast<uint64_t>(params.bandwidth_mib_s);
  last_ = msg::GetMigrationResult{};
  last_.state = "running";
  abort_requested_ = false;
  thread_ = std::thread([this, r = std::move(r)] { Run(r); });
  return absl::OkStatus();
}

std::vector<std::string> MigrationJob::VfInterfaces() const {
  std::vector<std::string> out;
  for (const binding::InterfacePlan& plan : launcher_.plans())
    if (plan.device && plan.device->kind == binding::DeviceKind::kHostdev)
      out.push_back(plan.interface_name);
  return out;
}

void MigrationJob::Replug(const std::vector<std::string>& names, const char* why) {
  for (const std::string& name : names) {
    auto r = hotplug_->Attach(name);
    if (r.ok())
      spdlog::info("interface {}: SR-IOV VF plugged {}", name, why);
    else
      spdlog::error("interface {}: SR-IOV VF not plugged {}: {}", name, why, r.status().ToString());
  }
}

void MigrationJob::AfterArrival() {
  if (!hotplug_) return;
  Replug(VfInterfaces(), "on the target");
  if (!link_refresh_) return;
  for (const binding::InterfacePlan& plan : launcher_.plans()) {
    if (plan.binding != "bridge" && plan.binding != "l2bridge") continue;
    auto down = hotplug_->SetLinkState(plan.interface_name, false);
    // Long enough for the guest's driver to see the carrier go.
    absl::SleepFor(absl::Milliseconds(500));
    auto up = hotplug_->SetLinkState(plan.interface_name, true);
    if (down.ok() && up.ok())
      spdlog::info("interface {}: link refreshed after the migration", plan.interface_name);
    else
      spdlog::error("interface {}: link refresh after the migration: {}", plan.interface_name,
                    (down.ok() ? up.status() : down.status()).ToString());
  }
}

void MigrationJob::Run(MigrationRequest request) {
  // VFs are host devices: unplugged (the guest releases them) before the VM leaves.
  std::vector<std::string> unplugged;
  absl::Status s;
  if (hotplug_) {
    for (const std::string& name : VfInterfaces()) {
      auto r = hotplug_->Detach(name);
      if (!r.ok()) {
        s = absl::Status(r.status().code(),
                         absl::StrCat("unplugging SR-IOV interface ", name,
                                      " before the migration: ", r.status().message()));
        break;
      }
      spdlog::info("interface {}: SR-IOV VF unplugged for the migration", name);
      unplugged.push_back(name);
    }
  }
  if (s.ok()) s = launcher_.MigrateOut(request);
  if (!s.ok() && !unplugged.empty()) Replug(unplugged, "back on the source");
  std::lock_guard<std::mutex> l(mu_);
  if (s.ok()) {
    last_.state = "completed";
    last_.data_remaining = 0;
  } else if (absl::IsAborted(s) || abort_requested_) {
    last_.state = "cancelled";
    last_.message = std::string(s.message());
  } else {
    last_.state = "failed";
    last_.message = std::string(s.message());
  }
}

msg::GetMigrationResult MigrationJob::Get() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (last_.state != "running") return last_;
  }
  // Asked without the lock: the job's end may race this poll, which then reads no job.
  DomainLifecycle* domain = launcher_.domain();
  auto p = domain ? domain->JobProgress() : absl::UnavailableError("no domain");
  std::lock_guard<std::mutex> l(mu_);
  if (p.ok() && p->active && last_.state == "running") {
    last_.data_total = static_cast<int64_t>(p->data_total);
    last_.data_processed = static_cast<int64_t>(p->data_processed);
    last_.data_remaining = static_cast<int64_t>(p->data_remaining);
    last_.iteration = static_cast<int64_t>(p->iteration);
    last_.dirty_rate = static_cast<int64_t>(p->dirty_rate);
    last_.expected_downtime_ms = static_cast<int64_t>(p->expected_downtime_ms);
    last_.elapsed_ms = static_cast<int64_t>(p->elapsed_ms);
  }
  return last_;
}

absl::StatusOr<bool> MigrationJob::Abort() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (last_.state != "running") return false;
    abort_requested_ = true;
  }
  DomainLifecycle* domain = launcher_.domain();
  if (!domain) return false;
  if (auto s = domain->AbortMigration(); !s.ok()) return s;
  return true;
}

}  // namespace k6t::launcher
