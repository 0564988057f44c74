#include "domain_xml.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "k6t/api/hash.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

constexpr char kQemuNs[] = "http://libvirt.org/schemas/domain/qemu/1.0";
constexpr int kMaxRootPorts = 30;
constexpr int kPasstTopSlot = 0x1e;
constexpr int kMaxPasstNics = 8;

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

// "vda", "vdb", ... "sdaa" style names for a bus prefix.
std::string DiskTarget(const std::string& prefix, int index) {
  std::string suffix;
  for (int n = index;; n = n / 26 - 1) {
    suffix.insert(suffix.begin(), static_cast<char>('a' + n % 26));
    if (n < 26) break;
  }
  return prefix + suffix;
}

std::string ImageFormat(const api::Disk& d) {
  if (!d.image_format.empty()) return d.image_format;
  return absl::EndsWith(d.image_path, ".qcow2") ? "qcow2" : "raw";
}

void Indent(std::string* out, const std::string& fragment, const std::string& prefix) {
  size_t start = 0;
  while (start < fragment.size()) {
    size_t end = fragment.find('\n', start);
    if (end == std::string::npos) end = fragment.size();
    if (end > start) absl::StrAppend(out, prefix, fragment.substr(start, end - start), "\n");
    start = end + 1;
  }
}

// A PasstPlan through <qemu:commandline>: -netdev stream to passt's socket and a
// virtio-net-pci NIC QEMU places itself (libvirt does not know this device).
struct PasstNic {
  int index = 0;
  std::string netdev_id;
  std::string socket;
  std::string mac;
  int mtu = 0;
};

}  // namespace

std::string AdaptDeviceFragment(const std::string& fragment, bool vhost_net) {
  if (vhost_net) return fragment;
  return absl::StrReplaceAll(fragment, {{"<driver name='vhost'", "<driver name='qemu'"},
                                        {"<driver name=\"vhost\"", "<driver name=\"qemu\""}});
}

std::string DomainName(const api::Vmi& vmi) {
  return absl::StrCat(vmi.meta.namespace_.empty() ? "default" : vmi.meta.namespace_, "_",
                      vmi.meta.name);
}

