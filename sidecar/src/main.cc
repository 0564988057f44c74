// k6t-sidecar: k6t's KubeVirt network binding plugin sidecar (hook_server.h).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "args.h"
#include "hook_server.h"
#include "k6t/binding/logging.h"
#include "k6t/binding/netns.h"
#include "sidecar_dhcp.h"
#include "spdlog/spdlog.h"
#include "verbs.h"

namespace {

using k6t::handler::ArgParser;

constexpr char kDescription[] =
    "KubeVirt network binding plugin sidecar for k6t's bindings. It runs in the\n"
    "virt-launcher pod next to the compute container, answers KubeVirt's hook API\n"
    "(Info; Callbacks v1alpha3 and v1alpha2) on <hooks-dir>/<plugin>.sock, and:\n"
    "  OnDefineDomain   for each VMI interface with `binding: {name: <prefix><binding>}`\n"
    "                   (k6t-bridge, k6t-masquerade, k6t-l2bridge), plans it from the pod\n"
    "                   k6t-cni plumbed (read-only) and makes its domain device the plan's:\n"
    "                   type='ethernet' on k6t's tap (managed='no'), MAC, MTU, model,\n"
    "                   queues; every other device is left as it is\n"
    "  DHCP             serves DHCPv4/DHCPv6/RA to those interfaces as planned\n"
    "  PreCloudInitIso  returns the cloud-init data unchanged\n"
    "  Shutdown         exits (so does SIGTERM/SIGINT)\n\n"
    "Privileges: none to rewrite domains (netlink reads of the pod). Serving DHCP needs\n"
    "CAP_NET_BIND_SERVICE (ports 67/547) and CAP_NET_RAW (packet socket for DHCPv4 replies,\n"
    "ICMPv6 for router advertisements); without them the parts that cannot be served are\n"
    "logged and retried. KubeVirt runs a non-root VMI's sidecar as uid 107 with all\n"
    "capabilities dropped (sidecar/README.md). It must run in the pod's network namespace\n"
    "(any container of the pod does).\n\n"
    "Environment: NETWORK_BINDING_PLUGIN_NAME (set by KubeVirt) is the default --plugin.\n"
    "Exit status: 0 after Shutdown or a signal; 1 the socket cannot be served; 2 usage.";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

int main(int argc, char** argv) {
  ArgParser parser("k6t-sidecar", "", "", kDescription);
  parser
      .Flag("hooks-dir", "DIR",
            "where virt-launcher looks for this container's socket (default "
            "/var/run/kubevirt-hooks/)")
      .Flag("socket-name", "NAME",
            "socket file in --hooks-dir (default <--plugin>.sock, k6t.sock without a plugin; "
            "virt-launcher tells sockets apart by file name, so each sidecar needs its own)")
      .Flag("plugin", "NAME",
            "serve only interfaces of this binding plugin (default $NETWORK_BINDING_PLUGIN_NAME; "
            "empty: every plugin with --prefix)")
      .Flag("prefix", "PREFIX", "binding plugin names that are k6t's (default k6t-)")
      .Flag("binding-plugins", "LIST",
            "comma-separated binding plugins the cluster registered (default: the VMI's own)")
      .Flag("name", "NAME", "the hook's name in Info (default: --plugin, else k6t)")
      .Flag("priority", "N", "hook point priority in Info; higher is called first (default 0)")
      .Flag("network-info", "FILE",
            "KubeVirt's downward-API network-info, read when present (default "
            "/etc/podinfo/network-info)")
      .Flag("resolv-conf", "FILE", "DNS offered to the guest (default /etc/resolv.conf)")
      .Bool("vhost-net", "ask for vhost-net on a device the converter left out")
      .Bool("no-dhcp", "rewrite domains only; serve no DHCP/RA")
      .Flag("log-level", "LEVEL", "trace|debug|info|warn|error (default info)")
      .Flag("log-format", "FORMAT", "text|json (default text)")
      .Positionals(0, 0);
  int exit_code = k6t::handler::kExitOk;
  auto args = parser.ParseOrExit(argc, argv, &exit_code);
  if (!args) return exit_code;
  if (auto st = k6t::binding::SetupLogging("k6t-sidecar", args->Get("log-format", "text"),
                                           k6t::binding::LogStream::kStderr);
      !st.ok()) {
    std::fprintf(stderr, "k6t-sidecar: %s\n", std::string(st.message()).c_str());
    return k6t::handler::kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(args->Get("log-level", "info")));

  // Signals are taken by one thread (sigwait) so that gRPC's threads never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  k6t::sidecar::HookServerOptions options;
  std::string dir = args->Get("hooks-dir", "/var/run/kubevirt-hooks/");
  if (!dir.empty() && dir.back() != '/') dir += '/';
  options.define.selection.prefix = args->Get("prefix", k6t::sidecar::kDefaultPluginPrefix);
  options.define.selection.plugin = args->Get("plugin", Env("NETWORK_BINDING_PLUGIN_NAME"));
  const std::string& plugin = options.define.selection.plugin;
  options.socket_path = dir + args->Get("socket-name", (plugin.empty() ? "k6t" : plugin) + ".sock");
  for (absl::string_view p : absl::StrSplit(args->Get("binding-plugins"), ',', absl::SkipEmpty()))
    options.define.plugins.insert(std::string(p));
  options.define.vhost_net = args->Has("vhost-net");
  options.name = args->Get(
      "name", options.define.selection.plugin.empty() ? "k6t" : options.define.selection.plugin);
  if (args->Has("priority") && !absl::SimpleAtoi(args->Get("priority"), &options.priority)) {
    std::fprintf(stderr, "k6t-sidecar: --priority must be an integer (see --help)\n");
    return k6t::handler::kExitUsage;
  }
  options.network_info = args->Get("network-info", "/etc/podinfo/network-info");
  std::error_code ignored;  // KubeVirt mounts it; made here for a run without a cluster
  std::filesystem::create_directories(dir, ignored);

  // The process is in the pod: observe the namespace it runs in.
  k6t::binding::PodNetworkRequest pod;
  pod.netns = std::make_shared<k6t::binding::InlineNetns>();
  pod.options = k6t::binding::DefaultPlannerOptions();

  std::unique_ptr<k6t::sidecar::SidecarDhcp> dhcp;
  if (!args->Has("no-dhcp"))
    dhcp =
        std::make_unique<k6t::sidecar::SidecarDhcp>(args->Get("resolv-conf", "/etc/resolv.conf"));
  auto server = k6t::sidecar::HookServer::Start(options, pod, dhcp.get());
  if (!server.ok()) {
    spdlog::error("{}", server.status().ToString());
    return 1;
  }
  std::thread([&signals, s = server->get()] {
    int sig = 0;
    if (sigwait(&signals, &sig) == 0) {
      spdlog::info("signal {}: stopping", sig);
      s->Stop();
    }
  }).detach();
  (*server)->Wait();
  (*server)->Stop();
  if (dhcp) dhcp->Stop();
  return 0;
}
