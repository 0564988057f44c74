#!/usr/bin/env bash
# NIC hotplug latency, host side: `k6t-handler sync` (GetDomain, pod link check, plumbing
# planned + applied + cached, AttachInterface RPC, libvirt attach) against `virsh
# attach-device --live` of the same device XML to the same private libvirtd, whose pod
# plumbing was prepared beforehand (not timed). Guest-visible time (sync call -> the
# guest's DHCP lease on the new NIC, read from its console) is reported separately.
# Prints p50/p99 and the ratio; measured, never asserted. Needs root, a build, the guest.
#
#   test/bench/hotplug_bench.sh [ITERATIONS]      (default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
BUILD=${K6T_BUILD_DIR:-$SRC/build}
N=${1:-10}
POD=k6thpb$$
. "$SRC/test/e2e/hotplug_lib.sh"
now_ms() { date +%s%3N; }
count() { local n; n=$(grep -c "$1" "$W/state/serial.log" 2>/dev/null) || true; echo "${n:-0}"; }
leases() { count 'K6T-GUEST: iface eth[0-9]* up'; }
gone() { count 'K6T-GUEST: iface gone'; }
seen() { count 'K6T-GUEST: iface eth[0-9]* new'; }
wait_count() {  # function, count-above
  for _ in $(seq 1 3000); do [ "$($1)" -gt "$2" ] && return 0; sleep 0.02; done
  echo "timed out waiting for the guest ($1)" >&2
  grep K6T-GUEST "$W/state/serial.log" | tail -5 >&2; tail -5 "$W/launcher.log" >&2; return 1
}
stats() {  # label, values... -> "label p50 p99 (n)"
  python3 - "$@" <<'EOF'
import sys
label, v = sys.argv[1], sorted(float(x) for x in sys.argv[2:])
q = lambda p: v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
print(f"{label:<46} p50 {q(0.5):8.1f} ms   p99 {q(0.99):8.1f} ms   (n={len(v)})")
EOF
}
p50() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

hp_boot --libvirt-uri private
"$SRC/hack/pod-sim" add-network --name "$POD" --vm "$FULL" --network blue >/dev/null
vm "$W/vm1.yaml" default blue
vm "$W/vm2.yaml" default blue:absent
for _ in $(seq 1 1200); do [ "$(leases)" -ge 1 ] && break; sleep 0.1; done
[ "$(leases)" -ge 1 ] || { echo "guest did not boot"; tail "$W/launcher.log"; exit 1; }
URI="qemu+unix:///system?socket=$W/state/libvirt/run/libvirt-sock"
DOM=default_hotplug
# The whole CLI call is timed; its own report ("sync: N change(s) in X ms") is the in-process
# SyncVmi() an embedder calling the library pays, without process start and VMI decode.
sync_vm() { sync "$1" | sed -n 's/^sync: .* in \([0-9.]*\) ms$/\1/p' >>"$W/syncvmi_ms.$2"; }

k6t=() guest=() unplug=() virsh_t=()
for i in $(seq 1 "$N"); do
  l=$(leases); g=$(gone)
  t0=$(now_ms); sync_vm "$W/vm1.yaml" plug; t1=$(now_ms)
  wait_count leases "$l"; t2=$(now_ms)
  k6t+=($((t1 - t0))); guest+=($((t2 - t0)))
  t0=$(now_ms); sync_vm "$W/vm2.yaml" unplug; t1=$(now_ms); unplug+=($((t1 - t0)))
  wait_count gone "$g"

  # Baseline: the same device through virsh, its plumbing made beforehand.
  "$H" setup --vmi "$W/vm1.yaml" --interface blue --pod-netns "/run/netns/$POD" \
    --network-status "$W/sim/network-status.json" --state-dir "$W/state" >/dev/null
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan"]["domain_xml"])' \
    "$W/state/interfaces/blue.json" | sed "s/<driver name='vhost'/<driver name='qemu'/" >"$W/blue.xml"
  # No DHCP server is behind a device virsh attaches: wait for the guest to see the NIC.
  s=$(seen); g=$(gone)
  t0=$(now_ms); virsh -q -c "$URI" attach-device "$DOM" "$W/blue.xml" --live >/dev/null; t1=$(now_ms)
  virsh_t+=($((t1 - t0)))
  wait_count seen "$s"
  virsh -q -c "$URI" detach-device-alias "$DOM" ua-blue --live >/dev/null
  wait_count gone "$g"
  "$H" teardown --vmi "$W/vm1.yaml" --interface blue --pod-netns "/run/netns/$POD" \
    --state-dir "$W/state" >/dev/null
done

echo "hotplug of one bridge NIC, $N iterations (TCG guest, private libvirtd):"
stats "k6t-handler sync (plumbing + attach)" "${k6t[@]}"
stats "virsh attach-device (attach only)" "${virsh_t[@]}"
stats "guest-visible: sync call -> DHCP lease" "${guest[@]}"
stats "k6t-handler sync unplug (detach + teardown)" "${unplug[@]}"
grep -o 'hotplug attach interface=blue .* ms=[0-9.]*' "$W/launcher.log" | sed 's/.*ms=//' >"$W/attach_ms"
stats "launcher AttachInterface (libvirt attach)" $(cat "$W/attach_ms")
stats "SyncVmi() in process (library call)" $(cat "$W/syncvmi_ms.plug")
own=$(paste -d' ' "$W/syncvmi_ms.plug" "$W/attach_ms" | awk '{printf "%.2f ", $1 - $2}')
stats "k6t's own work (SyncVmi - libvirt attach)" $own
echo "ratio virsh/k6t (p50, CLI vs CLI): $(python3 -c "print(f'{$(p50 "${virsh_t[@]}")/max(1,$(p50 "${k6t[@]}")):.2f}x')")"
echo "goal: k6t's own work p50 <= 10 ms, and the k6t-handler sync call faster than virsh"

. "$SRC/test/bench/figures.sh"
K=$(p50 "${k6t[@]}"); V=$(p50 "${virsh_t[@]}")
figure hotplug_bench "NIC hotplug, k6t-handler sync call -> attached (p50)" "$K" ms "$V" \
  "virsh attach-device --live, attach only" "faster than virsh" \
  "$([ "$K" -lt "$V" ] && echo 1 || echo 0)"
OWN=$(printf '%s\n' $own | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
figure hotplug_bench "NIC hotplug, k6t's own work: SyncVmi - libvirt attach (p50)" "$OWN" ms \
  "" "" "<= 10 ms" "$(python3 -c "print(1 if $OWN <= 10 else 0)")"
figure hotplug_bench "NIC hotplug, launcher AttachInterface (p50)" "$(p50 $(cat "$W/attach_ms" | cut -d. -f1))" ms \
  "" "" "" ""
figure hotplug_bench "NIC hotplug, guest-visible: sync call -> DHCP lease (p50)" "$(p50 "${guest[@]}")" ms \
  "" "" "reported, TCG guest" ""
figure hotplug_bench "NIC unplug, sync call -> detached + plumbing removed (p50)" "$(p50 "${unplug[@]}")" ms \
  "" "" "" ""
