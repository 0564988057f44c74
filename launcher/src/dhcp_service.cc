#include "dhcp_service.h"

#include "k6t/binding/cache.h"
#include "k6t/dhcp/resolv_conf.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {

binding::DhcpPlan WithPodDns(binding::DhcpPlan plan, const std::string& resolv_conf) {
  auto rc = dhcp::ReadResolvConf(resolv_conf);
  dhcp::ResolvConf conf;
  if (rc.ok()) {
    conf = *rc;
  } else {
    spdlog::warn("dhcp: {}: {}; offering fallback DNS", resolv_conf, rc.status().ToString());
  }
  const bool none = conf.nameservers_v4.empty() && conf.nameservers_v6.empty();
  if (none) conf.nameservers_v4 = {"8.8.8.8"};
  if (conf.search.empty()) conf.search = {"cluster.local"};
  if (plan.v4) {
    if (plan.v4->dns_servers.empty()) plan.v4->dns_servers = conf.nameservers_v4;
    if (plan.v4->search_domains.empty()) plan.v4->search_domains = conf.search;
  }
  if (plan.v6) {
    if (plan.v6->dns_servers.empty()) plan.v6->dns_servers = conf.nameservers_v6;
    if (plan.v6->search_domains.empty()) plan.v6->search_domains = conf.search;
  }
  return plan;
}

DhcpService::DhcpService(std::string state_dir, std::string resolv_conf)
    : state_dir_(std::move(state_dir)), resolv_conf_(std::move(resolv_conf)) {}

absl::Status DhcpService::Start(Launcher&) { return StartStandalone(); }

absl::Status DhcpService::StartStandalone() {
  auto cached = binding::ReadCachedInterfaces(state_dir_);
  if (!cached.ok()) return cached.status();
  server_ = std::make_unique<dhcp::Server>();
  for (const auto& c : *cached) {
    if (!c.plan.dhcp) continue;
    if (auto st = Add(c.plan.dhcp.value()); !st.ok()) return st;
  }
  if (auto st = server_->Start(); !st.ok()) return st;
  spdlog::info("dhcp: serving {} interface(s)", interfaces());
  return absl::OkStatus();
}

absl::Status DhcpService::Add(const binding::DhcpPlan& plan) {
  if (!server_) return absl::FailedPreconditionError("dhcp service not started");
  if (auto st = server_->AddInterface(WithPodDns(plan, resolv_conf_)); !st.ok()) return st;
  {
    std::lock_guard<std::mutex> l(mu_);
    served_.insert(plan.bridge);
  }
  spdlog::info("dhcp: serving {}{}{}{}", plan.bridge, plan.v4 ? " v4" : "", plan.v6 ? " v6" : "",
               plan.ra ? " ra" : "");
  return absl::OkStatus();
}

absl::Status DhcpService::Remove(const std::string& bridge) {
  if (!server_) return absl::OkStatus();
  auto st = server_->RemoveInterface(bridge);
  if (st.ok() || absl::IsNotFound(st)) {
    std::lock_guard<std::mutex> l(mu_);
    served_.erase(bridge);
    if (st.ok()) spdlog::info("dhcp: stopped serving {}", bridge);
  }
  return absl::IsNotFound(st) ? absl::OkStatus() : st;
}

int DhcpService::interfaces() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(served_.size());
}

void DhcpService::Stop() {
  if (server_) server_->Stop();
}

}  // namespace k6t::launcher
