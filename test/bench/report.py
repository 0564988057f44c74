#!/usr/bin/python3
"""One report of every k6t benchmark.

Runs each executable of BUILD/bench-bin (test/bench/CMakeLists.txt builds one per
*_bench.cc) and each test/bench/*_bench.sh (VM launch, memory, hotplug; they record their
figures through test/bench/figures.sh), collects the figures and writes into OUT:

  report.md            one table: each figure next to its baseline (measured in the same
                       run) and its goal (issue 3), plus the NIC-count sweep
  report.json          the same figures, for machines
  setup_vs_nics.png    setup time against NIC count, 1..64 (gnuplot)
  raw/                 each benchmark's own output and JSON

  sudo test/bench/report.py [--build build] [--out bench-report] [--quick]
  test/bench/report.py --render-only --out bench-report   (re-renders from raw/, runs nothing)

Needs root (the benchmarks make network namespaces) and gnuplot (hack/install-deps.sh).
The machine is shared: the full run takes about 10 minutes (kernel_ops_bench half of it:
its untimed cleanups are slow); --quick takes a few repetitions
only, enough to check the report, not to quote.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

NIC_SWEEP = [2, 4, 8, 16, 32, 64]
# Issue 3's goals for per-NIC plumbing.
GOAL_RATIO = 20.0
GOAL_MS_PER_NIC = 2.0
GOAL_SCALING = 1.5
VARIANTS = ["apply", "setup/tmpfs", "setup/disk"]


def log(msg):
    print(f"report: {msg}", file=sys.stderr, flush=True)


def run(cmd, out_txt):
    log("running " + " ".join(cmd))
    with open(out_txt, "w") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        with open(out_txt) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f"{cmd[0]} exited {rc}:\n{tail}")


def is_google_benchmark(path):
    try:
        r = subprocess.run([path, "--benchmark_list_tests=true"], capture_output=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and r.stdout.strip() != b""


def run_all(build, raw, quick):
    bench_bin = os.path.join(build, "bench-bin")
    names = sorted(n for n in os.listdir(bench_bin)
                   if os.access(os.path.join(bench_bin, n), os.X_OK))
    if not names:
        raise RuntimeError(f"no benchmarks in {bench_bin} (build the tree first)")
    for name in names:
        path = os.path.join(bench_bin, name)
        txt = os.path.join(raw, name + ".txt")
        js = os.path.join(raw, name + ".json")
        if name == "plumbing_bench":
            cmd = [path, "--nics=" + ",".join(map(str, NIC_SWEEP)), "--json=" + js]
            if quick:
                cmd += ["--reps1=3", "--reps-many=2", "--settle-ms=300"]
            run(cmd, txt)
        elif is_google_benchmark(path):
            cmd = [path, "--benchmark_out=" + js, "--benchmark_out_format=json"]
            if quick:
                cmd += ["--benchmark_min_time=0.05"]
            run(cmd, txt)
        else:
            log(f"skipping {name}: neither plumbing_bench nor a Google Benchmark")
    # The shell benchmarks (a VM under libvirt + QEMU): launch, memory, hotplug.
    here = os.path.dirname(os.path.abspath(__file__))
    for script in sorted(n for n in os.listdir(here) if n.endswith("_bench.sh")):
        name = script[:-3]
        js = os.path.join(raw, name + ".json")
        if os.path.exists(js):
            os.unlink(js)
        env = {**os.environ, "K6T_BENCH_JSON": os.path.abspath(js),
               "K6T_BUILD_DIR": os.path.abspath(build)}
        cmd = [os.path.join(here, script)] + (["2"] if quick else [])
        log(f"running {script}")
        with open(os.path.join(raw, name + ".txt"), "w") as out:
            subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)


def fmt(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}"


def plumbing_rows(data):
    """Rows of the main table, and the NIC sweep, from plumbing_bench --json."""
    rows = []
    scen = {s["label"]: s for s in data["scenarios"]}
    bridges = sorted((s for s in data["scenarios"]
                      if s["label"].startswith("bridge x") and s["nics"] > 1),
                     key=lambda s: s["nics"])
    largest = bridges[-1] if bridges else None
    for s in data["scenarios"]:
        if s["nics"] != 1 and s is not largest:
            continue  # the sweep table and the plot show the others
        base = s["baseline"]["p50"]
        for v in VARIANTS:
            k6t = s[v]["p50"]
            ratio = base / k6t
            ok = ratio >= GOAL_RATIO and k6t <= GOAL_MS_PER_NIC
            rows.append({
                "benchmark": "plumbing_bench",
                "figure": f"{s['label']} {v}, ms per NIC (p50; p99 {fmt(s[v]['p99'])})",
                "value": k6t, "unit": "ms/NIC", "baseline": base,
                "baseline_what": f"ip/nft process per op ({s['baseline_processes_per_nic']}/NIC)",
                "ratio": ratio,
                "goal": f">= {GOAL_RATIO:.0f}x and <= {GOAL_MS_PER_NIC:.0f} ms/NIC",
                "met": ok,
            })
    one = scen.get("bridge x1")
    if one and largest:
        for v in VARIANTS:
            k = largest[v]["p50"] / one[v]["p50"]
            rows.append({
                "benchmark": "plumbing_bench",
                "figure": f"{v}: per-NIC cost x{largest['nics']} / x1",
                "value": k, "unit": "", "baseline":
                    largest["baseline"]["p50"] / one["baseline"]["p50"],
                "baseline_what": "the baseline's own x64/x1", "ratio": None,
                "goal": f"<= {GOAL_SCALING}", "met": k <= GOAL_SCALING,
            })
    sweep = []
    for s in ([one] if one else []) + bridges:
        sweep.append({
            "nics": s["nics"],
            **{v: s[v]["p50"] * s["nics"] for v in VARIANTS + ["baseline"]},
            **{v + "_per_nic": s[v]["p50"] for v in VARIANTS + ["baseline"]},
        })
    return rows, sweep


def google_rows(name, data):
    """Pairs <op>_k6t / <op>_<tool> become one row each; unpaired ones stand alone."""
    times = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
        times[b["name"].split("/")[0]] = b["real_time"] * scale
    rows, used = [], set()
    for fn, t in sorted(times.items()):
        if not fn.endswith("_k6t"):
            continue
        op = fn[:-4]
        for other, base in sorted(times.items()):
            tool = other[len(op) + 1:]
            if other != fn and other.startswith(op + "_") and "_" not in tool:
                used.update({fn, other})
                rows.append({
                    "benchmark": name, "figure": op.removeprefix("BM_").replace("_", " "),
                    "value": t, "unit": "us", "baseline": base,
                    "baseline_what": f"one `{tool}` process", "ratio": base / t,
                    "goal": "— (informative)", "met": None,
                })
    for fn, t in sorted(times.items()):
        if fn not in used:
            rows.append({"benchmark": name, "figure": fn.removeprefix("BM_"), "value": t,
                         "unit": "us", "baseline": None, "baseline_what": "", "ratio": None,
                         "goal": "—", "met": None})
    return rows


def plot(sweep, out_png, raw):
    dat = os.path.join(raw, "sweep.dat")
    with open(dat, "w") as f:
        f.write("# nics apply setup_tmpfs setup_disk baseline (ms per VMI, p50)\n")
        for r in sweep:
            f.write(f"{r['nics']} {r['apply']} {r['setup/tmpfs']} {r['setup/disk']} "
                    f"{r['baseline']}\n")
    script = f"""
