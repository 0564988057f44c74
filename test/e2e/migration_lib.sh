# Sourced by migration_e2e.sh and test/bench/migration_bench.sh: two pods on two simulated
# nodes (pod-sim), each with the networks of testdata/migration-vm.yaml set up by
# k6t-handler; blue's node bridges joined into one L2 segment, and a dedicated migration
# link mig0 (10.10.0.1 in A, 10.10.0.2 in B). Sets A, B, WORK, VM, H, L; mig_boot starts the
# VM in A and sets GIP (its blue address) and PEER (a netns on blue); cleanup on exit.
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

# mig_vm_with_disks: VM becomes testdata/migration-vm.yaml plus two disks only a pod holds, a
# containerDisk "data" (vda, on the pod's own overlay over the image) and an emptyDisk
# "scratch" (vdb); the default guest's kernel is then named (a VM with disks boots from them).
mig_vm_with_disks() {
  ./hack/build-guest.sh "$GUEST" >/dev/null
  head -c $((2 << 20)) /dev/zero >"$WORK/data.img"
  python3 hack/containerdisk.py --disk "$WORK/data.img" --ref k6t.local/mig-data:1 \
    --layout "$WORK/images/mig-data" >/dev/null
  python3 - "$VM" "$WORK/vm.yaml" "$(readlink -f "$GUEST")" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
spec, guest = docs[0]["spec"], sys.argv[3]
spec["domain"]["firmware"] = {"kernelBoot": {
    "kernelArgs": "console=ttyS0 panic=-1 quiet",
    "container": {"image": "k6t.local/kernel:1", "kernelPath": guest + "/vmlinuz",
                  "initrdPath": guest + "/initrd.cpio.gz"}}}
spec["domain"]["devices"]["disks"] = [{"name": "data", "disk": {"bus": "virtio"}},
                                      {"name": "scratch", "disk": {"bus": "virtio"}}]
spec["volumes"] = [{"name": "data", "containerDisk": {"image": "k6t.local/mig-data:1"}},
                   {"name": "scratch", "emptyDisk": {"capacity": "4Mi"}}]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
PY
  VM=$WORK/vm.yaml
}
# disk_marks [TEXT]: asks the guest (over blue, from the peer) to write TEXT on each of its
# virtio disks, synced; prints what each disk holds there ("vda TEXT"), its page cache dropped.
disk_marks() {
  printf 'GET /cgi-bin/disk.cgi?%s HTTP/1.0\r\n\r\n' "${1:-}" |
    ip netns exec "$PEER" busybox nc -w 10 "$GIP" 8080 2>/dev/null | tr -d '\r' | grep -E '^vd[a-z] ' || true
}

# pod_ip POD: the pod's own IP (the first address of its pod network, from network-status).
pod_ip() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["ips"][0].split("/")[0])' \
    "$WORK/$1/sim/network-status.json"
}

# mig_end POD: the launcher in POD shuts the VM down (SIGTERM, exit 0), then the verdict.
mig_end() {
  kill -TERM "${PID[$1]}"
  reap "$1"
  [ "$RC" = 0 ] && ok "launcher in $1 shut the VM down (exit 0)" || bad "final shutdown exited $RC"
  if [ "$fail" != 0 ]; then
    for pod in $A $B; do echo "--- $pod launcher"; tail -40 "$WORK/$pod/launcher.log"; done
    echo "0 passed, 1 failed"; exit 1
  fi
  echo "1 passed, 0 failed"
}

mig_pods_up() {
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
}

