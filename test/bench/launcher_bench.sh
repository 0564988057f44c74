#!/usr/bin/env bash
# k6t-launcher against its goals (issue 5, "Benchmarks"), measured in one run:
#  1. launch: launcher start -> guest lease obtained (the guest's "iface eth0 up" line on the
#     serial console), against raw qemu-system-x86_64 booting the same guest (same kernel,
#     initrd, cmdline, memory, vCPU, accelerator) on the same pre-made tap, its lease served
#     by `k6t-launcher --network-only` (the same DHCP server, started before the clock). The
#     QEMU capabilities cache is warmed by one untimed launcher run. Goal: ratio <= 1.3x.
#  2. memory: steady RSS with 4 NICs (masquerade + 3 bridge) of the launcher alone (embedded
#     driver, the default; libvirt lives inside it) and of the launcher + its private
#     libvirtd (--libvirt-uri=private). Goals: launcher <= 15 MiB; all <= 40 MiB (KubeVirt's
#     budget for the same processes: 100 Mi + 25 Mi + 40 Mi + 25 Mi = 190 Mi).
#
#   test/bench/launcher_bench.sh [REPS]      (root; REPS default 3; K6T_BUILD_DIR default build)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${K6T_BUILD_DIR:-$PWD/build}
REPS=${1:-3}
[ "$(id -u)" = 0 ] || { echo "launcher_bench: needs root" >&2; exit 1; }
GUEST=${K6T_GUEST_DIR:-$BUILD/guest}
CAPS=$BUILD/qemu-caps
WORK=$(mktemp -d /tmp/k6tlb-XXXXXX)  # short: libvirt's monitor socket path lives below it
chmod 0711 "$WORK"  # QEMU runs as 107 and must reach the state dirs below
POD1=k6tlb1$$; POD4=k6tlb4$$
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in $(pgrep -f "$WORK/"); do kill -KILL "$p"; done
  for pod in $POD1 $POD4; do
    [ -f "$WORK/$pod.yaml" ] && "$BUILD/bin/k6t-handler" teardown --vmi "$WORK/$pod.yaml" \
      --pod-netns "/run/netns/$pod" --state-dir "$WORK/$pod/state" >/dev/null 2>&1
    ./hack/pod-sim del --name "$pod" >/dev/null 2>&1
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

# vm_yaml NAME NICS: a VM of the default guest with eth0 masquerade and NICS-1 bridge NICs.
vm_yaml() {
  local nets="" ifs="" nads="" i
  for i in $(seq 1 $(($2 - 1))); do
    ifs+=$'\n'"            - name: n$i"$'\n'"              bridge: {}"
    nets+=$'\n'"        - name: n$i"$'\n'"          multus:"$'\n'"            networkName: net$i"
    nads+="---
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: net$i
  namespace: default
spec:
  config: '{\"cniVersion\": \"0.3.1\", \"name\": \"net$i\", \"type\": \"bridge\", \"bridge\": \"br-n$i\", \"ipam\": {\"type\": \"host-local\", \"subnet\": \"192.168.$((100 + i)).0/24\"}}'
"
  done
  cat <<YAML
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: $1
  namespace: default
spec:
  template:
    spec:
      domain:
        cpu:
          cores: 1
        resources:
          requests:
            memory: 256Mi
        devices:
          interfaces:
            - name: default
              masquerade: {}$ifs
      networks:
        - name: default
          pod: {}$nets
$nads
YAML
}

# pod POD NICS VMNAME: pod-sim pod + k6t-handler setup.
pod() {
  vm_yaml "$3" "$2" >"$WORK/$1.yaml"
  mkdir -p "$WORK/$1"
  ./hack/pod-sim up --name "$1" --vm "$WORK/$1.yaml" --state-dir "$WORK/$1/sim" >/dev/null
  "$BUILD/bin/k6t-handler" setup --vmi "$WORK/$1.yaml" --pod-netns "/run/netns/$1" \
    --network-status "$WORK/$1/sim/network-status.json" --state-dir "$WORK/$1/state" >/dev/null
}

