#include "k6t/binding/pod_state.h"

#include "k6t/api/net.h"

namespace k6t::binding {
namespace {

bool IsGlobal(const std::string& cidr, bool v6) {
  auto p = api::IpPrefix::Parse(cidr);
  if (!p.ok() || p->address().is_v6() != v6) return false;
  return !p->address().IsLinkLocal() && !p->address().IsLoopback();
}

std::string FirstGlobal(const std::vector<std::string>& addrs, bool v6) {
  for (const auto& a : addrs)
    if (IsGlobal(a, v6)) return a;
  return "";
}

}  // namespace

std::string ObservedLink::GlobalIPv4() const { return FirstGlobal(addresses, false); }
std::string ObservedLink::GlobalIPv6() const { return FirstGlobal(addresses, true); }

const ObservedLink* PodState::Find(const std::string& name) const {
  auto it = links.find(name);
  return it == links.end() ? nullptr : &it->second;
}

std::string PodState::OriginalSysctl(const std::string& key) const {
  auto it = sysctls.find(key);
  return it == sysctls.end() ? std::string() : it->second;
}

const std::vector<std::string>& GlobalSysctlKeys() {
  static const std::vector<std::string> keys = {
      "ipv4/ip_forward",       "ipv6/conf/all/forwarding",        "ipv4/conf/all/arp_ignore",
      "ipv4/ping_group_range", "ipv4/ip_unprivileged_port_start",
  };
  return keys;
}

absl::StatusOr<PodState> ObservePod(const Kernel& kernel) {
  PodState pod;
  auto links = kernel.netlink->ListLinks();
  if (!links.ok()) return links.status();
  auto routes = kernel.netlink->ListRoutes();
  if (!routes.ok()) return routes.status();
  for (const auto& l : *links) {
    ObservedLink o;
    o.link = l;
    auto addrs = kernel.netlink->ListAddresses(l.index);
    if (!addrs.ok()) return addrs.status();
    for (const auto& a : *addrs) o.addresses.push_back(a.cidr);
    for (const auto& r : *routes)
      if (r.link_index == l.index) o.routes.push_back(Route{r.destination, r.gateway});
    pod.links[l.name] = std::move(o);
  }
  for (const auto& key : GlobalSysctlKeys()) {
    auto v = kernel.sysctl->Read(key);
    if (v.ok()) pod.sysctls[key] = *v;
  }
  pod.dummy_supported = kernel.netlink->SupportsKind("dummy");
  return pod;
}

}  // namespace k6t::binding
