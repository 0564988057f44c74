// The libvirt domain XML of a VMI: a pure function of the VMI, the interface plans the
// handler cached, and launcher options. Nothing here touches the host; the host facts it
// needs (accelerator, vhost-net, passt's sockets) are decided before and passed in.
//
// Built as a libxml2 tree by phases, each in its file under launcher/src/domain/: machine
// (name, resources, <os>, CPU, features), disks (disks and the boot source), devices
// (controllers, NICs, console, memballoon; each plan's device through k6t::domxml, the one
// emitter of plan devices) — then emitted once in libvirt's own layout.
//
// Errors: InvalidArgument/FailedPrecondition starting "domain XML: " and naming the
// interface, disk or field at fault. Thread-safety: pure. Privileges: none.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "host_caps.h"
#include "k6t/api/vmi.h"
#include "k6t/binding/plan.h"
#include "k6t/domxml/device.h"
#include "vm_storage.h"

namespace k6t::launcher {

inline constexpr char kDefaultEmulator[] = "/usr/bin/qemu-system-x86_64";
inline constexpr char kDefaultGuestCmdline[] = "console=ttyS0 panic=-1 quiet";
inline constexpr int64_t kDefaultMemoryMiB = 256;

struct DomainOptions {
  Accel accel = Accel::kTcg;  // kKvm or kTcg; resolve kAuto first (ResolveAccel)
  std::string emulator = kDefaultEmulator;
  // The default guest (hack/build-guest.sh), booted when the VM names no kernel and no disk.
  std::string guest_kernel;
  std::string guest_initrd;
  std::string serial_log;  // serial console file; empty: a pty
  // The serial console's unix socket (console clients attach there; serial_log still gets
  // every byte). Empty: no socket.
  std::string serial_socket;
  // The QEMU guest agent channel's socket (libvirt binds it). Empty: no agent channel.
  std::string guest_agent_socket;
  // VNC on this unix socket with a VGA display (KubeVirt's graphics device). Empty: none.
  // GenerateDomainXml leaves it out when the VMI says autoattachGraphicsDevice: false.
  std::string vnc_socket;
  // False: no serial console at all (the VMI's autoattachSerialConsole: false).
  bool serial_console = true;
  // VMI interface name -> passt's unix socket (the launcher runs passt; see PasstPlan).
  std::map<std::string, std::string> passt_sockets;
  // libvirt accepts <backend type='passt'/> (not Debian 12's libvirt 9) and runs passt.
  bool native_passt = false;
  // Host has /dev/vhost-net. Without it a device asking for vhost gets QEMU's own backend
  // (same queues), since libvirt would fail to start the domain.
  bool vhost_net = false;
  // Free pcie-root-ports to add for hotplug; -1: the policy of HotplugRootPorts.
  int hotplug_ports = -1;
  // Disk name -> its prepared source (vm_storage.h). A disk absent here uses its own
  // image_path (a hostDisk path known from the spec alone).
  std::map<std::string, DiskSource> disk_sources;
};

// What the device emitter must know about this host (hotplug's devices; the domain's NICs
// add their passt socket).
domxml::DeviceContext HostDeviceContext(const DomainOptions& options);

// `<namespace>_<name>`, as KubeVirt names domains.
std::string DomainName(const api::Vmi& vmi);

// meta.uid when it is a UUID, else a stable UUID derived from it (libvirt insists on one).
std::string DomainUuid(const api::Vmi& vmi);

// Hotplug policy, in the spirit of KubeVirt's v2 formula (reference §5.7): with `in_use`
// PCIe devices, keep max(8 - in_use, 3) root ports free (max(16 - in_use, 6) for a guest
// with more than 2 GiB), and never let the root-port count exceed 30 (pcie.0 has 32 slots;
// slot 0 is the host bridge, one is left for devices QEMU places itself, e.g. passt's NIC).
int HotplugRootPorts(int in_use, int64_t memory_bytes);

// The whole <domain> document. Errors name the interface or field at fault: an interface of
// the VMI without a plan, a passt interface without a socket, an unreadable topology.
absl::StatusOr<std::string> GenerateDomainXml(const api::Vmi& vmi,
                                              const std::vector<binding::InterfacePlan>& plans,
                                              const DomainOptions& options);

}  // namespace k6t::launcher
