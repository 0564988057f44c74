# Sourced by the `k6t-launcher --network-only` tests: a pod-sim pod set up by k6t-handler,
# "guest" namespaces plugged into its bridges by a veth in place of the taps, and busybox
# udhcpc leases. The caller sets pod, work, vm, B (the build dir) and calls nol_cleanup on
# exit; lpid is the launcher's pid once started.
lpid=
nol_guests=()

nol_pod_up() {
  ./hack/pod-sim up --name "$pod" --vm "$vm" --state-dir "$work/sim" >/dev/null
  "$B/bin/k6t-handler" setup --vmi "$vm" --pod-netns "/run/netns/$pod" \
    --network-status "$work/sim/network-status.json" --state-dir "$work/state" >/dev/null
  cat >"$work/lease-script" <<'S'
#!/bin/sh
[ "$1" = bound ] && echo "LEASE ip=$ip mask=$mask router=$router mtu=$mtu search=$search" >> "$LEASE_LOG"
exit 0
S
  chmod +x "$work/lease-script"
}

# nol_plug_guest NETNS BRIDGE [MAC]: a guest whose eth0 is a port of BRIDGE in the pod.
nol_plug_guest() {
  local port=v${1: -6}
  ip netns add "$1"
  nol_guests+=("$1")
  ip -n "$pod" link add "$port" type veth peer name eth0 netns "$1"
  ip -n "$pod" link set "$port" master "$2" up
  [ -z "${3:-}" ] || ip -n "$1" link set eth0 address "$3"
  ip -n "$1" link set eth0 up
}

nol_start_launcher() {
  ip netns exec "$pod" "$B/bin/k6t-launcher" --network-only --state-dir "$work/state" \
    >"$work/launcher.log" 2>&1 &
  lpid=$!
}

# nol_lease NETNS LOGFILE: udhcpc until it leases (a few tries); the lease goes to LOGFILE.
nol_lease() {
  for _ in 1 2 3 4 5; do
    if LEASE_LOG=$2 ip netns exec "$1" busybox udhcpc -i eth0 -n -q -t 4 -T 1 -O search \
        -s "$work/lease-script" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

nol_cleanup() {
  set +e
  [ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
  for ns in "${nol_guests[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  "$B/bin/k6t-handler" teardown --vmi "$vm" --pod-netns "/run/netns/$pod" \
    --state-dir "$work/state" >/dev/null 2>&1
  ./hack/pod-sim del --name "$pod" >/dev/null 2>&1
  rm -rf "/etc/netns/$pod" "$work"
}
