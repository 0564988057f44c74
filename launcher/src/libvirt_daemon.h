// The VM's own libvirt, KubeVirt's topology: a private libvirtd started by the launcher in
// the pod netns (the launcher already runs there), in a private mount namespace where its
// state dir's etc/run/lib/log/cache dirs are bind-mounted over /etc/libvirt, /run/libvirt,
// /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt. It is supervised: restarted
// when it dies (QEMU keeps running and the new daemon re-attaches to it), stopped on exit.
//
// Also here: the machine-wide QEMU capabilities cache that saves each daemon the seconds
// of probing, and the root directory of the in-process embedded driver
// (qemu:///embed?root=DIR), which reads the same qemu.conf.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "child_process.h"
#include "k6t/launcher/options.h"
#include "qemu_user.h"

namespace k6t::launcher {

// The QEMU driver config the launcher needs in every mode: QEMU as `user` (libvirt, as root,
// opens the taps and hands QEMU their fds, then drops QEMU to that uid/gid with no
// capabilities) without dynamic ownership or a security driver (the launcher owns the pod;
// taps are pre-made for that user), no cgroup or mount-namespace juggling (the pod is the
// sandbox), stdio to files (no virtlogd). `dynamic_ownership` only for a VM with overlay
// disks: their shared base may be one QEMU's user cannot read (an in-pod disk owned by root)
// and libvirt's DAC relabelling of the backing chain hands it to QEMU (vm_disks.h); it then
// also gives QEMU the VM's other files while it runs.
std::string QemuConf(const QemuUser& user, bool dynamic_ownership = false);
std::string LibvirtdConf();
// The private libvirtd's environment: the launcher's, with MALLOC_ARENA_MAX=1 and, when
// `driver_dir` is not empty, LIBVIRT_DRIVER_DIR=driver_dir.
std::vector<std::string> LibvirtdEnvironment(const std::string& driver_dir);
// Makes DIR a driver dir holding only a link to libvirt's QEMU driver module (found in
// <libdir>/libvirt/connection-driver, next to the libvirt library in use), so that the
// private libvirtd loads the QEMU driver alone, as the embedded driver does. Returns false
// (and the daemon loads every driver) when the module is not found.
bool PrepareQemuOnlyDriverDir(const std::string& dir);

// ---- Shared capabilities cache.
//
// libvirt keeps its probe result per emulator in <cache>/qemu/capabilities/<hash>.xml and
// revalidates each file itself (QEMU binary ctime, libvirt version, kernel, microcode), so a
// stale seed only costs the probe it would have cost anyway. The shared dir is keyed by the
// libvirt library version and the QEMU/libvirtd binaries' identity (size, mtime).
struct CapsCache {
  std::string shared_root = kDefaultCapsCacheRoot;  // empty: disabled
  std::string emulator = "/usr/bin/qemu-system-x86_64";
  std::string libvirtd = "/usr/sbin/libvirtd";

  // <shared_root>/libvirt-<ver>-qemu-<hash>
  std::string SharedDir() const;
  // Copies the shared *.xml into <cache_dir>/qemu/capabilities/. Returns files copied.
  int Seed(const std::string& cache_dir) const;
  // Copies new or changed <cache_dir>/qemu/capabilities/*.xml back (atomic per file).
  int Publish(const std::string& cache_dir) const;
};

// Creates DIR/{etc,run,lib,log,cache} and writes DIR/etc/qemu.conf for the embedded driver
// (`qemu:///embed?root=DIR` reads its config from there).
absl::Status PrepareEmbedRoot(const std::string& root, const QemuUser& user,
                              bool dynamic_ownership = false);

struct PrivateLibvirtdOptions {
  std::string root;  // <state dir>/libvirt; etc/ run/ lib/ log/ cache/ go below it
  std::string libvirtd = "/usr/sbin/libvirtd";
  QemuUser qemu_user;
  bool dynamic_ownership = false;  // see QemuConf
  absl::Duration ready_timeout = absl::Seconds(30);
  absl::Duration stop_grace = absl::Seconds(10);
  int max_restarts = 5;  // within restart_window; then the daemon is declared failed
  absl::Duration restart_window = absl::Minutes(5);
};

class PrivateLibvirtd {
 public:
  // Called on the supervisor thread after a restart, with the daemon ready again (true), or
  // when it died and will not be restarted (false).
  using RestartCallback = std::function<void(bool ready)>;

  // Writes the config, spawns libvirtd and waits until its socket accepts connections.
  static absl::StatusOr<std::unique_ptr<PrivateLibvirtd>> Start(PrivateLibvirtdOptions options,
                                                                RestartCallback on_restart = {});
  ~PrivateLibvirtd();  // Stop()

  // qemu+unix:///system?socket=<root>/run/libvirt-sock
  std::string Uri() const;
  std::string SocketPath() const;
  std::string CacheDir() const { return options_.root + "/cache"; }
  pid_t pid() const;
  int restarts() const { return restarts_.load(); }

  // SIGTERM (SIGKILL after the grace period), waits, removes the socket. Idempotent.
  void Stop();

 private:
  explicit PrivateLibvirtd(PrivateLibvirtdOptions options) : options_(std::move(options)) {}
  absl::Status SpawnAndWait();
  void Supervise();

  PrivateLibvirtdOptions options_;
  std::string driver_dir_;  // LIBVIRT_DRIVER_DIR; empty: libvirt's own
  RestartCallback on_restart_;
  mutable std::mutex mu_;
  ChildProcess child_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> restarts_{0};
  std::thread supervisor_;
};

}  // namespace k6t::launcher
