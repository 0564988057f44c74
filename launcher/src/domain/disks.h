// Phase "disks" of the domain XML: the VM's disks and where it boots from.
//
// Today a disk is a local image file (api::Disk::image_path: a hostDisk or containerDisk
// path), and the boot source is the VM's own kernel, else its disks (<boot dev='hd'/>
// unless some device has a boot order), else the default guest's kernel and initrd. What
// is to come plugs in here: DiskFromVolume() grows a case per volume kind — a containerDisk
// becomes the per-VM overlay over its read-only base, cloud-init a read-only cdrom with the
// cidata/config-2 ISO, a `cdrom` disk a cdrom — and each DiskDevice becomes one <disk>.
// bootOrder already flows from the spec to <boot order=>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "domain_xml.h"
#include "k6t/api/vmi.h"
#include "k6t/domxml/xml.h"

namespace k6t::launcher {

struct BootSource {
  std::string kernel;  // direct kernel boot when set
  std::string initrd;
  std::string cmdline;
  bool from_disk = false;  // <boot dev='hd'/>: no kernel, and no device has a boot order
};

struct DiskDevice {
  std::string name;    // the spec's; alias ua-<name>
  std::string path;    // the image file
  std::string format;  // raw | qcow2
  std::string bus;     // virtio | sata | scsi
  std::string target;  // vda, vdb, ..., sda, ...
  std::optional<int64_t> boot_order;
};

struct StorageLayout {
  std::vector<DiskDevice> disks;
  BootSource boot;
  bool virtio_scsi = false;  // a scsi disk needs the controller
  int root_ports = 0;        // PCIe root ports taken: one per virtio disk, one for virtio-scsi
};

// InvalidArgument naming the disk (no image, unknown bus); FailedPrecondition when nothing
// can boot (no kernel, no disk, no default guest).
absl::StatusOr<StorageLayout> LayOutStorage(const api::Vmi& vmi, const DomainOptions& options);

// One <disk> per DiskDevice, under <devices>.
void AppendDisks(domxml::Element devices, const StorageLayout& layout);

// The boot source, under <os>.
void AppendBootSource(domxml::Element os, const BootSource& boot);

}  // namespace k6t::launcher
