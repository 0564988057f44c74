#include "libvirt_daemon.h"

#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "k6t/api/hash.h"
#include "k6t/binding/cache.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSubdirs[] = {"etc", "run", "lib", "log", "cache"};
constexpr const char* kTargets[] = {"/etc/libvirt", "/run/libvirt", "/var/lib/libvirt",
                                    "/var/log/libvirt", "/var/cache/libvirt"};

absl::Status MakeDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir -p ", path, ": ", ec.message()));
  return absl::OkStatus();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FileIdentity(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "missing";
  return absl::StrCat(st.st_size, ".", st.st_mtim.tv_sec);
}

bool SocketAccepts(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

int CopyXmlFiles(const std::string& from, const std::string& to, bool only_changed) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return 0;
  if (!MakeDirs(to).ok()) return 0;
  int n = 0;
  for (const auto& e : fs::directory_iterator(from, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".xml") continue;
    const std::string dst = (fs::path(to) / e.path().filename()).string();
    const std::string data = ReadAll(e.path().string());
    if (data.empty()) continue;
    if (only_changed && fs::exists(dst, ec) && ReadAll(dst) == data) continue;
    if (binding::WriteFileAtomically(dst, data, 0600).ok()) ++n;
  }
  return n;
}

}  // namespace

std::string QemuConf(const QemuUser& user, bool dynamic_ownership) {
  // "+N" is a numeric id that needs no passwd entry (pods rarely have one for 107).
  return absl::StrCat(R"(# Written by k6t-launcher.
user = "+)",
                      user.uid, R"("
group = "+)",
                      user.gid, R"("
dynamic_ownership = )",
                      dynamic_ownership ? 1 : 0, R"(
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
)");
}

std::string LibvirtdConf() {
  return R"(# Written by k6t-launcher: a private daemon reached only through its own socket.
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
# Sized for one VM and one client (the launcher), not for a host's daemon: libvirt's
# defaults start 5 RPC + 5 priority + 5 admin worker threads (up to 20 RPC workers), each
# with its stack and malloc arena resident. Workers above the minimum are started on demand;
# 5 covers the launcher's concurrent callers (its main thread and 3 command-socket workers).
# One priority worker still runs a destroy while every other worker waits on a stuck guest.
min_workers = 1
max_workers = 5
prio_workers = 1
admin_min_workers = 1
admin_max_workers = 1
)";
}

std::vector<std::string> LibvirtdEnvironment(const std::string& driver_dir) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    if (strncmp(*e, "MALLOC_ARENA_MAX=", 17) != 0 && strncmp(*e, "LIBVIRT_DRIVER_DIR=", 19) != 0)
      env.emplace_back(*e);
  // One malloc arena for all of the daemon's threads (glibc's default is up to 8 per core,
  // one per allocating thread, each keeping its freed pages): a per-VM daemon's calls are
  // few and mostly serialised by the domain's job lock. libvirt gives QEMU a fresh
  // environment, so the guest's process is unaffected.
  env.emplace_back("MALLOC_ARENA_MAX=1");
  if (!driver_dir.empty()) env.push_back(absl::StrCat("LIBVIRT_DRIVER_DIR=", driver_dir));
  return env;
}

bool PrepareQemuOnlyDriverDir(const std::string& dir) {
  // The network, storage, nodedev (a udev thread), nwfilter, secret and interface drivers
  // libvirtd loads besides QEMU's serve nothing a launcher's domain uses (type='ethernet'
  // NICs on pre-made taps, file disks, PCI hostdevs); each costs the daemon its module,
  // state and threads (≈2.5 MiB RSS measured). The embedded driver, the default mode, runs
  // the same QEMU driver alone.
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&virGetVersion), &info) == 0 || !info.dli_fname) return false;
  const fs::path module =
      fs::path(info.dli_fname).parent_path() / "libvirt/connection-driver/libvirt_driver_qemu.so";
  std::error_code ec;
  if (!fs::exists(module, ec) || !MakeDirs(dir).ok()) return false;
  const fs::path link = fs::path(dir) / module.filename();
  fs::remove(link, ec);
  fs::create_symlink(module, link, ec);
  if (ec) {
    spdlog::warn("private libvirtd: linking {} into {}: {}", module.string(), dir, ec.message());
    return false;
  }
  return true;
}

