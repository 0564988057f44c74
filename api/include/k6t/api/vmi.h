// The VirtualMachineInstance model k6t works from: the parts of KubeVirt's
// VirtualMachine / VirtualMachineInstance spec that decide a VM's networks and what the
// launcher needs to boot it (disks in this file, their volumes in volume.h). Plain value
// types; decoding lives in decode.h, rules in validate.h.
//
// Plain values with trivial accessors: no errors, thread-safe for concurrent reads, no
// privileges.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k6t/api/volume.h"

namespace k6t::api {

// How an interface is bound to its network. kPlugin is `binding: {name: ...}`; the plugin
// name is in Interface::plugin_name (k6t ships "l2bridge" and "passt" as plugins too).
enum class BindingMethod {
  kBridge,
  kMasquerade,
  kSriov,
  kPasst,  // `passtBinding: {}`
  kPlugin,
  kDeprecatedSlirp,
  kDeprecatedMacvtap,
  kDeprecatedPasst,  // the old `passt: {}`, discontinued since KubeVirt v1.3
};

// The spelling used in specs ("bridge", "masquerade", "sriov", "passtBinding", "binding",
// "slirp", "macvtap", "passt").
const char* BindingMethodField(BindingMethod m);

struct Port {
  std::string name;
  std::string protocol;  // "" (TCP), "TCP" or "UDP", as written
  int64_t port = 0;

  bool operator==(const Port&) const = default;
};

struct PortRange {
  std::string protocol;
  int64_t start = 0;
  int64_t end = 0;

  bool operator==(const PortRange&) const = default;
};

struct PrivateDhcpOption {
  int64_t option = 0;
  std::string value;

  bool operator==(const PrivateDhcpOption&) const = default;
};

struct DhcpOptions {
  std::string boot_file_name;                      // option 67
  std::string tftp_server_name;                    // option 66
  std::vector<std::string> ntp_servers;            // option 42
  std::vector<PrivateDhcpOption> private_options;  // 224..254

  bool operator==(const DhcpOptions&) const = default;
};

struct Interface {
  std::string name;
  std::string model;  // empty means virtio
  // Every binding key present in the spec, in the fixed order bridge, masquerade, sriov,
  // passtBinding, binding, slirp, macvtap, passt (JSON objects carry no key order). A valid
  // interface has exactly one; keeping all of them lets validation say which ones collide.
  std::vector<BindingMethod> bindings;
  std::string plugin_name;  // `binding.name` when kPlugin is present
  std::vector<Port> ports;
  std::vector<PortRange> port_ranges;
  // Decoding stores every MAC that parses in MacAddress's canonical form (net.h:
  // "02:00:5e:00:53:01" for "0200.5e00.5301" or "02-00-5E-00-53-01"), so everything
  // downstream compares and copies it as text; one that does not parse stays as written
  // for Validate to report. A model built in code must use the canonical form too.
  std::string mac_address;
  std::optional<int64_t> boot_order;
  std::string pci_address;  // guest PCI address DDDD:BB:SS.F, canonical like mac_address
  std::optional<int64_t> acpi_index;
  std::optional<DhcpOptions> dhcp_options;
  std::string tag;
  std::string state;  // "", "up", "down", "absent"
  // k6t extension: overrides the pod link MTU for the bridge, tap and guest.
  std::optional<int64_t> mtu;

  // The single binding of a validated interface (the first one declared otherwise).
  BindingMethod binding() const {
    return bindings.empty() ? BindingMethod::kBridge : bindings.front();
  }
  bool absent() const { return state == "absent"; }

  bool operator==(const Interface&) const = default;
};

struct PodNetwork {
  std::string vm_network_cidr;       // default 10.0.2.0/24
  std::string vm_ipv6_network_cidr;  // default fd10:0:2::/120

  bool operator==(const PodNetwork&) const = default;
};

struct MultusNetwork {
  std::string network_name;  // "name" or "namespace/name" of a NetworkAttachmentDefinition
  bool is_default = false;

  bool operator==(const MultusNetwork&) const = default;
};

struct ResourceClaimNetwork {
  std::string claim_name;
  std::string request_name;

  bool operator==(const ResourceClaimNetwork&) const = default;
};

struct Network {
  std::string name;
  std::optional<PodNetwork> pod;
  std::optional<MultusNetwork> multus;
  std::optional<ResourceClaimNetwork> resource_claim;
  // Not in KubeVirt's schema: the pod link's name when the runtime chose it (k6t-cni takes
  // CNI_IFNAME); empty means KubeVirt's naming (eth0, pod<hash>, net<N>).
  std::string pod_interface;

