// The files behind a VM's disks, in the VM's own directory, and their removal when the VM
// ends: the ephemeral overlay over a read-only base (containerDisk, ephemeral), empty
// disks, hostDisk DiskOrCreate, and the local paths of claims.
//
// Ephemeral overlay: libvirt's `<transient shareBacking='yes'/>` on the disk (QEMU driver,
// libvirt >= 7.4; measured here with Debian's libvirt 9.0 + QEMU 7.2, embedded driver). The
// base is opened read-only and shared by every VM; libvirt creates a qcow2 overlay named
// "<source>.TRANSIENT-<domain name>" next to the disk's source when the VM starts and
// deletes it when the VM stops. The source is therefore a per-VM symlink to the base
// (<vm_dir>/<volume>.base), so the overlay lands in the VM's directory, not the shared
// cache. Requirements and limits found on this libvirt:
//   - qemu.conf `dynamic_ownership = 1`: libvirt creates the overlay as root and only its
//     DAC relabelling gives it to the QEMU user (with 0, QEMU gets EACCES on the overlay);
//     the base is then chowned to the QEMU user too (the image cache already owns it so);
//   - without shareBacking, QEMU opens the base read-write first (fails on a read-only
//     base, and races other VMs on the image's write lock);
//   - libvirt refuses to migrate a domain with a transient disk, and to hot-plug one;
//   - an overlay left by a crash makes the next start fail ("already exists"): Prepare
//     removes it (the VM is not running then).
// The storage-pool alternative (virStorageVolCreateXML with a <backingStore> in a per-VM
// dir pool) needs libvirt's storage driver, which the embedded driver cannot load
// ("Driver does not support embedded mode") and the launcher's private daemon leaves out.
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

// What the domain XML of a disk with an ephemeral overlay holds.
struct EphemeralDisk {
  std::string source;   // <source file='...'/>: the per-VM symlink to the base
  std::string format;   // <driver type='...'/>: the base's format
  std::string overlay;  // where libvirt keeps the overlay while the VM runs
};

// The `<transient .../>` element an ephemeral disk's XML must carry.
inline constexpr char kTransientElement[] = "<transient shareBacking='yes'/>";

// Makes <vm_dir>/<volume>.base point at `base` (replacing an older link) and removes an
// overlay a crash left for `domain_name`.
absl::StatusOr<EphemeralDisk> PrepareEphemeral(const std::string& vm_dir, const std::string& volume,
                                               const std::string& base, const std::string& format,
                                               const std::string& domain_name);

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
