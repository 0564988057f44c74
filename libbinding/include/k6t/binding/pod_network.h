// The pod-network session: plan, set up, check and tear down a VMI's networks in its pod's
// network namespace, keeping the state dir (cache.h) in step so that an interrupted setup is
// resumed by the next one and teardown knows what to give back. Setup is plan -> cache
// `started` -> apply (one transaction, rolled back on failure) -> cache `finished`; an
// interface cached `started` is resumed from its cached plan (the CNI link is found by
// ifindex whatever it is called by then), never re-planned from a half-changed namespace.
// What k6t-handler, k6t-cni, `sync`/`watch` and an embedding launcher all call.
//
// The seams: `netns` (where kernel work runs) and `kernel` (the adapters it runs with) are
// real by default (a NetnsThread entered into pod_netns, RealKernel made on it for each
// call); InlineNetns + a FakeKernel (testing/fake_pod.h) run the whole session without root.
//
// Errors: the planner's (NotFound/InvalidArgument naming the interface), the netns entry's
// (netns.h), the executor's (executor.h: a failed setup is rolled back; when the rollback
// itself fails the status carries RollbackFailures and the plans stay cached `started`, so
// the next setup resumes and teardown removes what is left), the cache's (cache.h).
// Thread-safety: calls on one state dir must be serialised by the caller; calls sharing one
// NetnsRunner are serialised by it. Privileges: CAP_SYS_ADMIN to enter the netns,
// CAP_NET_ADMIN in it (and /dev/net/tun) to apply, write access to the state dir.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/api/network_status.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/binding.h"
#include "k6t/binding/drift.h"
#include "k6t/binding/executor.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/netns.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

// Makes kernel adapters for the namespace of the calling thread (it runs inside the
// session's NetnsRunner), calls `fn` with them and releases them.
using KernelScope = std::function<absl::Status(absl::FunctionRef<absl::Status(const Kernel&)> fn)>;

// The real adapters: a RealKernel for the call.
absl::Status WithRealKernel(absl::FunctionRef<absl::Status(const Kernel&)> fn);

struct PodNetworkRequest {
  api::Vmi vmi;
  std::string pod_netns;  // /run/netns/NAME or /proc/PID/ns/net
  std::string state_dir;  // empty for plan-only
  std::vector<api::NetworkStatusEntry> network_status;
  std::vector<api::NetworkInfoInterface> network_info;
  PlannerOptions options;
  std::vector<std::string> only;  // interface names; empty: all
  // Teardown of a pod whose guest moved to another pod (live migration): each CNI link is
  // given back down, with its name, MAC and addresses but no routes. Up, it would answer on
  // the segment with the MAC and address the guest still uses (a peer's TCP connection to
  // the migrated guest was reset by it).
  bool give_links_back_down = false;
  ExecutorOptions executor;
  // Where the kernel work runs: a runner already in pod_netns, shared by the calls of a
  // long-lived caller (`watch`, an embedding controller: a NetnsThread) or a caller already
  // inside (InlineNetns). Null: each call enters pod_netns on a NetnsThread of its own.
  std::shared_ptr<NetnsRunner> netns;
  // The adapters the work runs with. Null: WithRealKernel.
  KernelScope kernel;
};

// req.netns, or a NetnsThread entered into req.pod_netns.
absl::StatusOr<std::shared_ptr<NetnsRunner>> EnterPodNetns(const PodNetworkRequest& req);

// Runs `fn` inside the pod's namespace with req's adapters (entering it when req.netns is
// null): for a caller's own reads next to the session's work.
absl::Status RunInPod(const PodNetworkRequest& req,
                      absl::FunctionRef<absl::Status(const Kernel&)> fn);

struct PhaseTimings {
  absl::Duration enter, observe, plan, cache, apply;
};

struct SetupResult {
  std::vector<InterfacePlan> plans;  // every interface set up, in spec order
  ApplyReport report;
  std::vector<std::string> resumed;  // interfaces whose cached `started` plan was re-applied
  PhaseTimings timings;
};

struct CheckResult {
  std::vector<InterfacePlan> plans;  // the cached plans checked
  std::vector<Drift> drift;          // empty: the namespace is as the plans left it
};

// Reads the namespace and plans (req.only, or every interface not absent); changes nothing.
absl::StatusOr<std::vector<InterfacePlan>> PlanPodNetwork(const PodNetworkRequest& req);

// Plans what is not cached yet, records every new plan as started, applies all in one
// transaction (rolled back on failure), then records them finished. A second setup changes
// nothing. A new plan restores a namespace-wide sysctl that a cached plan already changed to
// that plan's original value (observed before k6t), not to k6t's own.
absl::StatusOr<SetupResult> SetupPodNetwork(const PodNetworkRequest& req);

// Undoes the cached plans (all, or req.only), later interfaces first, each step on its own
// (best effort), and removes them from the state dir; on an error they stay cached for a
// retry. A namespace-wide sysctl goes back to its value before k6t once no interface left
// cached sets it (with everything torn down, all of them).
absl::StatusOr<ApplyReport> TeardownPodNetwork(const PodNetworkRequest& req);

// Compares the namespace with the cached plans (all, or req.only) without changing anything
// (drift.h), plus interfaces whose setup did not finish. NotFound when nothing is cached.
absl::StatusOr<CheckResult> CheckPodNetwork(const PodNetworkRequest& req);

// PlannerOptions for this host: vhost-net usable or not.
PlannerOptions DefaultPlannerOptions();

}  // namespace k6t::binding
