#include "bindings/passt.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "bindings/common.h"
#include "bindings/devices.h"

namespace k6t::binding {
namespace {

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
    p.mtu = plan.mtu;
    plan.passt = p;
    plan.device = PasstNic(in.iface, plan);
    plan.notes.push_back(
        "the launcher runs passt and connects QEMU to it (libvirt 9 has no passt backend)");
    return absl::OkStatus();
  }
};

}  // namespace

std::shared_ptr<const Binding> NewPasstBinding() { return std::make_shared<PasstBinding>(); }

}  // namespace k6t::binding
