#include "reconcile.h"

#include <net/if.h>

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "k6t/api/naming.h"
#include "k6t/binding/cache.h"
#include "k6t/binding/link_wait.h"
#include "k6t/binding/netns.h"
#include "k6t/binding/registry.h"
#include "spdlog/spdlog.h"
#include "verb_network.h"

namespace k6t::handler {
namespace {

namespace msg = api::rpc;

std::string NormalizedMac(const std::string& mac) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(mac, {{"-", ":"}}));
}

std::string BaseModel(const std::string& model) {
  if (model.empty()) return "virtio";
  std::string m = absl::StrReplaceAll(model, {{"-non-transitional", ""}, {"-transitional", ""}});
  return m;
}

bool SameBinding(const api::Interface& iface, const std::string& planned) {
  const std::string wanted = binding::BindingNameOf(iface);
  // A bridge binding on a primary user-defined network is planned as l2bridge.
  return wanted == planned || (wanted == "bridge" && planned == "l2bridge");
}

// What cannot change on a plugged NIC without restarting the VM.
std::vector<std::string> LiveChangesRefused(const api::Interface& iface,
                                            const binding::InterfacePlan* plan,
                                            const msg::DomainInterface& dev) {
  std::vector<std::string> out;
  if (plan && !SameBinding(iface, plan->binding))
    out.push_back(absl::StrCat(iface.name, ": binding ", binding::BindingNameOf(iface),
                               " (plugged as ", plan->binding, ")"));
  if (!iface.mac_address.empty() && !dev.mac.empty() &&
      NormalizedMac(iface.mac_address) != NormalizedMac(dev.mac))
    out.push_back(absl::StrCat(iface.name, ": macAddress ", iface.mac_address, " (the guest has ",
                               dev.mac, ")"));
  if (dev.kind == "interface" && !dev.model.empty() && dev.model != "virtio-net-pci" &&
      BaseModel(iface.model) != BaseModel(dev.model))
    out.push_back(absl::StrCat(iface.name, ": model ", BaseModel(iface.model), " (the guest has ",
                               dev.model, ")"));
  return out;
}

class Syncer {
 public:
  Syncer(const SyncRequest& req, rpc::LauncherClient& launcher, SyncReport* report)
      : req_(req), net_(req.net), launcher_(launcher), report_(*report) {}

  absl::Status Run() {
    auto dom = launcher_.GetDomain();
    if (!dom.ok()) return dom.status();
    if (dom->state != "running")
      return absl::FailedPreconditionError(
          absl::StrCat("the VM is not running (domain state ", dom->state, ")"));
    free_ports_ = dom->free_root_ports;
    for (const auto& d : dom->interfaces)
      if (!d.name.empty()) in_domain_[d.name] = d;
    auto cached = binding::ReadCachedInterfaces(req_.net.state_dir);
    if (!cached.ok()) return cached.status();
    for (auto& c : *cached) cached_[c.plan.interface_name] = std::move(c);

    for (const api::Interface& iface : req_.net.vmi.spec.domain.interfaces) {
      absl::Status st = iface.absent() ? Unplug(iface) : Converge(iface);
      if (st.ok()) continue;
      // Every later call would fail the same: the round ends, a watch reconnects and redoes it.
      if (launcher_gone_)
        return absl::UnavailableError(absl::StrCat(
            iface.name, ": ", st.message(),
            report_.changes.empty()
                ? ""
                : absl::StrCat(" (done before: ", absl::StrJoin(report_.changes, "; "), ")")));
      report_.errors.push_back(absl::StrCat(iface.name, ": ", st.message()));
    }
    return absl::OkStatus();
  }

 private:
  // The request for one interface, carrying the sync's pod-netns thread (entered on first use).
  absl::StatusOr<binding::PodNetworkRequest> Only(const std::string& name) {
    if (auto ns = Netns(); !ns.ok()) return ns.status();
    binding::PodNetworkRequest r = net_;
    r.only = {name};
    return r;
  }

  // One thread in the pod netns for the whole sync (the caller's, when it keeps one), entered
  // only when an interface needs the namespace.
  absl::StatusOr<std::shared_ptr<binding::NetnsRunner>> Netns() {
    if (!net_.netns) {
      auto ns = binding::EnterPodNetns(net_);
      if (!ns.ok()) return ns.status();
      net_.netns = *std::move(ns);
    }
    return net_.netns;
  }