# wait_up FILE N PID: until N NICs reported a lease on the console in FILE (60 s at most),
# while PID lives.
wait_up() {
  for _ in $(seq 1 6000); do
    kill -0 "$3" 2>/dev/null || break
    [ "$(cat "$1" 2>/dev/null | grep -c 'K6T-GUEST: iface eth[0-9]* up')" -ge "$2" ] && return 0
    sleep 0.01
  done
  echo "launcher_bench: no lease on $1" >&2; tail -n 20 "$1" "$WORK"/*/launcher.log >&2
  return 1
}

# launcher POD [ARGS...]: starts k6t-launcher in the pod; sets LPID.
launcher() {
  local p=$1; shift
  rm -f "$WORK/$p/state/serial.log"
  ip netns exec "$p" "$BUILD/bin/k6t-launcher" --vmi "$WORK/$p.yaml" --state-dir "$WORK/$p/state" \
    --guest-dir "$GUEST" --caps-cache "$CAPS" --log-level info "$@" >>"$WORK/$p/launcher.log" 2>&1 &
  LPID=$!; PIDS+=("$LPID")
}
stop_launcher() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }

rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k / 1024}'; }
# "(anon A + file F, N threads)": VmRSS is RssAnon + RssFile (+ RssShmem, 0 here). The file
# part is the shared libraries' resident pages (libvirt.so and its ~55 libraries alone are
# ~14 MiB); each process counts them in full, even when they share the same pages.
rss_split() {
  awk '/^RssAnon/{a=$2} /^RssFile/{f=$2} /^Threads/{t=$2}
       END{printf "(anon %.1f + file %.1f, %d threads)", a / 1024, f / 1024, t}' "/proc/$1/status"
}

./hack/build-guest.sh "$GUEST" >/dev/null
echo "== launch: launcher start -> guest lease, vs raw QEMU on a pre-made tap ($REPS reps, TCG)"
pod "$POD1" 1 lb1
S=$WORK/$POD1/state
MAC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan"]["mac"])' "$S/interfaces/default.json")
launcher "$POD1"; wait_up "$S/serial.log" 1 "$LPID"   # warms the caps cache
# The domain's PCIe root ports (the hotplug policy), for the second baseline.
PORTS=$(tr '\0' '\n' <"/proc/$(pgrep -f "$S/" | head -1)/cmdline" | grep -c 'pcie-root-port' || true)
stop_launcher "$LPID"

# raw_qemu PORTS: QEMU as libvirt would run the guest (no libvirt), on the pre-made tap0, with
# PORTS root ports (the NIC on the first) or none (the NIC on pcie.0); its time to the lease.
raw_qemu() {
  local dev=() bus="" i
  for i in $(seq 1 "$1"); do dev+=(-device "pcie-root-port,id=rp$i,chassis=$i"); done
  [ "$1" -gt 0 ] && bus=",bus=rp1"
  rm -f "$WORK/raw-serial.log"
  local t0; t0=$(now)
  ip netns exec "$POD1" /usr/bin/qemu-system-x86_64 -name raw -machine q35 \
    -accel tcg -cpu max -m 256 -smp 1 -nodefaults -no-user-config -display none \
    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.cpio.gz" -append "console=ttyS0 panic=-1 quiet" \
    -serial "file:$WORK/raw-serial.log" "${dev[@]}" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
    -device "virtio-net-pci-non-transitional,netdev=n0,mac=$MAC,romfile=$bus" >/dev/null 2>&1 &
  QPID=$!; PIDS+=("$QPID")
  wait_up "$WORK/raw-serial.log" 1 "$QPID"
  RAW_MS=$(ms "$t0" "$(now)")
  kill -KILL "$QPID"; wait "$QPID" 2>/dev/null || true
}

L=(); R=(); P=()
for rep in $(seq 1 "$REPS"); do
  t0=$(now); launcher "$POD1"; wait_up "$S/serial.log" 1 "$LPID"; t1=$(now); stop_launcher "$LPID"
  L+=("$(ms "$t0" "$t1")")
  # Where the launcher's time goes: up to a running domain, then the guest under libvirt.
  RUN=$(grep -o 'running ([^ ]* since launcher start' "$WORK/$POD1/launcher.log" | tail -1 | sed 's/running (//; s/ since.*//')
  DEF=$(grep -o 'phase define[^:]*: [^ ]*' "$WORK/$POD1/launcher.log" | tail -1 | sed 's/.*: //')
  RUN="$RUN; define $DEF"
  # Baselines: the same DHCP server, up before the clock starts.
  ip netns exec "$POD1" "$BUILD/bin/k6t-launcher" --network-only --state-dir "$S" --log-level warn \
    >>"$WORK/$POD1/dhcp.log" 2>&1 &
  DPID=$!; PIDS+=("$DPID"); sleep 0.5
  raw_qemu 0; R+=("$RAW_MS")
  raw_qemu "$PORTS"; P+=("$RAW_MS")
  kill -TERM "$DPID"; wait "$DPID" 2>/dev/null || true
  echo "  rep $rep: launcher ${L[-1]} ms (domain running after $RUN), raw QEMU ${R[-1]} ms, raw QEMU + $PORTS root ports ${P[-1]} ms"
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
LM=$(med "${L[@]}"); RM=$(med "${R[@]}"); PM=$(med "${P[@]}")
RATIO=$(awk -v a="$LM" -v b="$RM" 'BEGIN{printf "%.2f", a / b}')
PRATIO=$(awk -v a="$LM" -v b="$PM" 'BEGIN{printf "%.2f", a / b}')
echo "launch p50: launcher $LM ms, raw QEMU $RM ms -> ${RATIO}x (goal <= 1.3x: $(awk -v r="$RATIO" 'BEGIN{print (r <= 1.3) ? "met" : "NOT met"}'))"
echo "            against raw QEMU with the domain's $PORTS root ports ($PM ms): ${PRATIO}x"

echo "== memory: steady RSS with 4 NICs"
pod "$POD4" 4 lb4
S4=$WORK/$POD4/state
launcher "$POD4"; wait_up "$S4/serial.log" 4 "$LPID"; sleep 3
EMB=$(rss_kib "$LPID"); EMB_SPLIT=$(rss_split "$LPID"); stop_launcher "$LPID"
launcher "$POD4" --libvirt-uri=private; wait_up "$S4/serial.log" 4 "$LPID"; sleep 3
PL=$(rss_kib "$LPID"); PD=$(rss_kib "$(cat "$S4/libvirt/run/libvirtd.pid")")
PL_SPLIT=$(rss_split "$LPID"); PD_SPLIT=$(rss_split "$(cat "$S4/libvirt/run/libvirtd.pid")")
stop_launcher "$LPID"
verdict() { awk -v v="$1" -v g="$2" 'BEGIN{print (v <= g * 1024) ? "met" : "NOT met"}'; }
printf '%-44s %8s MiB   goal <= 15 MiB: %s %s\n' "launcher, embedded driver (default)" "$(mib "$EMB")" "$(verdict "$EMB" 15)" "$EMB_SPLIT"
printf '%-44s %8s MiB   goal <= 40 MiB: %s\n' "  = all management processes (one)" "$(mib "$EMB")" "$(verdict "$EMB" 40)"
printf '%-44s %8s MiB   goal <= 15 MiB: %s %s\n' "launcher, --libvirt-uri=private" "$(mib "$PL")" "$(verdict "$PL" 15)" "$PL_SPLIT"
printf '%-44s %8s MiB   %s\n' "  its private libvirtd" "$(mib "$PD")" "$PD_SPLIT"
printf '%-44s %8s MiB   goal <= 40 MiB: %s\n' "  launcher + libvirtd" "$(mib $((PL + PD)))" "$(verdict $((PL + PD)) 40)"
echo "KubeVirt's per-VM budget for the same processes: 190 MiB (launcher 100 + monitor 25 + virtqemud 40 + virtlogd 25)"

. "$(dirname "$0")/figures.sh"
met() { [ "$(verdict "$1" "$2")" = met ] && echo 1 || echo 0; }
figure launcher_bench "launcher start -> guest lease (p50)" "$LM" ms "$RM" \
  "raw qemu-system-x86_64, pre-made tap" "<= 1.3x raw QEMU" \
  "$(awk -v r="$RATIO" 'BEGIN{print (r <= 1.3) ? 1 : 0}')"
figure launcher_bench "RSS, launcher with embedded libvirt, 4 NICs" "$(mib "$EMB")" MiB "" "" "<= 15 MiB" "$(met "$EMB" 15)"
figure launcher_bench "RSS, all per-VM management processes (embedded)" "$(mib "$EMB")" MiB 190 \
  "KubeVirt's per-VM budget" "<= 40 MiB" "$(met "$EMB" 40)"
figure launcher_bench "RSS, launcher + private libvirtd, 4 NICs" "$(mib $((PL + PD)))" MiB 190 \
  "KubeVirt's per-VM budget" "<= 40 MiB" "$(met $((PL + PD)) 40)"
