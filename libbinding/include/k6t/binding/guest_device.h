// The device a VMI interface gives the guest, as a value: which kind of NIC (a tap k6t
// made, an SR-IOV VF passed through, a virtio NIC whose backend is passt), its MAC, model,
// MTU, queues, link state, boot order and guest PCI placement. A binding decides it; one
// emitter (k6t/domxml/device.h) turns it into libvirt XML for the domain, for hotplug and
// for the KubeVirt hook sidecar. What only the host running the VM knows (/dev/vhost-net,
// passt's socket, whether libvirt has a passt backend) is given to that emitter at run time
// and never stored here.
//
// Plain values: no errors, no locking (copy or share read-only across threads), no
// privileges.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace k6t::binding {

enum class DeviceKind {
  kTap,      // <interface type='ethernet'> on a tap k6t created (libvirt opens it, managed='no')
  kHostdev,  // <hostdev>: PCI passthrough of a VF (SR-IOV)
  kPasst,    // a virtio NIC whose backend is passt (what passt serves: InterfacePlan::passt)
};

struct GuestDevice {
  DeviceKind kind = DeviceKind::kTap;
  // libvirt's alias, by which hotplug, status and the hook sidecar find the device:
  // KubeVirt's "ua-<interface>", or "ua-sriov-<network>" for a VF.
  std::string alias;
  std::string mac;    // lower-case colon form; "": the VF's own / libvirt's choice
  std::string model;  // libvirt model: virtio-non-transitional, virtio-transitional, e1000e...
  std::string tap;    // kTap: the tap device
  int mtu = 0;        // 0: not set
  int queues = 1;     // >1: multi-queue
  // Ask for the vhost-net backend (with queues > 1). The emitter asks for QEMU's own on a
  // host without /dev/vhost-net, where libvirt would refuse to start the device.
  bool vhost = false;
  bool link_up = true;
  std::optional<uint32_t> boot_order;  // none: not a boot device (a NIC's option ROM is off)
  std::string guest_pci_address;       // "0000:81:01.0" as the guest sees it; "": libvirt's
  std::optional<uint32_t> acpi_index;
  std::string host_pci_address;  // kHostdev: the VF on the host, "0000:65:00.2"

  bool operator==(const GuestDevice&) const = default;
};

// "tap", "hostdev", "passt" (also the JSON form).
const char* DeviceKindName(DeviceKind kind);
std::optional<DeviceKind> DeviceKindFromName(const std::string& name);

// One line, e.g. `tap tap0 mac 02:00:00:00:00:01 model virtio-non-transitional mtu 1400
// alias ua-default`.
std::string Describe(const GuestDevice& device);

}  // namespace k6t::binding
