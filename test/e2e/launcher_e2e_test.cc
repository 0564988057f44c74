// k6t-launcher end to end: a pod netns with a bridge and a tap (made here with `ip`, as
// k6t-handler would), a cached interface plan, the default guest from hack/build-guest.sh,
// the launcher run inside the netns with real libvirt + QEMU (TCG here). The guest must
// come up with its address, answer HTTP with its own `ip addr`, and SIGTERM must leave no
// QEMU, no libvirtd and no socket behind. Timings are printed, never asserted.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "k6t/binding/cache.h"
#include "nlohmann/json.hpp"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::string Env(const char* name, const std::string& def = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command (tests may use the shell); returns exit status and output.
std::pair<int, std::string> Sh(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  const int st = p ? pclose(p) : -1;
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// PIDs whose command line contains `needle`.
std::vector<pid_t> ProcessesMatching(const std::string& needle) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = ReadFile(e.path().string() + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(needle) != std::string::npos && std::stoi(name) != getpid())
      out.push_back(std::stoi(name));
  }
  return out;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  // A zombie is gone for our purposes.
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t p = stat.rfind(')');
  return p == std::string::npos || p + 2 >= stat.size() || stat[p + 2] != 'Z';
}

class LauncherE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (netns, taps, libvirt)";
    for (const char* f : {"/dev/net/tun", "/usr/sbin/libvirtd", "/usr/bin/qemu-system-x86_64"})
      if (access(f, F_OK) != 0) GTEST_SKIP() << f << " missing";
    // The test binary lives in <build>/test-bin/: the fallback when K6T_BUILD_DIR is unset.
    build_dir_ = Env("K6T_BUILD_DIR",
                     fs::read_symlink("/proc/self/exe").parent_path().parent_path().string());
    source_dir_ = Env("K6T_SOURCE_DIR", ".");
    launcher_ = Env("K6T_LAUNCHER_BIN", build_dir_ + "/bin/k6t-launcher");
    ASSERT_EQ(access(launcher_.c_str(), X_OK), 0) << launcher_ << " not built";

    guest_dir_ = Env("K6T_GUEST_DIR", build_dir_ + "/guest");
    auto [rc, out] = Sh(source_dir_ + "/hack/build-guest.sh " + guest_dir_);
    ASSERT_EQ(rc, 0) << out;

    static int counter = 0;
    ns_ = "k6t-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    vm_name_ = "e2e-" + ns_.substr(9);
    // libvirt names QEMU `-name guest=<namespace>_<name>`: how leftovers are found.
    qemu_needle_ = "guest=default_" + vm_name_ + ",";
    char tmpl[] = "/tmp/k6t-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    state_dir_ = tmpl;
    // The machine-wide capabilities cache, shared by the tests like by VMs on a node (a
    // test that needs it cold uses its own).
    caps_dir_ = build_dir_ + "/qemu-caps";

    // The pod netns as k6t-handler leaves it for masquerade: bridge 10.0.2.1/24 + tap0.
    auto [nrc, nout] = Sh(
        "set -e; ip netns add " + ns_ + "; ip -n " + ns_ + " link set lo up; ip -n " + ns_ +
        " link add k6t-eth0 type bridge; ip -n " + ns_ +
        " addr add 10.0.2.1/24 dev k6t-eth0; ip -n " + ns_ + " link set k6t-eth0 up; ip -n " + ns_ +
        " tuntap add dev tap0 mode tap; ip -n " + ns_ + " link set tap0 master k6t-eth0 up");
    ASSERT_EQ(nrc, 0) << nout;
    netns_made_ = true;

    WriteVmi("k6t.net=static:10.0.2.2/24:10.0.2.1");
    k6t::binding::CachedInterface ci;
    ci.phase = k6t::binding::PlumbingPhase::kFinished;
    ci.plan.interface_name = "default";
    ci.plan.network_name = "default";
    ci.plan.binding = "masquerade";
    ci.plan.pod_interface = "eth0";
    ci.plan.mac = "02:6b:36:74:00:02";
    ci.plan.mtu = 1500;
    k6t::binding::GuestDevice nic;
    nic.kind = k6t::binding::DeviceKind::kTap;
    nic.alias = "ua-default";
    nic.mac = ci.plan.mac;
    nic.model = "virtio-non-transitional";
    nic.tap = "tap0";
    nic.mtu = ci.plan.mtu;
    ci.plan.device = nic;
    auto s = k6t::binding::WriteCachedInterface(state_dir_, ci);
    ASSERT_TRUE(s.ok()) << s;
  }

  void TearDown() override {
    if (launcher_pid_ > 0 && ProcessAlive(launcher_pid_)) {
      kill(launcher_pid_, SIGKILL);
      waitpid(launcher_pid_, nullptr, 0);
    }
    // Whatever a failed run left: QEMU (its command line names the serial log in the state
    // dir) and the private libvirtd (its pid file is in the state dir).
    if (!state_dir_.empty()) {
      for (pid_t p : ProcessesMatching(qemu_needle_)) kill(p, SIGKILL);
      for (const char* pidfile : {"/libvirt/run/libvirtd.pid"}) {
        std::string pid = ReadFile(state_dir_ + pidfile);
        if (!pid.empty() && std::atoi(pid.c_str()) > 0) kill(std::atoi(pid.c_str()), SIGKILL);
      }
    }
    if (netns_made_) Sh("ip netns del " + ns_);
    if (!state_dir_.empty()) {
      std::error_code ec;
      fs::remove_all(state_dir_, ec);
      if (own_caps_) fs::remove_all(caps_dir_, ec);
    }
  }

  void WriteVmi(const std::string& kernel_args) {
    std::ofstream(state_dir_ + "/vmi.yaml") << "apiVersion: kubevirt.io/v1\n"
                                               "kind: VirtualMachineInstance\n"
                                               "metadata:\n"
                                               "  name: "
                                            << vm_name_
                                            << "\n"
                                               "  namespace: default\n"
                                               "spec:\n"
                                               "  domain:\n"
                                               "    firmware:\n"
                                               "      kernelBoot:\n"
                                               "        kernelArgs: \""
                                            << kernel_args
                                            << "\"\n"
                                               "    devices:\n"
                                               "      interfaces:\n"
                                               "      - name: default\n"
                                               "        masquerade: {}\n"
                                               "  networks:\n"
                                               "  - name: default\n"
                                               "    pod: {}\n";
  }

  // Starts k6t-launcher inside the pod netns; its output goes to <state>/launcher.<n>.log.
  void StartLauncher(const std::vector<std::string>& extra = {}) {
    log_path_ = state_dir_ + "/launcher." + std::to_string(runs_++) + ".log";
    // The previous run's console must not satisfy this run's waits.
    if (!keep_serial_) unlink((state_dir_ + "/serial.log").c_str());
    std::vector<std::string> args = {"/usr/bin/ip", "netns", "exec", ns_};
    args.insert(args.end(), wrapper_.begin(), wrapper_.end());
    args.insert(args.end(), {launcher_, "--vmi=" + state_dir_ + "/vmi.yaml",
                             "--state-dir=" + state_dir_, "--guest-dir=" + guest_dir_,
                             "--caps-cache=" + caps_dir_, "--accel=auto", "--shutdown-timeout=30"});
    args.insert(args.end(), extra.begin(), extra.end());
    started_ = Clock::now();
    launcher_pid_ = fork();
    ASSERT_GE(launcher_pid_, 0);
    if (launcher_pid_ == 0) {
      int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }

  void StartLauncherKeepingSerial(const std::vector<std::string>& extra) {
    keep_serial_ = true;
    StartLauncher(extra);
    keep_serial_ = false;
  }

  // Waits for `needle` in the launcher's log.
  void WaitLog(const std::string& needle, int timeout_s = 60) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
      if (ReadFile(log_path_).find(needle) != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no \"" << needle << "\" in the launcher log:\n" << ReadFile(log_path_);
  }

  // Waits for `needle` in the serial log (or the launcher to die); returns seconds taken.
  std::optional<double> WaitSerial(const std::string& needle, int timeout_s = 120) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
      if (ReadFile(state_dir_ + "/serial.log").find(needle) != std::string::npos)
        return Seconds(started_, Clock::now());
      int st;
      if (waitpid(launcher_pid_, &st, WNOHANG) == launcher_pid_) {
        launcher_pid_ = -1;
        ADD_FAILURE() << "launcher exited early (" << st << "):\n" << ReadFile(log_path_);
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no \"" << needle << "\" on the serial console after " << timeout_s
                  << " s\nserial:\n"
                  << ReadFile(state_dir_ + "/serial.log") << "\nlauncher:\n"
                  << ReadFile(log_path_);
    return std::nullopt;
  }

  // SIGTERM; returns the launcher's exit code (-1 when it did not exit in time).
  int TerminateLauncher(int timeout_s = 90) {
    kill(launcher_pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
      int st;
      if (waitpid(launcher_pid_, &st, WNOHANG) == launcher_pid_) {
        launcher_pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  void ExpectGuestServesItsAddresses() {
    // Exactly one QEMU runs this VM (also proves the leftover check below can see one).
    const std::vector<pid_t> qemu = ProcessesMatching(qemu_needle_);
    EXPECT_EQ(qemu.size(), 1u);
    // Least privilege: QEMU runs as KubeVirt's non-root qemu user, with no capabilities.
    for (pid_t p : qemu) {
      const std::string status = ReadFile("/proc/" + std::to_string(p) + "/status");
      EXPECT_THAT(status, HasSubstr("\nUid:\t107\t107\t107\t107\n")) << status;
      EXPECT_THAT(status, HasSubstr("\nGid:\t107\t107\t107\t107\n")) << status;
      EXPECT_THAT(status, HasSubstr("\nCapEff:\t0000000000000000\n")) << status;
    }
    auto [rc, body] = Sh("ip netns exec " + ns_ +
                         " curl -s -m 10 --retry 3 --retry-connrefused http://10.0.2.2:8080/");
    EXPECT_EQ(rc, 0) << body;
    EXPECT_THAT(body, HasSubstr("# ip addr"));
    EXPECT_THAT(body, HasSubstr("inet 10.0.2.2/24"));
    EXPECT_THAT(body, HasSubstr("link/ether 02:6b:36:74:00:02"));
    EXPECT_THAT(body, HasSubstr("default via 10.0.2.1"));
  }

  void ExpectNothingLeft(const std::string& libvirtd_pid) {
    EXPECT_TRUE(ProcessesMatching(qemu_needle_).empty()) << "QEMU left running";
    if (!libvirtd_pid.empty()) {
      EXPECT_FALSE(ProcessAlive(std::atoi(libvirtd_pid.c_str())))
          << "libvirtd " << libvirtd_pid << " left running";
    }
    EXPECT_FALSE(fs::exists(state_dir_ + "/libvirt/run/libvirt-sock")) << "socket left";
  }

  std::string build_dir_, source_dir_, launcher_, guest_dir_, ns_, state_dir_, caps_dir_, log_path_,
      vm_name_, qemu_needle_;
  std::vector<std::string> wrapper_;  // runs the launcher, e.g. setpriv
  bool netns_made_ = false;
  bool keep_serial_ = false;
  bool own_caps_ = false;
  pid_t launcher_pid_ = -1;
  int runs_ = 0;
  Clock::time_point started_;
};

TEST_F(LauncherE2E, PrivateLibvirtdBootsGuestAndSigtermCleansUp) {
  // Cold: an empty shared capabilities cache.
  caps_dir_ = state_dir_ + "-caps";
  own_caps_ = true;
  StartLauncher({"--libvirt-uri=private"});
  auto cold = WaitSerial("iface eth0 up mac=02:6b:36:74:00:02 ipv4=10.0.2.2/24");
  ASSERT_TRUE(cold.has_value());
  ExpectGuestServesItsAddresses();
  const std::string lvpid = ReadFile(state_dir_ + "/libvirt/run/libvirtd.pid");
  EXPECT_FALSE(lvpid.empty());
  EXPECT_TRUE(ProcessAlive(std::atoi(lvpid.c_str())));
  // The serial log shows the static address came from the kernel argument.
  EXPECT_THAT(ReadFile(state_dir_ + "/serial.log"), HasSubstr("source=static"));
  const int rc = TerminateLauncher();
  EXPECT_EQ(rc, 0) << "the guest should power off on ACPI:\n" << ReadFile(log_path_);
  ExpectNothingLeft(lvpid);
  EXPECT_THAT(ReadFile(state_dir_ + "/serial.log"), HasSubstr("K6T-GUEST: poweroff"));

  // The probe result was published to the shared cache ...
  size_t cached = 0;
  for (const auto& d : fs::recursive_directory_iterator(caps_dir_))
    if (d.path().extension() == ".xml") ++cached;
  EXPECT_GT(cached, 0u) << "no QEMU capabilities published to " << caps_dir_;

  // ... and seeds the next daemon (warm).
  StartLauncher({"--libvirt-uri=private"});
  auto warm = WaitSerial("iface eth0 up mac=02:6b:36:74:00:02 ipv4=10.0.2.2/24");
  ASSERT_TRUE(warm.has_value());
  EXPECT_THAT(ReadFile(log_path_), HasSubstr("file(s) seeded"));
  const std::string lvpid2 = ReadFile(state_dir_ + "/libvirt/run/libvirtd.pid");
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft(lvpid2);
  std::printf(
      "[ timing ] private libvirtd: launcher start -> guest eth0 up: cold %.2f s, "
      "warm %.2f s\n",
      *cold, *warm);
}

TEST_F(LauncherE2E, LibvirtdKilledIsRestartedAndReconnected) {
  StartLauncher({"--libvirt-uri=private"});
  ASSERT_TRUE(WaitSerial("iface eth0 up mac=02:6b:36:74:00:02 ipv4=10.0.2.2/24").has_value());
  const std::string first = ReadFile(state_dir_ + "/libvirt/run/libvirtd.pid");
  ASSERT_FALSE(first.empty());
  ASSERT_EQ(kill(std::atoi(first.c_str()), SIGKILL), 0);
  // The supervisor starts a new daemon (new pid file) that re-attaches to the running QEMU.
  std::string second;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    second = ReadFile(state_dir_ + "/libvirt/run/libvirtd.pid");
    if (!second.empty() && second != first && ProcessAlive(std::atoi(second.c_str()))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(second, first) << ReadFile(log_path_);
  ASSERT_TRUE(ProcessAlive(std::atoi(second.c_str())));
  EXPECT_TRUE(ProcessAlive(launcher_pid_)) << ReadFile(log_path_);
  ExpectGuestServesItsAddresses();
  // Shutdown goes through the new daemon: the guest powers off on ACPI.
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  EXPECT_THAT(ReadFile(log_path_), HasSubstr("reconnected"));
  EXPECT_THAT(ReadFile(state_dir_ + "/serial.log"), HasSubstr("K6T-GUEST: poweroff"));
  ExpectNothingLeft(second);
}

TEST_F(LauncherE2E, EmbeddedDriverBootsGuest) {
  caps_dir_ = state_dir_ + "-caps";
  own_caps_ = true;
  StartLauncher({"--libvirt-uri=embed"});
  auto cold = WaitSerial("iface eth0 up mac=02:6b:36:74:00:02 ipv4=10.0.2.2/24");
  ASSERT_TRUE(cold.has_value());
  ExpectGuestServesItsAddresses();
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft("");
  StartLauncher({"--libvirt-uri=embed"});
  auto warm = WaitSerial("iface eth0 up mac=02:6b:36:74:00:02 ipv4=10.0.2.2/24");
  ASSERT_TRUE(warm.has_value());
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft("");
  std::printf(
      "[ timing ] embedded driver: launcher start -> guest eth0 up: cold %.2f s, "
      "warm %.2f s\n",
      *cold, *warm);
}

// The capability list of launcher/README.md is enough: the launcher runs with a bounding
// set of exactly those (embedded driver: no CAP_SYS_ADMIN) and the guest still boots,
// serves, and shuts down cleanly.
TEST_F(LauncherE2E, EmbeddedDriverNeedsOnlyTheDocumentedCapabilities) {
  if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "no setpriv (util-linux)";
  wrapper_ = {"/usr/bin/setpriv",
              "--bounding-set=-all,+net_admin,+net_raw,+net_bind_service,+setuid,+setgid,"
              "+chown,+fowner,+dac_override,+kill,+setpcap",
              "--inh-caps=-all", "--"};
  StartLauncher({"--libvirt-uri=embed"});
  ASSERT_TRUE(WaitSerial("iface eth0 up mac=02:6b:36:74:00:02 ipv4=10.0.2.2/24").has_value());
  const std::string status = ReadFile("/proc/" + std::to_string(launcher_pid_) + "/status");
  // net_admin 12, net_raw 13, net_bind_service 10, setuid 7, setgid 6, chown 0, fowner 3,
  // dac_override 1, kill 5, setpcap 8.
  EXPECT_THAT(status, HasSubstr("\nCapEff:\t00000000000035eb\n")) << status;
  ExpectGuestServesItsAddresses();
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft("");
}

// A KubeVirt user's volumes reach the guest through the real launcher: a containerDisk
// from a local OCI layout (hack/containerdisk.py) on a per-VM qcow2 overlay over the
// shared read-only extraction, and a cloud-init NoCloud ISO labelled cidata. The default
// guest boots by its own kernel and reports each virtio disk on the console.
TEST_F(LauncherE2E, ContainerDiskAndCloudInitReachTheGuest) {
  const std::string store = state_dir_ + "/images";
  {
    std::string disk(1 << 20, '\0');
    disk.replace(0, 17, "K6T-CONTAINERDISK");
    std::ofstream(state_dir_ + "/disk.img", std::ios::binary) << disk;
  }
  auto [brc, bout] = Sh("python3 " + source_dir_ + "/hack/containerdisk.py --disk " + state_dir_ +
                        "/disk.img --ref k6t.local/e2e-disk:1 --layout " + store + "/e2e-disk");
  ASSERT_EQ(brc, 0) << bout;
  std::ofstream(state_dir_ + "/vmi.yaml")
      << "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\n"
      << "metadata: {name: " << vm_name_ << ", namespace: default}\n"
      << "spec:\n  domain:\n    firmware:\n      kernelBoot:\n"
      << "        kernelArgs: \"console=ttyS0 panic=-1 quiet "
         "k6t.net=static:10.0.2.2/24:10.0.2.1\"\n"
      << "        container: {image: k6t.local/kernel:1, kernelPath: " << guest_dir_
      << "/vmlinuz, initrdPath: " << guest_dir_ << "/initrd.cpio.gz}\n"
      << "    devices:\n      disks:\n"
      << "      - {name: root, disk: {bus: virtio}, serial: ROOT1}\n"
      << "      - {name: cloudinitdisk, disk: {bus: virtio}}\n"
      << "      interfaces: [{name: default, masquerade: {}}]\n"
      << "  networks: [{name: default, pod: {}}]\n"
      << "  volumes:\n"
      << "  - {name: root, containerDisk: {image: k6t.local/e2e-disk:1}}\n"
      << "  - name: cloudinitdisk\n"
      << "    cloudInitNoCloud: {userData: \"#cloud-config\\nhostname: e2e\\n\"}\n";
  StartLauncher({"--libvirt-uri=embed", "--image-store=" + store});
  ASSERT_TRUE(WaitSerial("iface eth0 up mac=02:6b:36:74:00:02").has_value());
  const std::string serial = ReadFile(state_dir_ + "/serial.log");
  EXPECT_THAT(serial, HasSubstr("disk vda sectors=2048 serial=ROOT1 head=K6T-CONTAINERDISK...."))
      << serial;
  EXPECT_THAT(serial, ::testing::ContainsRegex("disk vdb sectors=[0-9]+ serial= head=[^ ]* "
                                               "label=cidata"))
      << serial;
  // This VM's overlay sits in its state dir while it runs; the base is shared.
  const std::string overlay = state_dir_ + "/root.qcow2";
  EXPECT_TRUE(fs::exists(overlay)) << ReadFile(log_path_);
  const std::string base = fs::read_symlink(state_dir_ + "/root.base").string();
  EXPECT_THAT(base, HasSubstr(store + "/.extracted/"));
  EXPECT_THAT(ReadFile(log_path_), HasSubstr("extracted now"));
  ExpectGuestServesItsAddresses();

  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft("");
  EXPECT_FALSE(fs::exists(overlay));
  EXPECT_FALSE(fs::exists(fs::symlink_status(state_dir_ + "/root.base")));
  EXPECT_EQ(ReadFile(base).substr(0, 17), "K6T-CONTAINERDISK");
}

// `k6t-handler console` against the real launcher: attached while the guest boots it shows
// the guest's console; a second session ends the first and gets the console from then on
// (the guest's power-off message); the serial log has everything either way. And
// `k6t-handler vnc` finds the VNC server on its socket.
TEST_F(LauncherE2E, SerialConsoleSessionsTakeOverAndTheLogKeepsEverything) {
  const std::string handler = build_dir_ + "/bin/k6t-handler";
  ASSERT_EQ(access(handler.c_str(), X_OK), 0) << handler << " not built";
  auto start_console = [&](const std::string& out) {
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(handler.c_str(), handler.c_str(), "console", ("--state-dir=" + state_dir_).c_str(),
            nullptr);
      _exit(127);
    }
    return pid;
  };
  auto wait_file = [&](const std::string& path, const std::string& needle, int timeout_s) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    while (Clock::now() < deadline) {
      if (ReadFile(path).find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  auto exit_code = [](pid_t pid, int timeout_s) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    int st = 0;
    while (Clock::now() < deadline) {
      if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
  };

  StartLauncher({"--libvirt-uri=embed"});
  const std::string sock = state_dir_ + "/serial0.sock";
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!fs::exists(sock) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(sock)) << ReadFile(log_path_);
  const std::string out_a = state_dir_ + "/console-a.out", out_b = state_dir_ + "/console-b.out";
  const pid_t a = start_console(out_a);
  EXPECT_TRUE(wait_file(out_a, "iface eth0 up mac=02:6b:36:74:00:02", 120)) << ReadFile(out_a);

  // The display: VNC on a unix socket in the state dir, checked by `k6t-handler vnc`.
  auto [vrc, vnc] = Sh(handler + " vnc --state-dir=" + state_dir_);
  EXPECT_EQ(vrc, 0) << vnc;
  EXPECT_THAT(vnc, HasSubstr("VNC server (RFB 003.008) on the unix socket " + state_dir_ +
                             "/vnc/vnc.sock"));

  const pid_t b = start_console(out_b);
  EXPECT_EQ(exit_code(a, 20), 0) << ReadFile(out_a);
  EXPECT_THAT(ReadFile(out_a), HasSubstr("session ended"));
  EXPECT_TRUE(wait_file(out_b, "Connected to the serial console", 20)) << ReadFile(out_b);
  EXPECT_THAT(ReadFile(out_b), HasSubstr("ending the previous session"));

  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);  // ACPI: the guest logs "poweroff"
  EXPECT_EQ(exit_code(b, 30), 0) << ReadFile(out_b);
  EXPECT_THAT(ReadFile(out_b), HasSubstr("K6T-GUEST: poweroff"));
  EXPECT_THAT(ReadFile(out_b), HasSubstr("the console closed"));
  EXPECT_THAT(ReadFile(out_b), ::testing::Not(HasSubstr("iface eth0 up")));
  const std::string log = ReadFile(state_dir_ + "/serial.log");
  EXPECT_THAT(log, HasSubstr("iface eth0 up mac=02:6b:36:74:00:02"));
  EXPECT_THAT(log, HasSubstr("K6T-GUEST: poweroff"));
  ExpectNothingLeft("");
}

// The QEMU guest agent in the default guest (hack/build-guest.sh) through the real
// launcher: `k6t-handler status` answers within a couple of seconds whether or not the agent
// is up yet, and once it is, reports the guest's name for the interface and the agent as a
// source, as KubeVirt's status.interfaces does.
TEST_F(LauncherE2E, GuestAgentNamesTheGuestsInterfaceInStatus) {
  const std::string handler = build_dir_ + "/bin/k6t-handler";
  ASSERT_EQ(access(handler.c_str(), X_OK), 0) << handler << " not built";
  const std::string sock = state_dir_ + "/launcher.sock";
  StartLauncher({"--libvirt-uri=embed", "--socket=" + sock});
  ASSERT_TRUE(WaitSerial("guest agent on vport").has_value());
  nlohmann::json status;
  double slowest = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(90);
  while (Clock::now() < deadline) {
    const auto t0 = Clock::now();
    auto [rc, out] = Sh(handler + " status --output=json --launcher-socket=" + sock);
    slowest = std::max(slowest, Seconds(t0, Clock::now()));
    if (rc == 0) {
      status = nlohmann::json::parse(out, nullptr, false);
      if (status.value("guestAgent", "") == "connected" && status.contains("interfaces") &&
          !status["interfaces"].empty() &&
          status["interfaces"][0].value("interfaceName", "") == "eth0")
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status.value("guestAgent", ""), "connected") << status.dump(2);
  ASSERT_TRUE(status.contains("interfaces") && !status["interfaces"].empty()) << status.dump(2);
  const auto& def = status["interfaces"][0];
  EXPECT_EQ(def.value("name", ""), "default");
  EXPECT_EQ(def.value("interfaceName", ""), "eth0");
  EXPECT_EQ(def.value("mac", ""), "02:6b:36:74:00:02");
  EXPECT_EQ(def.value("infoSource", ""), "domain, guest-agent, multus-status");
  EXPECT_LT(slowest, 5.0) << "a status call waited on the agent";
  auto [trc, table] = Sh(handler + " status --launcher-socket=" + sock);
  EXPECT_THAT(table, HasSubstr("guest agent: connected"));
  EXPECT_THAT(table, ::testing::ContainsRegex("default +eth0 +eth0 +02:6b:36:74:00:02"));
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft("");
}

TEST_F(LauncherE2E, GuestPowerOffEndsLauncherWithZero) {
  // A guest that powers itself off (told to by a kernel argument of the default guest)
  // ends the launcher with 0, and the launcher cleans up after it.
  WriteVmi("k6t.net=static:10.0.2.2/24:10.0.2.1 k6t.poweroff_after_up=1");
  StartLauncher();
  ASSERT_TRUE(WaitSerial("iface eth0 up").has_value());
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  int st = 0;
  bool exited = false;
  while (!exited && Clock::now() < deadline) {
    exited = waitpid(launcher_pid_, &st, WNOHANG) == launcher_pid_;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(exited) << "launcher still running after the guest powered off:\n"
                      << ReadFile(log_path_);
  ASSERT_TRUE(WIFEXITED(st)) << ReadFile(log_path_);
  launcher_pid_ = -1;
  EXPECT_EQ(WEXITSTATUS(st), 0) << ReadFile(log_path_);
  EXPECT_THAT(ReadFile(log_path_), HasSubstr("the guest powered off"));
  ExpectNothingLeft("");
}

TEST_F(LauncherE2E, KilledLauncherIsReplacedAndAdoptsTheGuestPrivateDaemon) {
  StartLauncher({"--libvirt-uri=private"});
  ASSERT_TRUE(WaitSerial("iface eth0 up mac=02:6b:36:74:00:02").has_value());
  const auto qemu = ProcessesMatching(qemu_needle_);
  ASSERT_EQ(qemu.size(), 1u);
  kill(launcher_pid_, SIGKILL);
  waitpid(launcher_pid_, nullptr, 0);
  launcher_pid_ = -1;
  // The daemon follows its launcher (parent-death signal); QEMU stays.
  const std::string old_daemon = ReadFile(state_dir_ + "/libvirt/run/libvirtd.pid");
  for (int i = 0; i < 200 && ProcessAlive(std::atoi(old_daemon.c_str())); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(ProcessAlive(std::atoi(old_daemon.c_str())));
  EXPECT_TRUE(ProcessAlive(qemu[0]));
  StartLauncherKeepingSerial({"--libvirt-uri=private"});
  WaitLog("already running: adopted");
  EXPECT_EQ(ProcessesMatching(qemu_needle_), qemu) << "a second QEMU was started";
  ExpectGuestServesItsAddresses();
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft(ReadFile(state_dir_ + "/libvirt/run/libvirtd.pid"));
}

TEST_F(LauncherE2E, KilledLauncherIsReplacedAndAdoptsTheGuestEmbedded) {
  StartLauncher({"--libvirt-uri=embed"});
  ASSERT_TRUE(WaitSerial("iface eth0 up mac=02:6b:36:74:00:02").has_value());
  const auto qemu = ProcessesMatching(qemu_needle_);
  ASSERT_EQ(qemu.size(), 1u);
  kill(launcher_pid_, SIGKILL);
  waitpid(launcher_pid_, nullptr, 0);
  launcher_pid_ = -1;
  EXPECT_TRUE(ProcessAlive(qemu[0]));
  StartLauncherKeepingSerial({"--libvirt-uri=embed"});
  WaitLog("already running: adopted");
  EXPECT_EQ(ProcessesMatching(qemu_needle_), qemu) << "a second QEMU was started";
  ExpectGuestServesItsAddresses();
  EXPECT_EQ(TerminateLauncher(), 0) << ReadFile(log_path_);
  ExpectNothingLeft("");
}

}  // namespace
