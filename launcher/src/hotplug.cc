#include "hotplug.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "domain_devices.h"
#include "domain_xml.h"
#include "guest_status.h"
#include "k6t/binding/cache.h"
#include "k6t/binding/kernel.h"
#include "k6t/domxml/device.h"
#include "k6t/launcher/launcher.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

namespace rpc = api::rpc;
using binding::CachedInterface;
using binding::InterfacePlan;

constexpr DeviceFlags kLiveAndConfig = kLive | kConfig;

double Ms(absl::Time since) { return absl::ToDoubleMilliseconds(absl::Now() - since); }

// The VMI interface a live device belongs to: the plan declaring its alias, else the
// `ua-<name>` convention.
std::string InterfaceNameOf(const LiveDevice& d, const std::vector<CachedInterface>& cached) {
  for (const auto& c : cached)
    if (domxml::PlanDeviceAlias(c.plan) == d.alias) return c.plan.interface_name;
  if (d.alias.rfind("ua-", 0) == 0) return d.alias.substr(3);
  return "";
}

// The pod's own addresses on a link k6t left in place (masquerade keeps eth0 as the CNI made
// it): read from the pod netns the launcher runs in. IPv4 first, link-local skipped.
std::vector<std::string> PodAddresses(const std::string& link) {
  std::vector<std::string> v4, v6;
  auto nl = binding::NewNetlink();
  auto l = nl->GetLink(link);
  if (!l.ok() || !*l) return {};
  auto addrs = nl->ListAddresses((*l)->index);
  if (!addrs.ok()) return {};
  for (const auto& a : *addrs) {
    if (a.cidr.rfind("fe80:", 0) == 0) continue;
    (a.ipv6() ? v6 : v4).push_back(WithoutPrefix(a.cidr));
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

}  // namespace

absl::StatusOr<bool> Hotplug::Attach(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  return AttachLocked(name);
}

absl::StatusOr<bool> Hotplug::Detach(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  return DetachLocked(name);
}

absl::StatusOr<bool> Hotplug::SetLinkState(const std::string& name, bool up) {
  std::lock_guard<std::mutex> l(mu_);
  return SetLinkStateLocked(name, up);
}

namespace {

absl::StatusOr<DomainLifecycle*> RunningDomain(Launcher& launcher, const char* what) {
  DomainLifecycle* dom = launcher.domain();
  if (!dom || dom->status().phase != DomainPhase::kRunning)
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": the domain is not running (", DomainPhaseName(launcher.status().phase), ")"));
  return dom;
}

absl::StatusOr<LiveDomain> Live(DomainLifecycle* dom) {
  auto xml = dom->Xml();
  if (!xml.ok()) return xml.status();
  return ParseLiveDomain(*xml);
}

}  // namespace

absl::StatusOr<Hotplug::Target> Hotplug::Resolve(const std::string& what, const std::string& name) {
  Target t;
  auto dom = RunningDomain(launcher_, what.c_str());
  if (!dom.ok()) return dom.status();
  t.dom = *dom;
  auto cached = binding::ReadCachedInterface(launcher_.options().state_dir, name);
  if (!cached.ok()) return cached.status();
  t.cached = std::move(*cached);
  t.alias = t.cached ? domxml::PlanDeviceAlias(t.cached->plan) : absl::StrCat("ua-", name);
  auto xml = t.dom->Xml();
  if (!xml.ok()) return xml.status();
  t.xml = std::move(*xml);
  auto live = ParseLiveDomain(t.xml);
  if (!live.ok()) return live.status();
  t.live = std::move(*live);
  return t;
}

absl::StatusOr<bool> Hotplug::AttachLocked(const std::string& name) {
  const absl::Time t0 = absl::Now();
  const std::string what = absl::StrCat("attach interface ", name);
  auto t = Resolve(what, name);
  if (!t.ok()) return t.status();
  if (!t->cached)
    return absl::NotFoundError(absl::StrCat(what, ": no plan in ", launcher_.options().state_dir,
                                            " (k6t-handler sync/setup plans it first)"));
  const InterfacePlan& plan = t->cached->plan;
  if (t->cached->phase != binding::PlumbingPhase::kFinished)
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": its pod plumbing is not finished (k6t-handler setup resumes it)"));
  if (plan.passt)
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     ": restart required: passt interfaces are wired at domain start and cannot be "
                     "hot-plugged"));
  auto device = domxml::PlanDeviceXml(plan, HostDeviceContext(launcher_.domain_options()));
  if (!device.ok())
    return absl::Status(device.status().code(),
                        absl::StrCat(what, ": ", device.status().message()));
  const bool present = t->live.FindAlias(t->alias) != nullptr;
  // Serve DHCP before the guest sees the NIC: its client starts as soon as the driver binds.
  if (dhcp_ && plan.dhcp) {
    if (auto st = dhcp_->Add(*plan.dhcp); !st.ok())
      return absl::Status(st.code(),
                          absl::StrCat(what, ": DHCP on ", plan.dhcp->bridge, ": ", st.message()));
  }
  if (present) return false;
  if (t->live.free_root_ports <= 0) {
    StopDhcp(*t);
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": no free PCIe root port: the domain was defined with ", t->live.root_ports,
        " root port(s) and all are in use; restart the VM to get more (k6t-launcher "
        "--hotplug-ports, or fewer NICs per VM)"));
  }
  if (auto st = t->dom->AttachDevice(*device, kLiveAndConfig); !st.ok()) {
    StopDhcp(*t);
    return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
  }
  spdlog::info("hotplug attach interface={} alias={} binding={} ms={:.1f}", name, t->alias,
               plan.binding, Ms(t0));
  return true;
}

