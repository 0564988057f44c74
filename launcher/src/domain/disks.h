// Phase "disks" of the domain XML: the VM's disks and where it boots from.
//
// A disk's source is what the launcher prepared for its volume (DomainOptions::disk_sources,
// vm_storage.h: containerDisk overlays, cloud-init ISOs, empty disks, claims), else the
// spec's own image path (hostDisk). The boot source is the VM's own kernel, else its disks
// (<boot dev='hd'/> unless some device has a boot order), else the default guest's kernel
// and initrd. bootOrder, serial, cache, io, readonly and shareable flow from the spec.
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
  std::string device;  // disk | cdrom | lun
  std::string path;    // the image file or block device
  bool block = false;  // <disk type='block'>
  std::string format;  // raw | qcow2
  std::string bus;     // virtio | sata | scsi
  std::string target;  // vda, vdb, ..., sda, ...
  std::optional<int64_t> boot_order;
  std::string serial, cache, io;  // empty: libvirt's default
  bool readonly = false;
  bool shareable = false;
  bool pod_local = false;  // the guest writes to a file of this pod only (vm_storage.h)
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

// The targets (vda, sdb, ...) of the disks whose writes live only in this pod: what a live
// migration copies to the target pod.
std::vector<std::string> PodLocalDiskTargets(const StorageLayout& layout);

// One <disk> per DiskDevice, under <devices>.
void AppendDisks(domxml::Element devices, const StorageLayout& layout);

// The boot source, under <os>.
void AppendBootSource(domxml::Element os, const BootSource& boot);

}  // namespace k6t::launcher
