#!/usr/bin/env bash
# The whole `k6t-handler setup` process of a two-NIC pod (examples/quickstart.yaml:
# masquerade on the pod network + a bridge-bound Multus network; pod from hack/pod-sim, state
# dir on tmpfs) against the same plumbing done KubeVirt-style, one `ip`/`nft` process per
# operation (test/bench/baseline_commands.py translates `k6t-handler plan`'s operations, so
# the baseline does exactly what setup did), in the same run. Every iteration gets a fresh
# pod for each side; pod creation and removal are not timed. The baseline's commands run in a
# shell already inside the pod's netns (its own start not timed); k6t-handler's time is its
# whole run: exec, dynamic loading, decode, plan, apply, state written.
# Prints medians; records figures (test/bench/figures.sh); measured, never asserted.
# Needs root and a build (k6t-handler).
#
#   test/bench/handler_setup_bench.sh [ITERATIONS]      (default 15)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
BUILD=${K6T_BUILD_DIR:-$SRC/build}
N=${1:-15}
H=$BUILD/bin/k6t-handler
VM=$SRC/examples/quickstart.yaml
POD=k6thsb$$
W=$(mktemp -d /dev/shm/k6t-setup-bench-XXXXXX)
cleanup() {
  set +e
  "$SRC/hack/pod-sim" del --name "$POD" >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
[ -x "$H" ] || { echo "no $H (build k6t-handler first)" >&2; exit 1; }
. "$SRC/test/bench/figures.sh"

now_us() { local t=${EPOCHREALTIME/./}; printf -v "$1" '%s' "$t"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b - a) / 1000}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
pod_up() { "$SRC/hack/pod-sim" up --name "$POD" --vm "$VM" --state-dir "$W/sim" >/dev/null; }
pod_del() { "$SRC/hack/pod-sim" del --name "$POD" >/dev/null 2>&1; }
# The pod's links after setup, without addresses' lifetimes: both sides must agree.
links() { ip -n "$POD" -br link | awk '{print $1}' | sed 's/@.*//' | sort | tr '\n' ' '; }

k6t=() base=() processes=
for i in $(seq 1 "$N"); do
  pod_up
  rm -rf "$W/state"
  now_us t0
  "$H" setup --vmi "$VM" --pod-netns "/run/netns/$POD" --network-status "$W/sim/network-status.json" \
    --state-dir "$W/state" >/dev/null
  now_us t1
  k6t+=("$(ms "$t0" "$t1")")
  k6t_links=$(links)
  pod_del

  pod_up
  "$H" plan --vmi "$VM" --pod-netns "/run/netns/$POD" --network-status "$W/sim/network-status.json" \
    --output json >"$W/plan.json"
  python3 "$SRC/test/bench/baseline_commands.py" <"$W/plan.json" >"$W/baseline.sh"
  processes=$(sed -n 's/^# \([0-9]*\) processes$/\1/p' "$W/baseline.sh")
  read -r b0 b1 < <(ip netns exec "$POD" bash "$W/baseline.sh")
  base+=("$(ms "$b0" "$b1")")
  base_links=$(links)
  pod_del
  if [ "$k6t_links" != "$base_links" ]; then
    echo "the baseline built other links than k6t-handler setup:" >&2
    echo "  k6t:      $k6t_links" >&2
    echo "  baseline: $base_links" >&2
    exit 1
  fi
done

K=$(median "${k6t[@]}") B=$(median "${base[@]}")
echo "k6t-handler setup, two-NIC pod (masquerade + bridge), $N iterations, state on tmpfs:"
echo "  k6t-handler setup (whole process)        median $K ms   (all: ${k6t[*]})"
echo "  baseline: $processes ip/nft processes    median $B ms   (all: ${base[*]})"
R=$(awk -v b="$B" -v k="$K" 'BEGIN{printf "%.1f", b / k}')
echo "  ratio baseline/k6t $R x   (goals: <= 15 ms and >= 40x)"
met=$(awk -v b="$B" -v k="$K" 'BEGIN{print (k <= 15 && b / k >= 40) ? 1 : 0}')
figure handler_setup_bench "k6t-handler setup, two-NIC pod (masquerade + bridge), whole process (median)" \
  "$K" ms "$B" "one ip/nft process per operation ($processes)" "<= 15 ms and >= 40x" "$met"