  // A launcher call failed; kUnavailable: the launcher went away (restarting, adopting the VM).
  absl::Status LauncherFailed(const absl::Status& st) {
    if (absl::IsUnavailable(st)) launcher_gone_ = true;
    return st;
  }

  absl::Status Unplug(const api::Interface& iface) {
    if (in_domain_.count(iface.name)) {
      auto changed = launcher_.DetachInterface(iface.name);
      if (!changed.ok()) return LauncherFailed(changed.status());
      if (*changed) {
        report_.changes.push_back(absl::StrCat("detached ", iface.name));
        if (free_ports_ >= 0) ++free_ports_;
      }
      in_domain_.erase(iface.name);
    }
    if (cached_.count(iface.name)) {
      auto only = Only(iface.name);
      if (!only.ok()) return only.status();
      auto torn = binding::TeardownPodNetwork(*only);
      if (!torn.ok()) return torn.status();
      report_.changes.push_back(absl::StrCat("removed the pod plumbing of ", iface.name, " (",
                                             torn->changed, " change(s))"));
      cached_.erase(iface.name);
    }
    return absl::OkStatus();
  }

  absl::Status Converge(const api::Interface& iface) {
    auto dev = in_domain_.find(iface.name);
    auto plan = cached_.find(iface.name);
    if (dev != in_domain_.end()) {
      auto refused = LiveChangesRefused(iface, plan == cached_.end() ? nullptr : &plan->second.plan,
                                        dev->second);
      for (auto& r : refused) report_.restart_required.push_back(std::move(r));
      if (!refused.empty()) return absl::OkStatus();
      const bool want_up = iface.state != "down";
      if (dev->second.kind == "interface" && (dev->second.link_state == "up") != want_up) {
        auto changed = launcher_.SetLinkState(iface.name, want_up);
        if (!changed.ok()) return LauncherFailed(changed.status());
        if (*changed)
          report_.changes.push_back(
              absl::StrCat("link of ", iface.name, " set ", want_up ? "up" : "down"));
      }
      return absl::OkStatus();
    }
    if (iface.binding() == api::BindingMethod::kPasst) {
      report_.restart_required.push_back(
          absl::StrCat(iface.name, ": passt interfaces are wired at VM start"));
      return absl::OkStatus();
    }
    return Plug(iface,
                plan != cached_.end() && plan->second.phase == binding::PlumbingPhase::kFinished);
  }

  // The pod link the CNI made for this interface's network, waited for when asked to. The
  // link alone is not the signal: a CNI plugin creates it, then looks it up, addresses it and
  // brings it up; plumbing it (renaming it) in between breaks that ADD. Multus lists the
  // network in the network-status only once the ADD returned, so with a status at hand the
  // link counts once the status names it too. Without any status only the link is known.
  absl::StatusOr<bool> PodLinkReady(const api::Interface& iface) {
    if (iface.binding() == api::BindingMethod::kSriov) return true;  // a VF, not a pod link
    absl::Status st = RefreshNetworkStatus();
    if (!st.ok()) return st;
    const auto names = api::PodInterfaceNames(req_.net.vmi, network_status_);
    auto it = names.find(iface.name);
    if (it == names.end())
      return absl::InvalidArgumentError(absl::StrCat("no network named ", iface.name));
    const std::string link = it->second;
    auto ns = Netns();
    if (!ns.ok()) return ns.status();
    bool link_seen = false;
    bool status_fresh = true;  // just read above; re-read from the second look on
    auto cni_done = [&]() -> absl::StatusOr<bool> {
      const bool first_look = std::exchange(status_fresh, false);
      link_seen = if_nametoindex(link.c_str()) != 0;
      if (!link_seen) return false;
      if (!first_look)
        if (absl::Status r = RefreshNetworkStatus(); !r.ok()) return r;
      return network_status_.empty() || ListsPodLink(link);
    };
    // Multus' write of the status is no netlink event: re-read it while the link is there.
    st = (*ns)->Run([&] {
      return binding::WaitForLinkCondition(absl::StrCat("the CNI to finish pod link ", link),
                                           cni_done, req_.wait_for_links, absl::Milliseconds(20));
    });
    if (absl::IsDeadlineExceeded(st)) {
      report_.waiting.push_back(
          link_seen ? absl::StrCat(iface.name, " (pod link ", link,
                                   " not in the network-status yet: the CNI is not done)")
                    : absl::StrCat(iface.name, " (pod link ", link, ")"));
      return false;
    }
    if (!st.ok()) return st;
    return true;
  }

