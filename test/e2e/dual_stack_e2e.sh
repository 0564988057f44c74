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

launcher_down
pod_vm_result
