// The libvirt XML of a plan's guest device (k6t/binding/guest_device.h): the one place that
// knows how a tap NIC, an SR-IOV VF and passt's NIC look to libvirt and QEMU. The domain
// generator, hotplug and the KubeVirt hook sidecar all emit devices through it; what only
// the host running the VM knows comes in a DeviceContext.
//
// passt: Debian 12's libvirt 9 has no passt backend, so passt's NIC is QEMU's own
// (<qemu:commandline>: -netdev stream to the unix socket the launcher listens on, and a
// virtio-net-pci device at a fixed pcie.0 slot); with DeviceContext::native_passt it is an
// <interface> with <backend type='passt'/> and libvirt runs passt.
//
// Errors: FailedPrecondition naming the interface for a plan without a device (a schema-1
// cache), passt without its socket, or, for PlanDeviceXml, passt's QEMU-own NIC (no libvirt
// device to attach); InvalidArgument for a device missing what its kind needs, a malformed
// PCI address, or more than kMaxPasstNics passt NICs. Thread-safety: pure functions.
// Privileges: none.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "k6t/binding/plan.h"
#include "k6t/domxml/xml.h"

namespace k6t::domxml {

inline constexpr char kQemuNamespace[] = "http://libvirt.org/schemas/domain/qemu/1.0";
// QEMU's device for passt's NIC on the command line; libvirt does not list it.
inline constexpr char kPasstQemuDevice[] = "virtio-net-pci";
inline constexpr int kMaxPasstNics = 8;

struct DeviceContext {
  bool vhost_net = false;  // the host has /dev/vhost-net
  // libvirt runs passt itself (<backend type='passt'/>); otherwise passt's NIC is QEMU's own
  // on `passt_socket`.
  bool native_passt = false;
  std::string passt_socket;
  int passt_index = 0;  // this NIC among the domain's passt NICs: its netdev id and PCI slot
};

// Whether the device is one of libvirt's, on a PCIe root port (passt's QEMU-own NIC is not).
bool OnRootPort(const binding::GuestDevice& device, const DeviceContext& context);

// Appends the device of `plan` to `domain` (a <domain> element): an <interface> or
// <hostdev> under its <devices> (made when missing), or passt's NIC as -netdev/-device
// arguments under <qemu:commandline> (declaring the qemu namespace on `domain`).
absl::Status AppendPlanDevice(Element domain, const binding::InterfacePlan& plan,
                              const DeviceContext& context);

// The device of `plan` alone (one <interface> or <hostdev>), as hotplug attaches it.
absl::StatusOr<std::string> PlanDeviceXml(const binding::InterfacePlan& plan,
                                          const DeviceContext& context);

// The alias the device of `plan` has in the domain: its device's, else "ua-<interface>".
std::string PlanDeviceAlias(const binding::InterfacePlan& plan);

}  // namespace k6t::domxml
