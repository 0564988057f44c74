// `k6t-handler stop`: end the VM through its launcher's command socket (Shutdown or Kill).
#include "verb_stop.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "args.h"
#include "k6t/rpc/launcher_client.h"
#include "verb_network.h"
#include "verbs.h"

namespace k6t::handler {

int RunStop(int argc, char** argv) {
  ArgParser parser("k6t-handler", "stop", "",
                   "Shuts the VM down through its launcher: ACPI power-off, destroyed after\n"
                   "--timeout seconds (default: the launcher's own). --kill destroys it now.\n"
                   "The launcher then exits and removes its socket.");
  parser.Flag("launcher-socket", "PATH", "the launcher's command socket")
      .Flag("timeout", "SECONDS", "how long the guest may take to power off (0..86400)")
      .Bool("kill", "destroy the VM at once instead")
      .Positionals(0, 0);
  int exit_code = kExitOk;
  auto args = parser.ParseOrExit(argc, argv, &exit_code);
  if (!args) return exit_code;
  if (!args->Has("launcher-socket")) {
    std::fprintf(stderr, "k6t-handler stop: --launcher-socket is required (see --help)\n");
    return kExitUsage;
  }
  int64_t timeout = 0;
  if (args->Has("timeout") &&
      (!absl::SimpleAtoi(args->Get("timeout"), &timeout) || timeout < 0 || timeout > 86400)) {
    std::fprintf(stderr, "k6t-handler stop: --timeout must be 0..86400 seconds\n");
    return kExitUsage;
  }
  auto client = rpc::SocketLauncherClient::Connect(args->Get("launcher-socket"), absl::Seconds(10));
  if (!client.ok()) return Fail("stop", client.status());
  const bool kill = args->bools.count("kill") > 0;
  absl::Status st = kill ? (*client)->Kill() : (*client)->Shutdown(timeout);
  if (!st.ok()) return Fail("stop", st);
  std::printf("%s\n", kill ? "killed" : "shut down");
  return kExitOk;
}

}  // namespace k6t::handler