  // The network the pod's primary interface belongs to (pod, or Multus default).
  bool primary() const { return pod.has_value() || (multus && multus->is_default); }

  bool operator==(const Network&) const = default;
};

struct CpuTopology {
  int64_t sockets = 1;
  int64_t cores = 1;
  int64_t threads = 1;
  int64_t vcpus() const { return sockets * cores * threads; }

  bool operator==(const CpuTopology&) const = default;
};

struct KernelBoot {
  std::string kernel_path;  // local path on the launcher's filesystem
  std::string initrd_path;
  std::string kernel_args;

  bool operator==(const KernelBoot&) const = default;
};

// What a disk presents to the guest (`disk`, `cdrom` or `lun` in the spec).
enum class DiskDevice { kDisk, kCdrom, kLun };

// "disk", "cdrom", "lun".
const char* DiskDeviceField(DiskDevice d);

struct Disk {
  std::string name;  // also the name of its volume (spec.volumes)
  // Every device key present in the spec, in the order disk, cdrom, lun (none = a disk).
  // A valid disk has at most one; keeping all of them lets validation say which collide.
  std::vector<DiskDevice> devices;
  std::string bus;  // virtio (default for disk and lun), sata (default for cdrom), scsi, usb
  std::optional<int64_t> boot_order;
  std::string serial;
  std::string cache;      // "", none, writethrough, writeback
  std::string io;         // "", native, threads
  bool readonly = false;  // `disk.readonly` / `cdrom.readonly` (a CD-ROM defaults to true)
  bool shareable = false;
  std::string pci_address;  // `disk.pciAddress`
  // A local image known from the spec alone: `hostDisk.path`. Every other volume type is
  // resolved by the launcher (containerDisk images, cloud-init ISOs, empty disks, claims).
  std::string image_path;
  std::string image_format;  // "raw" or "qcow2"; empty = detect by extension
  // Position in `domain.devices.disks` of the source document, for messages (disks whose
  // volume k6t cannot use are left out, so this can differ from the index in Domain::disks).
  int64_t source_index = -1;

  DiskDevice device() const { return devices.empty() ? DiskDevice::kDisk : devices.front(); }

  bool operator==(const Disk&) const = default;
};

struct Domain {
  CpuTopology cpu;
  int64_t memory_bytes = 0;  // 0 = launcher default
  std::optional<KernelBoot> kernel_boot;
  std::vector<Disk> disks;
  std::vector<Interface> interfaces;
  bool autoattach_pod_interface = true;
  bool network_interface_multiqueue = false;
  bool use_virtio_transitional = false;
  // KubeVirt attaches a VNC display and a serial console unless these are false.
  std::optional<bool> autoattach_graphics_device;
  std::optional<bool> autoattach_serial_console;
  std::string firmware_uuid;  // `firmware.uuid`; empty when not given

  bool operator==(const Domain&) const = default;
};

struct ObjectMeta {
  std::string name;
  std::string namespace_;  // "default" when absent
  std::string uid;         // derived from namespace/name when absent
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;

  bool operator==(const ObjectMeta&) const = default;
};

struct VmiSpec {
  Domain domain;
  std::vector<Network> networks;
  std::vector<Volume> volumes;  // spec.volumes, in document order (see volume.h)
  std::string hostname;
  std::string subdomain;
  std::vector<std::string> resource_claims;  // names in spec.resourceClaims (DRA)

  bool operator==(const VmiSpec&) const = default;
};

// One VirtualMachine or VirtualMachineInstance from a manifest.
struct Vmi {
  std::string kind;  // "VirtualMachine" or "VirtualMachineInstance"
  ObjectMeta meta;
  VmiSpec spec;
  // JSON path of `spec` above in the source document: "spec.template.spec" for a
  // VirtualMachine, "spec" for a VirtualMachineInstance. Every error path starts with it.
  std::string spec_path;
  std::string source;  // file name or "<stdin>", for messages

  const Network* FindNetwork(const std::string& name) const;
  const Interface* FindInterface(const std::string& name) const;
  const Volume* FindVolume(const std::string& name) const;
  // Position of the named volume in spec.volumes (KubeVirt's disk_<N>.img), -1 if none.
  int64_t VolumeIndex(const std::string& name) const;

  bool operator==(const Vmi&) const = default;
};

}  // namespace k6t::api
