#include "k6t/binding/planner.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::binding {
namespace {

// Multus names entries "namespace/name"; a spec may omit the namespace.
bool SameNetwork(const api::NetworkStatusEntry& e, const api::Vmi& vmi, const api::Network& net) {
  if (!net.multus) return false;
  std::string want = net.multus->network_name;
  if (want.find('/') == std::string::npos) want = vmi.meta.namespace_ + "/" + want;
  return e.name == want || e.name == net.multus->network_name;
}

const api::NetworkStatusEntry* FindStatus(const std::vector<api::NetworkStatusEntry>& status,
                                          const api::Vmi& vmi, const api::Network& net,
                                          const std::string& pod_iface) {
  for (const auto& e : status)
    if (!pod_iface.empty() && e.interface == pod_iface) return &e;
  for (const auto& e : status)
    if (SameNetwork(e, vmi, net)) return &e;
  return nullptr;
}

int Queues(const api::Vmi& vmi, const api::Interface& iface) {
  const auto& d = vmi.spec.domain;
  if (!d.network_interface_multiqueue) return 1;
  if (!iface.model.empty() && iface.model != "virtio") return 1;
  return static_cast<int>(std::clamp<int64_t>(d.cpu.vcpus(), 1, 256));
}

absl::Status InterfaceError(const api::Interface& iface, const absl::Status& st) {
  return absl::Status(st.code(), absl::StrCat("interface \"", iface.name, "\" (network \"",
                                              iface.name, "\"): ", st.message()));
}

}  // namespace

absl::StatusOr<std::vector<InterfacePlan>> PlanVmi(const PlanRequest& req,
                                                   const BindingRegistry& registry) {
  const api::Vmi& vmi = req.vmi;
  std::vector<std::string> link_names;
  for (const auto& [name, l] : req.pod.links) link_names.push_back(name);
  const auto pod_names = api::PodInterfaceNames(vmi, req.network_status, link_names);

  std::vector<InterfacePlan> plans;
  const auto& ifaces = vmi.spec.domain.interfaces;
  for (size_t i = 0; i < ifaces.size(); ++i) {
    const api::Interface& iface = ifaces[i];
    if (iface.absent()) continue;
    if (!req.only.empty() &&
        std::find(req.only.begin(), req.only.end(), iface.name) == req.only.end())
      continue;
    const api::Network* net = vmi.FindNetwork(iface.name);
    if (!net) return InterfaceError(iface, absl::NotFoundError("no network of that name"));
    const std::string binding_name = BindingNameOf(iface);
    auto binding = registry.Find(binding_name);
    if (!binding)
      return InterfaceError(iface, absl::NotFoundError(absl::StrCat("no binding \"", binding_name,
                                                                    "\" is registered")));
    auto pn = pod_names.find(net->name);
    const std::string pod_iface = pn == pod_names.end() ? "" : pn->second;
    const api::PodLinkNames names = api::DeriveLinkNames(pod_iface, net->primary());
    const ObservedLink* pod_link = pod_iface.empty() ? nullptr : req.pod.Find(pod_iface);
    if (binding->NeedsPodLink() && !pod_link)
      return InterfaceError(
          iface, absl::NotFoundError(absl::StrCat(
                     "pod interface ", pod_iface.empty() ? "(none)" : pod_iface,
                     " does not exist in the pod's network namespace (has the CNI plugin run?)")));
    const api::NetworkInfoInterface* info = nullptr;
    for (const auto& e : req.network_info)
      if (e.network == net->name) info = &e;

    InterfacePlan plan;
    plan.interface_name = iface.name;
    plan.network_name = net->name;
    plan.binding = binding_name;
    // A binding that builds without a pod link (sriov, an embedder's own) names one only when
    // it is there: the drift check and the ownership check below read this as "mine".
    plan.pod_interface = pod_link ? pod_iface : "";
    plan.queues = Queues(vmi, iface);
    BindingInput in{vmi,
                    iface,
                    *net,
                    static_cast<int>(i),
                    names,
                    pod_link,
                    FindStatus(req.network_status, vmi, *net, pod_iface),
                    info,
                    req.pod,
                    req.options};
    if (auto st = binding->Plan(in, plan); !st.ok()) return InterfaceError(iface, st);
    plans.push_back(std::move(plan));
  }

  // Two interfaces may not claim the same pod link or create the same device.
  std::map<std::string, std::string> owner;
  for (const auto& p : plans) {
    std::set<std::string> mine;
    if (!p.pod_interface.empty()) mine.insert(p.pod_interface);
    for (const auto& op : p.ops) {
      if (auto* b = std::get_if<CreateBridge>(&op)) mine.insert(b->name);
      if (auto* t = std::get_if<CreateTap>(&op)) mine.insert(t->name);
    }
    for (const auto& name : mine) {
      auto [it, fresh] = owner.emplace(name, p.interface_name);
      if (!fresh)
        return absl::InvalidArgumentError(absl::StrCat(
            "interfaces \"", it->second, "\" and \"", p.interface_name, "\" both use link ", name));
    }
  }
  spdlog::debug("planned {} interface(s) of {}/{}", plans.size(), vmi.meta.namespace_,
                vmi.meta.name);
  return plans;
}