std::string CapsCache::SharedDir() const {
  unsigned long lv = 0;
  virGetVersion(&lv, nullptr, nullptr);
  const uint64_t h = api::Fnv1a64(absl::StrCat(emulator, "=", FileIdentity(emulator), ";", libvirtd,
                                               "=", FileIdentity(libvirtd)));
  return absl::StrFormat("%s/libvirt-%d.%d.%d-qemu-%012x", shared_root, lv / 1000000,
                         (lv / 1000) % 1000, lv % 1000, h & 0xffffffffffffULL);
}

int CapsCache::Seed(const std::string& cache_dir) const {
  if (shared_root.empty()) return 0;
  return CopyXmlFiles(SharedDir(), cache_dir + "/qemu/capabilities", false);
}

int CapsCache::Publish(const std::string& cache_dir) const {
  if (shared_root.empty()) return 0;
  return CopyXmlFiles(cache_dir + "/qemu/capabilities", SharedDir(), true);
}

absl::Status PrepareEmbedRoot(const std::string& root, const QemuUser& user,
                              bool dynamic_ownership) {
  for (const char* d : kSubdirs)
    if (auto s = MakeDirs(absl::StrCat(root, "/", d)); !s.ok()) return s;
  return binding::WriteFileAtomically(root + "/etc/qemu.conf", QemuConf(user, dynamic_ownership),
                                      0600);
}

absl::StatusOr<std::unique_ptr<PrivateLibvirtd>> PrivateLibvirtd::Start(
    PrivateLibvirtdOptions options, RestartCallback on_restart) {
  if (options.root.empty()) return absl::InvalidArgumentError("private libvirtd: empty root");
  sockaddr_un probe;
  if (options.root.size() + strlen("/run/libvirt-sock") >= sizeof(probe.sun_path))
    return absl::InvalidArgumentError(absl::StrCat("private libvirtd: state dir \"", options.root,
                                                   "\" is too long for a unix socket path"));
  for (const char* d : kSubdirs)
    if (auto s = MakeDirs(absl::StrCat(options.root, "/", d)); !s.ok()) return s;
  for (const char* t : kTargets)
    if (auto s = MakeDirs(t); !s.ok()) return s;
  if (auto s =
          binding::WriteFileAtomically(options.root + "/etc/libvirtd.conf", LibvirtdConf(), 0600);
      !s.ok())
    return s;
  if (auto s = binding::WriteFileAtomically(options.root + "/etc/qemu.conf",
                                            QemuConf(options.qemu_user, options.dynamic_ownership),
                                            0600);
      !s.ok())
    return s;

  std::unique_ptr<PrivateLibvirtd> d(new PrivateLibvirtd(std::move(options)));
  if (const std::string dir = d->options_.root + "/drivers"; PrepareQemuOnlyDriverDir(dir))
    d->driver_dir_ = dir;
  else
    spdlog::warn("private libvirtd: libvirt's QEMU driver module not found; it loads all drivers");
  d->on_restart_ = std::move(on_restart);
  // Spawning happens on the supervisor thread: PR_SET_PDEATHSIG follows the spawning
  // thread, and that thread lives exactly as long as the daemon should.
  std::promise<absl::Status> first;
  auto ready = first.get_future();
  d->supervisor_ = std::thread([raw = d.get(), &first] {
    absl::Status s = raw->SpawnAndWait();
    const bool ok = s.ok();
    first.set_value(std::move(s));
    if (ok) raw->Supervise();
  });
  absl::Status s = ready.get();
  if (!s.ok()) {
    d->stopping_ = true;
    d->supervisor_.join();
    return s;
  }
  return d;
}

PrivateLibvirtd::~PrivateLibvirtd() { Stop(); }

std::string PrivateLibvirtd::SocketPath() const { return options_.root + "/run/libvirt-sock"; }

