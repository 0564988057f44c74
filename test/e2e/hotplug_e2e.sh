#!/usr/bin/env bash
# Live NIC hotplug end to end: a running VM (real libvirt + QEMU, the default guest) gets
# secondary networks added the way Multus' dynamic networks controller adds them (pod-sim
# add-network runs the real CNI bridge plugin into the live pod), `k6t-handler sync` plumbs
# and hot-plugs them, the guest leases their addresses from k6t's DHCP and a peer on each
# L2 segment reaches it; link state flips live; unplug gives the CNI link back; a plug with
# no free root port changes nothing; a second sync changes nothing.
set -euo pipefail
SRC=${K6T_SOURCE_DIR:?}
BUILD=${K6T_BUILD_DIR:?}
POD=k6thp$$
. "$SRC/test/e2e/hotplug_lib.sh"
ms() { echo $(( $(date +%s%N) / 1000000 )); }

serial_count_ge() {  # regex, count, seconds
  local deadline=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ "$(grep -cE "$1" "$W/state/serial.log" 2>/dev/null)" -ge "$2" ] && return 0
    sleep 0.2
  done
  return 1
}

pod_ip_of() {  # network name -> the pod's IP on it (from network-status)
  python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])):
    if e["name"].endswith("/" + sys.argv[2] + "-net") or e["name"] == sys.argv[2] + "-net":
        print(e["ips"][0]); break' "$W/sim/network-status.json" "$1"
}

ping_from_peer() {  # network, guest ip
  local peer
  peer=$("$SRC/hack/pod-sim" peer --name "$POD" --network "$1" --ip "$3")
  for _ in $(seq 1 30); do
    ip netns exec "$peer" busybox ping -c1 -W1 "$2" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  return 1
}

link_snapshot() {  # the CNI link of a network as the CNI left it: name mac mtu addresses
  ip -n "$POD" -o addr show dev "$1" 2>/dev/null | awk '{print $2, $3, $4}' | sort
  ip -n "$POD" -o link show dev "$1" 2>/dev/null | sed -E 's/.*(mtu [0-9]+).*link\/ether ([0-9a-f:]+).*/\1 \2/'
}

# Three free root ports: blue, red and yellow fit, purple does not.
hp_boot --hotplug-ports 3 --log-level debug
serial_has 'K6T-GUEST: iface eth0 up .*ipv4=10\.0\.2\.2/24' 120 || { bad "guest booted"; exit 1; }
ok "guest booted with eth0 on the masquerade network"

echo "== sync with nothing new"
out=$(sync "$W/vm0.yaml") && rc=0 || rc=$?
echo "$out"
check "sync of the unchanged VM changes nothing" test "$rc" = 0 -a "$(echo "$out" | grep -c '^nothing to do')" = 1

echo "== plug blue"
"$SRC/hack/pod-sim" add-network --name "$POD" --vm "$FULL" --network blue >/dev/null
blue_link=$(ip -n "$POD" -br link | awk '/^pod/{print $1}' | sed 's/@.*//')
before_blue=$(link_snapshot "$blue_link")
vm "$W/vm1.yaml" default blue
t0=$(ms); out=$(sync "$W/vm1.yaml") && rc=0 || rc=$?; t1=$(ms)
echo "$out"
check "sync plugs blue (exit 0, attached)" test "$rc" = 0 -a -n "$(echo "$out" | grep '^attached blue')"
echo "host-side hotplug (sync call -> attached): $((t1 - t0)) ms"
blue_ip=$(pod_ip_of blue)
check "guest eth1 leases the pod's blue address $blue_ip by DHCP" \
  serial_has "K6T-GUEST: iface eth1 up .*ipv4=${blue_ip//./\\.}/24 .*source=dhcp" 60
