#include "k6t/binding/pod_network.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "k6t/binding/cache.h"
#include "k6t/binding/planner.h"
#include "k6t/binding/pod_state.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

bool Wanted(const PodNetworkRequest& req, const std::string& name) {
  return req.only.empty() || std::find(req.only.begin(), req.only.end(), name) != req.only.end();
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// `fn` on `ns` with req's adapters.
template <typename T>
absl::StatusOr<T> InPod(NetnsRunner& ns, const PodNetworkRequest& req,
                        absl::FunctionRef<absl::StatusOr<T>(const Kernel&)> fn) {
  absl::StatusOr<T> out = absl::UnknownError("not run");
  absl::Status st = ns.Run([&]() -> absl::Status {
    auto with = [&](const Kernel& k) -> absl::Status {
      out = fn(k);
      return absl::OkStatus();
    };
    return req.kernel ? req.kernel(with) : WithRealKernel(with);
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::vector<InterfacePlan>> ObserveAndPlan(NetnsRunner& ns,
                                                          const PodNetworkRequest& req,
                                                          const std::vector<std::string>& only,
                                                          PhaseTimings* t) {
  absl::Time start = absl::Now();
  auto pod = InPod<PodState>(ns, req, [](const Kernel& k) { return ObservePod(k); });
  if (!pod.ok()) return pod.status();
  if (t) t->observe = absl::Now() - start;
  start = absl::Now();
  PlanRequest preq{req.vmi, req.network_status, *pod, req.options, req.network_info, only};
  auto plans = PlanVmi(preq);
  if (t) t->plan = absl::Now() - start;
  return plans;
}

bool IsGlobalSysctl(const Operation& op, std::string* key) {
  const auto* s = std::get_if<SetSysctl>(&op);
  if (!s || s->restore.empty()) return false;  // per-link keys go with their links
  *key = s->key;
  return true;
}

// A namespace-wide sysctl's original value is observed once: a plan made while a cached plan
// has already changed the key restores that plan's original, not k6t's own value. So every
// plan that sets a key restores the same value, whatever order interfaces go in.
void InheritSysctlRestores(std::vector<InterfacePlan>& fresh,
                           const std::map<std::string, CachedInterface>& cached) {
  std::map<std::string, std::string> original;
  std::string key;
  for (const auto& [name, c] : cached)
    if (c.phase != PlumbingPhase::kPending)
      for (const auto& op : c.plan.ops)
        if (IsGlobalSysctl(op, &key)) original.emplace(key, std::get<SetSysctl>(op).restore);
  for (auto& p : fresh)
    for (auto& op : p.ops)
      if (IsGlobalSysctl(op, &key))
        if (auto it = original.find(key); it != original.end())
          std::get<SetSysctl>(op).restore = it->second;
}

absl::Status WritePhase(const std::string& state_dir, const std::vector<InterfacePlan>& plans,
                        PlumbingPhase phase) {
  for (const auto& p : plans)
    if (auto st = WriteCachedInterface(state_dir, {p, phase}); !st.ok()) return st;
  return absl::OkStatus();
}

}  // namespace

absl::Status WithRealKernel(absl::FunctionRef<absl::Status(const Kernel&)> fn) {
  RealKernel k;
  return fn(k.kernel());
}

absl::StatusOr<std::shared_ptr<NetnsRunner>> EnterPodNetns(const PodNetworkRequest& req) {
  if (req.netns) return req.netns;
  auto ns = NetnsThread::Enter(req.pod_netns);
  if (!ns.ok()) return ns.status();
  return std::shared_ptr<NetnsRunner>(*std::move(ns));
}

absl::Status RunInPod(const PodNetworkRequest& req,
                      absl::FunctionRef<absl::Status(const Kernel&)> fn) {
  auto ns = EnterPodNetns(req);
  if (!ns.ok()) return ns.status();
  return (*ns)->Run([&] { return req.kernel ? req.kernel(fn) : WithRealKernel(fn); });
}

PlannerOptions DefaultPlannerOptions() {
  PlannerOptions o;
  o.vhost_net = ::access("/dev/vhost-net", R_OK | W_OK) == 0;
  return o;
}

absl::StatusOr<std::vector<InterfacePlan>> PlanPodNetwork(const PodNetworkRequest& req) {
  auto ns = EnterPodNetns(req);
  if (!ns.ok()) return ns.status();
  return ObserveAndPlan(**ns, req, req.only, nullptr);
}

absl::StatusOr<SetupResult> SetupPodNetwork(const PodNetworkRequest& req) {
  SetupResult result;
  absl::Time start = absl::Now();
  auto ns = EnterPodNetns(req);
  if (!ns.ok()) return ns.status();
  result.timings.enter = absl::Now() - start;

  // Interfaces with a cached plan keep it: it holds the CNI link's original state, which
  // the namespace no longer shows once k6t has renamed and flushed it.
  start = absl::Now();
  auto cached = ReadCachedInterfaces(req.state_dir);
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
    InheritSysctlRestores(fresh, by_name);
  }
  std::vector<InterfacePlan> unfinished = fresh;  // recorded finished after the apply
  for (const auto& iface : req.vmi.spec.domain.interfaces) {
    if (iface.absent() || !Wanted(req, iface.name)) continue;
    auto it = by_name.find(iface.name);
    if (it != by_name.end() && it->second.phase != PlumbingPhase::kPending) {
      result.plans.push_back(it->second.plan);
      if (it->second.phase == PlumbingPhase::kStarted) {
        result.resumed.push_back(iface.name);
        unfinished.push_back(it->second.plan);
      }
      continue;
    }
    for (auto& p : fresh)
      if (p.interface_name == iface.name) result.plans.push_back(p);
  }

  // Recorded before anything changes: a crash from here on is resumed, not repeated blindly.
  start = absl::Now();
  if (auto st = WritePhase(req.state_dir, fresh, PlumbingPhase::kStarted); !st.ok()) return st;
  result.timings.cache += absl::Now() - start;

  std::vector<Operation> ops;
  for (const auto& p : result.plans) ops.insert(ops.end(), p.ops.begin(), p.ops.end());
  start = absl::Now();
  auto report = InPod<ApplyReport>(
      **ns, req, [&](const Kernel& k) { return Executor(k, req.executor).Apply(ops); });
  result.timings.apply = absl::Now() - start;
  if (!report.ok()) {
    if (!RollbackFailures(report.status()).empty())
      // Part of the new plans may be in place: they stay cached `started`, so that the next
      // setup resumes them and teardown can give back what they took.
      return WithContext(report.status(),
                         absl::StrCat("setup (the plans stay in ", req.state_dir,
                                      " as started: setup resumes them, teardown removes them)"));
    // Rolled back: the namespace is as before this run, so new plans were never applied.
    for (const auto& p : fresh) (void)RemoveCachedInterface(req.state_dir, p.interface_name);
    return report.status();
  }
  result.report = *report;

  start = absl::Now();
  if (auto st = WritePhase(req.state_dir, unfinished, PlumbingPhase::kFinished); !st.ok())
    return st;
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

absl::StatusOr<ApplyReport> TeardownPodNetwork(const PodNetworkRequest& req) {
  auto cached = ReadCachedInterfaces(req.state_dir);
  if (!cached.ok()) return cached.status();
  // Namespace-wide sysctls that an interface staying still needs stay as they are.
  std::set<std::string> kept;
  std::string key;
  for (const auto& c : *cached)
    if (!Wanted(req, c.plan.interface_name))
      for (const auto& op : c.plan.ops)
        if (IsGlobalSysctl(op, &key)) kept.insert(key);
  std::vector<Operation> ops;
  std::vector<std::string> names;
  // Later interfaces first, mirroring the order they were applied in.
  for (auto it = cached->rbegin(); it != cached->rend(); ++it) {
    if (!Wanted(req, it->plan.interface_name)) continue;
    for (auto& op : TeardownOps(it->plan, /*restore_globals=*/true, req.give_links_back_down))
      if (!IsGlobalSysctl(op, &key) || !kept.count(key)) ops.push_back(std::move(op));
    names.push_back(it->plan.interface_name);
  }
  if (names.empty()) return ApplyReport{};  // nothing of k6t's is recorded: nothing to give back
  auto ns = EnterPodNetns(req);
  if (!ns.ok()) return ns.status();
  const absl::Time start = absl::Now();
  auto report = InPod<ApplyReport>(**ns, req, [&](const Kernel& k) {
    return Executor(k, req.executor).Apply(ops, ApplyMode::kBestEffort);
  });
  if (!report.ok()) return report.status();
  for (const auto& n : names)
    if (auto st = RemoveCachedInterface(req.state_dir, n); !st.ok()) return st;
  spdlog::info("teardown vmi={}/{} interfaces=[{}] ops={} changed={} apply_ms={:.2f}",
               req.vmi.meta.namespace_, req.vmi.meta.name, absl::StrJoin(names, ","),
               report->operations, report->changed, Ms(absl::Now() - start));
  return report;
}

absl::StatusOr<CheckResult> CheckPodNetwork(const PodNetworkRequest& req) {
  auto cached = ReadCachedInterfaces(req.state_dir);
  if (!cached.ok()) return cached.status();
  CheckResult result;
  for (const auto& c : *cached) {
    if (!Wanted(req, c.plan.interface_name)) continue;
    if (c.phase != PlumbingPhase::kFinished)
      result.drift.push_back(
          {c.plan.interface_name, DriftKind::kUnfinished, "setup did not finish"});
    result.plans.push_back(c.plan);
  }
  if (result.plans.empty())
    return absl::NotFoundError(absl::StrCat("no k6t plumbing is recorded in ", req.state_dir));
  auto ns = EnterPodNetns(req);
  if (!ns.ok()) return ns.status();
  auto found = InPod<std::vector<Drift>>(
      **ns, req, [&](const Kernel& k) -> absl::StatusOr<std::vector<Drift>> {
        auto pod = ObservePod(k);
        if (!pod.ok()) return pod.status();
        std::vector<Drift> out;
        for (const auto& p : result.plans)
          for (auto& d : FindDrift(p, *pod, *k.nft)) out.push_back(std::move(d));
        return out;
      });
  if (!found.ok()) return found.status();
  result.drift.insert(result.drift.end(), found->begin(), found->end());
  return result;
}

}  // namespace k6t::binding
