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
# A complete build/ (a developer's) is reused; otherwise a build dir of just what runs here.
BUILD=${K6T_BUILD_DIR:-}
if [ -z "$BUILD" ]; then
  BUILD=$ROOT/build-quickstart
  [ -f "$ROOT/build/build.ninja" ] && [ -x "$ROOT/build/bin/k6t-launcher" ] && BUILD=$ROOT/build
fi
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
./hack/build-min.sh -B "$BUILD" k6t-handler k6t-launcher
./hack/build-guest.sh "$GUEST" >/dev/null

phase "validate $VM"
"$BUILD/bin/k6t-handler" validate "$VM"

# The VM boots without its last secondary interface when that one is a bridge-bound Multus
# network; it is hot-plugged once the guest runs, as a user adding a network live would.
HOTPLUG=$(python3 - "$VM" "$WORK/vm-boot.yaml" <<'EOF'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
vm = next(d for d in docs if d and d.get("kind") in ("VirtualMachine", "VirtualMachineInstance"))
spec = vm["spec"]["template"]["spec"] if vm["kind"] == "VirtualMachine" else vm["spec"]
ifaces, nets = spec["domain"]["devices"].get("interfaces", []), spec.get("networks", [])
last = ifaces[-1] if len(ifaces) > 1 else None
net = next((n for n in nets if last and n["name"] == last["name"]), None)
if last and "bridge" in last and net and "multus" in net:
    spec["domain"]["devices"]["interfaces"] = ifaces[:-1]
    spec["networks"] = [n for n in nets if n is not net]
    yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
    print(last["name"])
EOF
)
BOOT_VM=$VM
[ -n "$HOTPLUG" ] && BOOT_VM=$WORK/vm-boot.yaml

phase "pod $POD from the real CNI plugins (hack/pod-sim)"
./hack/pod-sim up --name "$POD" --vm "$BOOT_VM" --state-dir "$WORK/sim" >/dev/null
STATUS=$WORK/sim/network-status.json
ip -n "$POD" -br addr

phase "k6t-handler setup"
"$BUILD/bin/k6t-handler" setup --vmi "$BOOT_VM" --pod-netns "/run/netns/$POD" \
  --network-status "$STATUS" --state-dir "$WORK/state"
echo "-- the pod now (like a virt-launcher pod):"
ip -n "$POD" -br link
ip -n "$POD" -br addr

phase "k6t-launcher in the pod (libvirt + QEMU, default guest)"
ip netns exec "$POD" "$BUILD/bin/k6t-launcher" --vmi "$BOOT_VM" --state-dir "$WORK/state" \
  --guest-dir "$GUEST" --socket "$WORK/launcher.sock" --log-level info >"$WORK/launcher.log" 2>&1 &
LAUNCHER_PID=$!
# Up to 3 min: QEMU runs as uid 107, and where it cannot open /dev/kvm libvirt re-probes
# QEMU's capabilities at every start (see launcher/README.md), slow on a loaded TCG host.
for _ in $(seq 1 1800); do
  grep -q 'K6T-GUEST: iface eth0 up' "$WORK/state/serial.log" 2>/dev/null && break
  kill -0 "$LAUNCHER_PID" 2>/dev/null || { cat "$WORK/launcher.log"; exit 1; }
  sleep 0.1
done
grep 'K6T-GUEST' "$WORK/state/serial.log" || true

guest_view() {
  local out
  for _ in $(seq 1 50); do
    out=$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$POD-node" busybox nc -w 3 "$POD_IP" 8080 2>/dev/null || true)
    if [ -n "$out" ]; then
      echo "$out" | sed '1,/^\r\?$/d'; return
    fi
    sleep 0.2
  done
}

phase "the guest's own view (HTTP to the pod IP, through the masquerade NAT)"
POD_IP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["ips"][0])' "$STATUS")
guest_view
echo "-- k6t-handler status:"
"$BUILD/bin/k6t-handler" status --launcher-socket "$WORK/launcher.sock"

if [ -n "$HOTPLUG" ]; then
  phase "hot-plug $HOTPLUG: Multus adds the network to the live pod, k6t-handler sync plugs it"
  n=$(grep -c 'K6T-GUEST: iface eth[0-9]* up' "$WORK/state/serial.log" || true)
  ./hack/pod-sim add-network --name "$POD" --vm "$VM" --network "$HOTPLUG"
  "$BUILD/bin/k6t-handler" sync --vmi "$VM" --pod-netns "/run/netns/$POD" \
    --network-status "$STATUS" --state-dir "$WORK/state" --launcher-socket "$WORK/launcher.sock"
  for _ in $(seq 1 300); do
    [ "$(grep -c 'K6T-GUEST: iface eth[0-9]* up' "$WORK/state/serial.log")" -gt "$n" ] && break
    sleep 0.1
  done
  grep 'K6T-GUEST' "$WORK/state/serial.log" | tail -n 4 || true
  echo "-- the pod now:"
  ip -n "$POD" -br link
  echo "-- k6t-handler status:"
  "$BUILD/bin/k6t-handler" status --launcher-socket "$WORK/launcher.sock"
  echo "-- the guest's own view:"
  guest_view
fi

phase "done; cleaning up"