echo "guest-visible (sync call -> lease on the console): $(( $(ms) - t0 )) ms"
check "a peer on blue's L2 segment pings the guest at $blue_ip" ping_from_peer blue "$blue_ip" 192.168.100.250/24
out=$(sync "$W/vm1.yaml") && rc=0 || rc=$?
check "second sync changes nothing" test "$rc" = 0 -a -n "$(echo "$out" | grep '^nothing to do')"
st=$("$H" status --launcher-socket "$SOCK" --output json)
check "status lists blue from the domain with its MAC and pod interface" python3 -c '
import json, sys
s = json.loads(sys.argv[1]); b = [i for i in s["interfaces"] if i["name"] == "blue"]
assert b, "no blue"; b = b[0]
# The default guest runs the QEMU guest agent: its name for the NIC joins the sources.
assert b["infoSource"] in ("domain, guest-agent, multus-status", "domain, multus-status"), b
assert "guest-agent" not in b["infoSource"] or b["interfaceName"] == "eth1", b
assert b["podInterfaceName"] == sys.argv[2], b
assert b["ipAddress"] == sys.argv[3], b
assert s["interfaces"][0]["name"] == "default", s
assert s["interfaces"][0]["ipAddress"].startswith("10.244."), s  # masquerade: the pod IP
' "$st" "$blue_link" "$blue_ip"
plan_mac=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["plan"]["mac"])' "$W/state/interfaces/blue.json")
status_mac=$("$H" status --launcher-socket "$SOCK" | awk '$1=="blue"{print $4}')
check "status MAC of blue ($status_mac) is the planned guest MAC ($plan_mac)" test -n "$plan_mac" -a "$status_mac" = "$plan_mac"

echo "== plug red (state: down) and yellow"
"$SRC/hack/pod-sim" add-network --name "$POD" --vm "$FULL" --network red >/dev/null
"$SRC/hack/pod-sim" add-network --name "$POD" --vm "$FULL" --network yellow >/dev/null
vm "$W/vm2.yaml" default blue red:down yellow
out=$(sync "$W/vm2.yaml") && rc=0 || rc=$?
echo "$out"
check "sync plugs red and yellow" test "$rc" = 0 -a -n "$(echo "$out" | grep '^attached red')" -a -n "$(echo "$out" | grep '^attached yellow')"
check "guest sees red without carrier" serial_has 'K6T-GUEST: iface eth2 carrier 0' 30
check "guest eth3 (yellow) leases its address" serial_has "K6T-GUEST: iface eth3 up .*ipv4=$(pod_ip_of yellow | sed 's/\./\\./g')/24" 60
vm "$W/vm3.yaml" default blue red:up yellow
out=$(sync "$W/vm3.yaml") && rc=0 || rc=$?
echo "$out"
check "sync sets red's link up live" test "$rc" = 0 -a -n "$(echo "$out" | grep '^link of red set up')"
check "guest sees red's carrier come up" serial_has 'K6T-GUEST: iface eth2 carrier 1' 30
check "guest eth2 (red) then leases its address" serial_has "K6T-GUEST: iface eth2 up .*ipv4=$(pod_ip_of red | sed 's/\./\\./g')/24" 60

