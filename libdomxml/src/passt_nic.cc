#include "passt_nic.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace k6t::domxml {
namespace {

// Left to QEMU, passt's NIC would take slot 1 of pcie.0 before libvirt's root ports are
// created there; libvirt never assigns slots this high (root ports pack 8 per slot from 1
// up, and the domain has at most 30 of them; 0x1f is the LPC bridge). So: 0x1e, 0x1d, ...
constexpr int kPasstTopSlot = 0x1e;

absl::Status NeedPasst(const binding::InterfacePlan& plan) {
  if (plan.passt) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("interface \"", plan.interface_name,
                                                 "\": a passt device without what passt serves"));
}

}  // namespace

absl::Status AppendPasstCommandLine(Element domain, const binding::InterfacePlan& plan,
                                    const DeviceContext& context) {
  if (auto st = NeedPasst(plan); !st.ok()) return st;
  if (context.passt_socket.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        "interface \"", plan.interface_name, "\" uses passt but no passt socket path was given"));
  if (context.passt_index < 0 || context.passt_index >= kMaxPasstNics)
    return absl::InvalidArgumentError(absl::StrCat(
        "interface \"", plan.interface_name, "\": more than ", kMaxPasstNics, " passt interfaces"));
  const binding::GuestDevice& d = *plan.device;
  domain.DeclareNamespace("qemu", kQemuNamespace);
  Element cmdline = domain.Child("qemu:commandline");
  if (!cmdline) cmdline = domain.Add("qemu:commandline");
  const std::string id = absl::StrCat("k6tpasst", context.passt_index);
  // Commas in a QEMU option value are doubled.
  const std::string path = absl::StrReplaceAll(context.passt_socket, {{",", ",,"}});
  std::string device = absl::StrCat(
      kPasstQemuDevice, ",netdev=", id, ",mac=", d.mac,
      ",romfile=", absl::StrFormat(",bus=pcie.0,addr=0x%x", kPasstTopSlot - context.passt_index));
  const int mtu = d.mtu > 0 ? d.mtu : plan.passt->mtu;
  if (mtu > 0) absl::StrAppend(&device, ",host_mtu=", mtu);
  cmdline.Add("qemu:arg").Set("value", "-netdev");
  cmdline.Add("qemu:arg")
      .Set("value", absl::StrCat("stream,id=", id, ",server=off,addr.type=unix,addr.path=", path));
  cmdline.Add("qemu:arg").Set("value", "-device");
  cmdline.Add("qemu:arg").Set("value", device);
  return absl::OkStatus();
}

absl::Status AppendPasstInterface(Element devices, const binding::InterfacePlan& plan) {
  if (auto st = NeedPasst(plan); !st.ok()) return st;
  const binding::GuestDevice& d = *plan.device;
  Element i = devices.Add("interface").Set("type", "vhostuser");
  if (!d.mac.empty()) i.Add("mac").Set("address", d.mac);
  i.Add("source").Set("dev", plan.passt->pod_interface);
  i.Add("model").Set("type", d.model.empty() ? "virtio" : d.model);
  i.Add("backend").Set("type", "passt");
  if (plan.passt->forwards.empty()) {
    i.Add("portForward").Set("proto", "tcp");
    i.Add("portForward").Set("proto", "udp");
  } else {
    for (const char* proto : {"tcp", "udp"}) {
      Element group;
      for (const auto& [p, port] : plan.passt->forwards) {
        if ((p == "udp") != (std::string_view(proto) == "udp")) continue;
        if (!group) group = i.Add("portForward").Set("proto", proto);
        group.Add("range").Set("start", port);
      }
    }
  }
  i.Add("alias").Set("name", d.alias);
  return absl::OkStatus();
}

}  // namespace k6t::domxml
