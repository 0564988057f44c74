#!/usr/bin/env bash
# Live migration, two pods on two simulated nodes (test/e2e/migration_lib.sh), the default
# guest moved back and forth over the dedicated migration link. Rounds alternate between
# `k6t-handler migrate` (prepare the target, migrate, follow, confirm) and `virsh migrate
# --live --p2p --persistent --undefinesource` of the same domain between the same two
# private libvirtds over the same link (its XML the source's migratable one with the target
# pod's paths), with a target launcher waiting in both cases. For
# each: the whole command's wall time, and the longest silence a peer pinging the guest's
# bridge-bound address every 10 ms saw. Prints p50s and ratios; measured, never asserted.
# Needs root, a build, the guest.
#
#   test/bench/migration_bench.sh [ROUNDS PER TOOL]      (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
export K6T_SOURCE_DIR=$PWD K6T_BUILD_DIR=${K6T_BUILD_DIR:-$PWD/build}
N=${1:-5}
. test/e2e/migration_lib.sh
command -v virsh >/dev/null || { echo "SKIP: no virsh (the baseline)"; exit 77; }
mig_pods_up
mig_boot --libvirt-uri private  # virsh reaches the source's libvirt too
declare -A MIG_IP=([$A]=10.10.0.1 [$B]=10.10.0.2)
sock_uri() { echo "qemu+unix:///system?socket=$WORK/$1/state/libvirt/run/libvirt-sock"; }
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
k6t_t=() k6t_gap=() virsh_t=() virsh_gap=()
from=$A to=$B
for i in $(seq 1 $((2 * N))); do
  target_up "$to"
  t0=$(now_ms)
  if [ $((i % 2)) = 1 ]; then
    with_pinger "$H" migrate --source-socket "$WORK/$from/launcher.sock" \
      --target-socket "$WORK/$to/launcher.sock" --migration-network mig0 ||
      { cat "$WORK/migrate.err"; exit 1; }
    k6t_t+=($(( $(now_ms) - t0 ))); k6t_gap+=("$(ping_gap_ms)")
  else
    # As a virsh user would: the migratable XML with the target pod's paths.
    virsh -c "$(sock_uri "$from")" dumpxml --migratable default_migrant |
      sed "s#$WORK/$from/#$WORK/$to/#g" >"$WORK/dest.xml"
    with_pinger virsh -c "$(sock_uri "$from")" migrate --live --p2p --persistent --undefinesource \
      --xml "$WORK/dest.xml" default_migrant "$(sock_uri "$to")" \
      --migrateuri "tcp://${MIG_IP[$to]}" || { cat "$WORK/migrate.err"; exit 1; }
    # virsh returns when libvirt's migration ends; the target resumes the guest before that.
    virsh_t+=($(( $(now_ms) - t0 ))); virsh_gap+=("$(ping_gap_ms)")
  fi
  reap "$from"
  [ "$RC" = 9 ] || { echo "round $i: the source launcher exited $RC"; exit 1; }
  echo "round $i ($([ $((i % 2)) = 1 ] && echo k6t || echo virsh)): $(tail -1 "$WORK/ping.out")"
  tmp=$from; from=$to; to=$tmp
done

p50() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
KT=$(p50 "${k6t_t[@]}") VT=$(p50 "${virsh_t[@]}") KG=$(p50 "${k6t_gap[@]}") VG=$(p50 "${virsh_gap[@]}")
echo "migration wall time p50: k6t-handler migrate $KT ms, virsh migrate $VT ms ($(python3 -c "print(f'{$KT/$VT:.2f}')")x; goal <= 1.1x)"
echo "longest ping silence p50: k6t $KG ms, virsh $VG ms (goal <= 300 ms)"
. test/bench/figures.sh
le() { awk -v a="$1" -v b="$2" 'BEGIN{print (a <= b) ? 1 : 0}'; }
figure migration_bench "live migration, k6t-handler migrate wall time (p50)" "$KT" ms "$VT" \
  "virsh migrate --live --p2p, same domain and libvirts" "<= 1.1x virsh" "$(le "$KT" "$(python3 -c "print($VT*1.1)")")"
figure migration_bench "live migration, longest 10 ms-ping silence on the bridge-bound NIC (p50)" \
  "$KG" ms "$VG" "the same under virsh migrate" "<= 300 ms" "$(le "$KG" 300)"
