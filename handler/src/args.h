// A small per-verb command-line parser: `--flag value`, `--flag=value`, boolean flags,
// positionals, `--` to end flags, and `--help`. Each verb declares its flags, so unknown
// ones are errors that name the verb.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace k6t::handler {

struct ParsedArgs {
  bool help = false;
  std::map<std::string, std::vector<std::string>> values;  // every occurrence, in order
  std::set<std::string> bools;
  std::vector<std::string> positionals;

  bool Has(const std::string& flag) const { return values.count(flag) || bools.count(flag); }
  // The last value given for `flag`, or `fallback`.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
  // `flag` as a number of seconds within [min, max]; `fallback` when not given. The error
  // (kInvalidArgument) names the flag and the range.
  absl::StatusOr<absl::Duration> Seconds(const std::string& flag, double min, double max,
                                         absl::Duration fallback) const;
};

class ArgParser {
 public:
  // `usage_args` describes positionals, e.g. "FILE..."; `description` is the help text body.
  ArgParser(std::string program, std::string verb, std::string usage_args, std::string description);

  ArgParser& Flag(const std::string& name, const std::string& value_name, const std::string& help);
  ArgParser& Bool(const std::string& name, const std::string& help);
  // Bounds on positionals, checked after parsing (not when --help was given).
  ArgParser& Positionals(size_t min, size_t max = SIZE_MAX);

  // argv[0] is the verb name. Errors say what is wrong and point at --help.
  absl::StatusOr<ParsedArgs> Parse(int argc, char** argv) const;
  std::string Help() const;
  // What every verb does first: Parse, and when the verb should stop at once say why and
  // set *exit_code: a usage error to stderr (kExitUsage), --help to stdout (kExitOk).
  std::optional<ParsedArgs> ParseOrExit(int argc, char** argv, int* exit_code) const;

 private:
  struct Spec {
    std::string value_name;  // empty for a boolean flag
    std::string help;
  };
  absl::Status Error(const std::string& what) const;

  std::string program_, verb_, usage_args_, description_;
  std::map<std::string, Spec> flags_;
  std::vector<std::string> order_;
  size_t min_pos_ = 0, max_pos_ = SIZE_MAX;
};

}  // namespace k6t::handler
