#include "bindings/bridge.h"

#include "bindings/common.h"
#include "bindings/devices.h"
#include "k6t/api/net.h"

namespace k6t::binding {
namespace {

// The DHCP offer's routing from the pod link's IPv4 routes (KubeVirt's DHCP cache rules,
// reference §2.3, with one deliberate difference). Routes: every IPv4 route through the
// link except the pod's own subnet, the default route last. Router (option 3): the default
// route's gateway — KubeVirt takes the next hop of the first route with one, which hands a
// guest a default route (through option 3, or through the default route libdhcp adds to
// option 121 for a router) on a link whose pod has none, e.g. a secondary network with only
// a static route. Here a pod link without a default route gives the guest none: it gets its
// subnet (option 1) and the link's other routes (option 121), nothing else.
void FillRoutes(const ObservedLink& pod, const api::IpPrefix& addr, DhcpV4Offer& o) {
  const std::string subnet = addr.Masked().ToString();
  std::optional<Route> default_route;
  for (const auto& r : pod.routes) {
    if (r.destination.find(':') != std::string::npos) continue;
    if (r.destination == subnet) continue;
    if (r.destination == "0.0.0.0/0") {
      if (!default_route) default_route = r;
      continue;
    }
    o.routes.push_back(r);
  }
  if (!default_route) return;
  o.router = default_route->gateway;
  // Option 3 says it all when there is nothing else; an on-link default needs option 121.
  if (!o.routes.empty() || default_route->gateway.empty()) o.routes.push_back(*default_route);
}

class BridgeBinding : public Binding {
 public:
  absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const override {
    const ObservedLink& pod = *in.pod_link;
    plan.mac = GuestMac(in.iface, pod.link.mac);
    plan.mtu = InterfaceMtu(in.iface, &pod);
    AppendBridgePlumbing(in, /*fake_ipv4=*/true, plan);
    plan.device = TapNic(in.vmi, in.iface, in.names.tap, plan, in.options.vhost_net);
    const std::string v4 = pod.GlobalIPv4();
    const std::string v6 = pod.GlobalIPv6();
    if (v4.empty() && v6.empty()) {
      plan.notes.push_back("pod interface has no IP address: no DHCP (configure the guest)");
      return absl::OkStatus();
    }
    DhcpPlan dhcp;
    dhcp.bridge = in.names.bridge;
    dhcp.client_mac = plan.mac;
    if (!v4.empty()) {
      auto c = api::IpPrefix::Parse(v4);
      if (!c.ok()) return c.status();
      DhcpV4Offer o;
      o.server_ip = FakeBridgeIPv4(in.index);
      o.client_ip = c->address().ToString();
      o.prefix_len = c->length();
      o.mtu = plan.mtu;
      FillRoutes(pod, *c, o);
      FillVmiDhcpOptions(in, o);
      dhcp.v4 = o;
    }
    if (!v6.empty()) {
      auto c = api::IpPrefix::Parse(v6);
      if (!c.ok()) return c.status();
      DhcpV6Offer o;
      o.client_ip = c->address().ToString();
      o.prefix_len = c->length();
      for (const auto& d : in.options.dns_servers)
        if (d.find(':') != std::string::npos) o.dns_servers.push_back(d);
      o.search_domains = in.options.search_domains;
      dhcp.v6 = o;
    }
    plan.dhcp = dhcp;
    return absl::OkStatus();
  }
};

}  // namespace

std::shared_ptr<const Binding> NewBridgeBinding() { return std::make_shared<BridgeBinding>(); }

}  // namespace k6t::binding
