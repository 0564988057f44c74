#!/usr/bin/env bash
# The main job, end to end on one machine: a throwaway pod built by the real CNI plugins
# (hack/pod-sim), the VM's networks set up by k6t-handler, k6t-launcher booting the default
# guest under libvirt + QEMU, and the pod's plumbing shown next to the guest's own view.
#
#   ./hack/quickstart.sh [VM.yaml]     default: examples/quickstart.yaml
#
# Everything is removed on exit or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VM=${1:-examples/quickstart.yaml}
POD=${K6T_QS_POD:-k6tqs$$}
WORK=$(mktemp -d /tmp/k6t-quickstart-XXXXXX)
chmod 0711 "$WORK"  # QEMU runs as uid 107 and must reach $WORK/state
BUILD=${K6T_BUILD_DIR:-$ROOT/build}
GUEST=${K6T_GUEST_DIR:-/var/cache/k6t/guest}
LAUNCHER_PID=
T0=$(date +%s%N)
phase() {
  local ms=$(( ($(date +%s%N) - T0) / 1000000 ))
  printf '\n== %s  (+%d.%03ds)\n' "$*" $((ms / 1000)) $((ms % 1000))
}

cleanup() {
  set +e
  if [ -n "$LAUNCHER_PID" ] && kill -0 "$LAUNCHER_PID" 2>/dev/null; then
    kill -TERM "$LAUNCHER_PID"; wait "$LAUNCHER_PID" 2>/dev/null
  fi
  "$BUILD/bin/k6t-handler" teardown --vmi "$VM" --pod-netns "/run/netns/$POD" \
    --state-dir "$WORK/state" >/dev/null 2>&1
  ./hack/pod-sim del --name "$POD" >/dev/null 2>&1
  rm -rf "$WORK"
}
[ -n "${K6T_QS_KEEP:-}" ] || trap cleanup EXIT INT TERM

phase "dependencies and build"
./hack/install-deps.sh
[ -x "$BUILD/bin/k6t-launcher" ] || { cmake -S . -B "$BUILD" -G Ninja >/dev/null && cmake --build "$BUILD"; }
./hack/build-guest.sh "$GUEST" >/dev/null

phase "validate $VM"
"$BUILD/bin/k6t-handler" validate "$VM"

phase "pod $POD from the real CNI plugins (hack/pod-sim)"
./hack/pod-sim up --name "$POD" --vm "$VM" --state-dir "$WORK/sim" >/dev/null
STATUS=$WORK/sim/network-status.json
ip -n "$POD" -br addr

phase "k6t-handler setup"
"$BUILD/bin/k6t-handler" setup --vmi "$VM" --pod-netns "/run/netns/$POD" \
  --network-status "$STATUS" --state-dir "$WORK/state"
echo "-- the pod now (like a virt-launcher pod):"
ip -n "$POD" -br link
ip -n "$POD" -br addr

phase "k6t-launcher in the pod (libvirt + QEMU, default guest)"
ip netns exec "$POD" "$BUILD/bin/k6t-launcher" --vmi "$VM" --state-dir "$WORK/state" \
  --guest-dir "$GUEST" --log-level info >"$WORK/launcher.log" 2>&1 &
LAUNCHER_PID=$!
# Up to 3 min: QEMU runs as uid 107, and where it cannot open /dev/kvm libvirt re-probes
# QEMU's capabilities at every start (see launcher/README.md), slow on a loaded TCG host.
for _ in $(seq 1 1800); do
  grep -q 'K6T-GUEST: iface eth0 up' "$WORK/state/serial.log" 2>/dev/null && break
  kill -0 "$LAUNCHER_PID" 2>/dev/null || { cat "$WORK/launcher.log"; exit 1; }
  sleep 0.1
done
grep 'K6T-GUEST' "$WORK/state/serial.log" || true

phase "the guest's own view (HTTP to the pod IP, through the masquerade NAT)"
POD_IP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["ips"][0])' "$STATUS")
for _ in $(seq 1 50); do
  out=$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$POD-node" busybox nc -w 3 "$POD_IP" 8080 2>/dev/null || true)
  if [ -n "$out" ]; then
    echo "$out" | sed '1,/^\r\?$/d'; break
  fi
  sleep 0.2
done

phase "done; cleaning up"
