// `k6t-handler validate FILE...`: decode every manifest and apply KubeVirt's admission
// rules plus k6t's own. Exit 0: every VM valid; 1: errors (one line each on stderr,
// `FILE: PATH: message`); 2: a file cannot be read or parsed.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "absl/strings/str_split.h"
#include "args.h"
#include "k6t/api/decode.h"
#include "k6t/api/validate.h"
#include "verbs.h"

namespace k6t::handler {
namespace {

api::DecodeReport ReadStdin(const api::DecodeLimits& limits) {
  std::string text;
  char buf[65536];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    text.append(buf, static_cast<size_t>(std::cin.gcount()));
    if (text.size() > limits.max_bytes) {
      api::DecodeReport r;
      r.status =
          absl::ResourceExhaustedError("<stdin>: input is more than the limit of " +
                                       std::to_string(limits.max_bytes) + " bytes (max_bytes)");
      return r;
    }
  }
  return api::DecodeManifestReport(text, "<stdin>", limits);
}

}  // namespace

int RunValidate(int argc, char** argv) {
  ArgParser parser("k6t-handler", "validate", "FILE...",
                   "Decodes VirtualMachine / VirtualMachineInstance manifests (YAML with any\n"
                   "number of documents, or JSON; '-' reads stdin) and checks every VM against\n"
                   "KubeVirt's admission rules and k6t's own (boot orders, interface names,\n"
                   "CIDRs, MTU, MACs, ACPI indexes, binding plugins).\n\n"
                   "Exit status: 0 every VM is valid; 1 validation errors, one per line on\n"
                   "stderr as 'FILE: PATH: message'; 2 a file cannot be read or parsed.\n"
                   "Unknown fields are accepted with a 'warning:' line on stderr.");
  parser
      .Flag("default-binding", "BINDING",
            "binding for the defaulted pod interface: masquerade (default) or bridge")
      .Flag("binding-plugins", "LIST",
            "comma-separated binding plugins the cluster registers "
            "(default l2bridge,passt,managedtap)")
      .Bool("forbid-bridge-on-pod-network",
            "reject bridge binding on the pod network (permitBridgeInterfaceOnPodNetwork=false)")
      .Bool("no-warnings", "do not print warnings about unknown fields")
      .Positionals(1);
  int exit_code = kExitOk;
  auto args = parser.ParseOrExit(argc, argv, &exit_code);
  if (!args) return exit_code;
  api::ClusterConfig cfg;
  const std::string binding = args->Get("default-binding", "masquerade");
  if (binding == "bridge") {
    cfg.default_binding = api::BindingMethod::kBridge;
  } else if (binding != "masquerade") {
    std::fprintf(stderr,
                 "k6t-handler validate: --default-binding must be masquerade or bridge, "
                 "not '%s'\n",
                 binding.c_str());
    return kExitUsage;
  }
  if (args->Has("binding-plugins")) {
    cfg.binding_plugins.clear();
    for (absl::string_view p : absl::StrSplit(args->Get("binding-plugins"), ',', absl::SkipEmpty()))
      cfg.binding_plugins.insert(std::string(p));
  }
  cfg.permit_bridge_on_pod_network = !args->Has("forbid-bridge-on-pod-network");
  const bool warnings = !args->Has("no-warnings");

  int rc = kExitOk;
  for (const std::string& file : args->positionals) {
    api::DecodeReport report =
        file == "-" ? ReadStdin(api::DecodeLimits{}) : api::DecodeManifestFileReport(file);
    if (!report.status.ok()) {
      std::fprintf(stderr, "%s\n", std::string(report.status.message()).c_str());
      rc = kExitUsage;
      continue;
    }
    if (warnings)
      for (const auto& w : report.manifest.warnings)
        std::fprintf(stderr, "warning: %s: %s\n", file.c_str(), w.ToString().c_str());
    size_t errors = report.errors.size();
    for (const auto& e : report.errors)
      std::fprintf(stderr, "%s: %s\n", file.c_str(), e.ToString().c_str());
    for (auto& vmi : report.manifest.vms) {
      // Re-default with the cluster's binding (decoding used the built-in default).
      if (cfg.default_binding != api::ClusterConfig{}.default_binding &&
          vmi.spec.domain.interfaces.size() == 1 && vmi.spec.networks.size() == 1 &&
          vmi.spec.domain.interfaces[0].name == "default" &&
          vmi.spec.domain.interfaces[0].bindings ==
              std::vector<api::BindingMethod>{api::ClusterConfig{}.default_binding}) {
        vmi.spec.domain.interfaces.clear();
        vmi.spec.networks.clear();
        api::ApplyDefaults(vmi, cfg);
      }
      for (const auto& e : api::Validate(vmi, cfg)) {
        std::fprintf(stderr, "%s: %s\n", file.c_str(), e.ToString().c_str());
        ++errors;
      }
    }
    if (errors > 0) {
      if (rc == kExitOk) rc = kExitInvalid;
      continue;
    }
    if (report.manifest.vms.empty() && warnings)
      std::fprintf(stderr, "warning: %s: no VirtualMachine or VirtualMachineInstance found\n",
                   file.c_str());
    std::printf("%s: %zu VM(s) valid\n", file.c_str(), report.manifest.vms.size());
  }
  return rc;
}

}  // namespace k6t::handler
