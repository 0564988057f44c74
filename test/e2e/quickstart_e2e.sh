#!/usr/bin/env bash
# The whole product on one machine, through the README's main command: a pod from the real
# CNI plugins, k6t-handler setup, k6t-launcher with libvirt + QEMU, the guest taking its
# addresses from k6t's DHCP on both NICs, and its page fetched through the pod IP (DNAT).
set -euo pipefail
cd "${K6T_SOURCE_DIR:?}"
pod=k6te2e$$
out=$(mktemp)
trap 'rm -f "$out"' EXIT
K6T_QS_POD=$pod K6T_BUILD_DIR=${K6T_BUILD_DIR:?} timeout 280 ./hack/quickstart.sh examples/quickstart.yaml >"$out" 2>&1 || {
  cat "$out"; echo "FAIL: quickstart exited non-zero"; exit 1; }
cat "$out"
fail=0
expect() {
  if grep -qE "$1" "$out"; then echo "ok: $2"; else echo "FAIL: $2 (/$1/)"; fail=1; fi
}
expect 'K6T-GUEST: iface eth0 up .*ipv4=10\.0\.2\.2/24 mtu=1400 source=dhcp' "guest eth0 leased 10.0.2.2/24 with the pod MTU from k6t's DHCP"
expect '^attached blue' "blue hot-plugged into the running VM by k6t-handler sync"
expect 'K6T-GUEST: iface eth1 up .*ipv4=192\.168\.100\.[0-9]+/24 .*source=dhcp' "hot-plugged guest eth1 leased the pod's secondary address (bridge binding)"
expect '^blue +pod16477688c0e ' "status lists the hot-plugged blue on its pod interface"
expect 'inet 10\.0\.2\.2/24' "guest page reached through the pod IP on the declared port"
expect '^default via 10\.0\.2\.1' "guest page shows its default route"
if ip netns list | grep -q "^$pod"; then echo "FAIL: netns $pod left behind"; fail=1; fi
if pgrep -f "k6t-launcher.*$pod" >/dev/null; then echo "FAIL: launcher left running"; fail=1; fi
[ "$fail" = 0 ] && echo "1 passed, 0 failed" || { echo "0 passed, 1 failed"; exit 1; }
