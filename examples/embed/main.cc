// k6t-embed-example: what another C++ launcher does with libk6tbinding. It registers a
// binding of its own ("example-tap": a bridge with the VM's tap, no CNI link needed), decodes
// and validates a VMI that uses it and hands it to the pod-network session
// (k6t/binding/pod_network.h), which plans it against the pod namespace it is given, records
// it in the state dir and applies it; the example then checks for drift, reads the result
// back through the kernel adapters and prints the plan's libvirt device (libk6tdomxml).
// `--teardown` removes it again. Needs root (CAP_NET_ADMIN in the namespace, /dev/net/tun).
//
//   k6t-embed-example --netns /run/netns/NAME --state-dir DIR [--teardown]
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "k6t/api/decode.h"
#include "k6t/api/naming.h"
#include "k6t/api/validate.h"
#include "k6t/binding/binding.h"
#include "k6t/binding/drift.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/logging.h"
#include "k6t/binding/netns.h"
#include "k6t/binding/pod_network.h"
#include "k6t/binding/registry.h"
#include "k6t/domxml/device.h"

namespace {

namespace api = k6t::api;
namespace kb = k6t::binding;

constexpr char kBindingName[] = "example-tap";

constexpr char kVmi[] = R"(
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata: {name: embedded, namespace: default}
spec:
  domain:
    devices:
      interfaces:
      - name: default
        binding: {name: example-tap}
        macAddress: 02:6b:36:74:00:01
  networks:
  - name: default
    pod: {}
)";

// The embedder's own binding: pure, like the built-ins: it only describes what to build.
class ExampleTapBinding : public kb::Binding {
 public:
  bool NeedsPodLink() const override { return false; }
  absl::Status Plan(const kb::BindingInput& in, kb::InterfacePlan& plan) const override {
    plan.mac = in.iface.mac_address.empty() ? "02:6b:36:74:00:01" : in.iface.mac_address;
    plan.mtu = 1500;
    plan.ops = {
        kb::CreateBridge{in.names.bridge, "", plan.mtu},
        kb::CreateTap{in.names.tap, in.options.tap_owner, in.options.tap_group, plan.queues,
                      plan.mtu},
        kb::SetLinkMaster{in.names.tap, in.names.bridge},
        kb::SetLinkUp{in.names.bridge, true},
        kb::SetLinkUp{in.names.tap, true},
    };
    kb::GuestDevice nic;
    nic.kind = kb::DeviceKind::kTap;
    nic.alias = "ua-" + in.iface.name;
    nic.mac = plan.mac;
    nic.model = "virtio";
    nic.tap = in.names.tap;
    nic.mtu = plan.mtu;
    plan.device = nic;
    return absl::OkStatus();
  }
};

// What the plan promised, read back through the kernel adapters on the session's thread:
// the bridge and the tap exist, are up, and the tap is the bridge's port. With `gone`,
// neither exists.
absl::Status Check(const kb::PodNetworkRequest& req, const std::string& bridge,
                   const std::string& tap, bool gone) {
  return kb::RunInPod(req, [&](const kb::Kernel& k) -> absl::Status {
    auto br = k.netlink->GetLink(bridge);
    if (!br.ok()) return br.status();
    auto tp = k.netlink->GetLink(tap);
    if (!tp.ok()) return tp.status();
    if (gone) {
      if (*br || *tp) return absl::InternalError("teardown left " + bridge + " or " + tap);
      std::printf("embed: %s and %s are gone\n", bridge.c_str(), tap.c_str());
      return absl::OkStatus();
    }
    if (!*br || (*br)->kind != "bridge" || !(*br)->admin_up)
      return absl::InternalError(bridge + " is not an up bridge");
    if (!*tp || (*tp)->kind != "tun" || !(*tp)->admin_up)
      return absl::InternalError(tap + " is not an up tap");
    if ((*tp)->master_index != (*br)->index)
      return absl::InternalError(tap + " is not a port of " + bridge);
    std::printf("embed: %s (bridge, up) holds %s (tap, up, mtu %d)\n", bridge.c_str(), tap.c_str(),
                (*tp)->mtu);
    return absl::OkStatus();
  });
}

