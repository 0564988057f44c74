#include "pod_network.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "k6t/binding/cache.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/netns.h"
#include "k6t/binding/planner.h"
#include "k6t/binding/pod_state.h"
#include "spdlog/spdlog.h"

namespace k6t::handler {
namespace {

using binding::CachedInterface;
using binding::InterfacePlan;
using binding::PlumbingPhase;

bool Wanted(const PodNetworkRequest& req, const std::string& name) {
  return req.only.empty() || std::find(req.only.begin(), req.only.end(), name) != req.only.end();
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

absl::StatusOr<std::vector<InterfacePlan>> ObserveAndPlan(binding::NetnsThread& ns,
                                                          const PodNetworkRequest& req,
                                                          const std::vector<std::string>& only,
                                                          PhaseTimings* t) {
  absl::Time start = absl::Now();
  auto pod = ns.Call<binding::PodState>([]() -> absl::StatusOr<binding::PodState> {
    binding::RealKernel k;
    return binding::ObservePod(k.kernel());
  });
  if (!pod.ok()) return pod.status();
  if (t) t->observe = absl::Now() - start;
  start = absl::Now();
  binding::PlanRequest preq{req.vmi, req.network_status, *pod, req.options, req.network_info, only};
  auto plans = binding::PlanVmi(preq);
  if (t) t->plan = absl::Now() - start;
  return plans;
}

}  // namespace

binding::PlannerOptions DefaultPlannerOptions() {
  binding::PlannerOptions o;
  o.vhost_net = ::access("/dev/vhost-net", R_OK | W_OK) == 0;
  return o;
}

absl::StatusOr<std::vector<InterfacePlan>> PlanPodNetwork(const PodNetworkRequest& req) {
  auto ns = binding::NetnsThread::Enter(req.pod_netns);
  if (!ns.ok()) return ns.status();
  return ObserveAndPlan(**ns, req, req.only, nullptr);
}

absl::StatusOr<SetupResult> SetupPodNetwork(const PodNetworkRequest& req) {
  SetupResult result;
  absl::Time start = absl::Now();
  auto ns = binding::NetnsThread::Enter(req.pod_netns);
  if (!ns.ok()) return ns.status();
  result.timings.enter = absl::Now() - start;

  // Interfaces with a cached plan keep it: it holds the CNI link's original state, which
  // the namespace no longer shows once k6t has renamed and flushed it.
  start = absl::Now();
  auto cached = binding::ReadCachedInterfaces(req.state_dir);
  if (!cached.ok()) return cached.status();
  std::map<std::string, CachedInterface> by_name;
  for (auto& c : *cached) by_name[c.plan.interface_name] = std::move(c);
  std::vector<std::string> to_plan;
  for (const auto& iface : req.vmi.spec.domain.interfaces) {
    if (iface.absent() || !Wanted(req, iface.name)) continue;
    auto it = by_name.find(iface.name);
    if (it == by_name.end() || it->second.phase == PlumbingPhase::kPending)
      to_plan.push_back(iface.name);
  }
  result.timings.cache = absl::Now() - start;

  std::vector<InterfacePlan> fresh;
  if (!to_plan.empty()) {
    auto plans = ObserveAndPlan(**ns, req, to_plan, &result.timings);
    if (!plans.ok()) return plans.status();
    fresh = *std::move(plans);
  }
  for (const auto& iface : req.vmi.spec.domain.interfaces) {
    if (iface.absent() || !Wanted(req, iface.name)) continue;
    auto it = by_name.find(iface.name);
    if (it != by_name.end() && it->second.phase != PlumbingPhase::kPending) {
      result.plans.push_back(it->second.plan);
      if (it->second.phase == PlumbingPhase::kStarted) result.resumed.push_back(iface.name);
      continue;
    }
    for (auto& p : fresh)
      if (p.interface_name == iface.name) result.plans.push_back(p);
  }

  // Recorded before anything changes: a crash from here on is resumed, not repeated blindly.
  start = absl::Now();
  for (const auto& p : fresh) {
    if (auto st = binding::WriteCachedInterface(req.state_dir, {p, PlumbingPhase::kStarted});
        !st.ok())
      return st;
  }
  result.timings.cache += absl::Now() - start;

  std::vector<binding::Operation> ops;
  for (const auto& p : result.plans) ops.insert(ops.end(), p.ops.begin(), p.ops.end());
  start = absl::Now();
  auto report = (*ns)->Call<binding::ApplyReport>([&]() -> absl::StatusOr<binding::ApplyReport> {
    binding::RealKernel k;
    return binding::Executor(k.kernel(), req.executor).Apply(ops);
  });
  result.timings.apply = absl::Now() - start;
  if (!report.ok()) {
    // Rolled back: the namespace is as before this run, so new plans were never applied.
    for (const auto& p : fresh)
      (void)binding::RemoveCachedInterface(req.state_dir, p.interface_name);
    return report.status();
  }
  result.report = *report;

  start = absl::Now();
  for (const auto& p : result.plans) {
    if (auto st = binding::WriteCachedInterface(req.state_dir, {p, PlumbingPhase::kFinished});
        !st.ok())
      return st;
  }
  result.timings.cache += absl::Now() - start;
  spdlog::info(
      "setup vmi={}/{} interfaces={} ops={} changed={} resumed=[{}] enter_ms={:.2f} "
      "observe_ms={:.2f} plan_ms={:.2f} cache_ms={:.2f} apply_ms={:.2f}",
      req.vmi.meta.namespace_, req.vmi.meta.name, result.plans.size(), report->operations,
      report->changed, absl::StrJoin(result.resumed, ","), Ms(result.timings.enter),
      Ms(result.timings.observe), Ms(result.timings.plan), Ms(result.timings.cache),
      Ms(result.timings.apply));
  return result;
}

absl::StatusOr<binding::ApplyReport> TeardownPodNetwork(const PodNetworkRequest& req) {
  auto cached = binding::ReadCachedInterfaces(req.state_dir);
  if (!cached.ok()) return cached.status();
  const bool everything = req.only.empty();
  std::vector<binding::Operation> ops;
  std::vector<std::string> names;
  // Later interfaces first, mirroring the order they were applied in.
  for (auto it = cached->rbegin(); it != cached->rend(); ++it) {
    if (!Wanted(req, it->plan.interface_name)) continue;
    auto t = binding::TeardownOps(it->plan, everything);
    ops.insert(ops.end(), t.begin(), t.end());
    names.push_back(it->plan.interface_name);
  }
  auto ns = binding::NetnsThread::Enter(req.pod_netns);
  if (!ns.ok()) return ns.status();
  const absl::Time start = absl::Now();
  auto report = (*ns)->Call<binding::ApplyReport>([&]() -> absl::StatusOr<binding::ApplyReport> {
    binding::RealKernel k;
    return binding::Executor(k.kernel(), req.executor).Apply(ops, binding::ApplyMode::kBestEffort);
  });
  if (!report.ok()) return report.status();
  for (const auto& n : names)
    if (auto st = binding::RemoveCachedInterface(req.state_dir, n); !st.ok()) return st;
  spdlog::info("teardown vmi={}/{} interfaces=[{}] ops={} changed={} apply_ms={:.2f}",
               req.vmi.meta.namespace_, req.vmi.meta.name, absl::StrJoin(names, ","),
               report->operations, report->changed, Ms(absl::Now() - start));
  return report;
}

}  // namespace k6t::handler