std::string DomainUuid(const api::Vmi& vmi) {
  if (IsUuid(vmi.meta.uid)) return absl::AsciiStrToLower(vmi.meta.uid);
  const std::string key = vmi.meta.uid.empty() ? DomainName(vmi) : vmi.meta.uid;
  const uint64_t a = api::Fnv1a64(key);
  const uint64_t b = api::Fnv1a64(key, a ^ 0x9e3779b97f4a7c15ULL);
  char buf[37];
  // Version 8 (custom) UUID, RFC 4122 variant.
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>((a & 0x0fff) | 0x8000),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

int HotplugRootPorts(int in_use, int64_t memory_bytes) {
  const bool big = memory_bytes > (int64_t{2} << 30);
  int free_ports = big ? std::max(16 - in_use, 6) : std::max(8 - in_use, 3);
  return std::max(0, std::min(free_ports, kMaxRootPorts - in_use));
}

absl::StatusOr<std::string> GenerateDomainXml(const api::Vmi& vmi,
                                              const std::vector<binding::InterfacePlan>& plans,
                                              const DomainOptions& options) {
  if (options.accel == Accel::kAuto)
    return absl::InvalidArgumentError("domain XML: accelerator must be resolved (kvm or tcg)");
  const api::Domain& dom = vmi.spec.domain;
  const bool kvm = options.accel == Accel::kKvm;

  // Interfaces in the VMI's order (it decides PCI placement, hence the guest's ethN order),
  // then plans for interfaces the VMI does not list (the auto-attached pod interface).
  std::vector<const binding::InterfacePlan*> ordered;
  std::set<std::string> used;
  for (const api::Interface& iface : dom.interfaces) {
    if (iface.absent()) continue;
    auto it = std::find_if(plans.begin(), plans.end(), [&](const binding::InterfacePlan& p) {
      return p.interface_name == iface.name;
    });
    if (it == plans.end())
      return absl::FailedPreconditionError(absl::StrCat("domain XML: interface \"", iface.name,
                                                        "\" has no cached plan (k6t-handler setup "
                                                        "has not run for it?)"));
    ordered.push_back(&*it);
    used.insert(iface.name);
  }
  for (const auto& p : plans)
    if (!used.count(p.interface_name)) ordered.push_back(&p);

  std::string devices_xml;
  std::vector<PasstNic> passt_nics;
  int pci_in_use = 0;
  for (const binding::InterfacePlan* p : ordered) {
    if (p->passt && !options.native_passt) {
      auto sock = options.passt_sockets.find(p->interface_name);
      if (sock == options.passt_sockets.end() || sock->second.empty())
        return absl::FailedPreconditionError(absl::StrCat("domain XML: interface \"",
                                                          p->interface_name,
                                                          "\" uses passt but no passt socket "
                                                          "path was given"));
      const int index = static_cast<int>(passt_nics.size());
      if (index >= kMaxPasstNics)
        return absl::InvalidArgumentError(absl::StrCat("domain XML: interface \"",
                                                       p->interface_name, "\": more than ",
                                                       kMaxPasstNics, " passt interfaces"));
      passt_nics.push_back(PasstNic{index, absl::StrCat("k6tpasst", index), sock->second,
                                    p->passt->mac.empty() ? p->mac : p->passt->mac,
                                    p->passt->mtu > 0 ? p->passt->mtu : p->mtu});
      continue;
    }
    const std::string& fragment =
        p->passt && options.native_passt ? p->passt->native_domain_xml : p->domain_xml;
    if (fragment.empty())
      return absl::FailedPreconditionError(absl::StrCat("domain XML: plan of interface \"",
                                                        p->interface_name, "\" (binding ",
                                                        p->binding, ") has no device fragment"));
    Indent(&devices_xml, AdaptDeviceFragment(fragment, options.vhost_net), "    ");
    ++pci_in_use;
  }

  // Disks: one virtio-blk function each on its own root port; sata/scsi share controllers.
  std::string disks_xml;
  bool any_boot_order = false;
  bool need_scsi = false;
  int n_virtio = 0, n_sd = 0;
  for (const api::Interface& iface : dom.interfaces)
    if (iface.boot_order && !iface.absent()) any_boot_order = true;
  for (const api::Disk& d : dom.disks) {
    if (d.image_path.empty())
      return absl::InvalidArgumentError(
          absl::StrCat("domain XML: disk \"", d.name, "\" has no image path"));
    std::string bus = d.bus.empty() ? "virtio" : d.bus;
    std::string target;
    if (bus == "virtio") {
      target = DiskTarget("vd", n_virtio++);
      ++pci_in_use;
    } else if (bus == "sata" || bus == "scsi") {
      target = DiskTarget("sd", n_sd++);
      if (bus == "scsi") need_scsi = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("domain XML: disk \"", d.name, "\": unsupported bus \"", bus, "\""));
    }
    absl::StrAppend(&disks_xml, "    <disk type='file' device='disk'>\n",
                    "      <driver name='qemu' type='", XmlEscape(ImageFormat(d)), "'/>\n",
                    "      <source file='", XmlEscape(d.image_path), "'/>\n", "      <target dev='",
                    target, "' bus='", bus, "'/>\n");
    if (d.boot_order) {
      absl::StrAppend(&disks_xml, "      <boot order='", *d.boot_order, "'/>\n");
      any_boot_order = true;
    }
    absl::StrAppend(&disks_xml, "      <alias name='ua-", XmlEscape(d.name), "'/>\n",
                    "    </disk>\n");
  }
  if (need_scsi) ++pci_in_use;

  // Boot source: the VM's kernel, its disks, or the default guest.
  const bool has_kernel = dom.kernel_boot && !dom.kernel_boot->kernel_path.empty();
  std::string kernel, initrd, cmdline;
  if (has_kernel) {
    kernel = dom.kernel_boot->kernel_path;
    initrd = dom.kernel_boot->initrd_path;
    cmdline = dom.kernel_boot->kernel_args;
  } else if (dom.disks.empty()) {
    if (options.guest_kernel.empty())
      return absl::FailedPreconditionError(
          "domain XML: the VM names no kernel and no disk, and no default guest kernel is "
          "configured (--guest-dir; hack/build-guest.sh builds it)");
    kernel = options.guest_kernel;
    initrd = options.guest_initrd;
    cmdline = kDefaultGuestCmdline;
    // Kernel arguments without a kernel are for the default guest (e.g. k6t.net=...).
    if (dom.kernel_boot && !dom.kernel_boot->kernel_args.empty())
      absl::StrAppend(&cmdline, " ", dom.kernel_boot->kernel_args);
  }

  const int64_t memory_bytes =
      dom.memory_bytes > 0 ? dom.memory_bytes : kDefaultMemoryMiB * 1024 * 1024;
  const int64_t memory_kib = (memory_bytes + 1023) / 1024;
  const api::CpuTopology& topo = dom.cpu;
  if (topo.sockets < 1 || topo.cores < 1 || topo.threads < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("domain XML: CPU topology sockets=", topo.sockets, " cores=", topo.cores,
                     " threads=", topo.threads, " must all be at least 1"));

  const int free_ports = options.hotplug_ports >= 0
                             ? std::min(options.hotplug_ports, kMaxRootPorts - pci_in_use)
                             : HotplugRootPorts(pci_in_use, memory_bytes);
  const int root_ports = std::max(0, std::min(pci_in_use + free_ports, kMaxRootPorts));

  std::string x;
  absl::StrAppend(&x, "<domain type='", kvm ? "kvm" : "qemu", "'");
  if (!passt_nics.empty()) absl::StrAppend(&x, " xmlns:qemu='", kQemuNs, "'");
  x += ">\n";
  absl::StrAppend(&x, "  <name>", XmlEscape(DomainName(vmi)), "</name>\n");
  absl::StrAppend(&x, "  <uuid>", DomainUuid(vmi), "</uuid>\n");
  absl::StrAppend(&x, "  <memory unit='KiB'>", memory_kib, "</memory>\n");
  absl::StrAppend(&x, "  <vcpu placement='static'>", topo.vcpus(), "</vcpu>\n");
  x += "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n";
  if (!kernel.empty()) {
    absl::StrAppend(&x, "    <kernel>", XmlEscape(kernel), "</kernel>\n");
    if (!initrd.empty()) absl::StrAppend(&x, "    <initrd>", XmlEscape(initrd), "</initrd>\n");
    if (!cmdline.empty()) absl::StrAppend(&x, "    <cmdline>", XmlEscape(cmdline), "</cmdline>\n");
  } else if (!any_boot_order) {
    x += "    <boot dev='hd'/>\n";
  }
  x += "  </os>\n";
  x += "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n";
  absl::StrAppend(&x, "  <cpu mode='", kvm ? "host-passthrough" : "maximum",
                  "' check='none'>\n    <topology sockets='", topo.sockets, "' dies='1' cores='",
                  topo.cores, "' threads='", topo.threads, "'/>\n  </cpu>\n");
  x += "  <clock offset='utc'/>\n";
  x += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n"
       "  <on_crash>destroy</on_crash>\n";
  x += "  <devices>\n";
  absl::StrAppend(&x, "    <emulator>", XmlEscape(options.emulator), "</emulator>\n");
  x += "    <controller type='pci' index='0' model='pcie-root'/>\n";
  for (int i = 1; i <= root_ports; ++i)
    absl::StrAppend(&x, "    <controller type='pci' index='", i, "' model='pcie-root-port'/>\n");
  x += "    <controller type='usb' model='none'/>\n";
  if (need_scsi) x += "    <controller type='scsi' model='virtio-scsi'/>\n";
  x += disks_xml;
  x += devices_xml;
  if (options.serial_log.empty()) {
    x += "    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n"
         "    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n";
  } else {
    const std::string log = XmlEscape(options.serial_log);
    absl::StrAppend(&x, "    <serial type='file'>\n      <source path='", log,
                    "'/>\n      <target port='0'/>\n    </serial>\n",
                    "    <console type='file'>\n      <source path='", log,
                    "'/>\n      <target type='serial' port='0'/>\n    </console>\n");
  }
  x += "    <memballoon model='none'/>\n";
  x += "  </devices>\n";
  if (!passt_nics.empty()) {
    x += "  <qemu:commandline>\n";
    for (const PasstNic& n : passt_nics) {
      // Commas in a QEMU option value are doubled.
      const std::string path = absl::StrReplaceAll(n.socket, {{",", ",,"}});
      // An integrated endpoint at a fixed slot from the top of pcie.0 down: left to QEMU it
      // takes slot 1 before libvirt's root ports are created there, and libvirt never
      // assigns slots this high (root ports pack 8 per slot from 1 up; 0x1f is the LPC).
      std::string device = absl::StrCat(
          "virtio-net-pci,netdev=", n.netdev_id, ",mac=", n.mac,
          ",romfile=", absl::StrFormat(",bus=pcie.0,addr=0x%x", kPasstTopSlot - n.index));
      if (n.mtu > 0) absl::StrAppend(&device, ",host_mtu=", n.mtu);
      absl::StrAppend(&x, "    <qemu:arg value='-netdev'/>\n", "    <qemu:arg value='",
                      XmlEscape(absl::StrCat("stream,id=", n.netdev_id,
                                             ",server=off,addr.type=unix,addr.path=", path)),
                      "'/>\n", "    <qemu:arg value='-device'/>\n", "    <qemu:arg value='",
                      XmlEscape(device), "'/>\n");
    }
    x += "  </qemu:commandline>\n";
  }
  x += "</domain>\n";
  return x;
}

}  // namespace k6t::launcher
