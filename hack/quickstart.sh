#!/usr/bin/env bash
# The main job, end to end on one machine: a throwaway pod built by the real CNI plugins
# (hack/pod-sim), the VM's networks set up by k6t-handler, k6t-launcher booting the default
# guest under libvirt + QEMU, and the pod's plumbing shown next to the guest's own view.
#
#   ./hack/quickstart.sh [VM.yaml]     default: examples/quickstart.yaml
#
# A VM with a containerDisk of k6t's Debian cloud guest (examples/debian-cloud-init.yaml) boots
# that image instead (hack/build-cloud-guest.sh, cached; the launcher finds it in the image store
# K6T_IMAGE_STORE, default /var/lib/k6t/images): its SSH key placeholder gets a key made for
# the run, and once SSH answers through the pod IP the command to log in is printed; on a
# terminal the VM runs until Enter. Under TCG its first boot takes minutes.
#
# Everything is removed on exit or Ctrl-C (K6T_QS_KEEP=1 keeps it).
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

# The Debian cloud guest when the VM's containerDisk names it; else the default guest.
CLOUD_IMAGE=$(python3 - "$VM" <<'EOF'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
vm = next(d for d in docs if d and d.get("kind") in ("VirtualMachine", "VirtualMachineInstance"))
spec = vm["spec"]["template"]["spec"] if vm["kind"] == "VirtualMachine" else vm["spec"]
images = [v["containerDisk"]["image"] for v in spec.get("volumes", []) if "containerDisk" in v]
print(next((i for i in images if "/debian12-cloud:" in i), ""))
EOF
)
LAUNCHER_FLAGS=(--guest-dir "$GUEST")
if [ -n "$CLOUD_IMAGE" ]; then
  phase "the Debian cloud guest $CLOUD_IMAGE (hack/build-cloud-guest.sh; cached after the first build)"
  eval "$(./hack/build-cloud-guest.sh)"
  # In the image store as an OCI layout (what `skopeo copy ... oci:DIR` leaves).
  STORE=${K6T_IMAGE_STORE:-/var/lib/k6t/images}
  mkdir -p "$STORE"
  ln -sfn "$K6T_CLOUD_GUEST_OCI_LAYOUT" "$STORE/debian12-cloud"
  LAUNCHER_FLAGS=(--image-store "$STORE")
  SSH_ID=()  # the VM names your own key: ssh uses your keys
  if grep -q 'REPLACE-WITH-YOUR-PUBLIC-KEY' "$VM"; then
    ssh-keygen -q -t ed25519 -N '' -C k6t-quickstart -f "$WORK/id_ed25519"
    sed "s|ssh-ed25519 REPLACE-WITH-YOUR-PUBLIC-KEY|$(cat "$WORK/id_ed25519.pub")|" "$VM" >"$WORK/vm.yaml"
    VM=$WORK/vm.yaml
    SSH_ID=(-i "$WORK/id_ed25519")
  fi
fi

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
# The cloud guest's networkData names its NICs as they boot: nothing is hot-plugged there.
last = ifaces[-1] if len(ifaces) > 1 and not spec.get("volumes") else None
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

phase "k6t-launcher in the pod (libvirt + QEMU, ${CLOUD_IMAGE:-default guest})"
ip netns exec "$POD" "$BUILD/bin/k6t-launcher" --vmi "$BOOT_VM" --state-dir "$WORK/state" \
  "${LAUNCHER_FLAGS[@]}" --socket "$WORK/launcher.sock" --log-level info >"$WORK/launcher.log" 2>&1 &
LAUNCHER_PID=$!
POD_IP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["ips"][0])' "$STATUS")

if [ -n "$CLOUD_IMAGE" ]; then
  # From the node, through the pod IP and the masquerade NAT (port 22 is declared).
  SSH=(ip netns exec "$POD-node" ssh "${SSH_ID[@]}" -o UserKnownHostsFile="$WORK/known_hosts"
    -o StrictHostKeyChecking=accept-new "debian@$POD_IP")
  echo "waiting for SSH on $POD_IP:22 (console log: $WORK/state/serial.log)"
  for _ in $(seq 1 1800); do
    "${SSH[@]}" -q -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR true 2>/dev/null && break
    kill -0 "$LAUNCHER_PID" 2>/dev/null || { cat "$WORK/launcher.log"; exit 1; }
    sleep 1
  done
  phase "the guest over SSH"
  "${SSH[@]}" -o BatchMode=yes 'cloud-init status --wait; hostname; ip -br addr; ip route; resolvectl dns eth0' ||
    { tail -40 "$WORK/state/serial.log"; exit 1; }
  echo "-- k6t-handler status:"
  for _ in $(seq 1 30); do  # the guest agent starts a little after sshd
    "$BUILD/bin/k6t-handler" status --launcher-socket "$WORK/launcher.sock" | grep -q guest-agent && break
    sleep 2
  done
  "$BUILD/bin/k6t-handler" status --launcher-socket "$WORK/launcher.sock"
  printf '\nLog in with:\n  %s\n' "${SSH[*]}"
  printf 'Serial console (^] leaves):\n  %s console --state-dir %s\n' "$BUILD/bin/k6t-handler" "$WORK/state"
  if [ -t 0 ] && [ -z "${K6T_QS_KEEP:-}" ]; then
    read -r -p $'\nPress Enter to stop the VM and clean up. ' _
  fi
  phase "done; cleaning up"
  exit 0
fi
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