absl::Status Run(const std::string& netns, const std::string& state_dir, bool teardown) {
  if (auto st = kb::BindingRegistry::Global().Register(kBindingName,
                                                       std::make_shared<const ExampleTapBinding>());
      !st.ok())
    return st;

  auto vmi = api::DecodeSingleVmi(kVmi, "built-in VMI");
  if (!vmi.ok()) return vmi.status();
  api::ClusterConfig cluster;
  cluster.binding_plugins.insert(kBindingName);
  if (auto errors = api::Validate(*vmi, cluster); !errors.empty())
    return absl::InvalidArgumentError("VMI invalid: " + errors.front().ToString());

  // The pod-network session does the rest: plan against the namespace, record the plan in the
  // state dir, apply it (rolled back on failure, resumed after a crash), tear it down.
  kb::PodNetworkRequest req;
  req.vmi = *vmi;
  req.pod_netns = netns;
  req.state_dir = state_dir;
  req.options = kb::DefaultPlannerOptions();
  // One thread in the pod for every call below, as a long-lived launcher would keep.
  auto ns = kb::NetnsThread::Enter(netns);
  if (!ns.ok()) return ns.status();
  req.netns = *std::move(ns);
  // What the binding named its links: the pod network's names (the VMI's pod link is eth0).
  const api::PodLinkNames names = api::DeriveLinkNames("eth0", /*primary=*/true);

  if (teardown) {
    auto report = kb::TeardownPodNetwork(req);
    if (!report.ok()) return report.status();
    std::printf("embed: torn down ops=%d changed=%d\n", report->operations, report->changed);
    return Check(req, names.bridge, names.tap, /*gone=*/true);
  }
  auto setup = kb::SetupPodNetwork(req);
  if (!setup.ok()) return setup.status();
  if (setup->plans.size() != 1) return absl::InternalError("expected one interface plan");
  const kb::InterfacePlan& plan = setup->plans.front();
  std::printf("embed: interface %s, binding %s\n", plan.interface_name.c_str(),
              plan.binding.c_str());
  for (const auto& op : plan.ops) std::printf("  %s\n", kb::Describe(op).c_str());
  std::printf("embed: applied ops=%d changed=%d in %.2f ms\n", setup->report.operations,
              setup->report.changed, absl::ToDoubleMilliseconds(setup->timings.apply));
  auto device = k6t::domxml::PlanDeviceXml(plan, k6t::domxml::DeviceContext{});
  if (!device.ok()) return device.status();
  std::printf("embed: libvirt device\n%s", device->c_str());
  auto checked = kb::CheckPodNetwork(req);
  if (!checked.ok()) return checked.status();
  if (!checked->drift.empty())
    return absl::InternalError("drift after setup: " + kb::DescribeDrift(checked->drift));
  return Check(req, names.bridge, names.tap, /*gone=*/false);
}

}  // namespace

int main(int argc, char** argv) {
  std::string netns, state_dir;
  bool teardown = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--netns") == 0 && i + 1 < argc) {
      netns = argv[++i];
    } else if (std::strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
      state_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--teardown") == 0) {
      teardown = true;
    } else {
      netns.clear();
      break;
    }
  }
  if (netns.empty() || state_dir.empty()) {
    std::fprintf(stderr,
                 "usage: k6t-embed-example --netns /run/netns/NAME --state-dir DIR [--teardown]\n");
    return 2;
  }
  kb::SetupLogging("k6t-embed-example", kb::LogFormat::kText, kb::LogStream::kStderr);
  if (absl::Status st = Run(netns, state_dir, teardown); !st.ok()) {
    std::fprintf(stderr, "embed: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
