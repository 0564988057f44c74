#!/usr/bin/env bash
# `k6t-handler watch` end to end: the handler as a long-lived controller next to a running
# VM (real libvirt + QEMU, the default guest). Spec edits (files renamed into place, as a
# controller writes them) and Multus' network-status updates drive it; nothing calls sync:
#   - a network added to the spec before its pod link exists waits, then is plugged as soon
#     as the CNI made the link and Multus listed it; the guest leases its address;
#   - link state down, then unplug, from spec edits; the CNI link comes back;
#   - an invalid spec is reported with the field and changes nothing;
#   - SIGTERM ends it with status 0.
set -euo pipefail
SRC=${K6T_SOURCE_DIR:?}
BUILD=${K6T_BUILD_DIR:?}
POD=k6tw$$
. "$SRC/test/e2e/hotplug_lib.sh"
WATCH_PID=
stop_watch() { [ -z "$WATCH_PID" ] || { kill -TERM "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null; }; }
trap 'set +e; stop_watch; hp_cleanup' EXIT

# The watch's output since a mark (its line count before an action).
mark() { wc -l <"$W/watch.out"; }
since() { tail -n +$(( $1 + 1 )) "$W/watch.out"; }
watch_says() {  # mark, regex, seconds: a line matching regex printed after mark
  local deadline=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    since "$1" | grep -qE "$2" && return 0
    kill -0 "$WATCH_PID" 2>/dev/null || { echo "watch exited:"; cat "$W/watch.err"; return 1; }
    sleep 0.05
  done
  echo "watch printed no /$2/ within $3 s; it printed:"; since "$1"; tail -5 "$W/watch.err"
  return 1
}
# A spec edit as a controller makes it: a whole new file renamed over the old one.
spec() { vm "$W/spec.tmp.yaml" "$@"; mv "$W/spec.tmp.yaml" "$W/spec.yaml"; }

hp_boot --hotplug-ports 2
serial_has 'K6T-GUEST: iface eth0 up .*ipv4=10\.0\.2\.2/24' 120 || { bad "guest booted"; exit 1; }
ok "guest booted with eth0 on the masquerade network"

spec default
"$H" watch --vmi "$W/spec.yaml" --pod-netns "/run/netns/$POD" --state-dir "$W/state" \
  --network-status "$W/sim/network-status.json" --launcher-socket "$SOCK" \
  >"$W/watch.out" 2>"$W/watch.err" &
WATCH_PID=$!
check "first round at start: nothing to do" watch_says 0 '^nothing to do$' 30

echo "== blue added to the spec before the CNI made its pod link"
m=$(mark)
spec default blue
check "blue waits for its pod link" watch_says "$m" '^waiting for the pod link of blue' 10
check "no attach without the pod link" test "$(since "$m" | grep -c '^attached')" = 0
m=$(mark)
"$SRC/hack/pod-sim" add-network --name "$POD" --vm "$FULL" --network blue >/dev/null
check "blue plugged once the CNI and Multus are done, without a sync call" \
  watch_says "$m" '^attached blue$' 20
blue_link=$(ip -n "$POD" -br link | awk '/-nic/{print $1}' | sed 's/@.*//' | head -1)
check "blue's CNI link is enslaved to k6t's bridge" test -n "$blue_link"
check "guest leases blue's pod address on eth1" serial_has 'K6T-GUEST: iface eth1 up .*ipv4=192\.168\.100\.' 90

echo "== link state from the spec"
m=$(mark)
spec default blue:down
check "blue set down live" watch_says "$m" '^link of blue set down$' 20

echo "== an invalid spec changes nothing"
m=$(mark)
python3 - "$W/spec.yaml" "$W/spec.tmp.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
docs[0]["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][1]["macAddress"] = "not-a-mac"
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
PY
mv "$W/spec.tmp.yaml" "$W/spec.yaml"
deadline=$(( $(date +%s) + 10 ))
until grep -q 'macAddress' "$W/watch.err" || [ "$(date +%s)" -ge "$deadline" ]; do sleep 0.05; done
check "the error names the field" grep -q 'interfaces\[1\]\.macAddress' "$W/watch.err"
check "and no round ran on it" test "$(since "$m" | grep -c '^sync:')" = 0

echo "== unplug from the spec"
m=$(mark)
spec default blue:absent
check "blue detached" watch_says "$m" '^detached blue$' 30
check "its plumbing removed" watch_says "$m" '^removed the pod plumbing of blue' 10
check "k6t's links of blue are gone" test -z "$(ip -n "$POD" -br link | grep -E 'k6t-|tap' | grep -v k6t-eth0 | grep -v 'tap0' || true)"
check "guest saw the NIC go" serial_has 'K6T-GUEST: iface gone' 30

echo "== SIGTERM"
kill -TERM "$WATCH_PID"
rc=0; wait "$WATCH_PID" || rc=$?
WATCH_PID=
check "watch exits 0 on SIGTERM" test "$rc" = 0

if [ "$fail" = 0 ]; then echo "$passed passed, 0 failed"; else
  echo "--- watch stderr (tail)"; tail -20 "$W/watch.err"
  echo "--- launcher log (tail)"; tail -40 "$W/launcher.log"; echo "$passed passed, 1 failed"; exit 1; fi
