#include "host_caps.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace {

// True when a "flags" line of cpuinfo lists vmx or svm.
bool CpuHasHardwareVirt(const std::string& cpuinfo_path) {
  std::ifstream in(cpuinfo_path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(
        line.substr(line.find(':') == std::string::npos ? 0 : line.find(':') + 1));
    std::string w;
    while (words >> w)
      if (w == "vmx" || w == "svm") return true;
  }
  return false;
}

}  // namespace

const char* AccelName(Accel a) {
  switch (a) {
    case Accel::kAuto:
      return "auto";
    case Accel::kKvm:
      return "kvm";
    case Accel::kTcg:
      return "tcg";
  }
  return "?";
}

absl::StatusOr<Accel> ParseAccel(const std::string& text) {
  if (text == "auto") return Accel::kAuto;
  if (text == "kvm") return Accel::kKvm;
  if (text == "tcg") return Accel::kTcg;
  return absl::InvalidArgumentError(
      absl::StrCat("--accel: \"", text, "\" is not one of auto, kvm, tcg"));
}

absl::StatusOr<AccelChoice> ResolveAccel(Accel requested, const HostPaths& paths) {
  if (requested == Accel::kTcg) return AccelChoice{Accel::kTcg, "requested"};
  int fd = open(paths.kvm_device.c_str(), O_RDWR | O_CLOEXEC);
  const int err = errno;
  if (fd >= 0) close(fd);
  if (requested == Accel::kKvm) {
    if (fd < 0)
      return absl::FailedPreconditionError(
          absl::StrCat("--accel=kvm: cannot open ", paths.kvm_device, ": ", strerror(err)));
    return AccelChoice{Accel::kKvm, "requested"};
  }
  if (fd < 0)
    return AccelChoice{Accel::kTcg,
                       absl::StrCat(paths.kvm_device, " not usable (", strerror(err), ")")};
  if (!CpuHasHardwareVirt(paths.cpuinfo))
    return AccelChoice{Accel::kTcg,
                       absl::StrCat(paths.kvm_device, " exists but ", paths.cpuinfo,
                                    " has no vmx/svm: a paravirtual KVM (e.g. PVM) that cannot "
                                    "run a standard guest kernel")};
  return AccelChoice{Accel::kKvm, absl::StrCat(paths.kvm_device, " usable and CPU has vmx/svm")};
}

bool HostHasVhostNet(const HostPaths& paths) {
  const bool present = access(paths.vhost_net.c_str(), F_OK) == 0;
  static std::atomic<bool> warned{false};
  if (!present && !warned.exchange(true))
    spdlog::warn(
        "host has no {} (no CONFIG_VHOST_NET): virtio NICs use QEMU's userspace datapath; "
        "vhost is never requested",
        paths.vhost_net);
  return present;
}

ScopedCpuPin::ScopedCpuPin() {
  if (sched_getaffinity(0, sizeof(saved_), &saved_) != 0) return;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &saved_)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
    return;
  }
}

ScopedCpuPin::~ScopedCpuPin() {
  if (pinned_) sched_setaffinity(0, sizeof(saved_), &saved_);
}

}  // namespace k6t::launcher
