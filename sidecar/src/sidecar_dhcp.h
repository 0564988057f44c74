// The sidecar's DHCPv4/DHCPv6/RA servers (libdhcp) for the interfaces it rewrote: each plan
// with a DHCP offer is served on its bridge with the pod's DNS (dhcp::WithPodDns), as
// k6t-launcher serves them. The loop starts with the first plans; a plan for a bridge
// already served replaces its offer, so a repeated OnDefineDomain serves exactly once.
//
// Errors: Serve returns only the loop's own failure (epoll/eventfd/timerfd); an interface
// that cannot be served yet (no permission for port 67, bridge missing) is logged and
// retried by the server. Thread-safety: Serve and Stop may be called from any thread.
// Privileges: CAP_NET_BIND_SERVICE (ports 67 and 547) and CAP_NET_RAW (DHCPv4 replies on a
// packet socket, ICMPv6 for RAs) in the pod's network namespace, which it must run in.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "k6t/binding/plan.h"
#include "k6t/dhcp/server.h"

namespace k6t::sidecar {

// Where DefineDomain's plans go once the domain is rewritten (a seam for tests).
class PlanSink {
 public:
  virtual ~PlanSink() = default;
  virtual absl::Status Serve(const std::vector<binding::InterfacePlan>& plans) = 0;
};

class SidecarDhcp final : public PlanSink {
 public:
  explicit SidecarDhcp(std::string resolv_conf) : resolv_conf_(std::move(resolv_conf)) {}
  absl::Status Serve(const std::vector<binding::InterfacePlan>& plans) override;
  void Stop();
  std::vector<dhcp::InterfaceStatus> Statuses() const;

 private:
  std::string resolv_conf_;
  mutable std::mutex mu_;
  std::unique_ptr<dhcp::Server> server_;  // made by the first Serve with an offer
};

}  // namespace k6t::sidecar
