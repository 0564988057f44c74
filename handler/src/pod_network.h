// The privileged side of k6t: plan, set up and tear down a VMI's pod networks inside the
// pod's network namespace, keeping the state dir in step so that an interrupted setup is
// resumed by the next one and teardown knows what to give back.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/api/network_status.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/binding.h"
#include "k6t/binding/executor.h"
#include "k6t/binding/netns.h"
#include "k6t/binding/plan.h"

namespace k6t::handler {

struct PodNetworkRequest {
  api::Vmi vmi;
  std::string pod_netns;  // /run/netns/NAME or /proc/PID/ns/net
  std::string state_dir;  // empty for plan-only
  std::vector<api::NetworkStatusEntry> network_status;
  std::vector<api::NetworkInfoInterface> network_info;
  binding::PlannerOptions options;
  std::vector<std::string> only;  // interface names; empty: all
  binding::ExecutorOptions executor;
  // A thread already in pod_netns, shared by the calls of a long-lived caller (`watch`, an
  // embedding controller) so that each call does not start one; null: each call enters.
  std::shared_ptr<binding::NetnsThread> netns;
};

// req.netns, or a thread entered into req.pod_netns for this call.
absl::StatusOr<std::shared_ptr<binding::NetnsThread>> PodNetns(const PodNetworkRequest& req);

struct PhaseTimings {
  absl::Duration enter, observe, plan, cache, apply;
};

struct SetupResult {
  std::vector<binding::InterfacePlan> plans;
  binding::ApplyReport report;
  std::vector<std::string> resumed;  // interfaces whose cached plan was re-applied
  PhaseTimings timings;
};

// Reads the namespace and plans; changes nothing.
absl::StatusOr<std::vector<binding::InterfacePlan>> PlanPodNetwork(const PodNetworkRequest& req);

// Plans what is not cached yet, records every plan as started, applies all in one
// transaction (rolled back on failure), then records them finished.
absl::StatusOr<SetupResult> SetupPodNetwork(const PodNetworkRequest& req);

// Undoes the cached plans (all, or req.only) and removes them from the state dir. Restores
// namespace-wide sysctls only when everything goes.
absl::StatusOr<binding::ApplyReport> TeardownPodNetwork(const PodNetworkRequest& req);

// Compares the namespace with the cached plans (all, or req.only) without changing anything:
// every link, master, MAC, up state and address the plans put in place, the pod link and the
// nftables tables. Returns the plans checked; FailedPrecondition listing each drift, or
// NotFound when nothing is cached.
absl::StatusOr<std::vector<binding::InterfacePlan>> CheckPodNetwork(const PodNetworkRequest& req);

// Host defaults for PlannerOptions: vhost-net presence.
binding::PlannerOptions DefaultPlannerOptions();

}  // namespace k6t::handler