launcher() {  # pod, extra flags...
  local pod=$1; shift
  ip netns exec "$pod" "$L" --vmi "$VM" --state-dir "$WORK/$pod/state" --guest-dir "$GUEST" \
    --caps-cache "$BUILD/qemu-caps" --socket "$WORK/$pod/launcher.sock" --image-store "$WORK/images" "$@" \
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

mig_boot() {  # [launcher flags for A...]
  launcher "$A" "$@"
  wait_for 180 grep -qE 'K6T-GUEST: iface eth1 up .*ipv4=192\.168\.150\.' "$WORK/$A/state/serial.log" ||
    { cat "$WORK/$A/launcher.log"; echo "FAIL: the guest did not get its blue address"; exit 1; }
  GIP=$(grep -oE 'K6T-GUEST: iface eth1 up .*ipv4=192\.168\.150\.[0-9]+' "$WORK/$A/state/serial.log" |
    head -1 | grep -oE '192\.168\.150\.[0-9]+')
  ok "guest up on pod $A, blue address $GIP"
  PEER=$(./hack/pod-sim peer --name "$A" --network blue --ip 192.168.150.200/24)
  wait_for 20 fetch "$PEER" "$GIP" 8080 && ok "peer reaches the guest on blue" || bad "peer reaches the guest on blue"
}

# with_pinger CMD...: runs CMD (its output in $WORK/migrate.out/.err) while the peer pings
# the guest's blue address every 10 ms; $WORK/ping.out says the longest silence; CMD's status.
# With TCP_HOLD=1 the peer also holds one TCP connection to the guest's echo port and uses it
# every 20 ms: $WORK/tcp.out says whether it survived.
with_pinger() {
  local stop=$WORK/stop-ping rc=0 holder=
  rm -f "$stop"
  ip netns exec "$PEER" python3 test/e2e/icmp_gap.py "$GIP" 0.01 "$stop" >"$WORK/ping.out" &
  local pinger=$!
  if [ "${TCP_HOLD:-0}" = 1 ]; then
    ip netns exec "$PEER" python3 test/e2e/tcp_hold.py "$GIP" 7 0.02 "$stop" >"$WORK/tcp.out" 2>&1 &
    holder=$!
  fi
  sleep 1
  "$@" >"$WORK/migrate.out" 2>"$WORK/migrate.err" || rc=$?
  sleep 1
  touch "$stop"; wait "$pinger"
  [ -z "$holder" ] || wait "$holder" || true
  return "$rc"
}
ping_gap_ms() { grep -oE 'max_gap_ms=[0-9]+' "$WORK/ping.out" | cut -d= -f2; }

migrate() {  # from, to, [network link, "-": none], [more flags]: with a 10 ms pinger
  local from=$1 to=$2 rc=0 net=()
  [ "${3:-mig0}" = - ] || net=(--migration-network "${3:-mig0}")
  shift $(( $# < 3 ? $# : 3 ))
  with_pinger "$H" migrate --source-socket "$WORK/$from/launcher.sock" \
    --target-socket "$WORK/$to/launcher.sock" ${net[@]+"${net[@]}"} --timeout 120 "$@" || rc=$?
  cat "$WORK/migrate.out" "$WORK/migrate.err"
  echo "ping: $(cat "$WORK/ping.out")"
  return "$rc"
}

# kill_pod POD: what deleting the pod would end: its launcher, private libvirtd and QEMU.
kill_pod() {
  if [ -n "${PID[$1]:-}" ]; then kill -KILL "${PID[$1]}" 2>/dev/null || true; unset "PID[$1]"; fi
  local daemon
  daemon=$(cat "$WORK/$1/state/libvirt/run/libvirtd.pid" 2>/dev/null || true)
  [ -z "$daemon" ] || kill -KILL "$daemon" 2>/dev/null || true
  for p in $(pgrep -f "$WORK/$1/state/" || true); do kill -KILL "$p" 2>/dev/null || true; done
  wait_for 10 bash -c "! pgrep -f '$WORK/$1/state/'" || true
}
# pod_gone POD: after k6t gave the pod its blue link back (teardown), the link goes down as
# when the pod is deleted. Here the CNI's IPAM gave both pods the guest's address: the link
# given back may have answered ARP for it meanwhile, so the peer forgets what it learned.
pod_gone() {
  local link
  for link in $(ip -n "$1" -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^pod'); do
    ip -n "$1" link set "$link" down
  done
  [ -z "${PEER:-}" ] || ip -n "$PEER" neigh flush all
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

