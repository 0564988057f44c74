#!/usr/bin/env bash
# Dual-stack masquerade end to end: examples/dual-stack-masquerade.yaml on a dual-stack pod
# (pod-sim --ipv6) -> k6t-handler setup -> k6t-launcher. The guest must take 10.0.2.2 by
# DHCPv4, fd10:0:2::2 by DHCPv6 (ISC dhclient in the default guest) and an IPv6 default
# route from k6t's router advertisements, and answer over IPv6 on its own address.
POD=k6tds$$
. "$(dirname "$0")/pod_vm_lib.sh"

pod_up examples/dual-stack-masquerade.yaml --ipv6
launcher_up
wait_serial 'K6T-GUEST: iface eth0 ipv6 addr=fd10:0:2::2/' 600 || true
wait_serial 'K6T-GUEST: route6 default via fe80:' 300 || true
grep 'K6T-GUEST' "$STATE/serial.log" || true
expect() {
  grep -qE "$1" "$STATE/serial.log" && ok "$2" || bad "$2 (/$1/)"
}
expect 'K6T-GUEST: iface eth0 up .*ipv4=10\.0\.2\.2/24 .*source=dhcp' "guest eth0 leased 10.0.2.2/24 by DHCPv4"
expect 'K6T-GUEST: iface eth0 ipv6 addr=fd10:0:2::2/[0-9]+ source=dhcpv6' "guest eth0 leased fd10:0:2::2 by DHCPv6"
expect 'K6T-GUEST: route6 default via fe80:[0-9a-f:]+ dev eth0' "guest has an IPv6 default route from the RA"

# The guest's own view over IPv6, from the pod (the k6t-eth0 bridge holds fd10:0:2::1).
page=$(fetch "$POD" fd10:0:2::2 8080 || true)
grep -q 'inet6 fd10:0:2::2/' <<<"$page" && ok "guest page over IPv6 shows fd10:0:2::2" ||
  bad "no guest page over IPv6 with fd10:0:2::2"
route6=$(sed -n '/^# ip -6 route/,$p' <<<"$page")
grep -q '^default via fe80:' <<<"$route6" &&
  ok "guest page shows the IPv6 default route" || bad "guest page has no IPv6 default route"

# kill -9 of the launcher: a new one (with its command socket) adopts the running VM, serves
# DHCP/RA again, answers GetStatus; Kill over the socket then leaves nothing behind.
kill -KILL "$LAUNCHER_PID"; wait "$LAUNCHER_PID" 2>/dev/null || true
served=$(grep -c 'dhcp: serving k6t-eth0 (.*): dhcpv4 dhcpv6 ra' "$WORK/launcher.log" || true)
launcher_start --socket "$WORK/launcher.sock"
for _ in $(seq 1 600); do grep -q 'already running: adopted' "$WORK/launcher.log" && break; sleep 0.1; done
grep -q 'already running: adopted' "$WORK/launcher.log" && ok "a new launcher adopted the running VM" ||
  bad "the new launcher did not adopt the VM"
[ "$(grep -c 'dhcp: serving k6t-eth0 (.*): dhcpv4 dhcpv6 ra' "$WORK/launcher.log")" -gt "$served" ] &&
  ok "the new launcher serves DHCPv4, DHCPv6 and RA on k6t-eth0 again" || bad "DHCP not resumed"
st=$("$BUILD/bin/k6t-handler" status --launcher-socket "$WORK/launcher.sock" --output json || true)
python3 -c '
import json, sys
s = json.loads(sys.argv[1]); i = s["interfaces"][0]
assert s["phase"] == "running" and i["name"] == "default", s
# The guest agent (in the default guest) may add itself as a source; the IPs stay the pod IPs.
assert i["infoSource"] in ("domain, multus-status", "domain, guest-agent, multus-status"), i
assert i["podInterfaceName"] == "eth0", i
assert any(":" in a for a in i["ipAddresses"]) and any("." in a for a in i["ipAddresses"]), i
' "$st" && ok "GetStatus of the adopted VM: default on eth0, both pod IPs" || bad "GetStatus after adoption: $st"
"$BUILD/bin/k6t-handler" stop --kill --launcher-socket "$WORK/launcher.sock" >/dev/null &&
  ok "Kill over the command socket" || bad "Kill over the command socket failed"
rc=0; wait "$LAUNCHER_PID" || rc=$?; LAUNCHER_PID=
[ "$rc" = 8 ] && ok "the launcher exited 8 (killed on request)" || bad "launcher exited $rc after Kill"
for _ in $(seq 1 50); do pgrep -f "$STATE/" >/dev/null || break; sleep 0.1; done
pgrep -f "$STATE/" >/dev/null && bad "processes of $STATE left running" || ok "no QEMU left"
[ -e "$WORK/launcher.sock" ] && bad "command socket left" || ok "command socket removed"
pod_vm_result