echo "== plug purple with no free root port"
"$SRC/hack/pod-sim" add-network --name "$POD" --vm "$FULL" --network purple >/dev/null
purple_link=$(python3 -c 'import json,sys; print([e["interface"] for e in json.load(open(sys.argv[1])) if e["name"].endswith("purple-net")][0])' "$W/sim/network-status.json")
links_before=$(ip -n "$POD" -br link | sort)
vm "$W/vm4.yaml" default blue red yellow purple
out=$(sync "$W/vm4.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
check "sync refuses purple: no free PCIe root port (exit 3)" test "$rc" = 3 -a -n "$(echo "$out" | grep 'no free PCIe root port')"
check "nothing changed in the pod for purple" test "$(ip -n "$POD" -br link | sort)" = "$links_before"
check "no plan cached for purple" test ! -e "$W/state/interfaces/purple.json"
check "purple's pod link $purple_link is untouched" ip -n "$POD" link show dev "$purple_link"

echo "== unplug blue"
vm "$W/vm5.yaml" default blue:absent red yellow
t0=$(ms); out=$(sync "$W/vm5.yaml") && rc=0 || rc=$?; t1=$(ms)
echo "$out"
echo "host-side unplug (sync call -> detached and plumbing removed): $((t1 - t0)) ms"
check "sync unplugs blue and removes its plumbing" test "$rc" = 0 -a -n "$(echo "$out" | grep '^detached blue')" -a -n "$(echo "$out" | grep '^removed the pod plumbing of blue')"
check "the guest's eth1 is gone" serial_has 'K6T-GUEST: iface gone eth1' 30
check "k6t's bridge and tap of blue are gone" bash -c "! ip -n $POD -br link | grep -E '^(k6t|tap)${blue_link#pod}'"
after_blue=$(link_snapshot "$blue_link")
check "blue's CNI link is back as the CNI left it" test "$after_blue" = "$before_blue"
[ "$after_blue" = "$before_blue" ] || diff <(echo "$before_blue") <(echo "$after_blue") || true
check "blue's DHCP server stopped" grep -q "dhcp: stopped serving k6t-${blue_link#pod}" "$W/launcher.log"
check "status no longer lists blue" bash -c "! '$H' status --launcher-socket '$SOCK' | awk '{print \$1}' | grep -qx blue"
out=$(sync "$W/vm5.yaml") && rc=0 || rc=$?
check "unplug sync again changes nothing" test "$rc" = 0 -a -n "$(echo "$out" | grep '^nothing to do')"

echo "== plug blue again"
vm "$W/vm6.yaml" default blue red yellow
out=$(sync "$W/vm6.yaml") && rc=0 || rc=$?
echo "$out"
check "blue plugs again" test "$rc" = 0 -a -n "$(echo "$out" | grep '^attached blue')"
check "the guest leases blue's address again" \
  serial_count_ge "K6T-GUEST: iface eth[0-9] up .*ipv4=${blue_ip//./\\.}/24" 2 60

echo "== a pod link that appears while sync waits (netlink events)"
"$SRC/hack/pod-sim" remove-network --name "$POD" --network purple >/dev/null
vm "$W/vm7.yaml" default blue:absent red yellow purple:absent
sync "$W/vm7.yaml" >/dev/null || true
vm "$W/vm8.yaml" default red yellow:absent purple
# A CNI half-way through its ADD: the link exists, Multus has not listed it yet. k6t must not
# touch it (renaming it under the plugin breaks the ADD).
ip -n "$POD" link add "$purple_link" type bridge
out=$(sync "$W/vm8.yaml" --wait 1 2>&1) && rc=0 || rc=$?
echo "$out"
check "sync waits for a pod link the network-status does not list yet (exit 4)" \
  test "$rc" = 4 -a -n "$(echo "$out" | grep "purple (pod link $purple_link not in the network-status")"
check "the half-made pod link is untouched" bash -c "ip -n $POD -br link show dev $purple_link && ! ip -n $POD -br link | grep -E '^(k6t|tap)${purple_link#pod}'"
ip -n "$POD" link del "$purple_link"
sync "$W/vm8.yaml" --wait 30 >"$W/wait.out" 2>&1 &
SYNC_PID=$!
sleep 1
"$SRC/hack/pod-sim" add-network --name "$POD" --vm "$FULL" --network purple >/dev/null
wait "$SYNC_PID" && rc=0 || rc=$?
cat "$W/wait.out"
check "sync --wait plugs purple once the CNI created its link" test "$rc" = 0 -a -n "$(grep '^attached purple' "$W/wait.out")"

echo "== Shutdown over the socket"
check "k6t-handler stop shuts the VM down over the socket" "$H" stop --launcher-socket "$SOCK" --timeout 30
wait "$LAUNCHER_PID" && rc=0 || rc=$?; LAUNCHER_PID=
check "the launcher exited 0 (the guest powered off on request)" test "$rc" = 0
check "no socket left" test ! -e "$SOCK"
check "no QEMU left for this VM" bash -c "! pgrep -f 'guest=[d]efault_hotplug' >/dev/null"

if [ "$fail" = 0 ]; then echo "$passed passed, 0 failed"; else
  echo "--- launcher log (tail)"; tail -40 "$W/launcher.log"; echo "$passed passed, 1 failed"; exit 1; fi
