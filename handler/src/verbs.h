// The verbs of k6t-handler. Adding a verb: write `int RunX(int argc, char** argv)` in its
// own verb_x.cc (argv[0] is the verb name; parse the rest with ArgParser from args.h,
// answer --help) and add one line to the table in cli.cc.
#pragma once

#include <vector>

namespace k6t::handler {

struct Verb {
  const char* name;
  const char* summary;  // one line, shown by `k6t-handler --help`
  int (*run)(int argc, char** argv);
};

// Every verb, in the order `--help` lists them.
const std::vector<Verb>& Verbs();

// Exit codes shared by the verbs.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;  // the input was read but is wrong (validation errors)
inline constexpr int kExitUsage = 2;    // bad command line, unreadable or unparseable input

int RunValidate(int argc, char** argv);

}  // namespace k6t::handler
