// `k6t-handler watch`: `sync` as a long-lived controller (see watch_loop.h).
#include "verb_watch.h"

#include <cstdio>

#include "args.h"
#include "verb_network.h"
#include "verb_sync.h"
#include "verbs.h"
#include "watch_loop.h"

namespace k6t::handler {

int RunWatch(int argc, char** argv) {
  ArgParser parser(
      "k6t-handler", "watch", "",
      "Runs `sync` as a controller does, until SIGTERM: once at start, then whenever the VMI\n"
      "file or the network-status file is replaced or rewritten, whenever a pod link appears\n"
      "that an interface waits for, and every --resync seconds. Each round prints what sync\n"
      "prints, ending with \"sync: N change(s) in X ms\". A VMI file that does not decode or\n"
      "validate is reported and the last good spec stays in force.\n\n"
      "Exit status: 0 stopped by a signal; 1 invalid input at start; 2 usage; 3 the launcher\n"
      "is gone or the watch failed.");
  AddCommonFlags(parser, true);
  parser.Flag("launcher-socket", "PATH", "the launcher's command socket")
      .Flag("resync", "SECONDS", "reconcile at least this often (default 60)")
      .Positionals(0, 0);
  Loaded l = Load(parser, argc, argv, true);
  if (l.exit_code >= 0) return l.exit_code;
  if (!l.args.Has("launcher-socket")) {
    std::fprintf(stderr, "k6t-handler watch: --launcher-socket is required (see --help)\n");
    return kExitUsage;
  }
  WatchOptions opts;
  opts.vmi_file = l.args.Get("vmi");
  opts.launcher_socket = l.args.Get("launcher-socket");
  auto resync = l.args.Seconds("resync", 0.1, 86400, opts.resync);
  if (!resync.ok()) {
    std::fprintf(stderr, "k6t-handler watch: %s\n", std::string(resync.status().message()).c_str());
    return kExitUsage;
  }
  opts.resync = *resync;
  SyncRequest req;
  req.net = l.req;
  req.network_status_file = l.args.Get("network-status");
  absl::Status st = Watch(std::move(req), opts, [](const absl::StatusOr<SyncReport>& round) {
    if (round.ok()) {
      (void)PrintSyncReport(*round);
    } else {
      std::fprintf(stderr, "k6t-handler watch: %s\n",
                   std::string(round.status().message()).c_str());
    }
  });
  if (!st.ok()) return Fail("watch", st);
  return kExitOk;
}

}  // namespace k6t::handler
