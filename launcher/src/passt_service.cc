#include "passt_service.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "child_process.h"
#include "k6t/api/errno_status.h"
#include "spdlog/spdlog.h"

namespace k6t::launcher {

std::vector<std::string> PasstArgv(const binding::PasstPlan& plan, const std::string& passt, int fd,
                                   const std::string& log_file) {
  // --fd implies --one-off: passt exits when QEMU closes the connection.
  std::vector<std::string> argv = {passt, "--foreground", "--fd", absl::StrCat(fd)};
  if (!log_file.empty()) argv.insert(argv.end(), {"--log-file", log_file});
  if (!plan.pod_interface.empty()) argv.insert(argv.end(), {"--interface", plan.pod_interface});
  if (plan.mtu > 0) argv.insert(argv.end(), {"--mtu", absl::StrCat(plan.mtu)});
  if (plan.forwards.empty()) {
    argv.insert(argv.end(), {"--tcp-ports", "all", "--udp-ports", "all"});
    return argv;
  }
  std::vector<int> tcp, udp;
  for (const auto& [proto, port] : plan.forwards) (proto == "udp" ? udp : tcp).push_back(port);
  if (!tcp.empty()) argv.insert(argv.end(), {"--tcp-ports", absl::StrJoin(tcp, ",")});
  if (!udp.empty()) argv.insert(argv.end(), {"--udp-ports", absl::StrJoin(udp, ",")});
  return argv;
}

// One passt interface: the listening socket, QEMU's connection, the passt holding it, and
// the thread that accepts, spawns and restarts.
class PasstService::Instance {
 public:
  Instance(const PasstServiceOptions& options, std::string iface, binding::PasstPlan plan)
      : options_(options), iface_(std::move(iface)), plan_(std::move(plan)) {}
  ~Instance() { Stop(); }

  absl::Status Listen(const std::string& path) {
    path_ = path;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path))
      return absl::InvalidArgumentError(absl::StrCat("passt of interface \"", iface_,
                                                     "\": socket path \"", path,
                                                     "\" is too long for a unix socket"));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return api::ErrnoStatus("passt: socket(AF_UNIX)", errno);
    unlink(path.c_str());  // a stale socket of an earlier launcher of this VM
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listen_fd_, 1) != 0)
      return api::ErrnoStatus(
          absl::StrCat("passt of interface \"", iface_, "\": bind/listen ", path), errno);
    chmod(path.c_str(), 0600);
    if (!options_.qemu_user.root() &&
        chown(path.c_str(), options_.qemu_user.uid, options_.qemu_user.gid) != 0)
      return api::ErrnoStatus(
          absl::StrCat("passt of interface \"", iface_, "\": chown ", path, " to QEMU's user"),
          errno);
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  void Stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) {
      close(listen_fd_);
      listen_fd_ = -1;
      unlink(path_.c_str());
    }
  }

  int restarts() const { return restarts_.load(); }

 private:
  void Run() {
    while (!stopping_) {
      const int conn = Accept();
      if (conn < 0) continue;
      spdlog::info("passt {}: QEMU connected to {}", iface_, path_);
      Serve(conn);
      close(conn);
    }
  }

  // QEMU's connection, or -1 after a poll interval without one.
  int Accept() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) return -1;
    const int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0 && errno != EAGAIN && errno != EINTR)
      spdlog::error("passt {}: accept: {}", iface_, api::ErrnoText(errno));
    return conn;
  }

  // Keeps a passt on `conn` until QEMU hangs up or the service stops.
  void Serve(int conn) {
    std::vector<absl::Time> recent;  // deaths within the restart window
    std::optional<ChildProcess> child = Spawn(conn);
    bool gave_up = false;
    while (!stopping_) {
      pollfd p{conn, POLLRDHUP, 0};
      if (poll(&p, 1, 100) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        spdlog::info("passt {}: QEMU closed its connection", iface_);
        break;
      }
      if (gave_up) continue;  // until QEMU goes
      std::string why = "could not be started";
      if (child) {
        const std::optional<int> st = child->Poll();
        if (!st) continue;
        why = absl::StrCat("pid ", child->pid(), " ", DescribeWaitStatus(*st));
      }
      const absl::Time now = absl::Now();
      std::erase_if(recent, [&](absl::Time t) { return now - t > options_.restart_window; });
      if (static_cast<int>(recent.size()) >= options_.max_restarts) {
        spdlog::error(
            "passt {}: {}; it died {} times within {}: giving up, the interface has "
            "no network now",
            iface_, why, recent.size(), absl::FormatDuration(options_.restart_window));
        child.reset();
        gave_up = true;
        continue;
      }
      recent.push_back(now);
      spdlog::error("passt {}: {}; restarting it on the same QEMU connection ({} of {} within {})",
                    iface_, why, recent.size(), options_.max_restarts,
                    absl::FormatDuration(options_.restart_window));
      // Back off a little more on each recent death.
      absl::SleepFor(absl::Milliseconds(100) * static_cast<int64_t>(recent.size() - 1));
      child = Spawn(conn);
      if (child) {
        ++restarts_;
        spdlog::warn("passt {}: restarted, pid {} (restart #{})", iface_, child->pid(),
                     restarts_.load());
      }
    }
    if (child && child->running()) {
      const int st = child->Stop(options_.stop_grace);
      spdlog::info("passt {}: stopped ({})", iface_, DescribeWaitStatus(st));
    }
  }

  std::optional<ChildProcess> Spawn(int conn) {
    SpawnOptions so;
    const std::string base = absl::StrCat(options_.state_dir, "/passt/", iface_);
    so.argv = PasstArgv(plan_, options_.passt, conn, base + ".log");
    so.log_file = base + ".stderr";
    // No parent-death signal, unlike libvirtd: QEMU outlives a crashed launcher, and so must
    // the only end of its network connection. passt exits when QEMU hangs up (--fd implies
    // --one-off), so nothing is left behind; the launcher that adopts the VM cannot take the
    // connection over and leaves that passt unsupervised.
    so.inherit_fds = {conn};
    auto child = ChildProcess::Spawn(so);
    if (!child.ok()) {
      spdlog::error("passt {}: {}", iface_, child.status().ToString());
      return std::nullopt;
    }
    spdlog::info("passt {}: pid {}: {}", iface_, child->pid(), absl::StrJoin(so.argv, " "));
    return std::move(*child);
  }

  const PasstServiceOptions& options_;
  const std::string iface_;
  const binding::PasstPlan plan_;
  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> restarts_{0};
  std::thread thread_;
};

