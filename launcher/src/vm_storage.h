// The files behind a VM's disks, made ready before the domain is defined and released when
// it ends: each disk of spec.domain.devices.disks gets its source from its volume
// (spec.volumes) through the storage libraries (k6t/launcher/{image_store,cloudinit,
// vm_disks}.h):
//   containerDisk             the image's disk, resolved from the local store or the in-pod
//                             mount, under a per-VM qcow2 overlay (vm_disks.h)
//   cloudInitNoCloud/ConfigDrive  an ISO built in-process: <vm_dir>/cloudinit/<volume>.iso
//   emptyDisk                 a sparse file, new at every start: <vm_dir>/disks/<volume>.img
//   hostDisk                  its path (DiskOrCreate creates it)
//   persistentVolumeClaim / dataVolume  <claims_dir>/<claim>[/disk.img]
//   ephemeral                 the claim's image under a per-VM overlay
//
// Preparing twice is safe: a VM start replaces what an earlier start made. When the
// launcher adopts a running VM, Describe() computes the same sources without touching any
// file the running QEMU uses.
//
// Errors: the storage libraries' errors, which name the volume's field
// (spec.volumes[1].containerDisk.image: ...); nothing is started on error, and what this
// call made before the error is removed. Thread-safety: one call at a time per VM dir.
// Privileges: chown to the QEMU user needs CAP_CHOWN (the launcher runs as root).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "k6t/api/vmi.h"
#include "k6t/launcher/cloudinit.h"
#include "k6t/launcher/image_store.h"
#include "k6t/launcher/options.h"
#include "k6t/launcher/vm_disks.h"

namespace k6t::launcher {

// Where one disk's data is, as the domain XML names it.
struct DiskSource {
  std::string path;
  std::string format;  // raw | qcow2
  bool block = false;  // a block device (<disk type='block'>)
  // The guest's writes land in a file of this pod only (an overlay, an empty disk): live
  // migration copies it (block migration); every other source is the node's or read-only.
  bool pod_local = false;
  bool readonly = false;  // the source is read-only to the guest whatever the spec says

  bool operator==(const DiskSource&) const = default;
};

struct VmStorage {
  std::map<std::string, DiskSource> disks;      // by disk (= volume) name
  std::vector<disks::EphemeralDisk> ephemeral;  // links to remove when the VM ends
};

// True when a disk of the VMI reads a base image through an overlay: the base may be one the
// QEMU user cannot read (an in-pod disk owned by root), which libvirt then relabels with
// qemu.conf's dynamic_ownership (see vm_disks.h).
bool NeedsDynamicOwnership(const api::Vmi& vmi);

// Makes every disk's source ready in `vm_dir` (the launcher's state dir).
absl::StatusOr<VmStorage> PrepareVmStorage(const api::Vmi& vmi, const std::string& vm_dir,
                                           const StorageOptions& options, const QemuUser& user);

// The sources a PrepareVmStorage of the same VMI made, computed from the files it left
// (no file is changed): for a launcher that adopts a running VM.
absl::StatusOr<VmStorage> DescribeVmStorage(const api::Vmi& vmi, const std::string& vm_dir,
                                            const StorageOptions& options);

// After the VM ended: the overlay links (libvirt removes the overlays it made; a crash's are
// removed too). Errors are logged, not returned: nothing is left to do about them.
void ReleaseVmStorage(const VmStorage& storage);

}  // namespace k6t::launcher
