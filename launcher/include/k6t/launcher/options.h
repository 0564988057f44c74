// What a Launcher is told (LauncherOptions) and the small values it shares with the code
// that embeds it: the accelerator to ask for, the user QEMU runs as, the defaults of the
// k6t-launcher command line. Plain values: no errors, no state, no privileges; validated
// when the Launcher starts (launcher.h).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "k6t/launcher/cloudinit.h"
#include "k6t/launcher/image_store.h"

namespace k6t::launcher {

class Libvirt;

// kAuto: KVM only when /dev/kvm works and the CPU has hardware virtualisation, else TCG.
enum class Accel { kAuto, kKvm, kTcg };

// Who QEMU runs as (KubeVirt's non-root mode by default: uid/gid 107).
struct QemuUser {
  uid_t uid = 107;
  gid_t gid = 107;
  bool root() const { return uid == 0; }
};

inline constexpr char kDefaultQemuUser[] = "107";
// The machine-wide QEMU capabilities cache seeded into every fresh libvirt.
inline constexpr char kDefaultCapsCacheRoot[] = "/var/cache/k6t/qemu-caps";
// How libvirt is run when no URI is given. "embed": the in-process QEMU driver
// (qemu:///embed?root=<state_dir>/libvirt-embed); "private": a private libvirtd per VM.
// Both were measured (see launcher/README.md): embed reaches a running domain faster and
// needs no second process, and a launcher restart re-adopts the running QEMU either way.
inline constexpr char kDefaultLibvirtMode[] = "embed";

// Where the data of the VM's volumes comes from on this machine (see vm_disks.h,
// image_store.h and cloudinit.h for each layout). The image cache is chowned to the QEMU
// user whatever `images.owner_*` says.
struct StorageOptions {
  images::ImageStoreOptions images;  // containerDisk: store, extraction cache, in-pod mounts
  cloudinit::SecretDirs secrets;     // cloud-init secretRef / networkDataSecretRef
  std::string claims_dir = "/var/lib/k6t/claims";  // persistentVolumeClaim, dataVolume
};

struct LauncherOptions {
  std::string state_dir;
  // Empty: kDefaultLibvirtMode. "private": a private libvirtd in a private mount namespace.
  // "embed" or "qemu:///embed?root=DIR": the in-process embedded driver (root defaults to
  // <state_dir>/libvirt-embed). Anything else: the URI of an existing daemon.
  std::string libvirt_uri;
  // How libvirt is reached; null: its C API (LibvirtCApi()). Tests give a FakeLibvirt and a
  // URI of their choosing (neither "embed" nor "private").
  std::shared_ptr<Libvirt> libvirt;
  Accel accel = Accel::kAuto;
  std::string guest_dir;  // default guest: <guest_dir>/vmlinuz, <guest_dir>/initrd.cpio.gz
  std::string caps_cache_root = kDefaultCapsCacheRoot;  // "" disables the shared cache
  std::string emulator;  // "" : the domain XML's default (/usr/bin/qemu-system-x86_64)
  std::string libvirtd = "/usr/sbin/libvirtd";
  int hotplug_ports = -1;  // free pcie-root-ports for hotplug; -1: the KubeVirt-like policy
  // Who QEMU runs as: "UID[:GID]", a user name, or "root".
  std::string qemu_user = kDefaultQemuUser;
  StorageOptions storage;
  // The target of a live migration: everything is made ready (libvirt, DHCP, passt, disks,
  // the domain XML) but the VM is not started; it arrives from the source pod's libvirt
  // within `incoming_timeout`. Needs a libvirt the source can reach: with no URI (or
  // "embed"), a private libvirtd is used.
  bool incoming = false;
  absl::Duration incoming_timeout = absl::Minutes(5);
};

}  // namespace k6t::launcher
