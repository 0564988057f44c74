#include "sidecar_dhcp.h"

#include "k6t/dhcp/resolv_conf.h"
#include "spdlog/spdlog.h"

namespace k6t::sidecar {

absl::Status SidecarDhcp::Serve(const std::vector<binding::InterfacePlan>& plans) {
  std::lock_guard lock(mu_);
  for (const auto& plan : plans) {
    if (!plan.dhcp) continue;
    if (!server_) {
      server_ = std::make_unique<dhcp::Server>();
      if (auto st = server_->Start(); !st.ok()) {
        server_.reset();
        return st;
      }
    }
    const absl::Status st = server_->AddInterface(dhcp::WithPodDns(*plan.dhcp, resolv_conf_));
    if (st.ok()) {
      spdlog::info("dhcp: interface {} served on {}", plan.interface_name, plan.dhcp->bridge);
    } else {
      spdlog::warn("dhcp: interface {} on {} not served completely yet (retrying): {}",
                   plan.interface_name, plan.dhcp->bridge, st.ToString());
    }
  }
  return absl::OkStatus();
}

void SidecarDhcp::Stop() {
  std::lock_guard lock(mu_);
  if (server_) server_->Stop();
}

std::vector<dhcp::InterfaceStatus> SidecarDhcp::Statuses() const {
  std::lock_guard lock(mu_);
  return server_ ? server_->Statuses() : std::vector<dhcp::InterfaceStatus>{};
}

}  // namespace k6t::sidecar
