#include "cni/cni_sandbox.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::handler::cni {
namespace {

using binding::Kernel;
using binding::Link;

absl::StatusOr<std::optional<Link>> LinkOfKind(const Kernel& k, const std::string& name,
                                               std::initializer_list<const char*> kinds) {
  auto l = k.netlink->GetLink(name);
  if (!l.ok() || !*l) return l;
  for (const char* kind : kinds)
    if ((*l)->kind == kind) return l;
  return std::optional<Link>();  // the name is someone else's link: not k6t's to remove
}

absl::Status DeleteIfPresent(const Kernel& k, const std::optional<Link>& l) {
  if (!l) return absl::OkStatus();
  auto st = k.netlink->DeleteLink(l->name);
  if (absl::IsNotFound(st)) return absl::OkStatus();
  if (st.ok()) spdlog::info("del without state: removed {} ({})", l->name, l->kind);
  return st;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SandboxMacs(const binding::PodNetworkRequest& req,
                                                     const std::vector<std::string>& links) {
  std::vector<std::string> macs;
  auto st = binding::RunInPod(req, [&](const Kernel& k) -> absl::Status {
    for (const auto& name : links) {
      auto l = k.netlink->GetLink(name);
      if (!l.ok()) return l.status();
      if (!*l || (*l)->mac.empty())
        return absl::NotFoundError(
            absl::StrCat(name, ": ", *l ? "has no MAC address" : "no such link in the sandbox"));
      macs.push_back((*l)->mac);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return macs;
}

absl::StatusOr<bool> PodLinkPresent(const binding::PodNetworkRequest& req,
                                    const api::PodLinkNames& names) {
  bool present = false;
  auto st = binding::RunInPod(req, [&](const Kernel& k) -> absl::Status {
    for (const std::string* name : {&names.pod, &names.nic}) {
      auto l = k.netlink->GetLink(*name);
      if (!l.ok()) return l.status();
      present = present || l->has_value();
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return present;
}

absl::Status RemoveDerivedLinks(const binding::PodNetworkRequest& req,
                                const api::PodLinkNames& names) {
  return binding::RunInPod(req, [&](const Kernel& k) -> absl::Status {
    auto tap = LinkOfKind(k, names.tap, {"tun"});
    if (!tap.ok()) return tap.status();
    if (auto st = DeleteIfPresent(k, *tap); !st.ok()) return st;
    auto nic = k.netlink->GetLink(names.nic);
    if (!nic.ok()) return nic.status();
    std::string pod_mac;
    if (*nic) {
      // The pod link is still renamed: what stands in its place is k6t's placeholder.
      auto placeholder = LinkOfKind(k, names.pod, {"dummy", "ifb"});
      if (!placeholder.ok()) return placeholder.status();
      if (*placeholder) pod_mac = (*placeholder)->mac;
      if (auto st = DeleteIfPresent(k, *placeholder); !st.ok()) return st;
      binding::LinkChange release;
      release.master_index = 0;
      release.up = false;
      if (auto st = k.netlink->ChangeLink(names.nic, release); !st.ok()) return st;
      binding::LinkChange back;
      back.name = names.pod;
      if (!pod_mac.empty()) back.mac = pod_mac;
      if (auto st = k.netlink->ChangeLink(names.nic, back); !st.ok()) return st;
      spdlog::info("del without state: renamed {} back to {}", names.nic, names.pod);
    }
    auto bridge = LinkOfKind(k, names.bridge, {"bridge"});
    if (!bridge.ok()) return bridge.status();
    return DeleteIfPresent(k, *bridge);
  });
}

}  // namespace k6t::handler::cni
