// Cloud-init ISO generation (issue 15 "Benchmarks": goal <= 20 ms), k6t in-process with
// libisofs against KubeVirt's way in the same run: the files written to a staging dir and
// `xorrisofs -volid cidata -joliet -rock` exec'd on it. Typical data: a 2 KiB cloud-config
// with an SSH key, a version 2 network config with a static eth1.
//   BM_BuildIso                 the image built in memory
//   BM_CloudInitIso_k6t         the whole product path: layout, build, temp file, fsync, rename
//   BM_CloudInitIso_xorrisofs   the baseline (files written, xorrisofs spawned, waited for)
// The goal reads BM_CloudInitIso_k6t; the ratio k6t / xorrisofs is printed as a counter on
// it when the baseline ran first (registration order; --benchmark_filter keeps it), and
// test/bench/report.py pairs the two by name.
// Usage: build/bench-bin/cloudinit_iso_bench [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "k6t/launcher/cloudinit.h"

namespace {

using k6t::launcher::cloudinit::BuildIso;
using k6t::launcher::cloudinit::CloudInitData;
using k6t::launcher::cloudinit::FileOwner;
using k6t::launcher::cloudinit::IsoLayout;
using k6t::launcher::cloudinit::WriteIso;

CloudInitData Typical() {
  CloudInitData d;
  d.instance_id = "d1b44edf-1680-88a9-91d7-6c9d833b4b4e";
  d.hostname = "fedora";
  d.user_data = "#cloud-config\nuser: k6t\nssh_authorized_keys:\n  - ssh-ed25519 " +
                std::string(68, 'A') + " k6t@bench\n";
  while (d.user_data.size() < 2000) d.user_data += "# padding to a typical 2 KiB cloud-config\n";
  d.network_data = "version: 2\nethernets:\n  eth1:\n    addresses: [10.10.10.14/24]\n";
  return d;
}

std::string Dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/k6t-iso-bench-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return dir;
}

double g_xorriso_ms = 0;

void BM_CloudInitIso_xorrisofs(benchmark::State& state) {
  const CloudInitData d = Typical();
  const std::string stage = Dir() + "/stage";
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    std::filesystem::create_directories(stage);
    const auto layout = IsoLayout(d);  // the same layout step WriteIso takes
    if (!layout.ok()) {
      state.SkipWithError("IsoLayout failed");
      break;
    }
    for (const auto& f : *layout) std::ofstream(stage + "/" + f.path) << f.contents;
    const std::string cmd = "xorrisofs -quiet -output " + Dir() +
                            "/x.iso -volid cidata -joliet -rock " + stage + " 2>/dev/null";
    if (system(cmd.c_str()) != 0) {
      state.SkipWithError("xorrisofs failed (is xorriso installed?)");
      break;
    }
    total +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  if (state.iterations() > 0) g_xorriso_ms = total / static_cast<double>(state.iterations());
}
BENCHMARK(BM_CloudInitIso_xorrisofs)->Unit(benchmark::kMillisecond);

void BM_BuildIso(benchmark::State& state) {
  const auto files = *IsoLayout(Typical());
  for (auto _ : state) benchmark::DoNotOptimize(BuildIso(files, "cidata"));
}
BENCHMARK(BM_BuildIso)->Unit(benchmark::kMillisecond);

void BM_CloudInitIso_k6t(benchmark::State& state) {
  const CloudInitData d = Typical();
  const FileOwner owner{getuid(), getgid(), 0440};
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!WriteIso(d, Dir() + "/noCloud.iso", owner).ok()) {
      state.SkipWithError("WriteIso failed");
      break;
    }
    total +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  if (state.iterations() == 0) return;
  const double ms = total / static_cast<double>(state.iterations());
  state.counters["goal_20ms_met"] = ms <= 20.0;
  if (g_xorriso_ms > 0) state.counters["ratio_vs_xorrisofs"] = ms / g_xorriso_ms;
}
BENCHMARK(BM_CloudInitIso_k6t)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(Dir());
  return 0;
}
