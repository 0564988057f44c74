#include "domain/disks.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace k6t::launcher {
namespace {

// "vda", "vdb", ... "sdaa" style names for a bus prefix.
std::string DiskTarget(const std::string& prefix, int index) {
  std::string suffix;
  for (int n = index;; n = n / 26 - 1) {
    suffix.insert(suffix.begin(), static_cast<char>('a' + n % 26));
    if (n < 26) break;
  }
  return prefix + suffix;
}

// The device a disk of the spec becomes (its target is given by the bus order).
absl::StatusOr<DiskDevice> DiskFromVolume(const api::Disk& d, const DomainOptions& options) {
  DiskDevice out;
  out.name = d.name;
  out.device = api::DiskDeviceField(d.device());
  if (auto src = options.disk_sources.find(d.name); src != options.disk_sources.end()) {
    out.path = src->second.path;
    out.format = src->second.format;
    out.block = src->second.block;
    out.readonly = src->second.readonly;
    out.pod_local = src->second.pod_local;
  } else if (!d.image_path.empty()) {
    out.path = d.image_path;
    out.format = !d.image_format.empty()                  ? d.image_format
                 : absl::EndsWith(d.image_path, ".qcow2") ? "qcow2"
                                                          : "raw";
  } else {
    return absl::InvalidArgumentError(absl::StrCat("disk \"", d.name, "\" has no image path"));
  }
  const bool cdrom = d.device() == api::DiskDevice::kCdrom;
  out.bus = !d.bus.empty() ? d.bus : cdrom ? "sata" : "virtio";
  if (out.bus != "virtio" && out.bus != "sata" && out.bus != "scsi")
    return absl::InvalidArgumentError(
        absl::StrCat("disk \"", d.name, "\": unsupported bus \"", out.bus, "\""));
  out.boot_order = d.boot_order;
  out.serial = d.serial;
  out.cache = d.cache;
  out.io = d.io;
  // A CD-ROM is read-only unless the spec says readonly: false (decode applies that default).
  out.readonly = out.readonly || d.readonly;
  out.shareable = d.shareable;
  // What the guest cannot write has nothing to copy.
  out.pod_local = out.pod_local && !out.readonly && !out.shareable;
  return out;
}

absl::StatusOr<BootSource> ChooseBootSource(const api::Domain& dom, const DomainOptions& options,
                                            bool any_boot_order) {
  BootSource boot;
  if (dom.kernel_boot && !dom.kernel_boot->kernel_path.empty()) {
    boot.kernel = dom.kernel_boot->kernel_path;
    boot.initrd = dom.kernel_boot->initrd_path;
    boot.cmdline = dom.kernel_boot->kernel_args;
    return boot;
  }
  if (!dom.disks.empty()) {
    boot.from_disk = !any_boot_order;
    return boot;
  }
  if (options.guest_kernel.empty())
    return absl::FailedPreconditionError(
        "the VM names no kernel and no disk, and no default guest kernel is configured "
        "(--guest-dir; hack/build-guest.sh builds it)");
  boot.kernel = options.guest_kernel;
  boot.initrd = options.guest_initrd;
  boot.cmdline = kDefaultGuestCmdline;
  // Kernel arguments without a kernel are for the default guest (e.g. k6t.net=...).
  if (dom.kernel_boot && !dom.kernel_boot->kernel_args.empty())
    absl::StrAppend(&boot.cmdline, " ", dom.kernel_boot->kernel_args);
  return boot;
}

}  // namespace

absl::StatusOr<StorageLayout> LayOutStorage(const api::Vmi& vmi, const DomainOptions& options) {
  const api::Domain& dom = vmi.spec.domain;
  StorageLayout out;
  bool any_boot_order = false;
  for (const api::Interface& iface : dom.interfaces)
    if (iface.boot_order && !iface.absent()) any_boot_order = true;
  // One virtio-blk function each on its own root port; sata and scsi disks share a
  // controller (q35's built-in AHCI, one virtio-scsi).
  int virtio = 0, sd = 0;
  for (const api::Disk& d : dom.disks) {
    auto disk = DiskFromVolume(d, options);
    if (!disk.ok()) return disk.status();
    if (disk->bus == "virtio") {
      disk->target = DiskTarget("vd", virtio++);
      ++out.root_ports;
    } else {
      disk->target = DiskTarget("sd", sd++);
      out.virtio_scsi = out.virtio_scsi || disk->bus == "scsi";
    }
    any_boot_order = any_boot_order || disk->boot_order.has_value();
    out.disks.push_back(*std::move(disk));
  }
  if (out.virtio_scsi) ++out.root_ports;
  auto boot = ChooseBootSource(dom, options, any_boot_order);
  if (!boot.ok()) return boot.status();
  out.boot = *std::move(boot);
  return out;
}

std::vector<std::string> PodLocalDiskTargets(const StorageLayout& layout) {
  std::vector<std::string> out;
  for (const DiskDevice& d : layout.disks)
    if (d.pod_local) out.push_back(d.target);
  return out;
}

void AppendDisks(domxml::Element devices, const StorageLayout& layout) {
  for (const DiskDevice& d : layout.disks) {
    domxml::Element disk =
        devices.Add("disk").Set("type", d.block ? "block" : "file").Set("device", d.device);
    domxml::Element driver = disk.Add("driver").Set("name", "qemu").Set("type", d.format);
    if (!d.cache.empty()) driver.Set("cache", d.cache);
    if (!d.io.empty()) driver.Set("io", d.io);
    disk.Add("source").Set(d.block ? "dev" : "file", d.path);
    disk.Add("target").Set("dev", d.target).Set("bus", d.bus);
    if (d.boot_order) disk.Add("boot").Set("order", *d.boot_order);
    if (d.readonly) disk.Add("readonly");
    if (d.shareable) disk.Add("shareable");
    if (!d.serial.empty()) disk.Add("serial", d.serial);
    disk.Add("alias").Set("name", absl::StrCat("ua-", d.name));
  }
}

void AppendBootSource(domxml::Element os, const BootSource& boot) {
  if (!boot.kernel.empty()) {
    os.Add("kernel", boot.kernel);
    if (!boot.initrd.empty()) os.Add("initrd", boot.initrd);
    if (!boot.cmdline.empty()) os.Add("cmdline", boot.cmdline);
  } else if (boot.from_disk) {
    os.Add("boot").Set("dev", "hd");
  }
}

}  // namespace k6t::launcher