std::vector<Operation> TeardownOps(const InterfacePlan& plan, bool restore_globals,
                                   bool links_down) {
  std::vector<Operation> deletes, restores, sysctls;
  for (auto it = plan.ops.rbegin(); it != plan.ops.rend(); ++it) {
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, NftTable>) {
            deletes.push_back(DeleteNftTable{op.family, op.name});
          } else if constexpr (std::is_same_v<T, CreateTap>) {
            deletes.push_back(DeleteLink{op.name, "tun"});
          } else if constexpr (std::is_same_v<T, CreatePlaceholder>) {
            deletes.push_back(
                DeleteLink{op.name, op.kind == PlaceholderKind::kDummy ? "dummy" : "ifb"});
          } else if constexpr (std::is_same_v<T, CreateBridge>) {
            deletes.push_back(DeleteLink{op.name, "bridge"});
          } else if constexpr (std::is_same_v<T, RenameLink>) {
            if (links_down) restores.push_back(SetLinkUp{op.to, false});
            restores.push_back(RenameLink{op.to, op.from, op.index});
            if (!plan.original_mac.empty())
              restores.push_back(SetLinkMac{op.from, plan.original_mac});
            if (plan.original_mtu > 0) restores.push_back(SetLinkMtu{op.from, plan.original_mtu});
            // Drops the link-local the kernel derived from k6t's MAC; the CNI's comes back below.
            if (!plan.original_link_local.empty())
              restores.push_back(FlushAddresses{op.from, op.index, /*link_local=*/true});
          } else if constexpr (std::is_same_v<T, FlushAddresses>) {
            for (const auto& a : plan.original_addresses)
              restores.push_back(AddAddress{op.link, a});
            for (const auto& a : plan.original_link_local)
              restores.push_back(AddAddress{op.link, a});
            // A down link holds no route (the kernel drops them and refuses new ones).
            if (!links_down)
              for (const auto& r : plan.original_routes)
                restores.push_back(AddRoute{op.link, r.destination, r.gateway});
          } else if constexpr (std::is_same_v<T, SetSysctl>) {
            if (restore_globals && !op.restore.empty())
              sysctls.push_back(SetSysctl{op.key, op.restore, ""});
          }
        },
        *it);
  }
  // Undo in reverse of the apply: after the bridge is deleted the CNI link is free again.
  std::vector<Operation> ops = std::move(deletes);
  for (auto& r : restores) ops.push_back(std::move(r));
  for (auto& s : sysctls) ops.push_back(std::move(s));
  return ops;
}

}  // namespace k6t::binding
