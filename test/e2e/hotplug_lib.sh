# Sourced by test/e2e/hotplug_e2e.sh and test/bench/hotplug_bench.sh (set SRC, BUILD and POD
# first): a work dir W, the fixture VM, a pod from the real CNI plugins with only its
# masquerade interface set up, k6t-launcher with its command socket, and cleanup of all of
# it on exit (K6T_KEEP=1 keeps W).
GUEST=${K6T_GUEST_DIR:-/var/cache/k6t/guest}
H=$BUILD/bin/k6t-handler
W=$(mktemp -d "${K6T_WORK_ROOT:-/tmp}/k6t-$POD-XXXXXX")  # K6T_WORK_ROOT=/dev/shm: state on tmpfs
chmod 0711 "$W"  # QEMU runs as 107 and must reach the state dir below
FULL=$SRC/test/e2e/testdata/hotplug-vm.yaml
SOCK=$W/launcher.sock
LAUNCHER_PID=

hp_cleanup() {
  set +e
  [ -n "$LAUNCHER_PID" ] && kill -TERM "$LAUNCHER_PID" 2>/dev/null && wait "$LAUNCHER_PID"
  "$H" teardown --vmi "$FULL" --pod-netns "/run/netns/$POD" --state-dir "$W/state" >/dev/null 2>&1
  "$SRC/hack/pod-sim" del --name "$POD" >/dev/null 2>&1
  [ -n "${K6T_KEEP:-}" ] || rm -rf "$W"
}
trap hp_cleanup EXIT

# vm OUT NAME[:STATE]...: the fixture VM with only these interfaces.
vm() { python3 "$SRC/test/e2e/vm_variant.py" "$FULL" "$@"; }

# sync VM [FLAGS...]: k6t-handler sync of this pod; prints its output, returns its exit code.
sync() {
  "$H" sync --vmi "$1" --pod-netns "/run/netns/$POD" --state-dir "$W/state" \
    --network-status "$W/sim/network-status.json" --launcher-socket "$SOCK" "${@:2}"
}

# hp_boot [LAUNCHER FLAGS...]: the pod with the VM's masquerade interface set up, and the
# launcher started in it (LAUNCHER_PID; its log in $W/launcher.log).
hp_boot() {
  "$SRC/hack/build-guest.sh" "$GUEST" >/dev/null
  vm "$W/vm0.yaml" default
  "$SRC/hack/pod-sim" up --name "$POD" --vm "$W/vm0.yaml" --state-dir "$W/sim" >/dev/null
  "$H" setup --vmi "$W/vm0.yaml" --pod-netns "/run/netns/$POD" \
    --network-status "$W/sim/network-status.json" --state-dir "$W/state" >/dev/null
  ip netns exec "$POD" "$BUILD/bin/k6t-launcher" --vmi "$W/vm0.yaml" --state-dir "$W/state" \
    --guest-dir "$GUEST" --socket "$SOCK" "$@" >"$W/launcher.log" 2>&1 &
  LAUNCHER_PID=$!
}

# Assertions of the e2e scripts: ok/bad count, check runs a command as the assertion.
fail=0
passed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; fail=1; }
check() {  # description, command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

serial_has() {  # regex, seconds: the guest printed a matching line on its console
  local deadline=$(( $(date +%s) + ${2:-60} ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    grep -qE "$1" "$W/state/serial.log" 2>/dev/null && return 0
    kill -0 "$LAUNCHER_PID" 2>/dev/null || { echo "launcher died:"; tail -30 "$W/launcher.log"; return 1; }
    sleep 0.1
  done
  echo "serial log has no /$1/ after ${2:-60}s:"; grep K6T-GUEST "$W/state/serial.log" | tail -20
  return 1
}
