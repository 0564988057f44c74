// k6t-launcher: runs one VM inside its pod's network namespace.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "command_service.h"
#include "dhcp_service.h"
#include "k6t/api/decode.h"
#include "k6t/binding/logging.h"
#include "k6t/launcher/launcher.h"
#include "libvirt_event_loop.h"
#include "passt_service.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, vmi, "", "VirtualMachine(Instance) manifest, YAML or JSON (required)");
ABSL_FLAG(std::string, state_dir, "",
          "per-VMI state dir: interface plans from k6t-handler, serial log, libvirt dirs "
          "(required)");
ABSL_FLAG(std::string, socket, "",
          "command socket path (JSON-RPC 2.0, protocol in k6t/api/rpc.h; mode 0600): status, "
          "hotplug, shutdown");
ABSL_FLAG(int, hotplug_ports, -1,
          "free pcie-root-ports the domain gets for NIC hotplug (-1: KubeVirt-style policy, "
          "at least 3)");
ABSL_FLAG(std::string, libvirt_uri, "",
          "'embed' (default when empty) or 'qemu:///embed?root=DIR': libvirt's in-process "
          "QEMU driver; 'private': a private libvirtd in a private mount namespace, "
          "supervised; otherwise the URI of an existing daemon");
ABSL_FLAG(std::string, accel, "auto",
          "auto|kvm|tcg; auto uses KVM only when /dev/kvm works and the CPU has vmx/svm");
ABSL_FLAG(std::string, guest_dir, "/var/cache/k6t/guest",
          "default guest (hack/build-guest.sh) booted when the VM names no kernel and no disk");
ABSL_FLAG(std::string, caps_cache, k6t::launcher::kDefaultCapsCacheRoot,
          "machine-wide QEMU capabilities cache root ('' disables)");
ABSL_FLAG(int, shutdown_timeout, 30, "seconds to wait for ACPI power-off before destroying");
ABSL_FLAG(std::string, log_level, "info", "trace|debug|info|warn|error");
ABSL_FLAG(std::string, log_format, "text", "text|json (json: one object per line)");
ABSL_FLAG(std::string, qemu_user, k6t::launcher::kDefaultQemuUser,
          "who QEMU runs as: UID[:GID], a user name, or root (default 107:107, KubeVirt's "
          "non-root qemu user, the owner k6t-handler gives the taps)");
ABSL_FLAG(std::string, image_store, "/var/lib/k6t/images",
          "containerDisk images: OCI layout dirs and OCI/docker archives (no registry); disks "
          "are extracted once per image digest into <dir>/.extracted");
ABSL_FLAG(std::string, container_disks_dir, "/var/run/kubevirt/container-disks",
          "KubeVirt's in-pod containerDisk mounts (disk_<N>.img), looked up before the store");
ABSL_FLAG(std::string, claims_dir, "/var/lib/k6t/claims",
          "persistentVolumeClaim/dataVolume/ephemeral volumes: <dir>/<claim> is the disk (a "
          "file or block device) or a directory holding disk.img");
ABSL_FLAG(std::string, secrets_dir, "/var/lib/k6t/secrets",
          "cloud-init secretRef/networkDataSecretRef without a cluster: <dir>/<secret>/<key> "
          "(KubeVirt's in-pod /var/run/kubevirt-private/secret/<volume>/ is read first)");
ABSL_FLAG(bool, incoming, false,
          "the target of a live migration: make everything ready, then wait for the VM to "
          "arrive from the source pod (k6t-handler migrate); libvirt defaults to private");
ABSL_FLAG(int, incoming_timeout, 300, "--incoming: seconds to wait for the VM");
ABSL_FLAG(bool, network_only, false,
          "serve DHCP/RA for the pod's cached plans without starting a VM (debugging a pod's "
          "network; --vmi not needed)");