  absl::Status RefreshNetworkStatus() {
    if (req_.network_status_file.empty()) {
      network_status_ = req_.net.network_status;
      return absl::OkStatus();
    }
    auto status = ReadNetworkStatusFile(req_.network_status_file);
    if (!status.ok()) return status.status();
    network_status_ = *std::move(status);
    return absl::OkStatus();
  }

  bool ListsPodLink(const std::string& link) const {
    for (const auto& e : network_status_)
      if (e.interface == link) return true;
    return false;
  }

  absl::Status Plug(const api::Interface& iface, bool plumbed) {
    if (!plumbed) {
      auto ready = PodLinkReady(iface);
      if (!ready.ok()) return ready.status();
      if (!*ready) return absl::OkStatus();  // a later sync (or --wait) picks it up
    }
    if (free_ports_ == 0)
      return absl::FailedPreconditionError(
          "no free PCIe root port left in the VM: nothing was changed; restart the VM to get "
          "more (k6t-launcher --hotplug-ports)");
    if (!plumbed) {
      auto r = Only(iface.name);
      if (!r.ok()) return r.status();
      r->network_status = network_status_;
      auto setup = binding::SetupPodNetwork(*r);
      if (!setup.ok()) return setup.status();
      report_.changes.push_back(absl::StrCat("built the pod plumbing of ", iface.name, " (",
                                             setup->report.changed, " change(s))"));
    }
    auto changed = launcher_.AttachInterface(iface.name);
    if (!changed.ok()) {
      // No answer (the launcher went away, or the call timed out): the device may be in the VM,
      // its tap in use. The plumbing stays, cached finished; the next round sees the domain and
      // either finds the device or attaches it then.
      if (absl::IsUnavailable(changed.status()) || absl::IsDeadlineExceeded(changed.status()))
        return LauncherFailed(absl::Status(
            changed.status().code(),
            absl::StrCat(changed.status().message(), " (the pod plumbing of ", iface.name,
                         " is kept: the next sync sees whether the device was attached)")));
      if (!plumbed) {
        // Refused: the device never reached the VM: take the plumbing back so nothing is
        // half-done.
        auto only = Only(iface.name);
        absl::StatusOr<binding::ApplyReport> torn =
            only.ok() ? binding::TeardownPodNetwork(*only) : only.status();
        if (!torn.ok())
          spdlog::error("sync: rolling back the plumbing of {}: {}", iface.name,
                        torn.status().ToString());
        else
          report_.changes.push_back(absl::StrCat("rolled back the pod plumbing of ", iface.name));
      }
      return changed.status();
    }
    if (*changed) {
      report_.changes.push_back(absl::StrCat("attached ", iface.name));
      if (free_ports_ > 0) --free_ports_;
    }
    return absl::OkStatus();
  }

  const SyncRequest& req_;
  binding::PodNetworkRequest net_;  // req_.net with the namespace thread once entered
  rpc::LauncherClient& launcher_;
  SyncReport& report_;
  int64_t free_ports_ = -1;
  bool launcher_gone_ = false;
  std::map<std::string, msg::DomainInterface> in_domain_;
  std::map<std::string, binding::CachedInterface> cached_;
  std::vector<api::NetworkStatusEntry> network_status_;
};

}  // namespace

absl::StatusOr<SyncReport> SyncVmi(const SyncRequest& req, rpc::LauncherClient& launcher) {
  const absl::Time t0 = absl::Now();
  SyncReport report;
  Syncer s(req, launcher, &report);
  if (auto st = s.Run(); !st.ok()) return st;
  report.elapsed = absl::Now() - t0;
  spdlog::info("sync vmi={}/{} changes=[{}] waiting=[{}] restart_required={} errors={} ms={:.2f}",
               req.net.vmi.meta.namespace_, req.net.vmi.meta.name,
               absl::StrJoin(report.changes, "; "), absl::StrJoin(report.waiting, ","),
               report.restart_required.size(), report.errors.size(),
               absl::ToDoubleMilliseconds(report.elapsed));
  return report;
}

}  // namespace k6t::handler
