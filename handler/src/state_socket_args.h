// The command line of the verbs that attach to one of the launcher's plain sockets (console,
// vnc): `--state-dir DIR` names <DIR>/<socket name>, `--socket PATH` names it directly.
#pragma once

#include <optional>
#include <string>

#include "args.h"

namespace k6t::handler {

struct StateSocketArgs {
  std::string path;             // the socket to attach to
  std::optional<int> exit_now;  // --help printed (kExitOk) or a usage error (kExitUsage)
};

// Adds --state-dir and --socket to `parser` (which has no positionals), parses argv, and
// prints the help or the error itself. `socket_name` is relative to the state dir
// (k6t/api/rpc.h).
StateSocketArgs ParseStateSocketArgs(ArgParser& parser, int argc, char** argv,
                                     const char* socket_name);

}  // namespace k6t::handler
