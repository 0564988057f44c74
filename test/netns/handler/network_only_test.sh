#!/usr/bin/env bash
# `k6t-launcher --network-only`: the DHCP servers of a set-up pod without a VM. A veth
# "guest" plugged into k6t-eth0 in place of the tap leases 10.0.2.2 with busybox udhcpc.
set -euo pipefail
cd "${K6T_SOURCE_DIR:?}"
B=${K6T_BUILD_DIR:?}
pod=k6tno$$
guest=${pod}g
work=$(mktemp -d)
vm=test/netns/handler/testdata/podsim-vm.yaml
lpid=
cleanup() {
  set +e
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
  ip netns pids "$guest" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns del "$guest" 2>/dev/null
  "$B/bin/k6t-handler" teardown --vmi "$vm" --pod-netns "/run/netns/$pod" --state-dir "$work/state" >/dev/null 2>&1
  ./hack/pod-sim del --name "$pod" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
./hack/pod-sim up --name "$pod" --vm "$vm" --state-dir "$work/sim" >/dev/null
"$B/bin/k6t-handler" setup --vmi "$vm" --pod-netns "/run/netns/$pod" \
  --network-status "$work/sim/network-status.json" --state-dir "$work/state" >/dev/null
ip netns add "$guest"
ip -n "$pod" link add vguest type veth peer name eth0 netns "$guest"
ip -n "$pod" link set vguest master k6t-eth0 up
ip -n "$guest" link set eth0 up
ip netns exec "$pod" "$B/bin/k6t-launcher" --network-only --state-dir "$work/state" \
  >"$work/launcher.log" 2>&1 &
lpid=$!
cat >"$work/script" <<'S'
#!/bin/sh
[ "$1" = bound ] && echo "LEASE ip=$ip mask=$mask router=$router mtu=$mtu" >> "$LEASE_LOG"
exit 0
S
chmod +x "$work/script"
ok=
for _ in 1 2 3 4 5; do
  if LEASE_LOG=$work/lease ip netns exec "$guest" busybox udhcpc -i eth0 -n -q -t 4 -T 1 \
      -s "$work/script" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.5
done
cat "$work/launcher.log"
[ -n "$ok" ] || { echo "FAIL: no lease"; echo "0 passed, 1 failed"; exit 1; }
cat "$work/lease"
grep -q 'LEASE ip=10.0.2.2 mask=24 router=10.0.2.1 mtu=1400' "$work/lease" ||
  { echo "FAIL: wrong lease"; echo "0 passed, 1 failed"; exit 1; }
kill "$lpid"; wait "$lpid" || { echo "FAIL: launcher exit status"; exit 1; }
lpid=
echo "1 passed, 0 failed"
