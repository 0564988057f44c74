#!/usr/bin/env bash
# `k6t-launcher --network-only`: the DHCP servers of a set-up pod without a VM. A veth
# "guest" plugged into k6t-eth0 in place of the tap leases 10.0.2.2 with busybox udhcpc.
set -euo pipefail
cd "${K6T_SOURCE_DIR:?}"
B=${K6T_BUILD_DIR:?}
pod=k6tno$$
work=$(mktemp -d)
vm=test/netns/handler/testdata/podsim-vm.yaml
. test/netns/handler/network_only_lib.sh
trap nol_cleanup EXIT
nol_pod_up
nol_plug_guest "${pod}g" k6t-eth0
nol_start_launcher
ok=
nol_lease "${pod}g" "$work/lease" && ok=1
cat "$work/launcher.log"
[ -n "$ok" ] || { echo "FAIL: no lease"; echo "0 passed, 1 failed"; exit 1; }
cat "$work/lease"
grep -q 'LEASE ip=10.0.2.2 mask=24 router=10.0.2.1 mtu=1400' "$work/lease" ||
  { echo "FAIL: wrong lease"; echo "0 passed, 1 failed"; exit 1; }
kill "$lpid"; wait "$lpid" || { echo "FAIL: launcher exit status"; exit 1; }
lpid=
echo "1 passed, 0 failed"
