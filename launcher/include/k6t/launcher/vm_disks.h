// The files behind a VM's disks, in the VM's own directory, and their removal when the VM
// ends: the ephemeral overlay over a read-only base (containerDisk, ephemeral), empty
// disks, hostDisk DiskOrCreate, and the local paths of claims.
//
// Ephemeral overlay: a qcow2 file k6t writes itself (<vm_dir>/<volume>.qcow2, owned by the
// QEMU user) whose backing file is a per-VM symlink to the shared base
// (<vm_dir>/<volume>.base), with the base's format recorded in it. QEMU opens the backing
// file read-only, so every VM on the machine shares one base and each one's writes stay in
// its own directory; the overlay is made anew at each start and removed when the VM ends.
// Why not the alternatives, measured on Debian's libvirt 9.0 + QEMU 7.2:
//   - libvirt's `<transient shareBacking='yes'/>` makes the same overlay, but libvirt
//     refuses to migrate a domain with a transient disk ("migration with transient disk is
//     not supported") and to hot-plug one; k6t's own overlay is an ordinary qcow2 disk that
//     block migration copies (its backing chain stays: the target has the same base);
//   - a storage pool (virStorageVolCreateXML with a <backingStore>) needs libvirt's storage
//     driver, which the embedded driver cannot load ("Driver does not support embedded
//     mode") and the launcher's private daemon leaves out;
//   - qemu-img is never run by the product.
// A base the QEMU user cannot read (an in-pod disk owned by root) needs qemu.conf's
// `dynamic_ownership = 1`, with which libvirt relabels the backing chain for QEMU.
//
// Empty disks and hostDisk DiskOrCreate are sparse raw files of the given capacity (what
// KubeVirt makes: a guest sees zeros and the host spends no space until written).
//
// Errors: InvalidArgument naming the spec field, or the errno's code with the path.
// Thread-safety: functions on different paths may run concurrently. Privileges: chown to
// the QEMU user needs CAP_CHOWN.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "k6t/api/volume.h"

namespace k6t::launcher::disks {

struct Owner {
  uid_t uid = 107;
  gid_t gid = 107;
};

// The files of one ephemeral disk.
struct EphemeralDisk {
  std::string overlay;      // <vm_dir>/<volume>.qcow2: the disk's source, format qcow2
  std::string base_link;    // <vm_dir>/<volume>.base -> the base: the overlay's backing file
  std::string base_format;  // raw | qcow2, recorded in the overlay
};

// Where PrepareEphemeral puts a volume's files (base_format left empty): for a launcher
// that adopts a running VM and must not touch them.
EphemeralDisk EphemeralDiskPaths(const std::string& vm_dir, const std::string& volume);

// Makes <vm_dir>/<volume>.base point at `base` (replacing an older link) and writes a new,
// empty overlay over it of the base's virtual size, owned by `owner`. Writes a previous
// start left in an overlay are dropped, as KubeVirt's containerDisk does.
absl::StatusOr<EphemeralDisk> PrepareEphemeral(const std::string& vm_dir, const std::string& volume,
                                               const std::string& base, const std::string& format,
                                               const Owner& owner);

// After the VM ended: the link and any overlay left behind. Absent files are fine.
absl::Status RemoveEphemeral(const EphemeralDisk& disk);

// A sparse raw file of `capacity_bytes` at `path`, owned by `owner`, mode 0660; replaced
// when it exists (an emptyDisk starts empty on every VM start, as in KubeVirt).
absl::Status CreateEmptyDisk(const std::string& path, int64_t capacity_bytes, const Owner& owner);

// hostDisk: "Disk" must exist (a regular file or block device); "DiskOrCreate" creates a
// sparse file of its capacity (and missing parent directories) when absent. Returns
// whether it was created. `field` is the volume's path for messages
// (spec.volumes[2].hostDisk).
absl::StatusOr<bool> EnsureHostDisk(const api::HostDiskSource& disk, const Owner& owner,
                                    const std::string& field);

// Where a claim's data is on this machine: k6t has no PersistentVolume controller, so a
// claim is <claims_root>/<claim name>, either a disk image file or block device itself, or
// a directory holding disk.img (KubeVirt's filesystem-mode layout). NotFound otherwise.
absl::StatusOr<std::string> ClaimImagePath(const std::string& claims_root,
                                           const std::string& claim_name, const std::string& field);

}  // namespace k6t::launcher::disks
