#include "bindings/devices.h"

#include <regex>

#include "absl/strings/str_cat.h"

namespace k6t::binding {
namespace {

bool IsPciAddress(const std::string& address) {
  static const std::regex re("^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\\.([0-7])$");
  return std::regex_match(address, re);
}

// The spec's boot order, guest PCI address and ACPI index. Validation has checked the
// address; a malformed one is left out rather than handed to libvirt.
void Placement(const api::Interface& iface, GuestDevice& d) {
  if (iface.boot_order) d.boot_order = static_cast<uint32_t>(*iface.boot_order);
  if (IsPciAddress(iface.pci_address)) d.guest_pci_address = iface.pci_address;
}

}  // namespace

std::string LibvirtModel(const api::Vmi& vmi, const api::Interface& iface) {
  if (iface.model.empty() || iface.model == "virtio")
    return vmi.spec.domain.use_virtio_transitional ? "virtio-transitional"
                                                   : "virtio-non-transitional";
  return iface.model;
}

GuestDevice TapNic(const api::Vmi& vmi, const api::Interface& iface, const std::string& tap,
                   const InterfacePlan& plan, bool vhost) {
  GuestDevice d;
  d.kind = DeviceKind::kTap;
  d.alias = absl::StrCat("ua-", iface.name);
  d.mac = plan.mac;
  d.model = LibvirtModel(vmi, iface);
  d.tap = tap;
  d.mtu = plan.mtu;
  d.queues = plan.queues;
  d.vhost = vhost;
  d.link_up = iface.state != "down";
  Placement(iface, d);
  if (iface.acpi_index && *iface.acpi_index > 0)
    d.acpi_index = static_cast<uint32_t>(*iface.acpi_index);
  return d;
}

absl::StatusOr<GuestDevice> VfHostdev(const api::Interface& iface, const std::string& network_name,
                                      const std::string& pci_address) {
  if (!IsPciAddress(pci_address))
    return absl::InvalidArgumentError(absl::StrCat("SR-IOV VF address of network \"", network_name,
                                                   "\": malformed PCI address \"", pci_address,
                                                   "\""));
  GuestDevice d;
  d.kind = DeviceKind::kHostdev;
  d.alias = absl::StrCat("ua-sriov-", network_name);
  d.host_pci_address = pci_address;
  Placement(iface, d);
  return d;
}

GuestDevice PasstNic(const api::Interface& iface, const InterfacePlan& plan) {
  GuestDevice d;
  d.kind = DeviceKind::kPasst;
  d.alias = absl::StrCat("ua-", iface.name);
  d.mac = plan.mac;
  d.model = "virtio";
  d.mtu = plan.mtu;
  return d;
}

}  // namespace k6t::binding
