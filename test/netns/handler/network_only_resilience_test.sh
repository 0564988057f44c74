#!/usr/bin/env bash
# `k6t-launcher --network-only` when not everything can be served: the pod's resolv.conf has
# six ~60-character search domains (the DHCPv4 offer exceeds a 576-byte reply) and the
# secondary network's bridge is gone. The launcher keeps running, leases 10.0.2.2 on the
# primary with as much of the search list as fits, warns once about each problem, and
# serves the secondary as soon as its bridge is back.
set -euo pipefail
cd "${K6T_SOURCE_DIR:?}"
B=${K6T_BUILD_DIR:?}
pod=k6tnr$$
work=$(mktemp -d)
vm=test/netns/handler/testdata/podsim-vm.yaml
passed=0
failed=0
. test/netns/handler/network_only_lib.sh
trap nol_cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

nol_pod_up

# The secondary network's DHCP plan: its bridge and the only MAC it serves.
read -r blue_bridge blue_mac < <(python3 - "$work/state" <<'PY'
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/**/*.json", recursive=True):
    try:
        plan = json.load(open(f)).get("plan", {})
    except (ValueError, AttributeError):
        continue
    dhcp = plan.get("dhcp") or {}
    if plan.get("binding") == "bridge" and dhcp.get("bridge"):
        print(dhcp["bridge"], dhcp["client_mac"])
PY
)
[ -n "$blue_bridge" ] || { echo "no bridge-binding DHCP plan in $work/state"; find "$work/state"; exit 1; }

# `ip netns exec` mounts /etc/netns/POD/resolv.conf over /etc/resolv.conf.
mkdir -p "/etc/netns/$pod"
domains=""
for i in 0 1 2 3 4 5; do
  c=$(printf "\\$(printf %03o $((97 + i)))")
  domains="$domains ns$i-$(printf "%036d" 0 | tr 0 "$c").svc.cluster.example"
done
printf 'nameserver 10.96.0.10\nsearch%s\noptions ndots:5\n' "$domains" >"/etc/netns/$pod/resolv.conf"
ip -n "$pod" link del "$blue_bridge"

nol_plug_guest "${pod}g" k6t-eth0
nol_start_launcher

if nol_lease "${pod}g" "$work/lease"; then ok "the primary interface leases"; else fail "no lease on the primary"; fi
cat "$work/lease" 2>/dev/null
if kill -0 "$lpid" 2>/dev/null; then ok "the launcher keeps running"; else fail "the launcher exited"; fi
# A prefix of the search list, at least its first domain, not all six.
first=$(echo $domains | cut -d' ' -f1)
last=$(echo $domains | awk '{print $NF}')
if grep -q "LEASE ip=10.0.2.2 mask=24 router=10.0.2.1 mtu=1400 search=$first" "$work/lease" 2>/dev/null &&
    ! grep -q "$last" "$work/lease"; then
  ok "the guest gets the head of the search list"
else
  fail "search list"
fi
n=$(grep -c "warn.*the DHCPv4 offer leaves out search domain $last" "$work/launcher.log" || true)
if [ "$n" = 1 ]; then ok "one warning names the search domains left out"; else fail "$n warnings about the search list"; fi
n=$(grep -c "warn.*$blue_bridge.*not served" "$work/launcher.log" || true)
if [ "$n" = 1 ]; then ok "one warning names the missing bridge"; else fail "$n warnings about $blue_bridge"; fi

# The bridge comes back: the launcher's retry serves it (the VM's MAC only).
ip -n "$pod" link add "$blue_bridge" type bridge
ip -n "$pod" link set "$blue_bridge" up
nol_plug_guest "${pod}h" "$blue_bridge" "$blue_mac"
sleep 6  # the retry interval is 5 s
if nol_lease "${pod}h" "$work/lease2" && grep -q "LEASE ip=192.168.100" "$work/lease2"; then
  ok "the secondary interface is served once its bridge exists"
else
  fail "no lease on the secondary"
fi
cat "$work/lease2" 2>/dev/null

kill "$lpid"
if wait "$lpid"; then ok "the launcher stops cleanly"; else fail "launcher exit status"; fi
lpid=
[ "$failed" = 0 ] || cat "$work/launcher.log"
finish
