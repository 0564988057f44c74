// `k6t-handler migrate`: prepare the target launcher, start the migration on the source,
// follow it on the terminal, cancel it on Ctrl-C, --timeout or --abort, and confirm the VM
// runs on the target.
#include "verb_migrate.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "args.h"
#include "k6t/binding/pod_network.h"
#include "k6t/rpc/launcher_client.h"
#include "verb_network.h"
#include "verbs.h"

namespace k6t::handler {
namespace {

namespace msg = ::k6t::api::rpc;

// Exit codes of this verb (its --help prints them).
constexpr int kMigrationFailed = 1;  // the migration failed: the VM still runs on the source
constexpr int kMigrationCancelled =
    3;                             // cancelled (Ctrl-C, --timeout, --abort): still on the source
constexpr int kTargetRefused = 4;  // the target could not be prepared: nothing moved

// Says why (as every verb does) and ends with this verb's own code.
int FailWith(int code, const char* what, const absl::Status& st) {
  Fail(what, st);
  return code;
}

std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }

std::string Mib(int64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

void PrintProgress(const msg::GetMigrationResult& m, bool tty) {
  const std::string line = absl::StrCat("migrating: ", DescribeMigration(m));
  std::fprintf(stderr, tty ? "\r%-100s" : "%s\n", line.c_str());
}

// One side's pod plumbing, when the command line names it (--vmi, --SIDE-pod-netns,
// --SIDE-state-dir): what the migration leaves behind is taken down and the CNI links given
// back — the source's after a success, the target's after a failure.
struct PodSide {
  const char* side;  // "source" | "target"
  std::string pod_netns, state_dir;
};

void TearDown(const std::optional<api::Vmi>& vmi, const PodSide& pod) {
  if (!vmi || pod.pod_netns.empty() || pod.state_dir.empty()) return;
  binding::PodNetworkRequest req;
  req.vmi = *vmi;
  req.pod_netns = pod.pod_netns;
  req.state_dir = pod.state_dir;
  req.options = binding::DefaultPlannerOptions();
  req.executor = binding::Executor::OptionsFromEnvironment();
  // The pod is ending; the guest runs in the other one with the same MAC and addresses.
  req.give_links_back_down = true;
  auto r = binding::TeardownPodNetwork(req);
  if (!r.ok()) {
    std::fprintf(stderr, "migrate: tearing down the %s pod's plumbing: %s\n", pod.side,
                 std::string(r.status().message()).c_str());
    return;
  }
  std::fprintf(stderr, "%s pod: plumbing torn down (%d operation(s)), CNI links given back down\n",
               pod.side, r->operations);
}

int Abort(rpc::SocketLauncherClient& source, const std::string& why) {
  auto a = source.AbortMigration();
  if (!a.ok()) return FailWith(kMigrationFailed, "migrate: abort", a.status());
  // The cancellation ends when the source's job says so.
  for (int i = 0; i < 300; ++i) {
    auto m = source.GetMigration();
    if (m.ok() && m->state != "running") {
      if (m->state == "completed") {
        std::fprintf(stderr, "\nmigrate: %s came too late: the migration had completed\n",
                     why.c_str());
        return kExitOk;
      }
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  std::fprintf(stderr, "\nmigrate: cancelled (%s); the VM keeps running on the source\n",
               why.c_str());
  return kMigrationCancelled;
}

// Starts the migration on the source and follows it to its end; the verb's exit code.
int Follow(rpc::SocketLauncherClient& source, rpc::SocketLauncherClient& target,
           const msg::MigrateParams& mp, int64_t timeout_s, absl::Time t0) {
  if (auto s = source.Migrate(mp); !s.ok()) return FailWith(kMigrationFailed, "migrate: start", s);
  const bool tty = isatty(STDERR_FILENO);
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout_s);
  msg::GetMigrationResult last;
  for (;;) {
    if (g_interrupted) return Abort(source, "interrupted");
    if (absl::Now() > deadline)
      return Abort(source, absl::StrCat("not done after --timeout ", timeout_s, " s"));
    auto m = source.GetMigration();
    if (!m.ok() && absl::IsUnavailable(m.status())) {
      // A source launcher whose VM left exits: the target says how it ended.
      last.state = "completed";
      last.message = std::string(m.status().message());
      break;
    }
    if (!m.ok()) return FailWith(kMigrationFailed, "migrate: progress", m.status());
    last = *m;
    if (last.state != "running") break;
    if (last.data_total > 0) PrintProgress(last, tty);
    absl::SleepFor(absl::Milliseconds(250));
  }
  if (tty) std::fputc('\n', stderr);
  if (last.state == "cancelled") {
    std::fprintf(stderr, "migrate: cancelled: %s\n", last.message.c_str());
    return kMigrationCancelled;
  }
  if (last.state != "completed") {
    std::fprintf(stderr, "migrate: failed: %s; the VM keeps running on the source\n",
                 last.message.c_str());
    return kMigrationFailed;
  }
  // The target launcher reports the VM running once libvirt resumed it there.
  std::string phase;
  for (int i = 0; i < 100; ++i) {
    auto st = target.GetStatus();
    if (st.ok()) phase = st->phase;
    if (phase == "running") break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (phase != "running") {
    std::fprintf(stderr, "migrate: the VM does not run on the target (%s)%s%s\n", phase.c_str(),
                 last.message.empty() ? "" : "; the source: ", last.message.c_str());
    return kMigrationFailed;
  }
  std::printf("migrated in %.2f s\n", absl::ToDoubleSeconds(absl::Now() - t0));
  return kExitOk;
}

}  // namespace

std::string DescribeMigration(const msg::GetMigrationResult& m) {
  if (m.state != "running")
    return m.message.empty() ? m.state : absl::StrCat(m.state, ": ", m.message);
  return absl::StrCat("pass ", m.iteration, ", ", Mib(m.data_remaining), " of ", Mib(m.data_total),
                      " left, dirty rate ", m.dirty_rate, " pages/s, expected downtime ",
                      m.expected_downtime_ms, " ms, ", m.elapsed_ms / 1000, " s");
}

int RunMigrate(int argc, char** argv) {
  ArgParser parser(
      "k6t-handler", "migrate", "",
      "Moves a running VM to another pod by live migration. The target pod has its networks\n"
      "set up (k6t-handler setup) and a launcher started there with --incoming; the source's\n"
      "libvirt sends the VM's memory straight to the target's QEMU, over the dedicated\n"
      "migration network when one is named (a link present in both pods), else over a unix\n"
      "socket (both pods on one node). Ctrl-C, --timeout or --abort cancel: the VM keeps\n"
      "running on the source. With --vmi and a side's pod flags, the plumbing the migration\n"
      "leaves behind is torn down (the source's after a success, the target's after a\n"
      "failure), as `k6t-handler teardown` would.\n\n"
      "exit codes: 0 migrated, 1 failed (the VM runs on the source), 2 usage, 3 cancelled,\n"
      "4 the target could not be prepared (nothing moved)");
  parser.Flag("source-socket", "PATH", "the command socket of the launcher running the VM")
      .Flag("target-socket", "PATH", "the command socket of the --incoming launcher")
      .Flag("migration-network", "IFACE",
            "the target pod's link on the dedicated migration network (Multus's interface "
            "name, e.g. net2)")
      .Flag("timeout", "SECONDS", "cancel when not done after this long (default 600)")
      .Flag("max-downtime", "MS", "longest pause the guest may see (default QEMU's 300)")
      .Flag("bandwidth", "MIB", "cap the migration stream at MIB MiB/s (default: no cap)")
      .Bool("link-refresh",
            "once the VM arrived, take its bridge/l2bridge links down and up so the guest "
            "asks DHCP again (KubeVirt's link-refresh)")
      .Flag("vmi", "FILE",
            "the VM's manifest: with the pod flags below, the plumbing left behind is "
            "torn down")
      .Flag("source-pod-netns", "PATH", "the source pod's netns: torn down after a success")
      .Flag("source-state-dir", "DIR", "the source pod's state dir (k6t-handler setup's)")
      .Flag("target-pod-netns", "PATH", "the target pod's netns: torn down after a failure")
      .Flag("target-state-dir", "DIR", "the target pod's state dir")
      .Bool("abort", "cancel the migration the source is running, and exit")
      .Positionals(0, 0);
  int exit_code = kExitOk;
  auto args = parser.ParseOrExit(argc, argv, &exit_code);
  if (!args) return exit_code;
  const bool abort_only = args->bools.count("abort") > 0;
  if (!args->Has("source-socket") || (!abort_only && !args->Has("target-socket"))) {
    std::fprintf(stderr,
                 "k6t-handler migrate: --source-socket and --target-socket are required (see "
                 "--help)\n");
    return kExitUsage;
  }
  int64_t timeout_s = 600, downtime_ms = 0, bandwidth = 0;
  if ((args->Has("timeout") &&
       (!absl::SimpleAtoi(args->Get("timeout"), &timeout_s) || timeout_s <= 0)) ||
      (args->Has("max-downtime") && (!absl::SimpleAtoi(args->Get("max-downtime"), &downtime_ms) ||
                                     downtime_ms < 0 || downtime_ms > 60000)) ||
      (args->Has("bandwidth") && (!absl::SimpleAtoi(args->Get("bandwidth"), &bandwidth) ||
                                  bandwidth <= 0 || bandwidth > (1 << 20)))) {
    std::fprintf(stderr,
                 "k6t-handler migrate: --timeout must be > 0 seconds, --max-downtime 0..60000, "
                 "--bandwidth 1..1048576\n");
    return kExitUsage;
  }

  std::optional<api::Vmi> vmi;
  if (args->Has("vmi")) {
    auto v = LoadVmiFile(args->Get("vmi"));
    if (!v.ok()) {
      std::fprintf(stderr, "%s\n", std::string(v.status().message()).c_str());
      return kExitUsage;
    }
    vmi = *std::move(v);
  }
  const PodSide source_pod{"source", args->Get("source-pod-netns"), args->Get("source-state-dir")};
  const PodSide target_pod{"target", args->Get("target-pod-netns"), args->Get("target-state-dir")};

  auto source = rpc::SocketLauncherClient::Connect(args->Get("source-socket"), absl::Seconds(10));
  if (!source.ok()) return FailWith(kMigrationFailed, "migrate: source launcher", source.status());
  if (abort_only) {
    auto a = (*source)->AbortMigration();
    if (!a.ok()) return FailWith(kMigrationFailed, "migrate --abort", a.status());
    std::printf("%s\n", *a ? "cancelled" : "no migration was running");
    return kExitOk;
  }
  auto target = rpc::SocketLauncherClient::Connect(args->Get("target-socket"), absl::Seconds(10));
  if (!target.ok()) return FailWith(kMigrationFailed, "migrate: target launcher", target.status());

  const absl::Time t0 = absl::Now();
  auto domain = (*source)->GetDomain();
  if (!domain.ok())
    return FailWith(kMigrationFailed, "migrate: the source's domain", domain.status());
  if (domain->state != "running") {
    std::fprintf(stderr, "k6t-handler migrate: the VM is not running on the source (%s)\n",
                 domain->state.c_str());
    return kMigrationFailed;
  }
  auto prepared = (*target)->PrepareMigrationTarget(msg::PrepareMigrationTargetParams{
      domain->xml, args->Get("migration-network"), args->bools.count("link-refresh") > 0});
  if (!prepared.ok()) {
    return FailWith(kTargetRefused, "migrate: preparing the target", prepared.status());
  }
  std::fprintf(stderr, "target ready: libvirt %s, migration stream %s\n",
               prepared->dest_uri.c_str(), prepared->migrate_uri.c_str());

  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  msg::MigrateParams mp{prepared->dest_uri,  prepared->dest_xml, prepared->migrate_uri,
                        prepared->disks_uri, downtime_ms,        bandwidth};
  const int rc = Follow(**source, **target, mp, timeout_s, t0);
  if (rc == kExitOk) TearDown(vmi, source_pod);
  if (rc == kMigrationFailed || rc == kMigrationCancelled) TearDown(vmi, target_pod);
  return rc;
}

}  // namespace k6t::handler