void Hotplug::StopDhcp(const Target& t) {
  if (dhcp_ && t.cached && t.cached->plan.dhcp) (void)dhcp_->Remove(t.cached->plan.dhcp->bridge);
}

absl::StatusOr<bool> Hotplug::DetachLocked(const std::string& name) {
  const absl::Time t0 = absl::Now();
  const std::string what = absl::StrCat("detach interface ", name);
  auto t = Resolve(what, name);
  if (!t.ok()) return t.status();
  if (t->cached && t->cached->plan.passt)
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": restart required: passt interfaces cannot be hot-unplugged"));
  if (!t->live.FindAlias(t->alias)) {
    StopDhcp(*t);
    return false;
  }
  t->dom->ExpectRemoval(t->alias);
  if (auto st = t->dom->DetachDeviceAlias(t->alias, kLiveAndConfig); !st.ok())
    return absl::Status(st.code(), absl::StrCat(what, ": ", st.message()));
  if (!t->dom->WaitRemoved(t->alias, detach_timeout)) {
    // The event may have been missed across a reconnect: the live XML is the truth.
    auto again = Live(t->dom);
    if (!again.ok()) return again.status();
    if (again->FindAlias(t->alias))
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": the guest did not release ", t->alias, " within ",
                       absl::FormatDuration(detach_timeout),
                       " (is its PCIe hotplug driver loaded?); libvirt keeps the request"));
  }
  StopDhcp(*t);
  spdlog::info("hotplug detach interface={} alias={} ms={:.1f}", name, t->alias, Ms(t0));
  return true;
}

absl::StatusOr<bool> Hotplug::SetLinkStateLocked(const std::string& name, bool up) {
  const std::string what = absl::StrCat("set link state of interface ", name);
  auto t = Resolve(what, name);
  if (!t.ok()) return t.status();
  const LiveDevice* dev = t->live.FindAlias(t->alias);
  if (!dev) return absl::NotFoundError(absl::StrCat(what, ": not in the domain"));
  if (dev->kind != "interface")
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": a ", dev->kind, " has no link state to change"));
  if ((dev->link_state == "up") == up) return false;
  auto element = WithLinkState(dev->element, up);
  if (!element.ok())
    return absl::Status(element.status().code(),
                        absl::StrCat(what, ": ", element.status().message()));
  // The persistent definition follows when libvirt accepts the live element for it.
  if (auto st = t->dom->UpdateDevice(*element, kLiveAndConfig); !st.ok()) {
    if (auto live_only = t->dom->UpdateDevice(*element, kLive); !live_only.ok())
      return absl::Status(live_only.code(), absl::StrCat(what, ": ", live_only.message()));
    spdlog::warn("{}: changed live only ({})", what, std::string(st.message()));
  }
  spdlog::info("hotplug link interface={} state={}", name, up ? "up" : "down");
  return true;
}