std::string PrivateLibvirtd::Uri() const {
  return absl::StrCat("qemu+unix:///system?socket=", SocketPath());
}

pid_t PrivateLibvirtd::pid() const {
  std::lock_guard<std::mutex> l(mu_);
  return child_.pid();
}

absl::Status PrivateLibvirtd::SpawnAndWait() {
  const std::string sock = SocketPath();
  unlink(sock.c_str());
  SpawnOptions so;
  so.argv = {options_.libvirtd, "-f", "/etc/libvirt/libvirtd.conf", "-p",
             "/run/libvirt/libvirtd.pid"};
  for (size_t i = 0; i < std::size(kSubdirs); ++i)
    so.bind_mounts.emplace_back(absl::StrCat(options_.root, "/", kSubdirs[i]), kTargets[i]);
  so.env = LibvirtdEnvironment(driver_dir_);
  so.log_file = options_.root + "/log/libvirtd.stderr";
  so.parent_death_signal = SIGTERM;
  const absl::Time t0 = absl::Now();
  auto child = ChildProcess::Spawn(so);
  if (!child.ok()) return child.status();
  {
    std::lock_guard<std::mutex> l(mu_);
    child_ = std::move(*child);
  }
  const absl::Time deadline = t0 + options_.ready_timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (auto st = child_.Poll())
        return absl::UnavailableError(absl::StrCat(
            "private libvirtd ", DescribeWaitStatus(*st), " before its socket was ready; see ",
            options_.root, "/log/libvirtd.log and libvirtd.stderr"));
    }
    if (SocketAccepts(sock)) break;
    if (stopping_ || absl::Now() > deadline) {
      std::lock_guard<std::mutex> l(mu_);
      child_.Stop(absl::Seconds(1));
      return absl::DeadlineExceededError(
          absl::StrCat("private libvirtd: socket ", sock, " not ready after ",
                       absl::FormatDuration(options_.ready_timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  spdlog::info("private libvirtd pid {} ready in {} (socket {})", pid(),
               absl::FormatDuration(absl::Now() - t0), sock);
  return absl::OkStatus();
}

void PrivateLibvirtd::Supervise() {
  std::vector<absl::Time> recent;
  while (!stopping_) {
    std::optional<int> st;
    {
      std::lock_guard<std::mutex> l(mu_);
      st = child_.Poll();
    }
    if (!st) {
      absl::SleepFor(absl::Milliseconds(100));
      continue;
    }
    if (stopping_) break;
    spdlog::error("private libvirtd {}; restarting it", DescribeWaitStatus(*st));
    const absl::Time now = absl::Now();
    std::erase_if(recent, [&](absl::Time t) { return now - t > options_.restart_window; });
    if (static_cast<int>(recent.size()) >= options_.max_restarts) {
      spdlog::error("private libvirtd died {} times within {}: giving up", recent.size(),
                    absl::FormatDuration(options_.restart_window));
      if (on_restart_) on_restart_(false);
      return;
    }
    recent.push_back(now);
    // Back off a little more on each recent death.
    absl::SleepFor(absl::Milliseconds(100) * static_cast<int64_t>(recent.size()));
    if (stopping_) break;
    absl::Status s = SpawnAndWait();
    if (!s.ok()) {
      spdlog::error("restarting private libvirtd: {}", s.ToString());
      continue;  // the loop sees the dead child and retries within the budget
    }
    ++restarts_;
    if (on_restart_) on_restart_(true);
  }
  std::lock_guard<std::mutex> l(mu_);
  if (child_.running()) {
    const int st = child_.Stop(options_.stop_grace);
    spdlog::info("private libvirtd stopped ({})", DescribeWaitStatus(st));
  }
}

void PrivateLibvirtd::Stop() {
  stopping_ = true;
  if (supervisor_.joinable()) supervisor_.join();
  unlink(SocketPath().c_str());
  unlink((options_.root + "/run/libvirt-sock-ro").c_str());
  unlink((options_.root + "/run/libvirt-admin-sock").c_str());
}

}  // namespace k6t::launcher
