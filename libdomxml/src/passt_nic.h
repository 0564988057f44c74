// passt's NIC, in its two forms (k6t/domxml/device.h says when each is used).
#pragma once

#include "absl/status/status.h"
#include "k6t/binding/plan.h"
#include "k6t/domxml/device.h"
#include "k6t/domxml/xml.h"

namespace k6t::domxml {

// -netdev stream to passt's socket and a virtio-net-pci device QEMU places itself, under
// <qemu:commandline> of `domain`.
absl::Status AppendPasstCommandLine(Element domain, const binding::InterfacePlan& plan,
                                    const DeviceContext& context);

// <interface type='vhostuser'> with <backend type='passt'/>: libvirt runs passt.
absl::Status AppendPasstInterface(Element devices, const binding::InterfacePlan& plan);

}  // namespace k6t::domxml