PasstService::PasstService(PasstServiceOptions options) : options_(std::move(options)) {}

PasstService::~PasstService() { Stop(); }

std::string PasstService::SocketPath(const std::string& state_dir, const std::string& iface) {
  return absl::StrCat(state_dir, "/passt/", iface, ".sock");
}

absl::Status PasstService::Start(Launcher& launcher) {
  if (launcher.domain_options().native_passt) return absl::OkStatus();  // libvirt runs passt
  options_.qemu_user = launcher.qemu_user();
  return Listen(launcher.plans());
}

absl::Status PasstService::Listen(const std::vector<binding::InterfacePlan>& plans) {
  for (const binding::InterfacePlan& p : plans) {
    if (!p.passt) continue;
    if (access(options_.passt.c_str(), X_OK) != 0)
      return absl::FailedPreconditionError(
          absl::StrCat("interface \"", p.interface_name, "\" uses passt, but ", options_.passt,
                       " cannot be executed: ", strerror(errno), " (install Debian's passt)"));
    std::error_code ec;
    std::filesystem::create_directories(options_.state_dir + "/passt", ec);
    if (ec)
      return absl::InternalError(
          absl::StrCat("passt: mkdir -p ", options_.state_dir, "/passt: ", ec.message()));
    // QEMU (not root) must reach its socket; the logs below stay root's.
    const std::string dir = options_.state_dir + "/passt";
    if (!options_.qemu_user.root() &&
        (chown(dir.c_str(), 0, options_.qemu_user.gid) != 0 || chmod(dir.c_str(), 0710) != 0))
      return absl::InternalError(
          absl::StrCat("passt: open ", dir, " to QEMU's group: ", strerror(errno)));
    binding::PasstPlan plan = *p.passt;
    if (plan.mtu <= 0) plan.mtu = p.mtu;
    auto inst = std::make_unique<Instance>(options_, p.interface_name, std::move(plan));
    if (auto s = inst->Listen(SocketPath(options_.state_dir, p.interface_name)); !s.ok()) return s;
    instances_[p.interface_name] = std::move(inst);
  }
  if (!instances_.empty())
    spdlog::info("passt: waiting for QEMU on {} socket(s) in {}/passt", instances_.size(),
                 options_.state_dir);
  return absl::OkStatus();
}

void PasstService::ContributeDomainOptions(DomainOptions& options) {
  for (const auto& [iface, inst] : instances_)
    options.passt_sockets[iface] = SocketPath(options_.state_dir, iface);
}

void PasstService::Stop() {
  for (auto& [iface, inst] : instances_) inst->Stop();
  instances_.clear();
}

int PasstService::restarts(const std::string& iface) const {
  auto it = instances_.find(iface);
  return it == instances_.end() ? 0 : it->second->restarts();
}

}  // namespace k6t::launcher
