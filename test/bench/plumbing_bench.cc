// Per-NIC pod plumbing time of k6t against a KubeVirt-style baseline, in the same run
// (issue 3, "Benchmark"). Each repetition gets fresh scratch namespaces whose pod links
// (veth pairs to a shared "node" netns, MTU 1400, an address) are made beforehand, untimed,
// and left to settle for --settle-ms (as a CNI's links are, long before the handler runs);
// four variants run, each in its own namespace, in rotating order:
//   apply        on a thread inside the pod netns: the kernel adapters made,
//                Executor::Apply of the planned operations, adapters released (the pod was
//                observed and planned beforehand, untimed);
//   setup/tmpfs  k6t's whole session, binding::SetupPodNetwork (enter the netns,
//                observe, plan, state-dir writes, apply), empty state dir on tmpfs;
//   setup/disk   the same with the state dir on a disk filesystem;
//   baseline     the same planned operations done the way KubeVirt does them: one `ip`/`nft`
//                process per link/address/rule/chain/table, spawned (no shell) from a
//                thread inside the pod netns; sysctls written in-process.
// After the first repetition the namespaces of all four are compared (links, masters, MTU,
// up, learning, addresses, sysctls, nftables tables), so the baseline provably did the same
// work. Namespaces are deleted after each scenario, outside any timed region.
//
// Usage: plumbing_bench [--reps1=20] [--reps-many=5] [--nics=64] [--tmpfs-dir=/dev/shm]
//                       [--disk-dir=/tmp] [--settle-ms=1000] [--json=FILE]
//                                                                (root; about 2 minutes)
// --nics takes a list (--nics=2,4,8,16,32,64) for one bridge scenario per count; the scaling
// goal compares the largest with x1. --json also writes every figure to FILE
// (test/bench/report.py reads it).
// SPDLOG_LEVEL=debug prints every executor step with a timestamp.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "k6t/api/decode.h"
#include "k6t/api/naming.h"
#include "k6t/api/validate.h"
#include "k6t/binding/executor.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/netns.h"
#include "k6t/binding/planner.h"
#include "k6t/binding/pod_network.h"
#include "k6t/binding/pod_state.h"
#include "nlohmann/json.hpp"
#include "spdlog/cfg/env.h"
#include "spdlog/spdlog.h"
#include "support/scratch_netns.h"

extern char** environ;

