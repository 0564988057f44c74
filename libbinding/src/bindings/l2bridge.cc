#include "bindings/l2bridge.h"

#include "bindings/common.h"
#include "bindings/devices.h"

namespace k6t::binding {
namespace {

class L2BridgeBinding : public Binding {
 public:
  absl::Status Plan(const BindingInput& in, InterfacePlan& plan) const override {
    const ObservedLink& pod = *in.pod_link;
    plan.mac = GuestMac(in.iface, pod.link.mac);
    plan.mtu = InterfaceMtu(in.iface, &pod);
    AppendBridgePlumbing(in, /*fake_ipv4=*/false, plan);
    plan.device = TapNic(in.vmi, in.iface, in.names.tap, plan, in.options.vhost_net);
    plan.notes.push_back("addresses come from the network provider (no k6t DHCP)");
    return absl::OkStatus();
  }
};

}  // namespace

std::shared_ptr<const Binding> NewL2BridgeBinding() { return std::make_shared<L2BridgeBinding>(); }

}  // namespace k6t::binding
