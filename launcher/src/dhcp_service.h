// The launcher's in-pod DHCPv4/DHCPv6/RA servers: one event loop serving every interface
// whose cached plan carries a DHCP offer, with DNS taken from the pod's resolv.conf when
// the plan left it to the launcher (as KubeVirt's virt-launcher does). An interface that
// cannot be served (its bridge missing, an invalid offer) is logged and reported by
// Statuses(); it never stops the service or the other interfaces.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "hotplug.h"
#include "k6t/binding/plan.h"
#include "k6t/dhcp/resolv_conf.h"
#include "k6t/dhcp/server.h"
#include "k6t/launcher/launcher.h"

namespace k6t::launcher {

// The offers' DNS from the pod's resolv.conf (libdhcp's, shared with the hook sidecar).
using dhcp::WithPodDns;

class DhcpService : public LauncherService, public HotplugDhcp {
 public:
  DhcpService(std::string state_dir, std::string resolv_conf = "/etc/resolv.conf");
  std::string name() const override { return "dhcp"; }
  absl::Status Start(Launcher& launcher) override;
  void Stop() override;

  // Without a Launcher: `k6t-launcher --network-only`.
  absl::Status StartStandalone();
  // Serves one more interface (hotplug; a bridge already served gets the new plan) or
  // stops serving one (unplug; a bridge not served is fine). When part of the plan cannot be
  // served, Add returns why and serves none of it (hotplug then attaches nothing).
  // Thread-safe.
  absl::Status Add(const binding::DhcpPlan& plan) override;
  absl::Status Remove(const std::string& bridge) override;
  // Every interface's status (empty before the service started). Thread-safe.
  std::vector<dhcp::InterfaceStatus> Statuses() const;

 private:
  std::string state_dir_, resolv_conf_;
  std::unique_ptr<dhcp::Server> server_;
};

}  // namespace k6t::launcher
