#include "k6t/domxml/device.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "k6t/api/net.h"
#include "passt_nic.h"

namespace k6t::domxml {
namespace {

using binding::DeviceKind;
using binding::GuestDevice;
using binding::InterfacePlan;

absl::Status Invalid(const InterfacePlan& plan, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("interface \"", plan.interface_name, "\": ", what));
}

// `DDDD:BB:SS.F` (validated when planned) as libvirt's <address domain= bus= slot=
// function=>; a guest address also says type='pci', a hostdev's source address does not.
absl::Status AppendPciAddress(Element parent, const std::string& address, bool guest,
                              const InterfacePlan& plan) {
  auto pci = api::PciAddress::Parse(address);
  if (!pci.ok()) return Invalid(plan, std::string(pci.status().message()));
  Element a = parent.Add("address");
  if (guest) a.Set("type", "pci");
  a.Set("domain", absl::StrFormat("0x%04x", pci->domain))
      .Set("bus", absl::StrFormat("0x%02x", pci->bus))
      .Set("slot", absl::StrFormat("0x%02x", pci->slot))
      .Set("function", absl::StrFormat("0x%x", pci->function));
  return absl::OkStatus();
}

// <interface type='ethernet'> on k6t's tap, in the element order libvirt prints.
absl::Status AppendTap(Element devices, const GuestDevice& d, const DeviceContext& context,
                       const InterfacePlan& plan) {
  if (d.tap.empty()) return Invalid(plan, "tap device without a tap name");
  Element i = devices.Add("interface").Set("type", "ethernet");
  if (!d.mac.empty()) i.Add("mac").Set("address", d.mac);
  i.Add("target").Set("dev", d.tap).Set("managed", "no");
  if (!d.model.empty()) i.Add("model").Set("type", d.model);
  if (d.queues > 1)
    i.Add("driver")
        .Set("name", d.vhost && context.vhost_net ? "vhost" : "qemu")
        .Set("queues", d.queues);
  if (d.mtu > 0) i.Add("mtu").Set("size", d.mtu);
  if (!d.link_up) i.Add("link").Set("state", "down");
  // KubeVirt's rule: a NIC that is not a boot device gets no option ROM.
  if (d.boot_order)
    i.Add("boot").Set("order", *d.boot_order);
  else
    i.Add("rom").Set("enabled", "no");
  i.Add("alias").Set("name", d.alias);
  if (!d.guest_pci_address.empty())
    if (auto st = AppendPciAddress(i, d.guest_pci_address, /*guest=*/true, plan); !st.ok())
      return st;
  if (d.acpi_index && *d.acpi_index > 0) i.Add("acpi").Set("index", *d.acpi_index);
  return absl::OkStatus();
}

// <hostdev> of a VF; libvirt's schema takes its host address without a type.
absl::Status AppendHostdev(Element devices, const GuestDevice& d, const InterfacePlan& plan) {
  if (d.host_pci_address.empty()) return Invalid(plan, "hostdev without a host PCI address");
  Element h =
      devices.Add("hostdev").Set("mode", "subsystem").Set("type", "pci").Set("managed", "no");
  if (auto st = AppendPciAddress(h.Add("source"), d.host_pci_address, /*guest=*/false, plan);
      !st.ok())
    return st;
  if (d.boot_order) h.Add("boot").Set("order", *d.boot_order);
  h.Add("alias").Set("name", d.alias);
  if (!d.guest_pci_address.empty())
    return AppendPciAddress(h, d.guest_pci_address, /*guest=*/true, plan);
  return absl::OkStatus();
}

// A device that goes under <devices> (everything but passt's QEMU-own NIC).
absl::Status AppendLibvirtDevice(Element devices, const InterfacePlan& plan,
                                 const DeviceContext& context) {
  const GuestDevice& d = *plan.device;
  switch (d.kind) {
    case DeviceKind::kTap:
      return AppendTap(devices, d, context, plan);
    case DeviceKind::kHostdev:
      return AppendHostdev(devices, d, plan);
    case DeviceKind::kPasst:
      return AppendPasstInterface(devices, plan);
  }
  return Invalid(plan, "unknown device kind");
}

absl::Status NeedDevice(const InterfacePlan& plan) {
  if (plan.device) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "interface \"", plan.interface_name, "\" (binding ", plan.binding,
      "): its plan has no guest device (cached by an older k6t? k6t-handler setup plans it "
      "again)"));
}

}  // namespace

bool OnRootPort(const GuestDevice& device, const DeviceContext& context) {
  return device.kind != DeviceKind::kPasst || context.native_passt;
}

absl::Status AppendPlanDevice(Element domain, const InterfacePlan& plan,
                              const DeviceContext& context) {
  if (auto st = NeedDevice(plan); !st.ok()) return st;
  if (!OnRootPort(*plan.device, context)) return AppendPasstCommandLine(domain, plan, context);
  Element devices = domain.Child("devices");
  if (!devices) devices = domain.Add("devices");
  return AppendLibvirtDevice(devices, plan, context);
}

absl::StatusOr<std::string> PlanDeviceXml(const InterfacePlan& plan, const DeviceContext& context) {
  if (auto st = NeedDevice(plan); !st.ok()) return st;
  if (!OnRootPort(*plan.device, context))
    return absl::FailedPreconditionError(
        absl::StrCat("interface \"", plan.interface_name,
                     "\": passt's NIC is QEMU's own device (wired at domain start through "
                     "<qemu:commandline>), not a libvirt device"));
  XmlDocument scratch("devices");
  if (auto st = AppendLibvirtDevice(scratch.root(), plan, context); !st.ok()) return st;
  return scratch.root().Children().front().Emit();
}

std::string PlanDeviceAlias(const InterfacePlan& plan) {
  if (plan.device && !plan.device->alias.empty()) return plan.device->alias;
  return absl::StrCat("ua-", plan.interface_name);
}

}  // namespace k6t::domxml
