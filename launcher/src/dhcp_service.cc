#include "dhcp_service.h"

#include "k6t/binding/cache.h"
#include "k6t/dhcp/resolv_conf.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {

DhcpService::DhcpService(std::string state_dir, std::string resolv_conf)
    : state_dir_(std::move(state_dir)), resolv_conf_(std::move(resolv_conf)) {}

absl::Status DhcpService::Start(Launcher&) { return StartStandalone(); }

absl::Status DhcpService::StartStandalone() {
  auto cached = binding::ReadCachedInterfaces(state_dir_);
  if (!cached.ok()) return cached.status();
  server_ = std::make_unique<dhcp::Server>();
  for (const auto& c : *cached) {
    if (!c.plan.dhcp) continue;
    // Before the loop starts this only checks the offers; what fails is logged by the
    // server when it opens the interface, and reported in Statuses().
    (void)server_->AddInterface(WithPodDns(c.plan.dhcp.value(), resolv_conf_));
  }
  // Fails only when the event loop itself cannot be set up.
  if (auto st = server_->Start(); !st.ok()) return st;
  int failed = 0;
  const auto statuses = server_->Statuses();
  for (const auto& s : statuses)
    if (!s.Overall().ok()) ++failed;
  if (failed == 0) {
    spdlog::info("dhcp: serving {} interface(s)", statuses.size());
  } else {
    spdlog::warn("dhcp: serving {} interface(s), {} of them not completely (see above)",
                 statuses.size(), failed);
  }
  return absl::OkStatus();
}

absl::Status DhcpService::Add(const binding::DhcpPlan& plan) {
  if (!server_) return absl::FailedPreconditionError("dhcp service not started");
  absl::Status st = server_->AddInterface(WithPodDns(plan, resolv_conf_));
  // A hot-plugged NIC is attached only when its DHCP is served completely: the caller gets
  // the error and nothing is left serving half of the plan.
  if (!st.ok()) (void)server_->RemoveInterface(plan.bridge);
  return st;
}

absl::Status DhcpService::Remove(const std::string& bridge) {
  if (!server_) return absl::OkStatus();
  auto st = server_->RemoveInterface(bridge);
  return absl::IsNotFound(st) ? absl::OkStatus() : st;
}

std::vector<dhcp::InterfaceStatus> DhcpService::Statuses() const {
  if (!server_) return {};
  return server_->Statuses();
}

void DhcpService::Stop() {
  if (server_) server_->Stop();
}

}  // namespace k6t::launcher
