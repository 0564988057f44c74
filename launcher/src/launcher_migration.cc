// The launcher's half of live migration: the target waiting for its VM (--incoming) and
// preparing what the source's libvirt needs, and the source moving its VM out.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "domain/disks.h"
#include "domain_devices.h"
#include "domain_xml.h"
#include "k6t/launcher/launcher.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {

bool Launcher::awaiting_incoming() const { return options_.incoming && !incoming_arrived_; }

std::optional<Outcome> Launcher::IncomingOutcome() {
  domain_->WaitFor(
      [](const DomainStatus& st) {
        return st.phase == DomainPhase::kRunning || st.phase == DomainPhase::kStopped;
      },
      std::clamp(incoming_deadline_ - absl::Now(), absl::ZeroDuration(), absl::Milliseconds(200)));
  const DomainStatus s = domain_->status();
  if (s.phase == DomainPhase::kRunning) {
    incoming_arrived_ = true;
    spdlog::info("domain {} arrived by live migration and runs here", domain_->name());
    for (size_t i = 0; i < services_started_; ++i) services_[i]->AfterIncoming();
    return std::nullopt;
  }
  // The target's QEMU ends when the migration fails or is cancelled.
  if (s.phase == DomainPhase::kStopped)
    return Outcome{ExitCode::kIncomingFailed,
                   absl::StrCat("the incoming migration failed (the domain stopped: ",
                                StopReasonName(s.reason), ")")};
  if (absl::Now() >= incoming_deadline_)
    return Outcome{
        ExitCode::kIncomingFailed,
        absl::StrCat("no VM arrived within ", absl::FormatDuration(options_.incoming_timeout))};
  return std::nullopt;
}

absl::StatusOr<IncomingTarget> Launcher::PrepareIncoming(const std::string& source_xml) {
  if (!awaiting_incoming() || !domain_)
    return absl::FailedPreconditionError(
        "this launcher is not waiting for an incoming VM (start it with --incoming)");
  auto source = ParseLiveDomain(source_xml);
  if (!source.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("the source's domain XML: ", source.status().message()));
  IncomingTarget target;
  for (binding::InterfacePlan& plan : plans_) {
    if (!plan.device) continue;
    const LiveDevice* dev = source->FindAlias(plan.device->alias);
    if (!dev || dev->mac.empty() || dev->mac == plan.device->mac) continue;
    spdlog::info("interface {}: the guest's MAC is {} (this pod planned {})", plan.interface_name,
                 dev->mac, plan.device->mac);
    plan.mac = dev->mac;
    plan.device->mac = dev->mac;
    if (plan.dhcp && !plan.dhcp->client_mac.empty()) {
      plan.dhcp->client_mac = dev->mac;
      target.dhcp_changed.push_back(*plan.dhcp);
    }
  }
  auto xml = GenerateDomainXml(vmi_, plans_, *domain_options_);
  if (!xml.ok()) return xml.status();
  // SR-IOV VFs cannot migrate: the source unplugs them first and the target plugs its own VFs
  // once the VM arrived. The domain arrives as the source's is then: no hostdev, the root
  // port it used free.
  std::set<std::string> vfs;
  for (const binding::InterfacePlan& plan : plans_)
    if (plan.device && plan.device->kind == binding::DeviceKind::kHostdev)
      vfs.insert(plan.device->alias);
  if (!vfs.empty()) {
    xml = WithoutHostdevs(*xml, vfs);
    if (!xml.ok()) return xml.status();
  }
  generated_xml_ = *xml;
  target.dest_uri = uri_;
  target.dest_xml = generated_xml_;
  return target;
}

absl::Status Launcher::MigrateOut(const MigrationRequest& request) {
  if (!domain_) return absl::FailedPreconditionError("migrate: the VM is not running");
  if (options_.incoming && !incoming_arrived_)
    return absl::FailedPreconditionError("migrate: this launcher is still waiting for its VM");
  // The guest's writes to overlays and empty disks exist only in this pod: they go along.
  auto layout = LayOutStorage(vmi_, *domain_options_);
  if (!layout.ok()) return layout.status();
  MigrationRequest with_disks = request;
  with_disks.copy_disks = PodLocalDiskTargets(*layout);
  const absl::Time t0 = absl::Now();
  spdlog::info("migrating domain {} to {} (data over {}{}{})", domain_->name(), request.dest_uri,
               request.migrate_uri.empty() ? "libvirt's choice" : request.migrate_uri,
               with_disks.copy_disks.empty() ? "" : ", copying disks ",
               absl::StrJoin(with_disks.copy_disks, " "));
  absl::Status s = domain_->Migrate(with_disks);
  if (s.ok())
    spdlog::info("domain {} migrated in {}", domain_->name(),
                 absl::FormatDuration(absl::Now() - t0));
  else
    spdlog::warn("migration of {} ended after {}: {}", domain_->name(),
                 absl::FormatDuration(absl::Now() - t0), s.ToString());
  return s;
}

}  // namespace k6t::launcher