absl::Status Hotplug::Reconcile(const api::Vmi& vmi, std::vector<std::string>* changes) {
  std::lock_guard<std::mutex> l(mu_);
  auto cached = binding::ReadCachedInterfaces(launcher_.options().state_dir);
  if (!cached.ok()) return cached.status();
  for (const api::Interface& iface : vmi.spec.domain.interfaces) {
    if (iface.absent()) {
      auto r = DetachLocked(iface.name);
      if (!r.ok()) return r.status();
      if (*r) changes->push_back(absl::StrCat("detached ", iface.name));
      continue;
    }
    const bool planned = std::any_of(cached->begin(), cached->end(), [&](const CachedInterface& c) {
      return c.plan.interface_name == iface.name && !c.plan.passt;
    });
    if (!planned) continue;
    auto r = AttachLocked(iface.name);
    if (!r.ok()) return r.status();
    if (*r) changes->push_back(absl::StrCat("attached ", iface.name));
    if (iface.state == "up" || iface.state == "down" || *r) {
      auto s = SetLinkStateLocked(iface.name, iface.state != "down");
      if (!s.ok() && !absl::IsFailedPrecondition(s.status())) return s.status();
      if (s.ok() && *s) changes->push_back(absl::StrCat("link ", iface.name, " ", iface.state));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<rpc::GetDomainResult> Hotplug::Domain() {
  rpc::GetDomainResult out;
  out.state = DomainPhaseName(launcher_.status().phase);
  DomainLifecycle* dom = launcher_.domain();
  if (!dom || launcher_.status().phase == DomainPhase::kNone) return out;
  auto xml = dom->Xml();
  if (!xml.ok()) return xml.status();
  auto live = ParseLiveDomain(*xml);
  if (!live.ok()) return live.status();
  auto cached = binding::ReadCachedInterfaces(launcher_.options().state_dir);
  if (!cached.ok()) return cached.status();
  out.xml = *xml;
  out.free_root_ports = live->free_root_ports;
  for (const LiveDevice& d : live->devices) {
    rpc::DomainInterface i;
    i.name = InterfaceNameOf(d, *cached);
    i.mac = d.mac;
    i.target = d.target;
    i.link_state = d.link_state;
    i.model = d.model;
    i.queues = d.queues;
    i.alias = d.alias;
    i.kind = d.kind;
    out.interfaces.push_back(std::move(i));
  }
  // passt's NIC through <qemu:commandline> is QEMU's own device: libvirt does not list it.
  if (launcher_.status().phase == DomainPhase::kRunning) {
    const domxml::DeviceContext host = HostDeviceContext(launcher_.domain_options());
    for (const auto& c : *cached) {
      if (!c.plan.device || domxml::OnRootPort(*c.plan.device, host)) continue;
      rpc::DomainInterface i;
      i.name = c.plan.interface_name;
      i.mac = c.plan.device->mac;
      i.link_state = "up";
      i.model = domxml::kPasstQemuDevice;
      out.interfaces.push_back(std::move(i));
    }
  }
  return out;
}

constexpr absl::Duration kGuestAgentTimeout = absl::Seconds(1);

absl::StatusOr<rpc::GetStatusResult> Hotplug::Status() {
  auto domain = Domain();
  if (!domain.ok()) return domain.status();
  auto cached = binding::ReadCachedInterfaces(launcher_.options().state_dir);
  if (!cached.ok()) return cached.status();
  rpc::GetStatusResult out;
  out.phase = domain->state;
  const api::Vmi& vmi = launcher_.vmi();
  // Order: the primary network's interface first, then the VMI's order, then the rest.
  std::map<std::string, int> rank;
  int next = 1;
  for (const api::Interface& iface : vmi.spec.domain.interfaces) {
    const api::Network* net = nullptr;
    for (const auto& n : vmi.spec.networks)
      if (n.name == iface.name) net = &n;
    rank[iface.name] = net && net->primary() ? 0 : next++;
  }
  std::vector<const CachedInterface*> order;
  for (const auto& c : *cached) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [&](const auto* a, const auto* b) {
    auto ra = rank.count(a->plan.interface_name) ? rank[a->plan.interface_name] : next;
    auto rb = rank.count(b->plan.interface_name) ? rank[b->plan.interface_name] : next;
    return ra < rb;
  });
  for (const CachedInterface* c : order) {
    const InterfacePlan& p = c->plan;
    rpc::StatusInterface s;
    s.name = p.interface_name;
    s.mac = p.mac;
    s.pod_interface_name = p.pod_interface;
    s.info_source = "multus-status";
    const rpc::DomainInterface* live = nullptr;
    for (const auto& d : domain->interfaces)
      if (d.name == p.interface_name) live = &d;
    if (live) {
      if (!live->mac.empty()) s.mac = live->mac;
      s.info_source = "domain, multus-status";
      s.queue_count = live->queues;
      s.link_state = live->link_state;
    }
    for (const auto& a : p.original_addresses) s.ip_addresses.push_back(WithoutPrefix(a));
    // KubeVirt reports the pod IPs for masquerade (and passt): the guest's are private.
    if (s.ip_addresses.empty() && p.binding != "sriov" && !p.pod_interface.empty())
      s.ip_addresses = PodAddresses(p.pod_interface);
    if (!s.ip_addresses.empty()) s.ip_address = s.ip_addresses.front();
    out.interfaces.push_back(std::move(s));
  }
  // The guest's own view, when its agent answers within a second (status never waits on a
  // hung or absent agent longer than that).
  if (DomainLifecycle* dom = launcher_.domain(); dom && out.phase == "running") {
    auto guest = dom->GuestInterfaces(kGuestAgentTimeout);
    if (guest.ok()) {
      std::map<std::string, std::string> binding_of;
      for (const auto& c : *cached) binding_of[c.plan.interface_name] = c.plan.binding;
      MergeGuestInterfaces(*guest, binding_of, out.interfaces);
      out.guest_agent = "connected";
    } else {
      out.guest_agent = absl::StrCat("not connected: ", guest.status().message());
    }
  }
  return out;
}

}  // namespace k6t::launcher
