// The one edit the sidecar makes to KubeVirt's domain: each planned interface's device
// becomes the one k6t's plan emits (k6t/domxml/device.h, the emitter the launcher and hotplug
// use): <interface type='ethernet'> on the tap k6t-cni made (managed='no'), the plan's MAC,
// MTU, model, queues, link state, boot order, PCI address and alias `ua-<name>`. The device is
// found by that alias and replaced where it stands; when KubeVirt's converter left it out (a
// plugin without domainAttachmentType) it is appended to <devices>. Nothing else changes.
//
// Whether the NIC gets the vhost-net backend follows the converter, which knows the compute
// container's devices: vhost where its device asked for <driver name='vhost'>, otherwise
// QEMU's own. A device k6t appends follows `vhost_net`. So a second rewrite of the output
// reproduces it exactly (KubeVirt calls the hook again on a migration target).
//
// Errors: InvalidArgument naming the interface when its alias is on something other than an
// <interface> or on two devices, or the plan's own error (domxml). The document may be
// partly edited then: the caller drops it (DefineDomain never emits it). Thread-safety: one
// document per thread. Privileges: none.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "k6t/binding/plan.h"
#include "k6t/domxml/xml.h"

namespace k6t::sidecar {

absl::Status RewriteInterfaces(domxml::Element domain,
                               const std::vector<binding::InterfacePlan>& plans, bool vhost_net);

}  // namespace k6t::sidecar
