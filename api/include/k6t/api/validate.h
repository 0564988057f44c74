// KubeVirt's admission rules for networks, interfaces (reference §7), volumes and disks (its
// storage admitters: a disk per volume and a volume per disk, one source per volume, buses,
// cache/io modes, cloud-init data sources and their 2048-byte inline limit), plus k6t's
// own: one cloud-init volume at most, image references k6t can resolve, unique boot orders and
// derived pod interface names that fit IFNAMSIZ, vmNetworkCIDR / vmIPv6NetworkCIDR leaving room for
// gateway and VM, `mtu` in 68..65535, no MAC used twice, acpiIndex in 1..16383 and unique,
// registered binding plugins, DNS-label hostname.
//
// Interface (= network) names follow KubeVirt: `^[A-Za-z0-9-_]+$`, with no 15-character
// limit, because no Linux link is named after them: pod links are `eth0`, `pod<hash>` or
// `netN`, and the libvirt alias `ua-<name>` has no length limit. k6t caps them at 253
// characters only to keep messages and files sane.
//
// Field paths are KubeVirt's (pkg/network/admitter, vmi-create-admitter.go): where KubeVirt
// names a field for a rule, so does k6t (a range that ends before it starts:
// `...portRanges[0].start`; a binding that does not fit its network: `...interfaces[1].name`;
// two Multus defaults: `...networks`), with the precise entries in the message. Where
// KubeVirt's path names no field of the spec ("spec.interfaces", the bare "spec"), k6t's
// is the field at fault.
//
// Errors are returned as FieldError lists (errors.h), never as exceptions or statuses.
// Thread-safety: pure functions, safe from any thread. Privileges: none.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "k6t/api/errors.h"
#include "k6t/api/network_status.h"
#include "k6t/api/vmi.h"

namespace k6t::api {

// What a cluster's KubeVirt CR would configure.
struct ClusterConfig {
  BindingMethod default_binding = BindingMethod::kMasquerade;
  bool permit_bridge_on_pod_network = true;
  bool passt_binding_gate = true;
  bool port_ranges_gate = true;
  // NetworkDevicesWithDRA. k6t cannot attach DRA devices: with the gate off (the default)
  // every resourceClaim network is refused as not supported; with it on, KubeVirt's
  // structural DRA rules are checked.
  bool network_devices_with_dra_gate = false;
  // Binding plugins the cluster registered (`binding: {name: X}` must name one of them).
  std::set<std::string> binding_plugins = {"l2bridge", "passt", "managedtap"};
};

// KubeVirt's defaulting: no interfaces, no networks and auto-attach not disabled gives
// interface `default` bound with cfg.default_binding on pod network `default`.
void ApplyDefaults(Vmi& vmi, const ClusterConfig& cfg = {});

// Every violated rule, each naming the full JSON path (from vmi.spec_path) and the value.
// Empty when the VM is valid.
std::vector<FieldError> Validate(const Vmi& vmi, const ClusterConfig& cfg = {});

// The pod-side names (naming.h) of every network, checked against IFNAMSIZ. Names derived
// from the spec alone fit by construction; a primary interface named by Multus'
// network-status (e.g. a long UDN link name) may not. Validate() calls it without status.
std::vector<FieldError> ValidatePodLinkNames(const Vmi& vmi,
                                             const std::vector<NetworkStatusEntry>& status = {},
                                             const std::vector<std::string>& existing_links = {});

}  // namespace k6t::api
