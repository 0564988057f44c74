#include "bindings/masquerade.h"

#include "absl/strings/str_cat.h"
#include "bindings/common.h"
#include "bindings/devices.h"
#include "bindings/masquerade_nat.h"
#include "k6t/api/naming.h"
#include "k6t/api/net.h"

namespace k6t::binding {
namespace {

struct Family {
  std::string gateway, vm, cidr;
  int prefix = 0;
};

absl::StatusOr<Family> VmFamily(const std::string& cidr_text) {
  auto c = api::IpPrefix::Parse(cidr_text);
  if (!c.ok()) return c.status();
  auto gateway = c->Host(1), vm = c->Host(2);
  if (!gateway || !vm)
    return absl::InvalidArgumentError(
        absl::StrCat("\"", cidr_text, "\" leaves no room for a gateway and a VM address"));
  Family f;
  f.gateway = gateway->ToString();
  f.vm = vm->ToString();
  f.prefix = c->length();
  f.cidr = c->Masked().ToString();
  return f;
}

class MasqueradeBinding : public Binding {
 public:
  absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const override {
    const ObservedLink& pod = *in.pod_link;
    const auto& n = in.names;
    const bool v4 = !pod.GlobalIPv4().empty();
    const bool v6 = !pod.GlobalIPv6().empty();
    if (!v4 && !v6)
      return absl::FailedPreconditionError(
          absl::StrCat("pod interface ", n.pod, " has no global IP address to masquerade behind"));
    const api::PodNetwork pn = in.network.pod.value_or(api::PodNetwork{});
    auto f4 = VmFamily(pn.vm_network_cidr.empty() ? "10.0.2.0/24" : pn.vm_network_cidr);
    if (!f4.ok()) return f4.status();
    auto f6 =
        VmFamily(pn.vm_ipv6_network_cidr.empty() ? "fd10:0:2::/120" : pn.vm_ipv6_network_cidr);
    if (!f6.ok()) return f6.status();

    plan.mac = GuestMac(in.iface, pod.link.mac);
    plan.mtu = InterfaceMtu(in.iface, &pod);
    auto& ops = plan.ops;
    ops.push_back(CreateBridge{n.bridge, api::kMasqueradeBridgeMac.ToString(), plan.mtu});
    if (v6) ops.push_back(SetSysctl{absl::StrCat("ipv6/conf/", n.bridge, "/accept_dad"), "0", ""});
    if (v4) ops.push_back(AddAddress{n.bridge, absl::StrCat(f4->gateway, "/", f4->prefix)});
    if (v6) ops.push_back(AddAddress{n.bridge, absl::StrCat(f6->gateway, "/", f6->prefix)});
    ops.push_back(TapOp(in, n.tap, plan.mtu, plan.queues));
    ops.push_back(SetLinkMaster{n.tap, n.bridge});
    ops.push_back(SetLinkUp{n.tap, true});
    ops.push_back(SetLinkUp{n.bridge, true});
    if (v4) {
      ops.push_back(SetSysctl{absl::StrCat("ipv4/conf/", n.bridge, "/route_localnet"), "1", ""});
      ops.push_back(SetSysctl{"ipv4/ip_forward", "1", in.pod.OriginalSysctl("ipv4/ip_forward")});
    }
    if (v6)
      ops.push_back(SetSysctl{"ipv6/conf/all/forwarding", "1",
                              in.pod.OriginalSysctl("ipv6/conf/all/forwarding")});
    MasqueradeNat nat{
        "", in.options.nft_table, n.pod, n.bridge, "", "", in.iface.ports, in.iface.port_ranges};
    if (v4) {
      nat.family = "ip";
      nat.gateway_ip = f4->gateway;
      nat.vm_ip = f4->vm;
      ops.push_back(MasqueradeNatTable(nat));
    }
    if (v6) {
      nat.family = "ip6";
      nat.gateway_ip = f6->gateway;
      nat.vm_ip = f6->vm;
      ops.push_back(MasqueradeNatTable(nat));
    }

    plan.device = TapNic(in.vmi, in.iface, n.tap, plan, in.options.vhost_net);

    DhcpPlan dhcp;
    dhcp.bridge = n.bridge;
    if (v4) {
      DhcpV4Offer o;
      o.server_ip = f4->gateway;
      o.client_ip = f4->vm;
      o.prefix_len = f4->prefix;
      o.router = f4->gateway;
      o.mtu = plan.mtu;
      FillVmiDhcpOptions(in, o);
      dhcp.v4 = o;
    }
    if (v6) {
      DhcpV6Offer o;
      o.client_ip = f6->vm;
      o.prefix_len = f6->prefix;
      for (const auto& d : in.options.dns_servers)
        if (d.find(':') != std::string::npos) o.dns_servers.push_back(d);
      o.search_domains = in.options.search_domains;
      dhcp.v6 = o;
      dhcp.ra = RouterAdvert{f6->gateway, f6->cidr, plan.mtu, true, true};
    }
    plan.dhcp = dhcp;
    return absl::OkStatus();
  }
};

}  // namespace

std::shared_ptr<const Binding> NewMasqueradeBinding() {
  return std::make_shared<MasqueradeBinding>();
}

}  // namespace k6t::binding
