#include "state_socket_args.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "verbs.h"

namespace k6t::handler {

StateSocketArgs ParseStateSocketArgs(ArgParser& parser, int argc, char** argv,
                                     const char* socket_name) {
  parser.Flag("state-dir", "DIR", "the launcher's --state-dir")
      .Flag("socket", "PATH", absl::StrCat("the socket (default: <state-dir>/", socket_name, ")"))
      .Positionals(0, 0);
  int exit_code = kExitOk;
  auto args = parser.ParseOrExit(argc, argv, &exit_code);
  if (!args) return {.exit_now = exit_code};
  if (!args->Has("state-dir") && !args->Has("socket")) {
    std::fprintf(stderr, "k6t-handler %s: --state-dir or --socket is required (see --help)\n",
                 argv[0]);
    return {.exit_now = kExitUsage};
  }
  return {.path = args->Get("socket", absl::StrCat(args->Get("state-dir"), "/", socket_name))};
}

}  // namespace k6t::handler
