#include "cli.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "k6t/binding/logging.h"
#include "spdlog/spdlog.h"
#include "verb_console.h"
#include "verb_migrate.h"
#include "verb_network.h"
#include "verb_status.h"
#include "verb_stop.h"
#include "verb_sync.h"
#include "verb_vnc.h"
#include "verb_watch.h"
#include "verbs.h"

namespace k6t::handler {

const std::vector<Verb>& Verbs() {
  static const std::vector<Verb> kVerbs = {
      {"validate", "check VirtualMachine manifests against KubeVirt's and k6t's rules",
       RunValidate},
      {"plan", "print what setup would build in a pod, changing nothing", RunPlan},
      {"setup", "build a VM's pod networks (resumable, rolled back on failure)", RunSetup},
      {"teardown", "remove what setup built and give the CNI's links back", RunTeardown},
      {"sync", "converge a running VM's NICs on its spec: hotplug, unplug, link state", RunSync},
      {"watch", "keep a running VM's NICs converged: sync on every spec or network change",
       RunWatch},
      {"status", "show the VM's interfaces as its launcher reports them", RunStatus},
      {"stop", "shut the VM down (or kill it) through its launcher", RunStop},
      {"console", "attach this terminal to the VM's serial console (^] to leave)", RunConsole},
      {"vnc", "check the VM's VNC socket and print how to connect a viewer", RunVnc},
      {"migrate", "move a running VM to another pod's launcher by live migration", RunMigrate},
  };
  return kVerbs;
}

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "Usage: k6t-handler [--log-level LEVEL] [--log-format text|json] VERB [ARGS...]\n\n"
               "Sets up a KubeVirt-style VM's networks in a pod and drives its launcher.\n\n"
               "Verbs:\n");
  for (const Verb& v : Verbs()) std::fprintf(out, "  %-12s %s\n", v.name, v.summary);
  std::fprintf(out,
               "\nGlobal flags:\n"
               "  --log-level LEVEL  trace, debug, info, warn (default), error, off\n"
               "  --log-format FMT   text (default) or json: one JSON object per line\n"
               "  -h, --help         show this help\n\n"
               "Run 'k6t-handler VERB --help' for a verb's arguments.\n");
}

}  // namespace

int RunCli(int argc, char** argv) {
  // stdout carries the verbs' results; logs go to stderr.
  spdlog::set_level(spdlog::level::warn);
  std::string format = "text";
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      PrintUsage(stdout);
      return kExitOk;
    }
    std::string level;
    if (arg == "--log-format" && i + 1 < argc) {
      format = argv[++i];
      continue;
    } else if (arg.rfind("--log-format=", 0) == 0) {
      format = arg.substr(std::strlen("--log-format="));
      continue;
    } else if (arg == "--log-level" && i + 1 < argc) {
      level = argv[++i];
    } else if (arg.rfind("--log-level=", 0) == 0) {
      level = arg.substr(std::strlen("--log-level="));
    } else {
      std::fprintf(stderr, "k6t-handler: unknown global flag %s (see 'k6t-handler --help')\n",
                   arg.c_str());
      return kExitUsage;
    }
    const auto lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off") {
      std::fprintf(stderr, "k6t-handler: unknown log level '%s'\n", level.c_str());
      return kExitUsage;
    }
    spdlog::set_level(lvl);
  }
  if (auto st = binding::SetupLogging("k6t-handler", format, binding::LogStream::kStderr);
      !st.ok()) {
    std::fprintf(stderr, "k6t-handler: %s\n", std::string(st.message()).c_str());
    return kExitUsage;
  }
  if (i >= argc) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  for (const Verb& v : Verbs())
    if (std::strcmp(argv[i], v.name) == 0) return v.run(argc - i, argv + i);
  std::fprintf(stderr, "k6t-handler: unknown verb '%s' (see 'k6t-handler --help')\n", argv[i]);
  return kExitUsage;
}

}  // namespace k6t::handler
