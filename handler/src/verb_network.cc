// `k6t-handler plan|setup|teardown`: the pod network verbs. They share how a VM, its pod
// namespace and the Multus network-status are named on the command line.
#include "verb_network.h"

#include <pwd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "args.h"
#include "k6t/api/decode.h"
#include "k6t/api/network_status.h"
#include "k6t/api/validate.h"
#include "k6t/binding/plan_json.h"
#include "plan_printer.h"
#include "spdlog/spdlog.h"
#include "verbs.h"

namespace k6t::handler {
namespace {

constexpr size_t kMaxAnnotationFile = 1 << 20;

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.size() > kMaxAnnotationFile)
    return absl::OutOfRangeError(
        absl::StrCat(path, ": larger than ", kMaxAnnotationFile, " bytes"));
  return s;
}

absl::StatusOr<uint32_t> ResolveOwner(const std::string& v) {
  uint32_t id = 0;
  if (absl::SimpleAtoi(v, &id)) return id;
  if (const passwd* pw = ::getpwnam(v.c_str())) return pw->pw_uid;
  return absl::InvalidArgumentError(absl::StrCat("--tap-owner: no user \"", v, "\""));
}

}  // namespace

void AddCommonFlags(ArgParser& p, bool needs_state) {
  p.Flag("vmi", "FILE", "the VirtualMachine / VirtualMachineInstance (YAML or JSON)")
      .Flag("pod-netns", "PATH", "the pod's network namespace: /run/netns/NAME or /proc/PID/ns/net")
      .Flag("network-status", "FILE",
            "Multus k8s.v1.cni.cncf.io/network-status JSON (default: what the pod's links imply: "
            "eth0 primary, hashed secondary names)")
      .Flag("network-info", "FILE",
            "KubeVirt's network-info downward-API file (SR-IOV PCI addresses)")
      .Flag("interface", "NAME", "only this interface (repeatable)")
      .Flag("tap-owner", "USER|UID", "owner and group of the taps (default 107, KubeVirt's qemu)");
  if (needs_state) p.Flag("state-dir", "DIR", "the VMI's state directory (plans, offers)");
}

absl::StatusOr<std::vector<api::NetworkStatusEntry>> ReadNetworkStatusFile(
    const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  return api::ParseNetworkStatus(*text);
}