set terminal pngcairo size 1000,560 font ',10'
set output '{out_png}'
set title 'k6t pod plumbing: setup time against NIC count (p50 per VMI)'
set xlabel 'NICs per VMI'
set ylabel 'ms per VMI'
set logscale xy
set xtics (1,2,4,8,16,32,64)
set xrange [0.9:72]
set grid
set key top left
plot '{dat}' using 1:5 with linespoints lw 2 title 'baseline: ip/nft process per op', \\
     '{dat}' using 1:4 with linespoints lw 2 title 'k6t SetupPodNetwork, state dir on disk', \\
     '{dat}' using 1:3 with linespoints lw 2 title 'k6t SetupPodNetwork, state dir on tmpfs', \\
     '{dat}' using 1:2 with linespoints lw 2 title 'k6t apply (executor + adapters)'
"""
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                       "")
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
            "loadavg": open("/proc/loadavg").read().split()[:3], "commit": commit}


def markdown(rows, sweep, meta, quick):
    out = [
        "# k6t benchmark report", "",
        f"{meta['date']}, commit {meta['commit']}; {meta['cpu']}, {meta['cpus']} CPUs, "
        f"kernel {meta['kernel']}, load average {' '.join(meta['loadavg'])} at the end.",
        "Baselines are measured in the same run (see each benchmark's header comment). "
        "A shared machine: absolute times are noisy, ratios are what the goals judge.", "",
    ]
    if quick:
        out += ["**--quick run: a few repetitions only, not for quoting.**", ""]
    out += ["| benchmark | figure | k6t | baseline | baseline/k6t | goal | verdict |",
            "|---|---|---|---|---|---|---|"]
    for r in rows:
        unit = f" {r['unit']}" if r["unit"] else ""
        base = "—" if r["baseline"] is None else f"{fmt(r['baseline'])}{unit} ({r['baseline_what']})"
        verdict = "—" if r["met"] is None else ("met" if r["met"] else "**missed**")
        out.append(f"| {r['benchmark']} | {r['figure']} | {fmt(r['value'])}{unit} | {base} | "
                   f"{'—' if r['ratio'] is None else fmt(r['ratio'], 1) + 'x'} | {r['goal']} | "
                   f"{verdict} |")
    if sweep:
        out += ["", "## Setup time against NIC count (bridge binding, p50)", "",
                "![setup time against NIC count](setup_vs_nics.png)", "",
                "| NICs | apply ms/VMI | setup/tmpfs ms/VMI | setup/disk ms/VMI | "
                "baseline ms/VMI | setup/tmpfs ms/NIC | baseline ms/NIC |",
                "|---|---|---|---|---|---|---|"]
        for s in sweep:
            out.append(f"| {s['nics']} | {fmt(s['apply'])} | {fmt(s['setup/tmpfs'])} | "
                       f"{fmt(s['setup/disk'])} | {fmt(s['baseline'])} | "
                       f"{fmt(s['setup/tmpfs_per_nic'])} | {fmt(s['baseline_per_nic'])} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default="bench-report")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--render-only", action="store_true")
    a = ap.parse_args()
    raw = os.path.join(a.out, "raw")
    os.makedirs(raw, exist_ok=True)
    meta_path = os.path.join(raw, "machine.meta")  # not *.json: that is benchmark output
    if not a.render_only:
        if os.geteuid() != 0:
            sys.exit("report: the benchmarks need root (network namespaces)")
        run_all(a.build, raw, a.quick)
        with open(meta_path, "w") as f:
            json.dump({**machine(), "quick": a.quick}, f)
    with open(meta_path) as f:
        meta = json.load(f)

    rows, sweep = [], []
    for fn in sorted(os.listdir(raw)):
        if not fn.endswith(".json"):
            continue
        with open(os.path.join(raw, fn)) as f:
            data = json.load(f)
        if "figures" in data:  # a shell benchmark (test/bench/figures.sh)
            rows += data["figures"]
            continue
        if data.get("benchmark") == "plumbing_bench":
            r, sweep = plumbing_rows(data)
            if not data.get("equivalent", False):
                raise SystemExit("report: plumbing_bench's variants left different namespaces")
        else:
            r = google_rows(fn[:-5], data)
        rows += r
    if not rows:
        sys.exit(f"report: no benchmark output in {raw}")
    if sweep:
        plot(sweep, os.path.abspath(os.path.join(a.out, "setup_vs_nics.png")), raw)
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump({"machine": meta, "quick": meta["quick"], "figures": rows, "nic_sweep": sweep}, f,
                  indent=2)
        f.write("\n")
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(markdown(rows, sweep, meta, meta["quick"]))
    missed = [r["figure"] for r in rows if r["met"] is False]
    log(f"wrote {a.out}/report.md, report.json" + (", setup_vs_nics.png" if sweep else "") +
        f"; {len(rows)} figures, {len(missed)} goal(s) missed")


if __name__ == "__main__":
    main()
