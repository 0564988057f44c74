#include "bindings/passt.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "bindings/common.h"
#include "domain_fragment.h"

namespace k6t::binding {
namespace {

std::string NativeXml(const BindingInput& in, const InterfacePlan& plan) {
  std::string x = "<interface type='vhostuser'>\n";
  absl::StrAppend(&x, "  <mac address='", plan.mac, "'/>\n");
  absl::StrAppend(&x, "  <source dev='", XmlEscape(plan.pod_interface), "'/>\n");
  absl::StrAppend(&x, "  <model type='virtio'/>\n  <backend type='passt'/>\n");
  std::string tcp, udp;
  for (const auto& [proto, port] : plan.passt->forwards)
    absl::StrAppend(proto == "udp" ? &udp : &tcp, "    <range start='", port, "'/>\n");
  if (plan.passt->forwards.empty()) {
    x += "  <portForward proto='tcp'/>\n  <portForward proto='udp'/>\n";
  } else {
    if (!tcp.empty())
      absl::StrAppend(&x, "  <portForward proto='tcp'>\n", tcp, "  </portForward>\n");
    if (!udp.empty())
      absl::StrAppend(&x, "  <portForward proto='udp'>\n", udp, "  </portForward>\n");
  }
  absl::StrAppend(&x, "  <alias name='ua-", XmlEscape(in.iface.name), "'/>\n</interface>\n");
  return x;
}

class PasstBinding : public Binding {
 public:
  absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const override {
    const ObservedLink& pod = *in.pod_link;
    plan.mac = GuestMac(in.iface, DerivedMac(in.vmi.meta.uid + "/" + in.iface.name));
    plan.mtu = InterfaceMtu(in.iface, &pod);
    // An unprivileged passt binds the forwarded low ports and answers ICMP echo.
    const std::string gid = absl::StrCat(in.options.tap_group);
    plan.ops.push_back(SetSysctl{"ipv4/ping_group_range", absl::StrCat(gid, "\t", gid),
                                 in.pod.OriginalSysctl("ipv4/ping_group_range")});
    plan.ops.push_back(SetSysctl{"ipv4/ip_unprivileged_port_start", "0",
                                 in.pod.OriginalSysctl("ipv4/ip_unprivileged_port_start")});
    PasstPlan p;
    p.pod_interface = in.names.pod;
    for (const auto& port : in.iface.ports)
      p.forwards.emplace_back(port.protocol.empty() ? "tcp" : absl::AsciiStrToLower(port.protocol),
                              static_cast<int>(port.port));
    p.mac = plan.mac;
    p.mtu = plan.mtu;
    plan.passt = p;
    plan.passt->native_domain_xml = NativeXml(in, plan);
    plan.notes.push_back(
        "the launcher runs passt and connects QEMU to it (libvirt 9 has no passt backend)");
    return absl::OkStatus();
  }
};

}  // namespace

std::shared_ptr<const Binding> NewPasstBinding() { return std::make_shared<PasstBinding>(); }

}  // namespace k6t::binding