namespace {

using k6t::launcher::ExitCode;

int Code(ExitCode c) { return static_cast<int>(c); }

// The launcher lives as long as its VM, mostly idle: what start-up allocated and freed
// (plans, the domain XML, libvirt's parse of the QEMU capabilities and CPU map, the
// define/start RPCs) would otherwise stay resident in the heap for the VM's lifetime.
// malloc_trim also returns the free pages inside the heap (madvise), not only its top.
void ReleaseStartupMemory() {
  const bool released = malloc_trim(0) != 0;
  spdlog::debug("malloc_trim after start: {}", released ? "memory returned" : "nothing to return");
}

// --network-only: the DHCP/RA servers of the cached plans until SIGTERM/SIGINT.
int RunNetworkOnly(const std::string& state_dir, const sigset_t& sigs) {
  k6t::launcher::DhcpService dhcp(state_dir);
  if (auto st = dhcp.StartStandalone(); !st.ok()) {
    spdlog::error("network-only: {}", st.ToString());
    return Code(ExitCode::kConfig);
  }
  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("{}: stopping the DHCP servers", strsignal(sig));
  dhcp.Stop();
  return Code(ExitCode::kGuestStopped);
}

int Run() {
  if (auto st = k6t::binding::SetupLogging("k6t-launcher", absl::GetFlag(FLAGS_log_format),
                                           k6t::binding::LogStream::kStdout);
      !st.ok()) {
    std::fprintf(stderr, "k6t-launcher: %s\n", std::string(st.message()).c_str());
    return Code(ExitCode::kUsage);
  }
  const std::string vmi_path = absl::GetFlag(FLAGS_vmi);
  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (absl::GetFlag(FLAGS_network_only) && !state_dir.empty()) {
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    return RunNetworkOnly(state_dir, sigs);
  }
  if (vmi_path.empty() || state_dir.empty()) {
    std::fprintf(stderr, "k6t-launcher: --vmi and --state-dir are required (see --help)\n");
    return Code(ExitCode::kUsage);
  }
  auto accel = k6t::launcher::ParseAccel(absl::GetFlag(FLAGS_accel));
  if (!accel.ok()) {
    std::fprintf(stderr, "k6t-launcher: %s\n", std::string(accel.status().message()).c_str());
    return Code(ExitCode::kUsage);
  }
  auto level = spdlog::level::from_str(absl::GetFlag(FLAGS_log_level));
  if (level == spdlog::level::off && absl::GetFlag(FLAGS_log_level) != "off") {
    std::fprintf(stderr, "k6t-launcher: unknown --log-level\n");
    return Code(ExitCode::kUsage);
  }
  spdlog::set_level(level);

  // Blocked before any thread exists, so every thread inherits the mask and the signals
  // are only ever taken by sigtimedwait below.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  auto vmi = k6t::api::DecodeSingleVmiFile(vmi_path);
  if (!vmi.ok()) {
    spdlog::error("reading VMI {}: {}", vmi_path, vmi.status().ToString());
    return Code(ExitCode::kConfig);
  }

  k6t::launcher::LauncherOptions o;
  o.state_dir = state_dir;
  o.libvirt_uri = absl::GetFlag(FLAGS_libvirt_uri);
  o.accel = *accel;
  o.guest_dir = absl::GetFlag(FLAGS_guest_dir);
  o.caps_cache_root = absl::GetFlag(FLAGS_caps_cache);
  o.hotplug_ports = absl::GetFlag(FLAGS_hotplug_ports);
  const absl::Duration grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_timeout));
  o.qemu_user = absl::GetFlag(FLAGS_qemu_user);
  o.storage.images.store_dir = absl::GetFlag(FLAGS_image_store);
  o.storage.images.container_disks_dir = absl::GetFlag(FLAGS_container_disks_dir);
  o.storage.claims_dir = absl::GetFlag(FLAGS_claims_dir);
  o.storage.secrets.secrets_root = absl::GetFlag(FLAGS_secrets_dir);
  o.incoming = absl::GetFlag(FLAGS_incoming);
  o.incoming_timeout = absl::Seconds(absl::GetFlag(FLAGS_incoming_timeout));
  int result;
  {
    k6t::launcher::Launcher launcher(o, std::move(*vmi));
    // Services start in this order before the domain is defined, and stop in reverse.
    auto dhcp = std::make_unique<k6t::launcher::DhcpService>(state_dir);
    k6t::launcher::DhcpService* dhcp_ptr = dhcp.get();
    launcher.AddService(std::move(dhcp));
    launcher.AddService(std::make_unique<k6t::launcher::PasstService>(
        k6t::launcher::PasstServiceOptions{.state_dir = state_dir}));
    if (!absl::GetFlag(FLAGS_socket).empty()) {
      k6t::rpc::ServerOptions co;
      co.socket_path = absl::GetFlag(FLAGS_socket);
      co.version = "k6t-launcher " K6T_VERSION;
      launcher.AddService(std::make_unique<k6t::launcher::CommandService>(co, dhcp_ptr, grace));
    }
    if (auto s = launcher.Start(); !s.ok()) {
      spdlog::error("start failed: {}", s.ToString());
      result = Code(launcher.FailureCode());
    } else {
      ReleaseStartupMemory();
      for (;;) {
        if (auto outcome = launcher.Wait(absl::Milliseconds(200))) {
          spdlog::info("VM ended: {}", outcome->message);
          result = Code(outcome->code);
          break;
        }
        timespec zero{0, 0};
        const int sig = sigtimedwait(&sigs, nullptr, &zero);
        if (sig > 0) {
          spdlog::info("{}: shutting the VM down (timeout {})", strsignal(sig),
                       absl::FormatDuration(grace));
          auto outcome = launcher.Shutdown(grace);
          if (!outcome.ok()) {
            spdlog::error("shutdown: {}", outcome.status().ToString());
            result = Code(ExitCode::kLibvirt);
          } else {
            spdlog::info("VM ended: {}", outcome->message);
            result = Code(outcome->code);
          }
          break;
        }
      }
    }
    launcher.Stop();
  }
  k6t::launcher::StopLibvirtEventLoop();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena for every thread. glibc gives each thread that allocates its own arena
  // (up to 8 per core), each a separate heap whose freed pages stay resident; the launcher's
  // threads (libvirt's event loop and per-VM monitor thread, the DHCP, command socket and
  // supervisor threads) are few and mostly asleep, so sharing one arena costs no measurable
  // contention. Set before any thread exists. QEMU and libvirtd are exec'd: unaffected.
  mallopt(M_ARENA_MAX, 1);
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "launcher/src/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      absl::StrCat("runs one VM inside its pod's network namespace.\n\n"
                   "  k6t-launcher --vmi FILE --state-dir DIR [--socket PATH] [--libvirt-uri URI]\n"
                   "               [--accel auto|kvm|tcg] [--guest-dir DIR] [--log-level info]\n\n"
                   "SIGTERM/SIGINT: ACPI power-off, destroy after --shutdown-timeout.\n\n",
                   k6t::launcher::ExitCodeTable()));
  // absl flags are spelled with underscores; accept the dashed forms too.
  std::vector<std::string> args(argv, argv + argc);
  std::vector<char*> fixed;
  for (auto& a : args) {
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      for (size_t i = 2; i < (eq == std::string::npos ? a.size() : eq); ++i)
        if (a[i] == '-') a[i] = '_';
    }
    fixed.push_back(a.data());
  }
  absl::ParseCommandLine(static_cast<int>(fixed.size()), fixed.data());
  return Run();
}
