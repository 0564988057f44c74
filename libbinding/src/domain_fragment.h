// The libvirt device XML a binding gives the VM: a tap-backed <interface type='ethernet'>
// or an SR-IOV <hostdev>, with the attributes KubeVirt users expect (alias ua-<name>,
// model, MTU, boot order, guest PCI address, ACPI index, link state, queues).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/xml_escape.h"

namespace k6t::binding {

struct TapDevice {
  std::string tap;
  std::string mac;
  int mtu = 0;
  int queues = 1;
  bool vhost_net = false;
};

std::string TapInterfaceXml(const api::Vmi& vmi, const api::Interface& iface, const TapDevice& dev);

// `pci_address` is the VF's host address, e.g. 0000:65:00.2.
absl::StatusOr<std::string> SriovHostdevXml(const api::Interface& iface,
                                            const std::string& network_name,
                                            const std::string& pci_address);

// libvirt's model name for a spec model ("" / virtio -> virtio-non-transitional).
std::string LibvirtModel(const api::Vmi& vmi, const api::Interface& iface);

// `<address type='pci' domain='0x0000' bus='0x81' slot='0x01' function='0x0'/>`.
absl::StatusOr<std::string> PciAddressXml(const std::string& address);

}  // namespace k6t::binding
