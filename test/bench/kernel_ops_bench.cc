// Kernel adapter costs against the way KubeVirt does the same thing (one `ip`/`nft`
// process per operation), in the same run, in a scratch namespace. Every measured call runs
// on a NetnsThread; the timer covers only the work inside it (manual time), and the
// baseline's processes are spawned from that same thread, so both sides act on the same
// namespace from the same place. Prints k6t/baseline ratios at the end.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "k6t/binding/kernel.h"
#include "k6t/binding/netns.h"
#include "support/scratch_netns.h"

extern char** environ;

namespace k6t::binding {
namespace {

using Clock = std::chrono::steady_clock;

struct Env {
  std::unique_ptr<testing::ScratchNetns> ns;
  std::unique_ptr<NetnsThread> thread;
  std::unique_ptr<Netlink> nl;
  std::unique_ptr<Tun> tun;
  std::unique_ptr<Nft> nft;
};
Env* g_env = nullptr;

// Runs argv (no shell) and waits; called on the namespace thread, so the child is there too.
bool Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool Cmd(const std::string& line) { return Spawn(absl::StrSplit(line, ' ', absl::SkipEmpty())); }

// Times `op` on the namespace thread; `after` (untimed) cleans up.
template <typename Op, typename After>
void Measure(benchmark::State& state, Op op, After after) {
  for (auto _ : state) {
    double secs = 0;
    bool ok = true;
    absl::Status st = g_env->thread->Run([&] {
      auto t0 = Clock::now();
      ok = op();
      secs = std::chrono::duration<double>(Clock::now() - t0).count();
      after();
      return absl::OkStatus();
    });
    if (!st.ok() || !ok) {
      state.SkipWithError("operation failed");
      break;
    }
    state.SetIterationTime(secs);
  }
}

auto Nothing = [] {};

// ---- bridge
void BM_bridge_create_delete_k6t(benchmark::State& s) {
  Measure(
      s,
      [] {
        return g_env->nl->CreateLink("bb0", "bridge", "02:00:00:00:00:01", 1400).ok() &&
               g_env->nl->DeleteLink("bb0").ok();
      },
      Nothing);
}
void BM_bridge_create_delete_ip(benchmark::State& s) {
  Measure(
      s,
      [] {
        return Cmd("ip link add bb0 address 02:00:00:00:00:01 mtu 1400 type bridge") &&
               Cmd("ip link del bb0");
      },
      Nothing);
}
void BM_bridge_create_k6t(benchmark::State& s) {
  Measure(
      s, [] { return g_env->nl->CreateLink("bb1", "bridge", "", 1400).ok(); },
      [] { (void)g_env->nl->DeleteLink("bb1"); });
}
void BM_bridge_create_ip(benchmark::State& s) {
  Measure(
      s, [] { return Cmd("ip link add bb1 mtu 1400 type bridge"); },
      [] { (void)g_env->nl->DeleteLink("bb1"); });
}

// ---- tap
void BM_tap_create_delete_k6t(benchmark::State& s) {
  Measure(
      s,
      [] {
        return g_env->tun->CreateTap(TapSpec{"tb0", 107, 107, 1, 1400}).ok() &&
               g_env->nl->DeleteLink("tb0").ok();
      },
      Nothing);
}
void BM_tap_create_delete_ip(benchmark::State& s) {
  Measure(
      s,
      [] {
        return Cmd("ip tuntap add dev tb0 mode tap user 107 group 107") &&
               Cmd("ip link set tb0 mtu 1400") && Cmd("ip link del tb0");
      },
      Nothing);
}
void BM_tap_create_k6t(benchmark::State& s) {
  Measure(
      s,
      [] {
        return g_env->tun->CreateTap(TapSpec{"tb1", 107, 107, 1, 1400}).ok();
      },
      [] { (void)g_env->nl->DeleteLink("tb1"); });
}
void BM_tap_create_ip(benchmark::State& s) {
  Measure(
      s,
      [] {
        return Cmd("ip tuntap add dev tb1 mode tap user 107 group 107") &&
               Cmd("ip link set tb1 mtu 1400");
      },
      [] { (void)g_env->nl->DeleteLink("tb1"); });
}

// ---- nftables: a 20-rule NAT table (2 chains)
std::string NatBody() {
  std::string b =
      "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n";
  for (int i = 0; i < 18; ++i)
    absl::StrAppend(&b, "    iifname \"eth0\" tcp dport ", 8000 + i, " counter dnat to 10.0.2.2\n");
  b +=
      "  }\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  b += "    ip saddr 10.0.2.2 counter masquerade\n    oifname \"k6t-eth0\" counter snat to "
       "10.0.2.1\n";
  b += "  }";
  return b;
}

std::vector<std::string> NatCommands() {
  std::vector<std::string> c = {"nft add table ip kb",
                                "nft add chain ip kb prerouting { type nat hook prerouting "
                                "priority dstnat ; policy accept ; }",
                                "nft add chain ip kb postrouting { type nat hook postrouting "
                                "priority srcnat ; policy accept ; }"};
  for (int i = 0; i < 18; ++i)
    c.push_back(absl::StrCat("nft add rule ip kb prerouting iifname eth0 tcp dport ", 8000 + i,
                             " counter dnat to 10.0.2.2"));
  c.push_back("nft add rule ip kb postrouting ip saddr 10.0.2.2 counter masquerade");
  c.push_back("nft add rule ip kb postrouting oifname k6t-eth0 counter snat to 10.0.2.1");
  return c;
}

void BM_nft_apply_20_rules_k6t(benchmark::State& s) {
  static const std::string body = NatBody();
  Measure(
      s, [] { return g_env->nft->ReplaceTable("ip", "kb", body).ok(); },
      [] { (void)g_env->nft->DeleteTable("ip", "kb"); });
}
void BM_nft_apply_20_rules_nft(benchmark::State& s) {
  static const std::vector<std::string> cmds = NatCommands();
  Measure(
      s,
      [] {
        for (const auto& c : cmds)
          if (!Cmd(c)) return false;
        return true;
      },
      [] { (void)g_env->nft->DeleteTable("ip", "kb"); });
}
// Re-apply over an existing table: k6t replaces atomically; the baseline flushes and re-adds.
void BM_nft_replace_20_rules_k6t(benchmark::State& s) {
  static const std::string body = NatBody();
  (void)g_env->thread->Run([] { return g_env->nft->ReplaceTable("ip", "kb", body); });
  Measure(
      s, [] { return g_env->nft->ReplaceTable("ip", "kb", body).ok(); }, Nothing);
  (void)g_env->thread->Run([] { return g_env->nft->DeleteTable("ip", "kb"); });
}
void BM_nft_replace_20_rules_nft(benchmark::State& s) {
  static const std::vector<std::string> cmds = NatCommands();
  (void)g_env->thread->Run([] {
    for (const auto& c : cmds) Cmd(c);
    return absl::OkStatus();
  });
  Measure(
      s,
      [] {
        if (!Cmd("nft flush table ip kb")) return false;
        for (size_t i = 3; i < cmds.size(); ++i)
          if (!Cmd(cmds[i])) return false;
        return true;
      },
      Nothing);
  (void)g_env->thread->Run([] { return g_env->nft->DeleteTable("ip", "kb"); });
}

BENCHMARK(BM_bridge_create_delete_k6t)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_bridge_create_delete_ip)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_bridge_create_k6t)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_bridge_create_ip)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_tap_create_delete_k6t)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_tap_create_delete_ip)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_tap_create_k6t)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_tap_create_ip)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_nft_apply_20_rules_k6t)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_nft_apply_20_rules_nft)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_nft_replace_20_rules_k6t)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);
BENCHMARK(BM_nft_replace_20_rules_nft)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1);

