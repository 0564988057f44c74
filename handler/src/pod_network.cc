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

// What differs between the namespace and the state `plan` put in place. Only what the plan
// decided is compared: a tap's MAC (the kernel's pick) or a sysctl someone else may own is not.
std::vector<std::string> Drift(const InterfacePlan& plan, const binding::PodState& pod,
                               binding::Nft& nft) {
  std::vector<std::string> out;
  std::map<int, std::string> by_index;
  for (const auto& [name, l] : pod.links) by_index[l.link.index] = name;
  auto link = [&](const std::string& name) -> const binding::Link* {
    const binding::ObservedLink* l = pod.Find(name);
    if (!l) out.push_back(absl::StrCat(name, " is missing"));
    return l ? &l->link : nullptr;
  };
  auto kind = [&](const std::string& name, const std::string& want) {
    const binding::Link* l = link(name);
    if (l && l->kind != want)
      out.push_back(
          absl::StrCat(name, " is a ", l->kind.empty() ? "device" : l->kind, ", not a ", want));
    return l;
  };
  auto mac = [&](const binding::Link* l, const std::string& want) {
    if (l && !want.empty() && l->mac != want)
      out.push_back(absl::StrCat(l->name, " has MAC ", l->mac, ", expected ", want));
  };
  if (!plan.pod_interface.empty() && !pod.Find(plan.pod_interface))
    out.push_back(absl::StrCat("pod interface ", plan.pod_interface, " is missing"));
  for (const auto& op : plan.ops) {
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, binding::CreateBridge>) {
            mac(kind(o.name, "bridge"), o.mac);
          } else if constexpr (std::is_same_v<T, binding::CreateTap>) {
            kind(o.name, "tun");
          } else if constexpr (std::is_same_v<T, binding::CreatePlaceholder>) {
            mac(kind(o.name, o.kind == binding::PlaceholderKind::kDummy ? "dummy" : "ifb"), o.mac);
          } else if constexpr (std::is_same_v<T, binding::RenameLink>) {
            const binding::Link* l = link(o.to);
            if (l && o.index > 0 && l->index != o.index)
              out.push_back(
                  absl::StrCat(o.to, " is link #", l->index, ", not the CNI's link #", o.index));
          } else if constexpr (std::is_same_v<T, binding::SetLinkMac>) {
            mac(link(o.link), o.mac);
          } else if constexpr (std::is_same_v<T, binding::SetLinkMaster>) {
            const binding::Link* l = link(o.link);
            auto m = by_index.find(l ? l->master_index : 0);
            const std::string master = m == by_index.end() ? "" : m->second;
            if (l && master != o.master)
              out.push_back(absl::StrCat(o.link, " is enslaved to ",
                                         master.empty() ? "nothing" : master, ", expected ",
                                         o.master));
          } else if constexpr (std::is_same_v<T, binding::SetLinkUp>) {
            const binding::Link* l = link(o.link);
            if (l && l->admin_up != o.up)
              out.push_back(absl::StrCat(o.link, " is ", l->admin_up ? "up" : "down"));
          } else if constexpr (std::is_same_v<T, binding::AddAddress>) {
            const binding::ObservedLink* l = pod.Find(o.link);
            if (l &&
                std::find(l->addresses.begin(), l->addresses.end(), o.cidr) == l->addresses.end())
              out.push_back(absl::StrCat(o.link, " lacks address ", o.cidr));
          } else if constexpr (std::is_same_v<T, binding::NftTable>) {
            auto t = nft.ListTable(o.family, o.name);
            if (!t.ok())
              out.push_back(absl::StrCat("nftables table ", o.family, " ", o.name, ": ",
                                         t.status().message()));
            else if (!*t)
              out.push_back(absl::StrCat("nftables table ", o.family, " ", o.name, " is missing"));
          }
        },
        op);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<binding::NetnsThread>> PodNetns(const PodNetworkRequest& req) {
  if (req.netns) return req.netns;
  auto ns = binding::NetnsThread::Enter(req.pod_netns);
  if (!ns.ok()) return ns.status();
  return std::shared_ptr<binding::NetnsThread>(*std::move(ns));
}

binding::PlannerOptions DefaultPlannerOptions() {
  binding::PlannerOptions o;
  o.vhost_net = ::access("/dev/vhost-net", R_OK | W_OK) == 0;
  return o;
}

absl::StatusOr<std::vector<InterfacePlan>> PlanPodNetwork(const PodNetworkRequest& req) {
  auto ns = PodNetns(req);
  if (!ns.ok()) return ns.status();
  return ObserveAndPlan(**ns, req, req.only, nullptr);
}

absl::StatusOr<SetupResult> SetupPodNetwork(const PodNetworkRequest& req) {
  SetupResult result;
  absl::Time start = absl::Now();
  auto ns = PodNetns(req);
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
  auto ns = PodNetns(req);
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

absl::StatusOr<std::vector<InterfacePlan>> CheckPodNetwork(const PodNetworkRequest& req) {
  auto cached = binding::ReadCachedInterfaces(req.state_dir);
  if (!cached.ok()) return cached.status();
  std::vector<InterfacePlan> plans;
  std::vector<std::string> drift;
  for (const auto& c : *cached) {
    if (!Wanted(req, c.plan.interface_name)) continue;
    if (c.phase != PlumbingPhase::kFinished)
      drift.push_back(absl::StrCat(c.plan.interface_name, ": setup did not finish"));
    plans.push_back(c.plan);
  }
  if (plans.empty())
    return absl::NotFoundError(absl::StrCat("no k6t plumbing is recorded in ", req.state_dir));
  auto ns = PodNetns(req);
  if (!ns.ok()) return ns.status();
  auto found =
      (*ns)->Call<std::vector<std::string>>([&]() -> absl::StatusOr<std::vector<std::string>> {
        binding::RealKernel k;
        auto pod = binding::ObservePod(k.kernel());
        if (!pod.ok()) return pod.status();
        std::vector<std::string> out;
        for (const auto& p : plans)
          for (auto& d : Drift(p, *pod, *k.nft))
            out.push_back(absl::StrCat(p.interface_name, ": ", d));
        return out;
      });
  if (!found.ok()) return found.status();
  drift.insert(drift.end(), found->begin(), found->end());
  if (!drift.empty()) return absl::FailedPreconditionError(absl::StrJoin(drift, "; "));
  return plans;
}

}  // namespace k6t::handler
