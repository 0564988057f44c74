#include "plan_printer.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "k6t/binding/plan.h"

namespace k6t::handler {
namespace {

using namespace binding;

// A device k6t creates or adopts, gathered from the operations that touch it.
struct Device {
  std::string kind, mac, master, extra;
  int mtu = 0;
  bool up = false;
  std::vector<std::string> addrs;
};

std::string Indent(const std::string& text, const std::string& pad) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    absl::StrAppend(&out, pad, line, "\n");
  }
  return out;
}

void Tree(const InterfacePlan& p, std::string& out) {
  std::map<std::string, Device> devs;
  std::vector<std::string> order;
  auto dev = [&](const std::string& name) -> Device& {
    if (!devs.count(name)) order.push_back(name);
    return devs[name];
  };
  for (const auto& op : p.ops) {
    if (auto* o = std::get_if<CreateBridge>(&op)) {
      auto& d = dev(o->name);
      d.kind = "bridge", d.mac = o->mac, d.mtu = o->mtu;
    } else if (auto* o = std::get_if<CreateTap>(&op)) {
      auto& d = dev(o->name);
      d.kind = "tap", d.mtu = o->mtu;
      d.extra = absl::StrCat("owner ", o->owner, ":", o->group, " queues ", o->queues);
    } else if (auto* o = std::get_if<CreatePlaceholder>(&op)) {
      auto& d = dev(o->name);
      d.kind = o->kind == PlaceholderKind::kDummy ? "dummy" : "ifb", d.mac = o->mac;
      d.mtu = o->mtu, d.extra = "keeps the CNI's name and addresses, stays down";
    } else if (auto* o = std::get_if<RenameLink>(&op)) {
      auto& d = dev(o->to);
      d.kind = "cni link", d.extra = "was " + o->from;
    } else if (auto* o = std::get_if<SetLinkMac>(&op)) {
      dev(o->link).mac = o->mac;
    } else if (auto* o = std::get_if<SetLinkMaster>(&op)) {
      dev(o->link).master = o->master;
    } else if (auto* o = std::get_if<SetLinkUp>(&op)) {
      dev(o->link).up = o->up;
    } else if (auto* o = std::get_if<AddAddress>(&op)) {
      dev(o->link).addrs.push_back(o->cidr);
    }
  }
  auto line = [&](const std::string& name, const std::string& prefix) {
    const Device& d = devs[name];
    absl::StrAppend(&out, prefix, name, "  ", d.kind, d.up ? " up" : " down");
    if (!d.mac.empty()) absl::StrAppend(&out, "  mac ", d.mac);
    if (d.mtu) absl::StrAppend(&out, "  mtu ", d.mtu);
    if (!d.addrs.empty()) absl::StrAppend(&out, "  ", absl::StrJoin(d.addrs, " "));
    if (!d.extra.empty()) absl::StrAppend(&out, "  (", d.extra, ")");
    out += "\n";
  };
  for (const auto& name : order) {
    if (!devs[name].master.empty()) continue;
    line(name, "    ");
    for (const auto& port : order)
      if (devs[port].master == name) line(port, "    └─ ");
  }
}

void Dhcp(const DhcpPlan& d, std::string& out) {
  absl::StrAppend(&out, "  dhcp on ", d.bridge,
                  d.client_mac.empty() ? "" : absl::StrCat(" (only for ", d.client_mac, ")"),
                  ":\n");
  if (d.v4) {
    const auto& o = *d.v4;
    absl::StrAppend(&out, "    v4: ", o.client_ip, "/", o.prefix_len, " server ", o.server_ip);
    if (!o.router.empty()) absl::StrAppend(&out, " router ", o.router);
    if (o.mtu) absl::StrAppend(&out, " mtu ", o.mtu);
    if (!o.hostname.empty()) absl::StrAppend(&out, " hostname ", o.hostname);
    for (const auto& r : o.routes) absl::StrAppend(&out, " route ", r.destination, ">", r.gateway);
    if (o.dns_servers.empty()) out += " dns from the launcher's resolv.conf";
    out += "\n";
  }
  if (d.v6) absl::StrAppend(&out, "    v6: ", d.v6->client_ip, "/", d.v6->prefix_len, "\n");
  if (d.ra)
    absl::StrAppend(&out, "    ra: prefix ", d.ra->prefix, " router ", d.ra->router_ip, " mtu ",
                    d.ra->mtu, d.ra->managed ? " managed" : "", d.ra->other ? " other" : "", "\n");
}

}  // namespace

std::string PlansToText(const std::vector<InterfacePlan>& plans) {
  std::string out;
  for (const auto& p : plans) {
    absl::StrAppend(&out, "interface ", p.interface_name, " (", p.binding, ") network ",
                    p.network_name);
    if (!p.pod_interface.empty()) absl::StrAppend(&out, " -> pod link ", p.pod_interface);
    absl::StrAppend(&out, "\n  guest mac ", p.mac.empty() ? "(libvirt's)" : p.mac,
                    p.mtu ? absl::StrCat(" mtu ", p.mtu) : "", " queues ", p.queues, "\n");
    if (!p.ops.empty()) {
      out += "  pod side:\n";
      Tree(p, out);
      absl::StrAppend(&out, "  operations (", p.ops.size(), "):\n");
      int i = 1;
      for (const auto& op : p.ops) absl::StrAppend(&out, "    ", i++, ". ", Describe(op), "\n");
      for (const auto& op : p.ops)
        if (auto* t = std::get_if<NftTable>(&op))
          absl::StrAppend(&out, "  nftables table ", t->family, " ", t->name, ":\n",
                          Indent(t->body, "    "));
    }
    if (p.dhcp) Dhcp(*p.dhcp, out);
    if (p.passt) {
      absl::StrAppend(&out, "  passt on ", p.passt->pod_interface, ", forwards: ");
      if (p.passt->forwards.empty()) out += "all ports";
      for (const auto& [proto, port] : p.passt->forwards)
        absl::StrAppend(&out, proto, "/", port, " ");
      out += "\n";
    }
    if (p.device) absl::StrAppend(&out, "  guest device: ", Describe(*p.device), "\n");
    for (const auto& n : p.notes) absl::StrAppend(&out, "  note: ", n, "\n");
    out += "\n";
  }
  return out;
}

}  // namespace k6t::handler
