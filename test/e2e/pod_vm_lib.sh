# Sourced by the pod-level e2e scripts: a pod from the real CNI plugins (hack/pod-sim),
# k6t-handler setup, k6t-launcher in the pod netns with the default guest, and cleanup of
# all of it on exit. Sets POD, WORK, STATE, VM, LAUNCHER_PID; `ok`/`bad` tally the checks.
set -euo pipefail
cd "${K6T_SOURCE_DIR:?}"
BUILD=${K6T_BUILD_DIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
POD=${POD:-k6te$$}
WORK=$(mktemp -d /tmp/k6t-e2e-pod-XXXXXX)
chmod 0711 "$WORK"  # QEMU runs as 107 and must reach $STATE
GUEST=${K6T_GUEST_DIR:-$BUILD/guest}
STATE=$WORK/state
VM=
LAUNCHER_PID=
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

pod_vm_cleanup() {
  set +e
  if [ -n "$LAUNCHER_PID" ] && kill -0 "$LAUNCHER_PID" 2>/dev/null; then
    kill -KILL "$LAUNCHER_PID"; wait "$LAUNCHER_PID" 2>/dev/null
  fi
  # QEMU names the serial log of this state dir; passt names its log there.
  for p in $(pgrep -f "$STATE/"); do kill -KILL "$p"; done
  [ -n "$VM" ] && "$BUILD/bin/k6t-handler" teardown --vmi "$VM" --pod-netns "/run/netns/$POD" \
    --state-dir "$STATE" >/dev/null 2>&1
  ./hack/pod-sim del --name "$POD" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap pod_vm_cleanup EXIT

# pod_up VM.yaml [pod-sim up options]: the pod, then k6t-handler setup.
pod_up() {
  VM=$1; shift
  ./hack/build-guest.sh "$GUEST" >/dev/null
  ./hack/pod-sim up --name "$POD" --vm "$VM" --state-dir "$WORK/sim" "$@" >/dev/null
  "$BUILD/bin/k6t-handler" setup --vmi "$VM" --pod-netns "/run/netns/$POD" \
    --network-status "$WORK/sim/network-status.json" --state-dir "$STATE" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log"; echo "FAIL: k6t-handler setup"; exit 1; }
}

# pod_ip [N]: the pod's Nth address on its default network (0: IPv4, 1: IPv6 when dual stack).
pod_ip() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["ips"][int(sys.argv[2])])' \
    "$WORK/sim/network-status.json" "${1:-0}"
}

# launcher_start: k6t-launcher in the pod netns (its log appended to $WORK/launcher.log).
launcher_start() {  # [extra launcher flags...]
  ip netns exec "$POD" "$BUILD/bin/k6t-launcher" --vmi "$VM" --state-dir "$STATE" \
    --guest-dir "$GUEST" --caps-cache "$BUILD/qemu-caps" --log-level info "$@" \
    >>"$WORK/launcher.log" 2>&1 &
  LAUNCHER_PID=$!
}

# launcher_up: launcher_start, then waits until the guest's eth0 is up.
launcher_up() {
  launcher_start
  wait_serial 'K6T-GUEST: iface eth0 up'
}

# wait_serial ERE [tenths of a second]: until the guest's console shows ERE (or the launcher dies).
wait_serial() {
  for _ in $(seq 1 "${2:-1200}"); do
    grep -qE "$1" "$STATE/serial.log" 2>/dev/null && return 0
    kill -0 "$LAUNCHER_PID" 2>/dev/null || { cat "$WORK/launcher.log"; echo "FAIL: launcher died"; exit 1; }
    sleep 0.1
  done
  return 1
}

# fetch NETNS HOST PORT: the guest's page over HTTP from NETNS (retried for 10 s).
fetch() {
  local out
  for _ in $(seq 1 40); do
    out=$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$1" busybox nc -w 3 "$2" "$3" 2>/dev/null || true)
    if [ -n "$out" ]; then echo "$out"; return 0; fi
    sleep 0.25
  done
  return 1
}

# launcher_down: SIGTERM; the launcher must exit 0 and leave no QEMU/passt of this state dir.
launcher_down() {
  kill -TERM "$LAUNCHER_PID"
  local rc=0
  wait "$LAUNCHER_PID" || rc=$?
  LAUNCHER_PID=
  [ "$rc" = 0 ] && ok "launcher exited 0 on SIGTERM" || bad "launcher exited $rc on SIGTERM"
  for _ in $(seq 1 50); do pgrep -f "$STATE/" >/dev/null || break; sleep 0.1; done
  pgrep -f "$STATE/" >/dev/null && bad "processes of $STATE left running" || ok "no QEMU/passt left"
}

pod_vm_result() {
  [ "$fail" = 0 ] || { echo "--- serial"; cat "$STATE/serial.log"; echo "--- launcher log"; cat "$WORK/launcher.log"; }
  [ "$fail" = 0 ] && echo "1 passed, 0 failed" || { echo "0 passed, 1 failed"; exit 1; }
}
