// k6t-embed-example: what another C++ launcher does with libk6tbinding. It registers a
// binding of its own ("example-tap": a bridge with the VM's tap, no CNI link needed), decodes
// and validates a VMI that uses it, plans it against the pod namespace it is given, applies
// the plan there, checks the result through the same kernel adapters, and prints the
// libvirt device of the plan (libk6tdomxml); `--teardown` removes it again. Needs root
// (CAP_NET_ADMIN in the namespace, /dev/net/tun).
//
//   k6t-embed-example --netns /run/netns/NAME [--teardown]
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/api/decode.h"
#include "k6t/api/validate.h"
#include "k6t/binding/binding.h"
#include "k6t/binding/executor.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/logging.h"
#include "k6t/binding/netns.h"
#include "k6t/binding/planner.h"
#include "k6t/binding/pod_state.h"
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

absl::StatusOr<std::vector<kb::InterfacePlan>> Plan(kb::NetnsThread& ns, const api::Vmi& vmi) {
  auto pod = ns.Call<kb::PodState>([]() -> absl::StatusOr<kb::PodState> {
    kb::RealKernel k;  // made on the namespace thread: its sockets live in the pod
    return kb::ObservePod(k.kernel());
  });
  if (!pod.ok()) return pod.status();
  const std::vector<api::NetworkStatusEntry> no_multus;
  return kb::PlanVmi(kb::PlanRequest{vmi, no_multus, *pod, kb::PlannerOptions{}, {}, {}});
}

// What the plan promised, read back: the bridge and the tap exist, are up, and the tap is
// the bridge's port. With `gone`, neither exists.
absl::Status Check(kb::NetnsThread& ns, const kb::InterfacePlan& plan, bool gone) {
  std::string bridge, tap;
  for (const auto& op : plan.ops) {
    if (auto* b = std::get_if<kb::CreateBridge>(&op)) bridge = b->name;
    if (auto* t = std::get_if<kb::CreateTap>(&op)) tap = t->name;
  }
  return ns.Run([&]() -> absl::Status {
    kb::RealKernel k;
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

absl::Status Run(const std::string& netns, bool teardown) {
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

  auto ns = kb::NetnsThread::Enter(netns);
  if (!ns.ok()) return ns.status();
  auto plans = Plan(**ns, *vmi);
  if (!plans.ok()) return plans.status();
  if (plans->size() != 1) return absl::InternalError("expected one interface plan");
  const kb::InterfacePlan& plan = plans->front();
  std::printf("embed: interface %s, binding %s\n", plan.interface_name.c_str(),
              plan.binding.c_str());

  const std::vector<kb::Operation> ops =
      teardown ? kb::TeardownOps(plan, /*restore_globals=*/false) : plan.ops;
  for (const auto& op : ops) std::printf("  %s\n", kb::Describe(op).c_str());
  auto report = (*ns)->Call<kb::ApplyReport>([&]() -> absl::StatusOr<kb::ApplyReport> {
    kb::RealKernel k;
    return kb::Executor(k.kernel())
        .Apply(ops, teardown ? kb::ApplyMode::kBestEffort : kb::ApplyMode::kTransactional);
  });
  if (!report.ok()) return report.status();
  std::printf("embed: applied ops=%d changed=%d\n", report->operations, report->changed);
  if (!teardown) {
    auto device = k6t::domxml::PlanDeviceXml(plan, k6t::domxml::DeviceContext{});
    if (!device.ok()) return device.status();
    std::printf("embed: libvirt device\n%s", device->c_str());
  }
  return Check(**ns, plan, teardown);
}

}  // namespace

int main(int argc, char** argv) {
  std::string netns;
  bool teardown = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--netns") == 0 && i + 1 < argc) {
      netns = argv[++i];
    } else if (std::strcmp(argv[i], "--teardown") == 0) {
      teardown = true;
    } else {
      netns.clear();
      break;
    }
  }
  if (netns.empty()) {
    std::fprintf(stderr, "usage: k6t-embed-example --netns /run/netns/NAME [--teardown]\n");
    return 2;
  }
  kb::SetupLogging("k6t-embed-example", kb::LogFormat::kText, kb::LogStream::kStderr);
  if (absl::Status st = Run(netns, teardown); !st.ok()) {
    std::fprintf(stderr, "embed: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
