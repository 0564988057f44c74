// What the host can offer a guest: which accelerator really works, and whether vhost-net
// exists. Decided once at launcher start; the domain XML generator takes the result.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace k6t::launcher {

enum class Accel { kAuto, kKvm, kTcg };

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

}  // namespace k6t::launcher