namespace k6t::bench {
namespace {

using binding::InterfacePlan;
using binding::NetnsThread;
using binding::Operation;
using Clock = std::chrono::steady_clock;

// Ctrl-C / SIGTERM stop between repetitions so every namespace still gets deleted.
std::atomic<bool> g_stop{false};

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------
// Scenario: the VMI and the pod links the CNI would have made for it.

struct PodLinkSpec {
  std::string name;
  std::string cidr;
  std::string gateway;  // default route via this, "" for none
};

struct Scenario {
  std::string label;
  std::string binding;  // "masquerade" or "bridge"
  int nics = 1;
  int reps = 20;
  api::Vmi vmi;
  std::vector<PodLinkSpec> links;
};

std::string VmiYaml(const std::string& binding, int nics) {
  std::string ifaces, nets;
  if (binding == "masquerade") {
    ifaces = "      - name: default\n        masquerade: {}\n";
    nets = "  - name: default\n    pod: {}\n";
  } else {
    for (int i = 0; i < nics; ++i) {
      absl::StrAppend(&ifaces, "      - name: net", i, "\n        bridge: {}\n");
      absl::StrAppend(&nets, "  - name: net", i, "\n    multus:\n      networkName: nad", i, "\n");
    }
  }
  return absl::StrCat(
      "apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: bench\n"
      "  namespace: default\n  uid: 6a1b0c8e-0000-4000-8000-00000000b001\nspec:\n  domain:\n"
      "    cpu:\n      cores: 1\n    resources:\n      requests:\n        memory: 256Mi\n"
      "    devices:\n      interfaces:\n",
      ifaces, "  networks:\n", nets);
}

absl::StatusOr<Scenario> MakeScenario(const std::string& label, const std::string& binding,
                                      int nics, int reps) {
  Scenario s;
  s.label = label;
  s.binding = binding;
  s.nics = nics;
  s.reps = reps;
  auto vmi = api::DecodeSingleVmi(VmiYaml(binding, nics), "<plumbing_bench>");
  if (!vmi.ok()) return vmi.status();
  auto errors = api::Validate(*vmi);
  if (!errors.empty()) return absl::InvalidArgumentError(errors.front().ToString());
  s.vmi = *std::move(vmi);
  // Every pod has the cluster network's eth0; bridge secondaries get hashed names.
  s.links.push_back({"eth0", "10.244.0.5/24", "10.244.0.1"});
  if (binding == "bridge") {
    for (int i = 0; i < nics; ++i)
      s.links.push_back({api::HashedPodInterfaceName(absl::StrCat("net", i)),
                         absl::StrCat("192.168.", i, ".10/24"), ""});
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// Pods: a scratch netns whose links are veth pairs to a shared "node" netns.

class Node {
 public:
  static absl::StatusOr<std::unique_ptr<Node>> Create() {
    auto ns = testing::ScratchNetns::Create("plumb-node");
    if (!ns.ok()) return ns.status();
    auto t = NetnsThread::Enter((*ns)->path());
    if (!t.ok()) return t.status();
    auto n = std::unique_ptr<Node>(new Node);
    n->ns_ = *std::move(ns);
    n->thread_ = *std::move(t);
    return n;
  }
  ~Node() {
    thread_.reset();
    ns_.reset();
  }
  NetnsThread& thread() { return *thread_; }
  std::string NextPeer() { return absl::StrCat("bp", counter_++); }

 private:
  Node() = default;
  std::unique_ptr<testing::ScratchNetns> ns_;
  std::unique_ptr<NetnsThread> thread_;
  int counter_ = 0;
};

absl::StatusOr<std::unique_ptr<testing::ScratchNetns>> MakePod(const Scenario& s, Node& node) {
  auto ns = testing::ScratchNetns::Create("plumb");
  if (!ns.ok()) return ns.status();
  auto t = NetnsThread::Enter((*ns)->path());
  if (!t.ok()) return t.status();
  std::vector<std::string> peers;
  for (size_t i = 0; i < s.links.size(); ++i) peers.push_back(node.NextPeer());
  absl::Status st = (*t)->Run([&]() -> absl::Status {
    auto nl = binding::NewNetlink();
    for (size_t i = 0; i < s.links.size(); ++i) {
      const PodLinkSpec& l = s.links[i];
      if (auto st = nl->CreateVeth(l.name, peers[i], node.thread().fd()); !st.ok()) return st;
      binding::LinkChange up;
      up.mtu = 1400;
      up.up = true;
      if (auto st = nl->ChangeLink(l.name, up); !st.ok()) return st;
      auto link = nl->GetLink(l.name);
      if (!link.ok()) return link.status();
      if (!*link) return absl::NotFoundError(l.name + " vanished");
      if (auto st = nl->AddAddress((*link)->index, l.cidr); !st.ok()) return st;
      if (!l.gateway.empty()) {
        binding::RouteEntry r;
        r.link_index = (*link)->index;
        r.destination = "0.0.0.0/0";
        r.gateway = l.gateway;
        if (auto st = nl->AddRoute(r); !st.ok()) return st;
      }
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  st = node.thread().Run([&]() -> absl::Status {
    auto nl = binding::NewNetlink();
    for (const auto& p : peers) {
      binding::LinkChange up;
      up.mtu = 1400;
      up.up = true;
      if (auto st = nl->ChangeLink(p, up); !st.ok()) return st;
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return ns;
}

absl::StatusOr<std::vector<InterfacePlan>> ObserveAndPlan(NetnsThread& t, const Scenario& s,
                                                          const binding::PlannerOptions& opts) {
  auto pod = t.Call<binding::PodState>([]() -> absl::StatusOr<binding::PodState> {
    binding::RealKernel a;
    return binding::ObservePod(a.kernel());
  });
  if (!pod.ok()) return pod.status();
  std::vector<api::NetworkStatusEntry> no_status;
  binding::PlanRequest req{s.vmi, no_status, *pod, opts, {}, {}};
  return binding::PlanVmi(req);
}

std::vector<Operation> AllOps(const std::vector<InterfacePlan>& plans) {
  std::vector<Operation> ops;
  for (const auto& p : plans) ops.insert(ops.end(), p.ops.begin(), p.ops.end());
  return ops;
}

// ---------------------------------------------------------------------------------------
// The baseline: each planned operation as the commands KubeVirt would run.

enum class Category { kIpLink, kIpTuntap, kNft, kSysctl };
const char* CategoryName(Category c) {
  switch (c) {
    case Category::kIpLink:
      return "ip link/addr";
    case Category::kIpTuntap:
      return "ip tuntap";
    case Category::kNft:
      return "nft";
    case Category::kSysctl:
      return "sysctl (in-process)";
  }
  return "?";
}

struct Step {
  Category category;
  std::vector<std::string> argv;  // a process; empty for a sysctl
  std::string sysctl_key, sysctl_value;
};

std::vector<std::string> Words(const std::string& s) {
  return absl::StrSplit(s, absl::ByAnyChar(" \t"), absl::SkipEmpty());
}

Step Ip(std::vector<std::string> args, Category c = Category::kIpLink) {
  args.insert(args.begin(), "/usr/sbin/ip");
  return Step{c, std::move(args), "", ""};
}

Step Nft(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/sbin/nft");
  return Step{Category::kNft, std::move(args), "", ""};
}

// KubeVirt's nft driver: one `nft add table`, then one `nft add chain` per chain, then one
// `nft add rule` per rule (chains first, so jumps to later chains resolve).
absl::Status TranslateNftTable(const binding::NftTable& t, std::vector<Step>& out) {
  out.push_back(Nft({"add", "table", t.family, t.name}));
  std::vector<Step> chains, rules;
  std::string chain;
  for (absl::string_view raw : absl::StrSplit(t.body, '\n')) {
    std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty()) continue;
    if (chain.empty()) {
      if (!absl::StartsWith(line, "chain ") || !absl::EndsWith(line, "{"))
        return absl::UnimplementedError(absl::StrCat("baseline: table-level nft line: ", line));
      chain = std::string(
          absl::StripAsciiWhitespace(absl::string_view(line).substr(6, line.size() - 7)));
      chains.push_back(Nft({"add", "chain", t.family, t.name, chain}));
      continue;
    }
    if (line == "}") {
      chain.clear();
      continue;
    }
    if (absl::StartsWith(line, "type ")) {  // base chain spec: `{ type ... ; policy ...; }`
      Step& c = chains.back();
      c.argv.push_back("{");
      for (auto& w : Words(line)) c.argv.push_back(w);
      c.argv.push_back("}");
      continue;
    }
    std::vector<std::string> args = {"add", "rule", t.family, t.name, chain};
    for (auto& w : Words(line)) args.push_back(w);
    rules.push_back(Nft(std::move(args)));
  }
  out.insert(out.end(), chains.begin(), chains.end());
  out.insert(out.end(), rules.begin(), rules.end());
  return absl::OkStatus();
}

std::string Num(int64_t n) { return absl::StrCat(n); }

absl::StatusOr<std::vector<Step>> Translate(const std::vector<Operation>& ops) {
  std::vector<Step> out;
  for (const auto& op : ops) {
    absl::Status st = std::visit(
        [&](const auto& o) -> absl::Status {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, binding::CreateBridge> ||
                        std::is_same_v<T, binding::CreatePlaceholder>) {
            std::vector<std::string> a = {"link", "add", o.name};
            if (!o.mac.empty()) a.insert(a.end(), {"address", o.mac});
            if (o.mtu > 0) a.insert(a.end(), {"mtu", Num(o.mtu)});
            std::string kind = "bridge";
            if constexpr (std::is_same_v<T, binding::CreatePlaceholder>)
              kind = o.kind == binding::PlaceholderKind::kIfb ? "ifb" : "dummy";
            a.insert(a.end(), {"type", kind});
            out.push_back(Ip(a));
          } else if constexpr (std::is_same_v<T, binding::CreateTap>) {
            std::vector<std::string> a = {"tuntap", "add",  "dev",        o.name,  "mode",
                                          "tap",    "user", Num(o.owner), "group", Num(o.group)};
            if (o.queues > 1) a.push_back("multi_queue");
            out.push_back(Ip(a, Category::kIpTuntap));
            if (o.mtu > 0) out.push_back(Ip({"link", "set", "dev", o.name, "mtu", Num(o.mtu)}));
          } else if constexpr (std::is_same_v<T, binding::RenameLink>) {
            out.push_back(Ip({"link", "set", "dev", o.from, "down"}));
            out.push_back(Ip({"link", "set", "dev", o.from, "name", o.to}));
          } else if constexpr (std::is_same_v<T, binding::SetLinkMac>) {
            out.push_back(Ip({"link", "set", "dev", o.link, "address", o.mac}));
          } else if constexpr (std::is_same_v<T, binding::SetLinkMtu>) {
            out.push_back(Ip({"link", "set", "dev", o.link, "mtu", Num(o.mtu)}));
          } else if constexpr (std::is_same_v<T, binding::SetLinkMaster>) {
            out.push_back(Ip({"link", "set", "dev", o.link, "master", o.master}));
          } else if constexpr (std::is_same_v<T, binding::SetLinkUp>) {
            out.push_back(Ip({"link", "set", "dev", o.link, o.up ? "up" : "down"}));
          } else if constexpr (std::is_same_v<T, binding::SetPortLearning>) {
            out.push_back(Ip({"link", "set", "dev", o.link, "type", "bridge_slave", "learning",
                              o.learning ? "on" : "off"}));
          } else if constexpr (std::is_same_v<T, binding::AddAddress>) {
            out.push_back(Ip({"addr", "add", o.cidr, "dev", o.link}));
          } else if constexpr (std::is_same_v<T, binding::FlushAddresses>) {
            out.push_back(Ip({"addr", "flush", "dev", o.link}));
          } else if constexpr (std::is_same_v<T, binding::AddRoute>) {
            std::vector<std::string> a = {"route", "add", o.destination};
            if (!o.gateway.empty()) a.insert(a.end(), {"via", o.gateway});
            a.insert(a.end(), {"dev", o.link});
            out.push_back(Ip(a));
          } else if constexpr (std::is_same_v<T, binding::SetSysctl>) {
            out.push_back(Step{Category::kSysctl, {}, o.key, o.value});
          } else if constexpr (std::is_same_v<T, binding::NftTable>) {
            return TranslateNftTable(o, out);
          } else {
            return absl::UnimplementedError(
                absl::StrCat("baseline: no setup translation for ", binding::Describe(op)));
          }
          return absl::OkStatus();
        },
        op);
    if (!st.ok()) return st;
  }
  return out;
}

// Runs on the namespace thread: the child of posix_spawn starts in the thread's netns.
absl::Status RunStep(const Step& s, const std::string& errfile) {
  if (s.category == Category::kSysctl) {
    const std::string path = "/proc/sys/net/" + s.sysctl_key;
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return absl::InternalError(absl::StrCat(path, ": ", strerror(errno)));
    ssize_t n = ::write(fd, s.sysctl_value.data(), s.sysctl_value.size());
    int err = errno;
    ::close(fd);
    if (n < 0) return absl::InternalError(absl::StrCat("write ", path, ": ", strerror(err)));
    return absl::OkStatus();
  }
  std::vector<char*> argv;
  for (const auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  const std::string cmd = absl::StrJoin(s.argv, " ");
  if (rc != 0) return absl::InternalError(absl::StrCat(cmd, ": spawn: ", strerror(rc)));
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0)
    return absl::InternalError(absl::StrCat(cmd, ": waitpid: ", strerror(errno)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(errfile);
    std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return absl::InternalError(absl::StrCat(cmd, ": exit status ", status, ": ", err));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// One repetition of each variant.

enum Variant { kApply, kSetupTmpfs, kSetupDisk, kBaseline, kVariants };
const char* const kVariantNames[kVariants] = {"apply", "setup/tmpfs", "setup/disk", "baseline"};

struct Options {
  int reps1 = 20;
  int reps_many = 5;
  std::vector<int> nics = {64};
  std::string json_path;
  std::string tmpfs_dir = "/dev/shm";  // a node's /run, where KubeVirt keeps its cache
  std::string disk_dir = "/tmp";
  int settle_ms = 1000;
};

struct Sample {
  double total_ms = 0;
  double executor_ms = 0;                  // apply: Executor::Apply alone
  double release_ms = 0;                   // apply: destroying the adapters
  std::map<Category, double> by_category;  // baseline
  binding::PhaseTimings phases;            // setup
};

struct Runner {
  const Scenario& s;
  Node& node;
  const Options& o;
  binding::PlannerOptions opts = binding::DefaultPlannerOptions();
  std::string errfile = absl::StrCat("/tmp/k6t-plumbing-bench-", getpid(), ".err");
  std::vector<std::unique_ptr<testing::ScratchNetns>> pods;  // deleted after the scenario
  std::vector<Operation> last_ops;                           // of the last baseline rep
  int processes = 0;                                         // baseline, per VMI

  ~Runner() { ::unlink(errfile.c_str()); }

  absl::StatusOr<testing::ScratchNetns*> NewPod() {
    auto p = MakePod(s, node);
    if (!p.ok()) return p.status();
    pods.push_back(*std::move(p));
    return pods.back().get();
  }

  absl::StatusOr<Sample> Run(Variant v, testing::ScratchNetns& pod) {
    switch (v) {
      case kApply:
        return Apply(pod);
      case kSetupTmpfs:
        return Setup(pod, o.tmpfs_dir);
      case kSetupDisk:
        return Setup(pod, o.disk_dir);
      case kBaseline:
        return Baseline(pod);
      default:
        return absl::InternalError("no such variant");
    }
  }

  // What the handler's apply phase does on the netns thread: adapters made, the executor
  // run, adapters released (closing the nftables socket is not free).
  absl::StatusOr<Sample> Apply(testing::ScratchNetns& pod) {
    auto t = NetnsThread::Enter(pod.path());
    if (!t.ok()) return t.status();
    auto plans = ObserveAndPlan(**t, s, opts);
    if (!plans.ok()) return plans.status();
    const std::vector<Operation> ops = AllOps(*plans);
    Sample out;
    absl::Status st = (*t)->Run([&]() -> absl::Status {
      auto t0 = Clock::now();
      auto a = std::make_unique<binding::RealKernel>();
      auto e0 = Clock::now();
      auto report = binding::Executor(a->kernel()).Apply(ops);
      out.executor_ms = MsSince(e0);
      auto r0 = Clock::now();
      a.reset();
      out.release_ms = MsSince(r0);
      out.total_ms = MsSince(t0);
      if (!report.ok()) return report.status();
      if (report->operations != static_cast<int>(ops.size()))
        return absl::InternalError("executor did not run every operation");
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<Sample> Setup(testing::ScratchNetns& pod, const std::string& base) {
    std::string tmpl = base + "/k6t-plumbing-bench-XXXXXX";
    if (!::mkdtemp(tmpl.data()))
      return absl::InternalError(absl::StrCat("mkdtemp in ", base, ": ", strerror(errno)));
    binding::PodNetworkRequest req;
    req.vmi = s.vmi;
    req.pod_netns = pod.path();
    req.state_dir = tmpl;
    req.options = opts;
    Sample out;
    auto t0 = Clock::now();
    auto r = binding::SetupPodNetwork(req);
    out.total_ms = MsSince(t0);
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    if (!r.ok()) return r.status();
    if (r->plans.size() != static_cast<size_t>(s.nics))
      return absl::InternalError(absl::StrCat("setup planned ", r->plans.size(), " interfaces"));
    out.phases = r->timings;
    return out;
  }

  absl::StatusOr<Sample> Baseline(testing::ScratchNetns& pod) {
    auto t = NetnsThread::Enter(pod.path());
    if (!t.ok()) return t.status();
    auto plans = ObserveAndPlan(**t, s, opts);
    if (!plans.ok()) return plans.status();
    last_ops = AllOps(*plans);
    auto steps = Translate(last_ops);
    if (!steps.ok()) return steps.status();
    processes = static_cast<int>(std::count_if(steps->begin(), steps->end(), [](const Step& x) {
      return x.category != Category::kSysctl;
    }));
    Sample out;
    absl::Status st = (*t)->Run([&]() -> absl::Status {
      auto t0 = Clock::now();
      for (const auto& step : *steps) {
        auto s0 = Clock::now();
        if (auto st = RunStep(step, errfile); !st.ok()) return st;
        out.by_category[step.category] += MsSince(s0);
      }
      out.total_ms = MsSince(t0);
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }
};

// ---------------------------------------------------------------------------------------
// Equivalence check: what the namespace holds, without values that differ by construction
// (MACs, ifindexes, link-local addresses, the k6t fingerprint comment).

absl::StatusOr<std::string> Snapshot(testing::ScratchNetns& pod,
                                     const std::vector<Operation>& ops) {
  auto t = NetnsThread::Enter(pod.path());
  if (!t.ok()) return t.status();
  return (*t)->Call<std::string>([&]() -> absl::StatusOr<std::string> {
    binding::RealKernel a;
    auto links = a.netlink->ListLinks();
    if (!links.ok()) return links.status();
    std::map<int, std::string> names;
    for (const auto& l : *links) names[l.index] = l.name;
    std::vector<std::string> lines;
    for (const auto& l : *links) {
      auto addrs = a.netlink->ListAddresses(l.index);
      if (!addrs.ok()) return addrs.status();
      std::vector<std::string> cidrs;
      for (const auto& ad : *addrs)
        if (!absl::StartsWith(ad.cidr, "fe80:")) cidrs.push_back(ad.cidr);
      std::sort(cidrs.begin(), cidrs.end());
      lines.push_back(
          absl::StrFormat("link %s kind=%s mtu=%d up=%d master=%s learning=%d addrs=[%s]", l.name,
                          l.kind, l.mtu, l.admin_up, l.master_index ? names[l.master_index] : "-",
                          l.master_index ? l.learning : 1, absl::StrJoin(cidrs, ",")));
    }
    for (const auto& op : ops) {
      if (const auto* sc = std::get_if<binding::SetSysctl>(&op)) {
        auto v = a.sysctl->Read(sc->key);
        if (!v.ok()) return v.status();
        lines.push_back(absl::StrCat("sysctl ", sc->key, "=", *v));
      } else if (const auto* nt = std::get_if<binding::NftTable>(&op)) {
        auto v = a.nft->ListTable(nt->family, nt->name);
        if (!v.ok()) return v.status();
        std::vector<std::string> keep;
        for (absl::string_view l : absl::StrSplit(v->value_or("<absent>"), '\n'))
          if (!absl::StrContains(l, "comment \"k6t-")) keep.push_back(std::string(l));
        lines.push_back(absl::StrCat("nft ", absl::StrJoin(keep, "\n")));
      }
    }
    std::sort(lines.begin(), lines.end());
    return absl::StrJoin(lines, "\n");
  });
}

// ---------------------------------------------------------------------------------------
// Statistics and report.

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

struct Result {
  std::string label;
  int nics = 0;
  int reps = 0;
  int processes = 0;                                         // baseline processes per VMI
  std::vector<double> per_nic[kVariants];                    // ms per NIC, one per rep
  std::vector<double> executor, release;                     // apply split, per VMI
  std::map<Category, std::vector<double>> base_by_category;  // per NIC
  std::vector<binding::PhaseTimings> phases[kVariants];      // setup variants, per VMI
  double P50(Variant v) const { return Percentile(per_nic[v], 50); }
  double P99(Variant v) const { return Percentile(per_nic[v], 99); }
};

absl::StatusOr<Result> RunScenario(const Scenario& s, Node& node, const Options& o,
                                   bool* equivalent) {
  Runner r{s, node, o};
  Result res;
  res.label = s.label;
  res.nics = s.nics;
  res.reps = s.reps;
  constexpr int kWarmup = 1;
  for (int rep = 0; rep < kWarmup + s.reps; ++rep) {
    if (g_stop) return absl::CancelledError("interrupted");
    testing::ScratchNetns* ns[kVariants];
    for (auto*& n : ns) {
      auto p = r.NewPod();
      if (!p.ok()) return p.status();
      n = *p;
    }
    // A CNI makes the pod's links well before the handler runs: let the kernel's deferred
    // work for the new links (link watch, IPv6 address configuration) finish first.
    std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
    // Rotating order: no variant always runs first (cold caches) or right after another.
    for (int k = 0; k < kVariants; ++k) {
      const Variant v = static_cast<Variant>((rep + k) % kVariants);
      auto smp = r.Run(v, *ns[v]);
      if (!smp.ok())
        return absl::Status(smp.status().code(), absl::StrCat(s.label, " ", kVariantNames[v], ": ",
                                                              smp.status().message()));
      if (rep < kWarmup) continue;
      res.per_nic[v].push_back(smp->total_ms / s.nics);
      res.phases[v].push_back(smp->phases);
      if (v == kApply) {
        res.executor.push_back(smp->executor_ms);
        res.release.push_back(smp->release_ms);
      }
      if (v == kBaseline)
        for (auto c : {Category::kIpLink, Category::kIpTuntap, Category::kNft, Category::kSysctl})
          res.base_by_category[c].push_back(smp->by_category[c] / s.nics);
    }
    if (rep == 0) {
      // The sysctl keys and nft tables to compare are the same in every pod of a scenario.
      std::string snap[kVariants];
      for (int v = 0; v < kVariants; ++v) {
        auto sn = Snapshot(*ns[v], r.last_ops);
        if (!sn.ok()) return sn.status();
        snap[v] = *sn;
      }
      for (int v = 1; v < kVariants; ++v) {
        if (snap[v] == snap[0]) continue;
        *equivalent = false;
        std::fprintf(stderr, "%s: namespaces differ after setup.\n--- %s:\n%s\n--- %s:\n%s\n",
                     s.label.c_str(), kVariantNames[0], snap[0].c_str(), kVariantNames[v],
                     snap[v].c_str());
      }
    }
  }
  res.processes = r.processes;
  return res;  // ~Runner: `ip netns del` of every namespace of this scenario, untimed
}

std::string LoadAvg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, "model name")) continue;
    auto pos = line.find(':');
    if (pos != std::string::npos)
      return std::string(absl::StripAsciiWhitespace(line.substr(pos + 1)));
  }
  return "unknown CPU";
}

std::string FsType(const std::string& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return "?";
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0x01021994UL:
      return "tmpfs";
    case 0xEF53UL:
      return "ext4";
    case 0x58465342UL:
      return "xfs";
    case 0x9123683EUL:
      return "btrfs";
    case 0x794c7630UL:
      return "overlayfs";
  }
  return absl::StrFormat("fs 0x%x", static_cast<unsigned long>(st.f_type));
}

const char* Verdict(bool ok) { return ok ? "met" : "MISSED"; }

void PrintReport(const std::vector<Result>& results, const Options& o,
                 const std::string& load_before, const std::string& load_after, double wall_s,
                 bool equivalent) {
  utsname u{};
  ::uname(&u);
  std::printf("\n== k6t pod plumbing benchmark (issue 3) ==\n");
  std::printf(
      "machine: %s, %u CPUs, kernel %s\nload average before %s, after %s; wall %.0f s\n"
      "caveat: a shared VM where other builds and tests may run; absolute times are noisy. The\n"
      "        ratios compare variants measured interleaved in the same run on identical pods.\n",
      CpuModel().c_str(), std::thread::hardware_concurrency(), u.release, load_before.c_str(),
      load_after.c_str(), wall_s);
  std::printf(
      "\nms per NIC, p50 and p99 (nearest rank) over `reps` after 1 warm-up; multi-NIC rows: each "
      "rep's\ntotal / NICs. Pod links made untimed and left to settle %d ms before each rep.\n"
      "  apply        k6t on the netns thread: adapters made, Executor::Apply, adapters released\n"
      "  setup/tmpfs  k6t SetupPodNetwork, the session (enter netns, observe, plan, state dir\n"
      "               writes, apply), state dir on %s (%s), like a node's /run\n"
      "  setup/disk   the same, state dir on %s (%s)\n"
      "  baseline     the same operations KubeVirt-style: one ip/nft process each (spawned in\n"
      "               the netns, no shell; `procs` per NIC), sysctls written in-process\n\n",
      o.settle_ms, o.tmpfs_dir.c_str(), FsType(o.tmpfs_dir).c_str(), o.disk_dir.c_str(),
      FsType(o.disk_dir).c_str());
  std::printf("%-14s %4s %5s  %-15s  %-15s  %-15s  %-15s  %s\n", "", "", "", "k6t apply",
              "k6t setup/tmpfs", "k6t setup/disk", "baseline", "baseline/k6t (p50)");
  std::printf("%-14s %4s %5s  %7s %7s  %7s %7s  %7s %7s  %7s %7s  %6s %6s %6s\n", "scenario",
              "reps", "procs", "p50", "p99", "p50", "p99", "p50", "p99", "p50", "p99", "apply",
              "tmpfs", "disk");
  for (const auto& r : results) {
    const double b = r.P50(kBaseline);
    std::printf(
        "%-14s %4d %5d  %7.3f %7.3f  %7.3f %7.3f  %7.3f %7.3f  %7.2f %7.2f  %5.1fx %5.1fx "
        "%5.1fx\n",
        r.label.c_str(), r.reps, r.processes / r.nics, r.P50(kApply), r.P99(kApply),
        r.P50(kSetupTmpfs), r.P99(kSetupTmpfs), r.P50(kSetupDisk), r.P99(kSetupDisk), b,
        r.P99(kBaseline), b / r.P50(kApply), b / r.P50(kSetupTmpfs), b / r.P50(kSetupDisk));
  }

  std::printf("\nwhere the time goes (p50, ms per VMI unless noted):\n");
  for (const auto& r : results) {
    std::printf("  %-14s apply       = Executor::Apply %.3f + adapter release %.3f\n",
                r.label.c_str(), Percentile(r.executor, 50), Percentile(r.release, 50));
    for (Variant v : {kSetupTmpfs, kSetupDisk}) {
      auto phase = [&](absl::Duration binding::PhaseTimings::*f) {
        std::vector<double> x;
        for (const auto& p : r.phases[v]) x.push_back(absl::ToDoubleMilliseconds(p.*f));
        return Percentile(x, 50);
      };
      std::printf(
          "  %-14s %-11s = enter %.3f + observe %.3f + plan %.3f + state dir %.3f + "
          "apply %.3f\n",
          "", kVariantNames[v], phase(&binding::PhaseTimings::enter),
          phase(&binding::PhaseTimings::observe), phase(&binding::PhaseTimings::plan),
          phase(&binding::PhaseTimings::cache), phase(&binding::PhaseTimings::apply));
    }
    std::printf("  %-14s baseline    = per NIC:", "");
    for (const auto& [c, x] : r.base_by_category)
      std::printf(" %s %.2f;", CategoryName(c), Percentile(x, 50));
    std::printf("\n");
  }

  // Executor::Apply alone is shown too: it isolates the executor from adapter release.
  auto executor_per_nic = [](const Result& r) { return Percentile(r.executor, 50) / r.nics; };
  auto cell = [](const std::string& value, bool ok) {
    std::printf("  %8s %-7s", value.c_str(), Verdict(ok));
  };
  std::printf("\n%-31s", "goals (issue 3), p50");
  for (const char* h : {"Executor::Apply", "apply", "setup/tmpfs", "setup/disk"})
    std::printf("  %16s", h);
  std::printf("\n");
  for (const auto& r : results) {
    const double b = r.P50(kBaseline);
    const double e = executor_per_nic(r);
    std::printf("  %-14s %-14s", r.label.c_str(), ">= 20x faster");
    cell(absl::StrFormat("%.1fx", b / e), b / e >= 20);
    for (Variant v : {kApply, kSetupTmpfs, kSetupDisk})
      cell(absl::StrFormat("%.1fx", b / r.P50(v)), b / r.P50(v) >= 20);
    std::printf("\n  %-14s %-14s", "", "<= 2 ms/NIC");
    cell(absl::StrFormat("%.2f", e), e <= 2);
    for (Variant v : {kApply, kSetupTmpfs, kSetupDisk})
      cell(absl::StrFormat("%.2f", r.P50(v)), r.P50(v) <= 2);
    std::printf("\n");
  }
  const Result* one = nullptr;
  const Result* many = nullptr;
  for (const auto& r : results) {
    if (!absl::StartsWith(r.label, "bridge")) continue;
    (r.nics == 1 ? one : many) = &r;
  }
  if (one && many) {
    std::printf("  %-14s %-14s", absl::StrCat("bridge x", many->nics, "/x1").c_str(),
                "<= 1.5 per NIC");
    const double ke = executor_per_nic(*many) / executor_per_nic(*one);
    cell(absl::StrFormat("%.2f", ke), ke <= 1.5);
    for (Variant v : {kApply, kSetupTmpfs, kSetupDisk}) {
      const double k = many->P50(v) / one->P50(v);
      cell(absl::StrFormat("%.2f", k), k <= 1.5);
    }
    std::printf("  (baseline %.2f)\n", many->P50(kBaseline) / one->P50(kBaseline));
  }
  std::printf(
      "\nequivalence check after the first rep (links, kinds, masters, MTU, up, learning,\n"
      "addresses, sysctls, nft tables in the namespaces of all four variants): %s\n",
      equivalent ? "identical" : "DIFFERENT (see stderr)");
}

bool ParseInt(const char* arg, const char* name, int* out) {
  const std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  return absl::SimpleAtoi(arg + prefix.size(), out) && *out >= 0;
}

bool ParseIntList(const char* arg, const char* name, std::vector<int>* out) {
  const std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  out->clear();
  for (absl::string_view part : absl::StrSplit(arg + prefix.size(), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 2 || n > 100) return false;
    out->push_back(n);
  }
  std::sort(out->begin(), out->end());
  return !out->empty();
}

// Every figure of the report as JSON, ms per NIC unless the key says otherwise.
absl::Status WriteJson(const std::string& path, const std::vector<Result>& results, double wall_s,
                       bool equivalent) {
  nlohmann::ordered_json j;
  j["benchmark"] = "plumbing_bench";
  j["cpus"] = std::thread::hardware_concurrency();
  j["wall_s"] = wall_s;
  j["equivalent"] = equivalent;
  for (const auto& r : results) {
    nlohmann::ordered_json s;
    s["label"] = r.label;
    s["nics"] = r.nics;
    s["reps"] = r.reps;
    s["baseline_processes_per_nic"] = r.processes / r.nics;
    for (int v = 0; v < kVariants; ++v) {
      s[kVariantNames[v]] = {{"p50", r.P50(static_cast<Variant>(v))},
                             {"p99", r.P99(static_cast<Variant>(v))}};
    }
    s["executor_p50"] = Percentile(r.executor, 50) / r.nics;
    j["scenarios"].push_back(s);
  }
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

bool ParseString(const char* arg, const char* name, std::string* out) {
  const std::string prefix = absl::StrCat("--", name, "=");
  if (!absl::StartsWith(arg, prefix)) return false;
  *out = arg + prefix.size();
  return !out->empty();
}

}  // namespace
}  // namespace k6t::bench

int main(int argc, char** argv) {
  using namespace k6t::bench;
  Options o;
  for (int i = 1; i < argc; ++i) {
    if (!ParseInt(argv[i], "reps1", &o.reps1) && !ParseInt(argv[i], "reps-many", &o.reps_many) &&
        !ParseIntList(argv[i], "nics", &o.nics) && !ParseInt(argv[i], "settle-ms", &o.settle_ms) &&
        !ParseString(argv[i], "json", &o.json_path) &&
        !ParseString(argv[i], "tmpfs-dir", &o.tmpfs_dir) &&
        !ParseString(argv[i], "disk-dir", &o.disk_dir)) {
      std::fprintf(stderr,
                   "usage: %s [--reps1=20] [--reps-many=5] [--nics=N[,N...]] "
                   "[--tmpfs-dir=/dev/shm] [--disk-dir=/tmp] [--settle-ms=1000] "
                   "[--json=FILE]\n"
                   "  --nics: counts in 2..100 (fake bridge IPs: 169.254.75.1<index>)\n",
                   argv[0]);
      return 2;
    }
  }
  if (o.reps1 == 0 || o.reps_many == 0) {
    std::fprintf(stderr, "reps must be >= 1\n");
    return 2;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "plumbing_bench needs root (network namespaces)\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = true; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout must not skip the cleanup
  // The handler logs every setup at info; keep the report readable.
  spdlog::set_level(spdlog::level::warn);
  spdlog::set_pattern("[%H:%M:%S.%f] [%l] [t%t] %v");
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug shows every executor step
  const std::string load_before = LoadAvg();
  const auto start = Clock::now();

  std::vector<std::tuple<std::string, std::string, int, int>> wanted = {
      {"masquerade x1", "masquerade", 1, o.reps1}, {"bridge x1", "bridge", 1, o.reps1}};
  for (int n : o.nics) wanted.emplace_back(absl::StrCat("bridge x", n), "bridge", n, o.reps_many);
  std::vector<Scenario> scenarios;
  for (const auto& [label, binding, n, reps] : wanted) {
    auto s = MakeScenario(label, binding, n, reps);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", label.c_str(), s.status().ToString().c_str());
      return 1;
    }
    scenarios.push_back(*std::move(s));
  }

  auto node = Node::Create();
  if (!node.ok()) {
    std::fprintf(stderr, "node netns: %s\n", node.status().ToString().c_str());
    return 1;
  }
  std::vector<Result> results;
  bool equivalent = true;
  for (const auto& s : scenarios) {
    std::fprintf(stderr, "running %s (%d reps)...\n", s.label.c_str(), s.reps);
    auto r = RunScenario(s, **node, o, &equivalent);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    results.push_back(*std::move(r));
    // Namespace deletion finishes in a kernel worker that takes the RTNL lock; let it
    // settle so it does not land in the next scenario's timings.
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  node->reset();
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  PrintReport(results, o, load_before, LoadAvg(), wall_s, equivalent);
  if (!o.json_path.empty()) {
    if (auto st = WriteJson(o.json_path, results, wall_s, equivalent); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  }
  return equivalent ? 0 : 1;
}
