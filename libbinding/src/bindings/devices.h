// The guest device each built-in binding gives the VM (k6t/binding/guest_device.h), with
// what KubeVirt users expect of it: alias ua-<name>, the libvirt model of the spec's model,
// MTU, queues, link state, boot order, guest PCI address and ACPI index.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/plan.h"

namespace k6t::binding {

// A NIC on the tap `tap` (masquerade, bridge, l2bridge), with the MAC, MTU and queues the
// plan has decided; `vhost` asks for vhost-net.
GuestDevice TapNic(const api::Vmi& vmi, const api::Interface& iface, const std::string& tap,
                   const InterfacePlan& plan, bool vhost);

// An SR-IOV VF passed through; `pci_address` is the VF's host address, e.g. 0000:65:00.2.
absl::StatusOr<GuestDevice> VfHostdev(const api::Interface& iface, const std::string& network_name,
                                      const std::string& pci_address);

// The virtio NIC whose backend is passt, with the plan's MAC and MTU.
GuestDevice PasstNic(const api::Interface& iface, const InterfacePlan& plan);

// libvirt's model name for a spec model ("" / virtio -> virtio-non-transitional).
std::string LibvirtModel(const api::Vmi& vmi, const api::Interface& iface);

}  // namespace k6t::binding
