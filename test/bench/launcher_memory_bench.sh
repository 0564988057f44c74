#!/usr/bin/env bash
# What a launcher costs a node in memory, as users pay it: USS (its private pages), PSS (its
# private pages plus its share of the pages it shares) and RSS (everything it maps, shared
# pages counted in full), from /proc/PID/smaps_rollup, with 1 VM and with N VMs running
# (N pods from hack/pod-sim, N launchers, the default guest, one masquerade NIC each,
# embedded libvirt driver). Goals (issue 18): at N = 10, USS <= 4 MiB and PSS <= 8 MiB per
# launcher. With one launcher its executable's pages are mapped by it alone, so they count
# in its USS; with N they are shared and split N ways in PSS. Medians over the launchers; figures recorded (test/bench/figures.sh); measured,
# never asserted. Needs root, a build (k6t-handler, k6t-launcher) and the guest.
#
#   test/bench/launcher_memory_bench.sh [N]      (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${K6T_BUILD_DIR:-$PWD/build}
N=${1:-10}
[ "$(id -u)" = 0 ] || { echo "launcher_memory_bench: needs root" >&2; exit 1; }
GUEST=${K6T_GUEST_DIR:-$BUILD/guest}
CAPS=$BUILD/qemu-caps
WORK=$(mktemp -d /tmp/k6tmb-XXXXXX)  # short: libvirt's monitor socket path lives below it
chmod 0711 "$WORK"  # QEMU runs as 107 and must reach the state dirs below
TAG=k6tmb$$
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for p in $(pgrep -f "$WORK/"); do kill -KILL "$p"; done
  for i in $(seq 1 "$N"); do
    [ -f "$WORK/$i.yaml" ] && "$BUILD/bin/k6t-handler" teardown --vmi "$WORK/$i.yaml" \
      --pod-netns "/run/netns/$TAG-$i" --state-dir "$WORK/$i/state" >/dev/null 2>&1
    ./hack/pod-sim del --name "$TAG-$i" >/dev/null 2>&1
  done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

vm_yaml() {
  cat <<YAML
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: mem$1, namespace: default}
spec:
  template:
    spec:
      domain:
        resources: {requests: {memory: 256Mi}}
        devices:
          interfaces: [{name: default, masquerade: {}}]
      networks: [{name: default, pod: {}}]
YAML
}

# start I: pod I, its plumbing, its launcher (PID in LPIDS[I]); waits for the guest's lease.
declare -A LPIDS
start() {
  local i=$1 pod=$TAG-$1
  vm_yaml "$i" >"$WORK/$i.yaml"
  mkdir -p "$WORK/$i"
  ./hack/pod-sim up --name "$pod" --vm "$WORK/$i.yaml" --state-dir "$WORK/$i/sim" >/dev/null
  "$BUILD/bin/k6t-handler" setup --vmi "$WORK/$i.yaml" --pod-netns "/run/netns/$pod" \
    --network-status "$WORK/$i/sim/network-status.json" --state-dir "$WORK/$i/state" >/dev/null
  ip netns exec "$pod" "$BUILD/bin/k6t-launcher" --vmi "$WORK/$i.yaml" --state-dir "$WORK/$i/state" \
    --guest-dir "$GUEST" --caps-cache "$CAPS" --socket "$WORK/$i/launcher.sock" \
    >"$WORK/$i/launcher.log" 2>&1 &
  LPIDS[$i]=$!
  PIDS+=("$!")
}
wait_up() {
  local i=$1
  for _ in $(seq 1 3000); do
    kill -0 "${LPIDS[$i]}" 2>/dev/null || break
    grep -q 'K6T-GUEST: iface eth0 up' "$WORK/$i/state/serial.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "launcher_memory_bench: VM $i did not come up" >&2; tail -n 20 "$WORK/$i/launcher.log" >&2
  return 1
}
# kib PID FIELD...: the sum of smaps_rollup fields, KiB.
kib() {
  local pid=$1; shift
  awk -v f=" $* " 'index(f, " " substr($1, 1, length($1) - 1) " ") {s += $2} END{print s}' \
    "/proc/$pid/smaps_rollup"
}
uss() { kib "$1" Private_Clean Private_Dirty; }
median_mib() { sort -n | awk '{a[NR]=$1} END{printf "%.2f", a[int((NR+1)/2)] / 1024}'; }
# measure: USS/PSS/RSS medians over the running launchers (after a settle).
measure() {
  sleep 3
  USS=$(for p in "${LPIDS[@]}"; do uss "$p"; done | median_mib)
  PSS=$(for p in "${LPIDS[@]}"; do kib "$p" Pss; done | median_mib)
  RSS=$(for p in "${LPIDS[@]}"; do kib "$p" Rss; done | median_mib)
}

./hack/build-guest.sh "$GUEST" >/dev/null
start 1; wait_up 1
measure
USS1=$USS PSS1=$PSS RSS1=$RSS
for i in $(seq 2 "$N"); do start "$i"; done
for i in $(seq 2 "$N"); do wait_up "$i"; done
measure
echo "k6t-launcher memory (embedded libvirt, default guest, 1 masquerade NIC), median per launcher:"
printf '  %-10s USS %6s MiB   PSS %6s MiB   RSS %6s MiB\n' "1 VM" "$USS1" "$PSS1" "$RSS1"
printf '  %-10s USS %6s MiB   PSS %6s MiB   RSS %6s MiB\n' "$N VMs" "$USS" "$PSS" "$RSS"
echo "  goals at 10 VMs: USS <= 4 MiB, PSS <= 8 MiB"

. "$(dirname "$0")/figures.sh"
le() { awk -v a="$1" -v b="$2" 'BEGIN{print (a <= b) ? 1 : 0}'; }
figure launcher_memory_bench "launcher USS, 1 VM on the machine" "$USS1" MiB "" "" "" ""
figure launcher_memory_bench "launcher PSS, 1 VM on the machine" "$PSS1" MiB "" "" "" ""
figure launcher_memory_bench "launcher RSS, 1 VM on the machine" "$RSS1" MiB "" "" "" ""
goal_met() { [ "$N" -ge 10 ] && le "$1" "$2" || echo ""; }
figure launcher_memory_bench "launcher USS, $N VMs on the machine (median)" "$USS" MiB "" "" \
  "<= 4 MiB at 10 VMs" "$(goal_met "$USS" 4)"
figure launcher_memory_bench "launcher PSS, $N VMs on the machine (median)" "$PSS" MiB "" "" \
  "<= 8 MiB at 10 VMs" "$(goal_met "$PSS" 8)"
figure launcher_memory_bench "launcher RSS, $N VMs on the machine (median)" "$RSS" MiB "" "" "" ""
