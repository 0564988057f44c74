#!/usr/bin/env bash
# Live migration between two pods on two simulated nodes (issue 17): pod A runs the VM
# (masquerade + a bridge-bound secondary "blue"), pod B has its networks set up and a launcher
# waiting with --incoming; `k6t-handler migrate` moves the VM over a dedicated migration
# network (a link in both pods). A peer on blue pings the guest every 10 ms throughout: the
# guest keeps its address and answers on the target, the longest silence is recorded; the
# masquerade port answers on the target pod's IP; the source launcher exits 9 (migrated); the
# source pod's teardown leaves no k6t link. Then the VM goes back (ping-pong) and a migration
# to a target that is not waiting is refused with nothing moved.
set -euo pipefail
cd "${K6T_SOURCE_DIR:?}"
BUILD=${K6T_BUILD_DIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
H=$BUILD/bin/k6t-handler
L=$BUILD/bin/k6t-launcher
GUEST=${K6T_GUEST_DIR:-$BUILD/guest}
VM=$PWD/test/e2e/testdata/migration-vm.yaml
A=k6tma$$ B=k6tmb$$
WORK=$(mktemp -d /tmp/k6t-e2e-mig-XXXXXX)
chmod 0711 "$WORK"
declare -A PID=()
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

cleanup() {
  set +e
  for pod in $A $B; do kill_pod "$pod"; done
  for pod in $A $B; do
    "$H" teardown --vmi "$VM" --pod-netns "/run/netns/$pod" --state-dir "$WORK/$pod/state" >/dev/null 2>&1
    ./hack/pod-sim del --name "$pod" >/dev/null 2>&1
  done
  [ -n "${K6T_E2E_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

./hack/build-guest.sh "$GUEST" >/dev/null
for pod in $A $B; do
  mkdir -p "$WORK/$pod"
  ./hack/pod-sim up --name "$pod" --vm "$VM" --state-dir "$WORK/$pod/sim" >/dev/null
  "$H" setup --vmi "$VM" --pod-netns "/run/netns/$pod" \
    --network-status "$WORK/$pod/sim/network-status.json" --state-dir "$WORK/$pod/state" \
    >"$WORK/$pod/setup.log" 2>&1 || { cat "$WORK/$pod/setup.log"; echo "FAIL: setup in $pod"; exit 1; }
done
# blue is one L2 segment across the two nodes; the migration network a link in both pods.
ip link add mgA netns "$A-node" type veth peer name mgB netns "$B-node"
ip -n "$A-node" link set mgA master br-blue up
ip -n "$B-node" link set mgB master br-blue up
ip link add mig0 netns "$A" type veth peer name mig0 netns "$B"
ip -n "$A" addr add 10.10.0.1/24 dev mig0 && ip -n "$A" link set mig0 up
ip -n "$B" addr add 10.10.0.2/24 dev mig0 && ip -n "$B" link set mig0 up

launcher() {  # pod, extra flags...
  local pod=$1; shift
  ip netns exec "$pod" "$L" --vmi "$VM" --state-dir "$WORK/$pod/state" --guest-dir "$GUEST" \
    --caps-cache "$BUILD/qemu-caps" --socket "$WORK/$pod/launcher.sock" "$@" \
    >>"$WORK/$pod/launcher.log" 2>&1 &
  PID[$pod]=$!
}
wait_for() {  # seconds, command...
  local deadline=$(( $(date +%s) + $1 )); shift
  while [ "$(date +%s)" -lt "$deadline" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
RC=
reap() {  # pod: RC = its launcher's exit code once it ended (waits up to 30 s), else "running"
  RC=running
  wait_for 30 bash -c "! kill -0 ${PID[$1]}" || return 0
  RC=0
  wait "${PID[$1]}" || RC=$?
  unset "PID[$1]"
}
fetch() {  # netns host port: the guest's page (a whole answer: no early close of the pipe)
  local out
  out=$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$1" busybox nc -w 3 "$2" "$3" 2>/dev/null || true)
  [ -n "$out" ]
}

launcher "$A"
wait_for 180 grep -qE 'K6T-GUEST: iface eth1 up .*ipv4=192\.168\.150\.' "$WORK/$A/state/serial.log" ||
  { cat "$WORK/$A/launcher.log"; echo "FAIL: the guest did not get its blue address"; exit 1; }
GIP=$(grep -oE 'K6T-GUEST: iface eth1 up .*ipv4=192\.168\.150\.[0-9]+' "$WORK/$A/state/serial.log" |
  head -1 | grep -oE '192\.168\.150\.[0-9]+')
ok "guest up on pod $A, blue address $GIP"
PEER=$(./hack/pod-sim peer --name "$A" --network blue --ip 192.168.150.200/24)
wait_for 20 fetch "$PEER" "$GIP" 8080 && ok "peer reaches the guest on blue" || bad "peer reaches the guest on blue"

migrate() {  # from, to, [network link, "-": none]: k6t-handler migrate with a 10 ms pinger
  local from=$1 to=$2 stop=$WORK/stop-ping rc=0 net=()
  [ "${3:-mig0}" = - ] || net=(--migration-network "${3:-mig0}")
  rm -f "$stop"
  ip netns exec "$PEER" python3 test/e2e/icmp_gap.py "$GIP" 0.01 "$stop" >"$WORK/ping.out" &
  local pinger=$!
  sleep 1
  "$H" migrate --source-socket "$WORK/$from/launcher.sock" --target-socket "$WORK/$to/launcher.sock" \
    ${net[@]+"${net[@]}"} --timeout 120 >"$WORK/migrate.out" 2>"$WORK/migrate.err" || rc=$?
  sleep 1
  touch "$stop"; wait "$pinger"
  cat "$WORK/migrate.out" "$WORK/migrate.err"
  echo "ping: $(cat "$WORK/ping.out")"
  return "$rc"
}

echo "== migrate $A -> $B"
launcher "$B" --incoming --incoming-timeout 120
wait_for 60 test -S "$WORK/$B/launcher.sock" || { cat "$WORK/$B/launcher.log"; echo "FAIL: target launcher"; exit 1; }
migrate "$A" "$B" && ok "k6t-handler migrate exited 0" || bad "k6t-handler migrate exited non-zero"
gap=$(grep -oE 'max_gap_ms=[0-9]+' "$WORK/ping.out" | cut -d= -f2)
echo "K6T-FIGURE migration_ping_gap_ms $gap"
[ -n "$gap" ] && [ "$gap" -lt 10000 ] && ok "guest answered again after the switch (longest silence ${gap} ms)" ||
  bad "guest silent for ${gap:-?} ms"
reap "$A"
[ "$RC" = 9 ] && ok "source launcher exited 9 (migrated)" || { bad "source launcher exited $RC"; cat "$WORK/$A/launcher.log"; }
"$H" status --launcher-socket "$WORK/$B/launcher.sock" | tee "$WORK/status.out"
grep -q '^phase: running' "$WORK/status.out" && ok "target reports the VM running" || bad "target status"
wait_for 20 fetch "$PEER" "$GIP" 8080 && ok "peer reaches the guest on blue, now in pod $B" || bad "blue after migration"
BIP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["ips"][0].split("/")[0])' \
  "$WORK/$B/sim/network-status.json")
if wait_for 20 fetch "$B-node" "$BIP" 8080; then
  ok "masquerade port 8080 answers on target pod IP $BIP"
else
  bad "masquerade on the target pod IP"
  ip netns exec "$B" nft list ruleset; ip -n "$B" neigh; ip -n "$B" -br addr; ip -n "$B" route
  fetch "$B" 10.0.2.2 8080 && echo "(the guest answers from inside the pod)"
  grep -E 'K6T-GUEST' "$WORK/$A/state/serial.log" | tail -5
fi
"$H" teardown --vmi "$VM" --pod-netns "/run/netns/$A" --state-dir "$WORK/$A/state" >/dev/null
left=$(ip -n "$A" -o link | awk -F': ' '{print $2}' | grep -cE '^(k6t|tap)' || true)
[ "$left" = 0 ] && ok "source pod has no k6t link left" || { bad "source pod keeps $left k6t links"; ip -n "$A" -o link; }

echo "== a migration to a launcher that is not waiting is refused"
rc=0
"$H" migrate --source-socket "$WORK/$B/launcher.sock" --target-socket "$WORK/$B/launcher.sock" \
  --timeout 30 >/dev/null 2>"$WORK/refused.err" || rc=$?
cat "$WORK/refused.err"
[ "$rc" = 4 ] && ok "refused (exit 4), nothing moved" || bad "refused migration exited $rc"
"$H" status --launcher-socket "$WORK/$B/launcher.sock" | grep -q running && ok "VM still runs on $B" || bad "VM after refused migration"

# kill_pod POD: what deleting the pod would end: its launcher, private libvirtd and QEMU.
kill_pod() {
  if [ -n "${PID[$1]:-}" ]; then kill -KILL "${PID[$1]}" 2>/dev/null || true; unset "PID[$1]"; fi
  local daemon
  daemon=$(cat "$WORK/$1/state/libvirt/run/libvirtd.pid" 2>/dev/null || true)
  [ -z "$daemon" ] || kill -KILL "$daemon" 2>/dev/null || true
  for p in $(pgrep -f "$WORK/$1/state/" || true); do kill -KILL "$p" 2>/dev/null || true; done
  wait_for 10 bash -c "! pgrep -f '$WORK/$1/state/'" || true
}
# target_up POD: its networks set up again (after a teardown or a failed attempt: setup
# converges) and a launcher waiting with --incoming.
target_up() {
  "$H" setup --vmi "$VM" --pod-netns "/run/netns/$1" --network-status "$WORK/$1/sim/network-status.json" \
    --state-dir "$WORK/$1/state" >"$WORK/$1/setup2.log" 2>&1 || { cat "$WORK/$1/setup2.log"; bad "setup again in $1"; }
  kill_pod "$1"
  rm -f "$WORK/$1/launcher.sock"
  launcher "$1" --incoming --incoming-timeout 120
  wait_for 60 test -S "$WORK/$1/launcher.sock" || bad "target launcher in $1"
}
still_on() {  # pod: the VM runs there and answers on blue
  "$H" status --launcher-socket "$WORK/$1/launcher.sock" | grep -q '^phase: running' &&
    wait_for 20 fetch "$PEER" "$GIP" 8080
}
# migrate_bg FROM TO [flags]: k6t-handler migrate in the background, MIG its pid; returns once
# the source reports progress. The stream is capped at 1 MiB/s and the pause at 1 ms: even an
# idle guest dirties a page in that time, so the migration runs until it is stopped.
migrate_bg() {
  local from=$1 to=$2; shift 2
  : >"$WORK/bg.err"
  "$H" migrate --source-socket "$WORK/$from/launcher.sock" --target-socket "$WORK/$to/launcher.sock" \
    --bandwidth 1 --max-downtime 1 --timeout 120 "$@" >/dev/null 2>"$WORK/bg.err" &
  MIG=$!
  wait_for 60 grep -q 'migrating:' "$WORK/bg.err"
}

echo "== the migration network down: a clear error, the VM stays on $B"
target_up "$A"
ip -n "$B" link set mig0 down
rc=0
"$H" migrate --source-socket "$WORK/$B/launcher.sock" --target-socket "$WORK/$A/launcher.sock" \
  --migration-network mig0 --timeout 60 >/dev/null 2>"$WORK/netdown.err" || rc=$?
cat "$WORK/netdown.err"
[ "$rc" = 1 ] && grep -q 'keeps running on the source' "$WORK/netdown.err" &&
  ok "failed with exit 1 and says the VM stays" || bad "migration over a downed network exited $rc"
still_on "$B" && ok "VM still runs on $B and answers" || bad "VM after the failed migration"
reap "$A"
[ "$RC" = 10 ] && ok "the target launcher gave up (exit 10)" || bad "target launcher exited $RC"
ip -n "$B" link set mig0 up

echo "== Ctrl-C cancels: the VM stays on $B"
target_up "$A"
migrate_bg "$B" "$A" --migration-network mig0 || bad "migration did not start"
kill -INT "$MIG"; rc=0; wait "$MIG" || rc=$?
cat "$WORK/bg.err" | tr '\r' '\n' | tail -2
[ "$rc" = 3 ] && ok "cancelled (exit 3)" || bad "Ctrl-C exited $rc"
still_on "$B" && ok "VM still runs on $B and answers" || bad "VM after the cancelled migration"
reap "$A"
[ "$RC" = 10 ] && ok "the target launcher gave up (exit 10)" || bad "target launcher exited $RC"

echo "== the target launcher killed mid-migration: the VM stays on $B"
target_up "$A"
migrate_bg "$B" "$A" --migration-network mig0 || bad "migration did not start"
kill_pod "$A"
rc=0; wait "$MIG" || rc=$?
cat "$WORK/bg.err" | tr '\r' '\n' | tail -2
[ "$rc" = 1 ] && ok "failed (exit 1)" || bad "migration to a killed target exited $rc"
still_on "$B" && ok "VM still runs on $B and answers" || bad "VM after the target died"

echo "== and back to $A over a unix socket (no migration network)"
target_up "$A"
migrate "$B" "$A" - && ok "migrated back to $A" || bad "migration back"
grep -q 'migration stream unix://' "$WORK/migrate.err" && ok "the stream went over a unix socket" ||
  bad "the stream was not a unix socket"
reap "$B"
[ "$RC" = 9 ] && ok "launcher in $B exited 9" || bad "launcher in $B exited $RC"
wait_for 20 fetch "$PEER" "$GIP" 8080 && ok "peer reaches the guest back in pod $A" || bad "blue after the return"
kill -TERM "${PID[$A]}"
reap "$A"
[ "$RC" = 0 ] && ok "launcher in $A shut the VM down (exit 0)" || bad "final shutdown exited $RC"

if [ "$fail" != 0 ]; then
  for pod in $A $B; do echo "--- $pod launcher"; tail -40 "$WORK/$pod/launcher.log"; done
  echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
