#include "bindings/common.h"

#include "absl/strings/str_cat.h"
#include "k6t/api/hash.h"
#include "k6t/api/net.h"

namespace k6t::binding {

std::string GuestMac(const api::Interface& iface, const std::string& fallback) {
  return iface.mac_address.empty() ? fallback : iface.mac_address;
}

int InterfaceMtu(const api::Interface& iface, const ObservedLink* pod_link) {
  if (iface.mtu) return static_cast<int>(*iface.mtu);
  return pod_link ? pod_link->link.mtu : 0;
}

std::string DerivedMac(const std::string& seed) {
  const uint64_t h = api::Fnv1a64(seed, api::kFnv1a64K6tSeed);
  return api::MacAddress({0x02, 0x6b, 0x36, static_cast<uint8_t>(h >> 16),
                          static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h)})
      .ToString();
}

std::string FakeBridgeIPv4(int index) { return absl::StrCat("169.254.75.1", index); }

void RecordOriginal(const ObservedLink& link, InterfacePlan& plan) {
  plan.original_mac = link.link.mac;
  plan.original_mtu = link.link.mtu;
  plan.original_index = link.link.index;
  plan.original_addresses.clear();
  plan.original_link_local.clear();
  for (const auto& a : link.addresses) {
    auto p = api::IpPrefix::Parse(a);
    (p.ok() && p->address().IsLinkLocal() && p->address().is_v6() ? plan.original_link_local
                                                                  : plan.original_addresses)
        .push_back(a);
  }
  plan.original_routes = link.routes;
}

CreateTap TapOp(const BindingInput& in, const std::string& name, int mtu, int queues) {
  return CreateTap{name, in.options.tap_owner, in.options.tap_group, queues, mtu};
}

void AppendBridgePlumbing(const BindingInput& in, bool fake_ipv4, InterfacePlan& plan) {
  const ObservedLink& pod = *in.pod_link;
  const auto& n = in.names;
  const std::string bridge_mac = DerivedMac(in.vmi.meta.uid + "/" + n.bridge);
  const int mtu = plan.mtu;
  RecordOriginal(pod, plan);
  auto& ops = plan.ops;
  ops.push_back(CreateBridge{n.bridge, bridge_mac, mtu});
  if (fake_ipv4 && !pod.GlobalIPv4().empty())
    ops.push_back(AddAddress{n.bridge, FakeBridgeIPv4(in.index) + "/32"});
  ops.push_back(FlushAddresses{n.pod, pod.link.index});
  ops.push_back(RenameLink{n.pod, n.nic, pod.link.index});
  ops.push_back(SetLinkMac{n.nic, bridge_mac});
  if (mtu > 0 && mtu != pod.link.mtu) ops.push_back(SetLinkMtu{n.nic, mtu});
  ops.push_back(SetLinkMaster{n.nic, n.bridge});
  ops.push_back(SetLinkUp{n.nic, true});
  ops.push_back(SetPortLearning{n.nic, false});
  ops.push_back(TapOp(in, n.tap, mtu, plan.queues));
  ops.push_back(SetLinkMaster{n.tap, n.bridge});
  ops.push_back(SetLinkUp{n.tap, true});
  ops.push_back(SetLinkUp{n.bridge, true});
  const PlaceholderKind kind =
      in.pod.dummy_supported ? PlaceholderKind::kDummy : PlaceholderKind::kIfb;
  if (kind == PlaceholderKind::kIfb)
    plan.notes.push_back(absl::StrCat("kernel has no dummy driver: placeholder ", n.pod,
                                      " is an ifb link (also BROADCAST,NOARP and down)"));
  ops.push_back(CreatePlaceholder{n.pod, kind, pod.link.mac, pod.link.mtu});
  for (const auto& a : plan.original_addresses) ops.push_back(AddAddress{n.pod, a});
  if (!pod.GlobalIPv4().empty()) {
    auto it = in.pod.sysctls.find("ipv4/conf/all/arp_ignore");
    ops.push_back(
        SetSysctl{"ipv4/conf/all/arp_ignore", "1", it == in.pod.sysctls.end() ? "" : it->second});
  }
}

void FillVmiDhcpOptions(const BindingInput& in, DhcpV4Offer& offer) {
  std::string host = in.vmi.spec.hostname.empty() ? in.vmi.meta.name : in.vmi.spec.hostname;
  host = host.substr(0, host.find('.'));
  offer.hostname = host.substr(0, 63);
  for (const auto& d : in.options.dns_servers)
    if (d.find(':') == std::string::npos) offer.dns_servers.push_back(d);
  offer.search_domains = in.options.search_domains;
  if (const auto& o = in.iface.dhcp_options) {
    offer.tftp_server_name = o->tftp_server_name;
    offer.boot_file_name = o->boot_file_name;
    offer.ntp_servers = o->ntp_servers;
    for (const auto& p : o->private_options)
      offer.private_options.emplace_back(static_cast<int>(p.option), p.value);
  }
}

}  // namespace k6t::binding
