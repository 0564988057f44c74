// What the host can offer a guest: which accelerator really works, and whether vhost-net
// exists. Decided once at launcher start; the domain XML generator takes the result.
#pragma once

#include <sched.h>

#include <string>

#include "absl/status/statusor.h"
#include "k6t/launcher/options.h"

namespace k6t::launcher {

const char* AccelName(Accel a);
absl::StatusOr<Accel> ParseAccel(const std::string& text);

struct AccelChoice {
  Accel accel = Accel::kTcg;
  std::string reason;  // why, for the log
};

// Files the decision reads; tests point them elsewhere.
struct HostPaths {
  std::string kvm_device = "/dev/kvm";
  std::string cpuinfo = "/proc/cpuinfo";
  std::string vhost_net = "/dev/vhost-net";
};

// kAuto picks KVM only when /dev/kvm opens read-write AND the CPU advertises hardware
// virtualisation (vmx/svm). A /dev/kvm without vmx/svm is a paravirtual KVM (e.g. PVM on a
// Firecracker host) that cannot run a stock guest kernel: QEMU aborts or crawls, so TCG it
// is. kKvm is honoured only when /dev/kvm opens (an error otherwise); kTcg always.
absl::StatusOr<AccelChoice> ResolveAccel(Accel requested, const HostPaths& paths = {});

// /dev/vhost-net present. When false, the first call logs a warning (once per process).
bool HostHasVhostNet(const HostPaths& paths = {});

// Pins the calling thread to the lowest CPU it may run on, for the scope. libvirt checks a
// cached QEMU capabilities file against the CPUID of the CPU the checking thread happens to
// run on, APIC ID included, so without a fixed CPU about half the launches on a 2-vCPU host
// re-probe QEMU for seconds ("Outdated capabilities ...: host cpuid changed"). Threads
// started inside the scope inherit the pin; libvirt sets QEMU's own affinity.
class ScopedCpuPin {
 public:
  ScopedCpuPin();
  ~ScopedCpuPin();
  ScopedCpuPin(const ScopedCpuPin&) = delete;
  ScopedCpuPin& operator=(const ScopedCpuPin&) = delete;

 private:
  bool pinned_ = false;
  cpu_set_t saved_;  // the thread's affinity before the pin
};

}  // namespace k6t::launcher
