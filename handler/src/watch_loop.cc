#include "watch_loop.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "file_watch.h"
#include "k6t/binding/link_wait.h"
#include "k6t/rpc/launcher_client.h"
#include "spdlog/spdlog.h"
#include "verb_network.h"

namespace k6t::handler {
namespace {

// SIGTERM, SIGINT and SIGHUP as a readable fd; blocked first so that they are never
// delivered to a thread (the pod-netns thread inherits the mask).
absl::StatusOr<int> StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  if (int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0)
    return absl::InternalError(absl::StrCat("block signals: ", std::strerror(err)));
  const int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("signalfd: ", std::strerror(errno)));
  return fd;
}

int PollMs(absl::Duration left) {
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

}  // namespace

RoundResult RunRound(const SyncRequest& req, std::unique_ptr<rpc::LauncherClient>* launcher,
                     const LauncherConnector& connect) {
  RoundResult out{SyncVmi(req, **launcher), absl::OkStatus()};
  if (out.report.ok() || !absl::IsUnavailable(out.report.status())) return out;
  // The launcher went away (restart, adoption of the running VM): wait for it once.
  spdlog::warn("watch: {}; reconnecting", out.report.status().ToString());
  auto again = connect();
  if (!again.ok()) {
    out.launcher_gone =
        absl::UnavailableError(absl::StrCat("the launcher is gone: ", again.status().message()));
    return out;
  }
  *launcher = *std::move(again);
  out.report = SyncVmi(req, **launcher);
  return out;
}

absl::Status Watch(SyncRequest req, const WatchOptions& opts, const WatchRound& on_round) {
  auto sig = StopSignals();
  if (!sig.ok()) return sig.status();
  absl::Cleanup close_sig = [fd = *sig] { close(fd); };

  std::vector<std::string> files = {opts.vmi_file};
  if (!req.network_status_file.empty()) files.push_back(req.network_status_file);
  auto watch = FileWatch::Open(files);
  if (!watch.ok()) return watch.status();

  auto ns = binding::EnterPodNetns(req.net);
  if (!ns.ok()) return ns.status();
  req.net.netns = *ns;
  auto links =
      (*ns)->Call<std::unique_ptr<binding::LinkEvents>>([] { return binding::LinkEvents::Open(); });
  if (!links.ok()) return links.status();

  LauncherConnector connect = opts.connect;
  if (!connect) {
    connect = [&opts]() -> absl::StatusOr<std::unique_ptr<rpc::LauncherClient>> {
      auto c = rpc::SocketLauncherClient::Connect(opts.launcher_socket, opts.reconnect);
      if (!c.ok()) return c.status();
      return std::unique_ptr<rpc::LauncherClient>(*std::move(c));
    };
  }
  auto launcher = connect();
  if (!launcher.ok()) return launcher.status();
  spdlog::info("watch vmi={} pod_netns={} launcher={} resync_s={}", opts.vmi_file,
               req.net.pod_netns, opts.launcher_socket, absl::ToInt64Seconds(opts.resync));

  bool due = true;       // a round is owed
  bool waiting = false;  // the last round left interfaces waiting for their pod link
  absl::Time next_resync;
  for (;;) {
    if (due) {
      RoundResult round = RunRound(req, &*launcher, connect);
      if (!round.launcher_gone.ok()) return round.launcher_gone;
      on_round(round.report);
      waiting = round.report.ok() && !round.report->waiting.empty();
      due = false;
      next_resync = absl::Now() + opts.resync;
    }

    pollfd p[3] = {{*sig, POLLIN, 0}, {(*watch)->fd(), POLLIN, 0}, {(*links)->fd(), POLLIN, 0}};
    const int rc = poll(p, 3, PollMs(next_resync - absl::Now()));
    if (rc < 0 && errno != EINTR)
      return absl::InternalError(absl::StrCat("watch: poll: ", std::strerror(errno)));
    if (rc == 0) due = true;  // periodic resync
    if (p[0].revents & POLLIN) {
      signalfd_siginfo si{};
      const ssize_t n = read(*sig, &si, sizeof(si));
      spdlog::info("watch: signal {}: stopping", n == sizeof(si) ? strsignal(si.ssi_signo) : "?");
      return absl::OkStatus();
    }
    if (p[1].revents & POLLIN) {
      auto changed = (*watch)->Changed();
      if (!changed.ok()) return changed.status();
      if (changed->erase(opts.vmi_file)) {
        auto vmi = LoadVmiFile(opts.vmi_file);
        if (vmi.ok()) {
          req.net.vmi = *std::move(vmi);
          due = true;
        } else {
          // A half-edited or wrong spec changes nothing: the last good one stays in force.
          on_round(vmi.status());
        }
      }
      due = due || !changed->empty();  // the network-status
    }
    if (p[2].revents & POLLIN) {
      // Link changes matter only to an interface waiting for its pod link; the others are
      // mostly k6t's own plumbing and would only cause no-op rounds.
      const bool announced = !(*links)->Drain().empty();
      due = due || (waiting && announced);
    }
  }
}

}  // namespace k6t::handler
