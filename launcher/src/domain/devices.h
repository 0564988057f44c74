// Phase "devices" of the domain XML: <devices> in libvirt's order — the emulator, the PCI
// controllers (pcie-root, one pcie-root-port per PCIe device plus free ones for hotplug,
// usb none, virtio-scsi when a disk needs it), the disks (disks phase), the NICs in the
// VMI's order (each plan's device through k6t::domxml, which puts passt's QEMU-own NIC under
// <qemu:commandline>), the serial console (a unix socket plus its log), the QEMU guest
// agent's channel (org.qemu.guest_agent.0 on a virtio-serial controller, as KubeVirt adds to
// every VM; libvirt binds its socket in its own dir) and memballoon.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "domain/disks.h"
#include "domain_xml.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/plan.h"
#include "k6t/domxml/device.h"
#include "k6t/domxml/xml.h"

namespace k6t::launcher {

// Root ports the guest agent's virtio-serial controller takes.
inline constexpr int kGuestAgentRootPorts = 1;

struct NicLayout {
  struct Nic {
    const binding::InterfacePlan* plan = nullptr;
    domxml::DeviceContext context;
  };
  // The VMI's interface order (it decides PCI placement, hence the guest's ethN order), then
  // plans for interfaces the VMI does not list (the auto-attached pod interface).
  std::vector<Nic> nics;
  int root_ports = 0;  // NICs on PCIe root ports
};

// FailedPrecondition naming the interface: one of the VMI without a plan, a plan without
// a device, passt without its socket; InvalidArgument: too many passt NICs.
absl::StatusOr<NicLayout> LayOutNics(const api::Vmi& vmi,
                                     const std::vector<binding::InterfacePlan>& plans,
                                     const DomainOptions& options);

// pcie-root-ports of the domain: the `in_use` PCIe devices' plus the free ones for hotplug
// (DomainOptions::hotplug_ports, else HotplugRootPorts), at most 30 in all.
int RootPorts(int in_use, int64_t memory_bytes, const DomainOptions& options);

// Appends <devices> (and <qemu:commandline> for passt) to `domain`.
absl::Status AppendDevices(domxml::Element domain, const StorageLayout& storage,
                           const NicLayout& nics, int root_ports, const DomainOptions& options);

}  // namespace k6t::launcher