// Console output plus, at the end, baseline/k6t for each pair "<op>_k6t" / "<op>_<tool>".
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(isatty(1) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred)
        times_[r.run_name.function_name] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nk6t vs KubeVirt-style process per operation (same run, same netns):\n");
    for (const auto& [name, t] : times_) {
      if (name.size() < 4 || name.compare(name.size() - 4, 4, "_k6t") != 0) continue;
      std::string op = name.substr(0, name.size() - 4);
      for (const auto& [other, base] : times_) {
        if (other == name || other.rfind(op + "_", 0) != 0) continue;
        if (other.find('_', op.size() + 1) != std::string::npos) continue;  // a longer op
        std::printf("  %-28s k6t %10.1f us   %-4s %10.1f us   %6.1fx faster\n", op.c_str() + 3, t,
                    other.substr(op.size() + 1).c_str(), base, base / t);
      }
    }
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace
}  // namespace k6t::binding

int main(int argc, char** argv) {
  using namespace k6t::binding;
  benchmark::Initialize(&argc, argv);
  Env env;
  auto ns = k6t::testing::ScratchNetns::Create("bench");
  if (!ns.ok()) {
    std::fprintf(stderr, "%s\n", ns.status().ToString().c_str());
    return 1;
  }
  env.ns = std::move(*ns);
  auto t = NetnsThread::Enter(env.ns->path());
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
    return 1;
  }
  env.thread = std::move(*t);
  (void)env.thread->Run([&] {
    env.nl = NewNetlink();
    env.tun = NewTun();
    env.nft = NewNft();
    return absl::OkStatus();
  });
  g_env = &env;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  (void)env.thread->Run([&] {
    env.nl.reset();
    env.tun.reset();
    env.nft.reset();
    return absl::OkStatus();
  });
  env.thread.reset();
  env.ns.reset();
  benchmark::Shutdown();
  return 0;
}
