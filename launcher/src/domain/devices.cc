#include "domain/devices.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace k6t::launcher {
namespace {

constexpr int kMaxRootPorts = 30;

void AppendControllers(domxml::Element devices, int root_ports, bool virtio_scsi,
                       bool guest_agent) {
  devices.Add("controller").Set("type", "pci").Set("index", 0).Set("model", "pcie-root");
  for (int i = 1; i <= root_ports; ++i)
    devices.Add("controller").Set("type", "pci").Set("index", i).Set("model", "pcie-root-port");
  devices.Add("controller").Set("type", "usb").Set("model", "none");
  if (virtio_scsi) devices.Add("controller").Set("type", "scsi").Set("model", "virtio-scsi");
  if (guest_agent) devices.Add("controller").Set("type", "virtio-serial").Set("index", 0);
}

// VNC on a unix socket (no TCP port in the pod) and the VGA display behind it, as KubeVirt
// attaches them (vram 16 MiB).
void AppendGraphics(domxml::Element devices, const std::string& socket) {
  devices.Add("graphics")
      .Set("type", "vnc")
      .Add("listen")
      .Set("type", "socket")
      .Set("socket", socket);
  devices.Add("video").Add("model").Set("type", "vga").Set("vram", 16384).Set("heads", 1);
}

// The QEMU guest agent's port on a socket libvirt binds and talks to. The path is given:
// libvirt's default (<root>/lib/qemu/channel/target/domain-<id>-<name>/...) outgrows a unix
// socket path under the embedded driver's root.
void AppendGuestAgentChannel(domxml::Element devices, const std::string& socket) {
  domxml::Element channel = devices.Add("channel").Set("type", "unix");
  channel.Add("source").Set("mode", "bind").Set("path", socket);
  channel.Add("target").Set("type", "virtio").Set("name", "org.qemu.guest_agent.0");
}

// The serial console. With a socket: a unix socket the console clients attach to (libvirt
// binds it and hands QEMU the listening fd) plus the log file QEMU copies every byte to,
// whether or not anyone is attached — KubeVirt keeps both. Without: a file, or a pty.
void AppendConsole(domxml::Element devices, const std::string& log, const std::string& socket) {
  const char* type = !socket.empty() ? "unix" : log.empty() ? "pty" : "file";
  for (const char* element : {"serial", "console"}) {
    domxml::Element dev = devices.Add(element).Set("type", type);
    if (!socket.empty()) {
      dev.Add("source").Set("mode", "bind").Set("path", socket);
      // The log belongs to the chardev: once, on <serial> (the console is its alias).
      if (!log.empty() && element == std::string("serial"))
        dev.Add("log").Set("file", log).Set("append", "off");
    } else if (!log.empty()) {
      dev.Add("source").Set("path", log);
    }
    domxml::Element target = dev.Add("target");
    if (element == std::string("console")) target.Set("type", "serial");
    target.Set("port", 0);
  }
}

}  // namespace

domxml::DeviceContext HostDeviceContext(const DomainOptions& options) {
  domxml::DeviceContext c;
  c.vhost_net = options.vhost_net;
  c.native_passt = options.native_passt;
  return c;
}

int HotplugRootPorts(int in_use, int64_t memory_bytes) {
  const bool big = memory_bytes > (int64_t{2} << 30);
  int free_ports = big ? std::max(16 - in_use, 6) : std::max(8 - in_use, 3);
  return std::max(0, std::min(free_ports, kMaxRootPorts - in_use));
}

int RootPorts(int in_use, int64_t memory_bytes, const DomainOptions& options) {
  const int free_ports = options.hotplug_ports >= 0
                             ? std::min(options.hotplug_ports, kMaxRootPorts - in_use)
                             : HotplugRootPorts(in_use, memory_bytes);
  return std::max(0, std::min(in_use + free_ports, kMaxRootPorts));
}

absl::StatusOr<NicLayout> LayOutNics(const api::Vmi& vmi,
                                     const std::vector<binding::InterfacePlan>& plans,
                                     const DomainOptions& options) {
  std::vector<const binding::InterfacePlan*> ordered;
  std::set<std::string> listed;
  for (const api::Interface& iface : vmi.spec.domain.interfaces) {
    if (iface.absent()) continue;
    auto it = std::find_if(plans.begin(), plans.end(), [&](const binding::InterfacePlan& p) {
      return p.interface_name == iface.name;
    });
    if (it == plans.end())
      return absl::FailedPreconditionError(
          absl::StrCat("interface \"", iface.name,
                       "\" has no cached plan (k6t-handler setup has not run for it?)"));
    ordered.push_back(&*it);
    listed.insert(iface.name);
  }
  for (const auto& p : plans)
    if (!listed.count(p.interface_name)) ordered.push_back(&p);

  NicLayout out;
  int passt_nics = 0;
  for (const binding::InterfacePlan* p : ordered) {
    NicLayout::Nic nic{p, HostDeviceContext(options)};
    // A plan without a device is refused when its device is emitted.
    if (!p->device || domxml::OnRootPort(*p->device, nic.context)) {
      ++out.root_ports;
    } else {
      auto sock = options.passt_sockets.find(p->interface_name);
      if (sock != options.passt_sockets.end()) nic.context.passt_socket = sock->second;
      nic.context.passt_index = passt_nics++;
    }
    out.nics.push_back(std::move(nic));
  }
  return out;
}

absl::Status AppendDevices(domxml::Element domain, const StorageLayout& storage,
                           const NicLayout& nics, int root_ports, const DomainOptions& options) {
  domxml::Element devices = domain.Add("devices");
  devices.Add("emulator", options.emulator);
  AppendControllers(devices, root_ports, storage.virtio_scsi, !options.guest_agent_socket.empty());
  AppendDisks(devices, storage);
  for (const NicLayout::Nic& nic : nics.nics)
    if (auto st = domxml::AppendPlanDevice(domain, *nic.plan, nic.context); !st.ok()) return st;
  if (options.serial_console) AppendConsole(devices, options.serial_log, options.serial_socket);
  if (!options.guest_agent_socket.empty())
    AppendGuestAgentChannel(devices, options.guest_agent_socket);
  if (!options.vnc_socket.empty()) AppendGraphics(devices, options.vnc_socket);
  devices.Add("memballoon").Set("model", "none");
  return absl::OkStatus();
}

}  // namespace k6t::launcher
