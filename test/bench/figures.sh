# Sourced by the shell benchmarks: `figure` records one figure of the run for
# test/bench/report.py, which sets K6T_BENCH_JSON to the file to write; without it, nothing.
#   figure BENCH FIGURE VALUE UNIT BASELINE BASELINE_WHAT GOAL MET
# BASELINE and MET may be "" (none), MET is 1/0; VALUE and BASELINE are numbers.
figure() {
  [ -n "${K6T_BENCH_JSON:-}" ] || return 0
  python3 - "$K6T_BENCH_JSON" "$@" <<'PY'
import json, os, sys
path, bench, fig, value, unit, base, base_what, goal, met = sys.argv[1:10]
doc = {"benchmark": bench, "figures": []}
if os.path.exists(path):
    with open(path) as f:
        doc = json.load(f)
v = float(value)
b = float(base) if base else None
doc["figures"].append({
    "benchmark": bench, "figure": fig, "value": v, "unit": unit, "baseline": b,
    "baseline_what": base_what, "ratio": (b / v) if b is not None and v else None,
    "goal": goal or "—", "met": None if met == "" else met == "1"})
with open(path, "w") as f:
    json.dump(doc, f, indent=1)
PY
}
