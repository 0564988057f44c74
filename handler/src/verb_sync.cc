// `k6t-handler sync`: converge a running VM's NICs on its spec (hotplug, unplug, link state).
#include "verb_sync.h"

#include <cstdio>

#include "args.h"
#include "k6t/rpc/launcher_client.h"
#include "reconcile.h"
#include "verb_network.h"
#include "verbs.h"

namespace k6t::handler {

int RunSync(int argc, char** argv) {
  ArgParser parser(
      "k6t-handler", "sync", "",
      "Compares the VM's spec with what is applied (the state dir and the launcher's domain)\n"
      "and converges: new secondary interfaces whose pod link exists are plumbed and hot-\n"
      "plugged, `state: absent` ones are unplugged and their plumbing removed, `state:\n"
      "up|down` is applied live. Changes that need a VM restart are reported, not made.\n"
      "Running it again changes nothing.\n\n"
      "Exit status: 0 converged; 1 invalid input; 2 usage; 3 an interface failed (nothing\n"
      "half-done); 4 converged except interfaces still waiting for their pod link or\n"
      "needing a restart.");
  AddCommonFlags(parser, true);
  parser.Flag("launcher-socket", "PATH", "the launcher's command socket")
      .Flag("wait", "SECONDS",
            "wait up to this long for pod links the CNI has not finished yet (netlink events)")
      .Positionals(0, 0);
  Loaded l = Load(parser, argc, argv, true);
  if (l.exit_code >= 0) return l.exit_code;
  if (!l.args.Has("launcher-socket")) {
    std::fprintf(stderr, "k6t-handler sync: --launcher-socket is required (see --help)\n");
    return kExitUsage;
  }
  SyncRequest req;
  req.net = l.req;
  req.network_status_file = l.args.Get("network-status");
  auto wait = l.args.Seconds("wait", 0, 3600, absl::ZeroDuration());
  if (!wait.ok()) {
    std::fprintf(stderr, "k6t-handler sync: %s\n", std::string(wait.status().message()).c_str());
    return kExitUsage;
  }
  req.wait_for_links = *wait;
  auto client =
      rpc::SocketLauncherClient::Connect(l.args.Get("launcher-socket"), absl::Seconds(10));
  if (!client.ok()) return Fail("sync", client.status());
  auto report = SyncVmi(req, **client);
  if (!report.ok()) return Fail("sync", report.status());
  return PrintSyncReport(*report);
}

int PrintSyncReport(const SyncReport& report) {
  for (const auto& c : report.changes) std::printf("%s\n", c.c_str());
  for (const auto& w : report.waiting) std::printf("waiting for the pod link of %s\n", w.c_str());
  for (const auto& r : report.restart_required) std::printf("restart required: %s\n", r.c_str());
  for (const auto& e : report.errors) std::fprintf(stderr, "k6t-handler sync: %s\n", e.c_str());
  if (report.changes.empty() && report.waiting.empty() && report.restart_required.empty() &&
      report.errors.empty())
    std::printf("nothing to do\n");
  std::printf("sync: %zu change(s) in %.2f ms\n", report.changes.size(),
              absl::ToDoubleMilliseconds(report.elapsed));
  std::fflush(stdout);
  if (!report.errors.empty()) return kExitFailed;
  if (!report.waiting.empty() || !report.restart_required.empty()) return kExitPending;
  return kExitOk;
}

}  // namespace k6t::handler
