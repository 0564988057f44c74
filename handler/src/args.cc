#include "args.h"

#include <cstdint>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "verbs.h"

namespace k6t::handler {

std::string ParsedArgs::Get(const std::string& flag, const std::string& fallback) const {
  auto it = values.find(flag);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

absl::StatusOr<absl::Duration> ParsedArgs::Seconds(const std::string& flag, double min, double max,
                                                   absl::Duration fallback) const {
  if (!Has(flag)) return fallback;
  double seconds = 0;
  if (!absl::SimpleAtod(Get(flag), &seconds) || !(seconds >= min && seconds <= max))
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be ", min, "..", max, " seconds, not \"", Get(flag), "\""));
  return absl::Seconds(seconds);
}

ArgParser::ArgParser(std::string program, std::string verb, std::string usage_args,
                     std::string description)
    : program_(std::move(program)),
      verb_(std::move(verb)),
      usage_args_(std::move(usage_args)),
      description_(std::move(description)) {}

ArgParser& ArgParser::Flag(const std::string& name, const std::string& value_name,
                           const std::string& help) {
  flags_[name] = Spec{value_name.empty() ? "VALUE" : value_name, help};
  order_.push_back(name);
  return *this;
}

ArgParser& ArgParser::Bool(const std::string& name, const std::string& help) {
  flags_[name] = Spec{"", help};
  order_.push_back(name);
  return *this;
}

ArgParser& ArgParser::Positionals(size_t min, size_t max) {
  min_pos_ = min;
  max_pos_ = max;
  return *this;
}

absl::Status ArgParser::Error(const std::string& what) const {
  const std::string invocation = verb_.empty() ? program_ : absl::StrCat(program_, " ", verb_);
  return absl::InvalidArgumentError(
      absl::StrCat(invocation, ": ", what, " (see '", invocation, " --help')"));
}

absl::StatusOr<ParsedArgs> ArgParser::Parse(int argc, char** argv) const {
  ParsedArgs out;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (flags_done || arg == "-" || arg.size() < 2 || arg[0] != '-') {
      out.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return Error(absl::StrCat("unknown option ", arg));
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    auto it = flags_.find(name);
    if (it == flags_.end()) return Error(absl::StrCat("unknown flag --", name));
    if (it->second.value_name.empty()) {
      if (eq != std::string::npos) return Error(absl::StrCat("flag --", name, " takes no value"));
      out.bools.insert(name);
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Error(absl::StrCat("flag --", name, " needs a value (", it->second.value_name, ")"));
    }
    out.values[name].push_back(value);
  }
  if (out.help) return out;
  if (out.positionals.size() < min_pos_)
    return Error(usage_args_.empty() ? "missing arguments" : absl::StrCat("missing ", usage_args_));
  if (out.positionals.size() > max_pos_)
    return Error(absl::StrCat("unexpected argument '", out.positionals[max_pos_], "'"));
  return out;
}

std::string ArgParser::Help() const {
  // A program without verbs (k6t-sidecar) passes an empty one.
  std::string out = absl::StrCat("Usage: ", program_, verb_.empty() ? "" : " ", verb_,
                                 flags_.empty() ? "" : " [FLAGS]", usage_args_.empty() ? "" : " ",
                                 usage_args_, "\n\n", description_, "\n\nFlags:\n");
  auto line = [&](const std::string& left, const std::string& help) {
    std::string l = absl::StrCat("  ", left);
    if (l.size() < 30)
      l.resize(30, ' ');
    else
      l += "  ";
    absl::StrAppend(&out, l, help, "\n");
  };
  for (const auto& name : order_) {
    const Spec& s = flags_.at(name);
    line(s.value_name.empty() ? absl::StrCat("--", name)
                              : absl::StrCat("--", name, " ", s.value_name),
         s.help);
  }
  line("-h, --help", "show this help");
  return out;
}

std::optional<ParsedArgs> ArgParser::ParseOrExit(int argc, char** argv, int* exit_code) const {
  auto args = Parse(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "%s\n", std::string(args.status().message()).c_str());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  if (args->help) {
    std::fputs(Help().c_str(), stdout);
    *exit_code = kExitOk;
    return std::nullopt;
  }
  return *std::move(args);
}

}  // namespace k6t::handler