absl::StatusOr<api::Vmi> LoadVmiFile(const std::string& file) {
  auto vmi = api::DecodeSingleVmiFile(file);
  if (!vmi.ok()) return vmi.status();
  auto errors = api::Validate(*vmi);
  if (errors.empty()) return vmi;
  std::vector<std::string> lines;
  for (const auto& e : errors) lines.push_back(absl::StrCat(file, ": ", e.ToString()));
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

Loaded Load(ArgParser& parser, int argc, char** argv, bool needs_state) {
  Loaded out;
  auto args = parser.ParseOrExit(argc, argv, &out.exit_code);
  if (!args) return out;
  out.args = *args;
  for (const char* f : {"vmi", "pod-netns"}) {
    if (!args->Has(f)) {
      std::fprintf(stderr, "k6t-handler %s: --%s is required (see --help)\n", argv[0], f);
      out.exit_code = kExitUsage;
      return out;
    }
  }
  if (needs_state && !args->Has("state-dir")) {
    std::fprintf(stderr, "k6t-handler %s: --state-dir is required (see --help)\n", argv[0]);
    out.exit_code = kExitUsage;
    return out;
  }
  auto vmi = LoadVmiFile(args->Get("vmi"));
  if (!vmi.ok()) {
    std::fprintf(stderr, "%s\n", std::string(vmi.status().message()).c_str());
    out.exit_code =
        vmi.status().code() == absl::StatusCode::kInvalidArgument ? kExitInvalid : kExitUsage;
    return out;
  }
  binding::PodNetworkRequest& req = out.req;
  req.vmi = *vmi;
  req.pod_netns = args->Get("pod-netns");
  req.state_dir = args->Get("state-dir");
  req.options = binding::DefaultPlannerOptions();
  req.executor = binding::Executor::OptionsFromEnvironment();
  if (auto it = args->values.find("interface"); it != args->values.end()) req.only = it->second;
  if (args->Has("tap-owner")) {
    auto id = ResolveOwner(args->Get("tap-owner"));
    if (!id.ok()) {
      std::fprintf(stderr, "%s\n", std::string(id.status().message()).c_str());
      out.exit_code = kExitUsage;
      return out;
    }
    req.options.tap_owner = req.options.tap_group = *id;
  }
  if (args->Has("network-status")) {
    auto status = ReadNetworkStatusFile(args->Get("network-status"));
    if (!status.ok()) {
      std::fprintf(stderr, "%s: %s\n", args->Get("network-status").c_str(),
                   std::string(status.status().message()).c_str());
      out.exit_code = kExitInvalid;
      return out;
    }
    req.network_status = *status;
  }
  if (args->Has("network-info")) {
    auto text = ReadSmallFile(args->Get("network-info"));
    auto info = text.ok() ? api::ParseNetworkInfo(*text)
                          : absl::StatusOr<std::vector<api::NetworkInfoInterface>>(text.status());
    if (!info.ok()) {
      std::fprintf(stderr, "%s: %s\n", args->Get("network-info").c_str(),
                   std::string(info.status().message()).c_str());
      out.exit_code = kExitInvalid;
      return out;
    }
    req.network_info = *info;
  }
  return out;
}

int Fail(const char* verb, const absl::Status& st) {
  std::fprintf(stderr, "k6t-handler %s: %s\n", verb, std::string(st.message()).c_str());
  if (const auto left = binding::RollbackFailures(st); !left.empty()) {
    std::fprintf(stderr, "k6t-handler %s: the namespace is not clean; left behind:\n", verb);
    for (const auto& f : left) std::fprintf(stderr, "  %s (%s)\n", f.step.c_str(), f.error.c_str());
    return kExitNotClean;
  }
  // Bad references in the input (no such netns, pod link, binding) are the user's to fix.
  return st.code() == absl::StatusCode::kNotFound || st.code() == absl::StatusCode::kInvalidArgument
             ? kExitInvalid
             : kExitFailed;
}

int RunPlan(int argc, char** argv) {
  ArgParser parser("k6t-handler", "plan", "",
                   "Reads the pod's network namespace and prints, per interface, what setup would\n"
                   "do: the pod-side plumbing, every operation in order, the nftables rules, the\n"
                   "DHCP/RA offer and the libvirt device. Changes nothing.");
  AddCommonFlags(parser, false);
  parser.Flag("output", "FORMAT", "text (default) or json").Positionals(0, 0);
  Loaded l = Load(parser, argc, argv, false);
  if (l.exit_code >= 0) return l.exit_code;
  const std::string format = l.args.Get("output", "text");
  if (format != "text" && format != "json") {
    std::fprintf(stderr, "k6t-handler plan: --output must be text or json\n");
    return kExitUsage;
  }
  auto plans = binding::PlanPodNetwork(l.req);
  if (!plans.ok()) return Fail("plan", plans.status());
  std::fputs((format == "json" ? binding::PlansToJson(*plans) : PlansToText(*plans)).c_str(),
             stdout);
  return kExitOk;
}

int RunSetup(int argc, char** argv) {
  ArgParser parser(
      "k6t-handler", "setup", "",
      "Builds the VM's pod networks in the pod's network namespace and records the\n"
      "plans in the state directory. An interrupted setup is resumed by the next one;\n"
      "a failed one is rolled back. Running it again changes nothing.\n\n"
      "Exit status: 0 done; 1 invalid input; 2 usage; 3 the kernel refused (rolled back);\n"
      "5 the kernel refused and the rollback failed too: the namespace is not clean (each\n"
      "undo step left is printed; teardown removes what is left, setup resumes).");
  AddCommonFlags(parser, true);
  parser.Positionals(0, 0);
  Loaded l = Load(parser, argc, argv, true);
  if (l.exit_code >= 0) return l.exit_code;
  auto r = binding::SetupPodNetwork(l.req);
  if (!r.ok()) return Fail("setup", r.status());
  std::printf("set up %zu interface(s): %d operation(s), %d changed, %.2f ms\n", r->plans.size(),
              r->report.operations, r->report.changed,
              absl::ToDoubleMilliseconds(r->report.elapsed));
  return kExitOk;
}

int RunTeardown(int argc, char** argv) {
  ArgParser parser(
      "k6t-handler", "teardown", "",
      "Removes what setup built (bridges, taps, placeholders, NAT) and gives the CNI's\n"
      "links back their names, MACs, addresses and routes. What is already gone is\n"
      "fine; links k6t did not create are never deleted.");
  AddCommonFlags(parser, true);
  parser.Positionals(0, 0);
  Loaded l = Load(parser, argc, argv, true);
  if (l.exit_code >= 0) return l.exit_code;
  auto r = binding::TeardownPodNetwork(l.req);
  if (!r.ok()) return Fail("teardown", r.status());
  std::printf("torn down: %d operation(s), %d changed\n", r->operations, r->changed);
  return kExitOk;
}

}  // namespace k6t::handler
