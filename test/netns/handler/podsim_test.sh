#!/usr/bin/env bash
# hack/pod-sim against real namespaces and the real CNI plugins: the pod it builds is what its
# network-status says, hotplug changes both, peers share the L2 segment, `del` leaves nothing.
set -euo pipefail

SRC=${K6T_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
SIM="$SRC/hack/pod-sim"
DATA="$SRC/test/netns/handler/testdata"
PY=/usr/bin/python3
VM="$SRC/examples/quickstart.yaml"
[ -f "$VM" ] || VM="$DATA/podsim-vm.yaml"
HOTPLUG_VM="$DATA/podsim-vm-hotplug.yaml"

P="k6tps-$$"            # every pod of this test starts with this; netns names follow from it
PODS=("$P-a" "$P-u" "$P-b" "$P-6")
WORK=$(mktemp -d)
HOST_LINKS_BEFORE=$(ip -br link)

cleanup() {
  local rc=$?
  for pod in "${PODS[@]}"; do "$SIM" del --name "$pod" >/dev/null 2>&1 || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
  rm -rf "$WORK"
  [ $rc -eq 0 ] && echo "PASS: podsim_test" || echo "FAIL: podsim_test (rc=$rc)"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
have_link() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

# Every status entry must match the pod: link exists, MAC, MTU, IPs on it (and no other
# global address on it). $3 (optional): interfaces the status must list, in this order.
check_status() {
  local pod=$1 status=$2 want=${3:-}
  ip -n "$pod" -j addr show > "$WORK/addr.json"
  "$PY" - "$status" "$WORK/addr.json" "$want" <<'EOF'
import json, sys
status = json.load(open(sys.argv[1]))
links = {l["ifname"]: l for l in json.load(open(sys.argv[2]))}
want = sys.argv[3].split()
assert isinstance(status, list) and status, "network-status is not a non-empty list"
got = [e.get("interface") for e in status]
if want:
    assert got == want, f"status interfaces {got} != expected {want}"
assert len(set(got)) == len(got), f"duplicate interfaces in status: {got}"
assert sum(1 for e in status if e.get("default")) == 1, "exactly one entry must be default"
for e in status:
    for key in ("name", "interface", "mac", "dns"):
        assert key in e, f"entry {e} lacks {key}"
    if "default" in e:
        assert e["default"] is True, f"{e['interface']}: Multus omits default: false"
    l = links.get(e["interface"])
    assert l, f"{e['interface']} is in the status but not in the pod"
    assert l["operstate"] in ("UP", "UNKNOWN"), f"{e['interface']} is {l['operstate']}"
    assert l["address"] == e["mac"], f"{e['interface']}: mac {l['address']} != status {e['mac']}"
    assert l["mtu"] == e["mtu"], f"{e['interface']}: mtu {l['mtu']} != status {e['mtu']}"
    have = sorted(a["local"] for a in l.get("addr_info", []) if a.get("scope") == "global")
    assert have == sorted(e.get("ips", [])), f"{e['interface']}: addrs {have} != {e.get('ips')}"
print("status matches the pod:", " ".join(f"{e['interface']}={','.join(e.get('ips', []))}"
                                          for e in status))
EOF
}

status_field() {  # status-file interface field
  "$PY" -c 'import json,sys
for e in json.load(open(sys.argv[1])):
    if e["interface"] == sys.argv[2]:
        v = e.get(sys.argv[3]); print(",".join(v) if isinstance(v, list) else v)' "$1" "$2" "$3"
}

step "up from $(basename "$VM")"
A="$P-a"
"$SIM" up --name "$A" --vm "$VM" > "$WORK/up.out"
[ "$(sed -n 1p "$WORK/up.out")" = "/run/netns/$A" ] || fail "up printed $(cat "$WORK/up.out")"
STATUS=$(sed -n 2p "$WORK/up.out")
[ -f "$STATUS" ] || fail "status file $STATUS missing"
cmp -s "$STATUS" <("$SIM" status --name "$A") || fail "status verb differs from $STATUS"
have_link "$A" eth0 || fail "no eth0 in the pod"
have_link "$A" pod16477688c0e || fail "no pod16477688c0e (network blue) in the pod"
check_status "$A" "$STATUS" "eth0 pod16477688c0e"
[ "$(status_field "$STATUS" eth0 mtu)" = 1400 ] || fail "eth0 MTU is not the default 1400"
[ "$(status_field "$STATUS" eth0 name)" = ovn-kubernetes ] || fail "eth0 entry not named ovn-kubernetes"
[ "$(status_field "$STATUS" eth0 default)" = True ] || fail "eth0 is not default"
[ "$(status_field "$STATUS" pod16477688c0e default)" = None ] || fail "blue must not be default"
[ "$(status_field "$STATUS" eth0 gateway)" = 10.244.0.1 ] || fail "eth0 gateway"
BLUE_IP=$(status_field "$STATUS" pod16477688c0e ips)
case "$BLUE_IP" in 192.168.100.*) ;; *) fail "blue IP $BLUE_IP not from 192.168.100.0/24";; esac
grep -q "via 10.244.0.1 dev eth0" <<<"$(ip -n "$A" route show default)" || fail "no default route via eth0"
STATE_DIR=$(dirname "$STATUS")
compgen -G "$STATE_DIR/ipam/pod16477688c0e/*/$BLUE_IP" >/dev/null || fail "no host-local lease for $BLUE_IP"
"$SIM" check --name "$A" 2> "$WORK/check.err" || fail "CNI CHECK: $(cat "$WORK/check.err")"
grep -q "CHECK ok: .*(eth0)" "$WORK/check.err" || fail "CNI CHECK of eth0 not run"
"$SIM" up --name "$A" --vm "$VM" 2>/dev/null && fail "a second up of the same pod must fail"
[ "$("$SIM" exec --name "$A" -- cat /sys/class/net/eth0/mtu)" = 1400 ] || fail "exec verb"

step "peer on blue pings the pod's secondary IP"
PEER=$("$SIM" peer --name "$A" --network blue --ip 192.168.100.250/24)
[[ "$PEER" == "$A-p-1" ]] || fail "peer netns name $PEER"
ip netns exec "$PEER" busybox ping -c 2 -W 2 "$BLUE_IP" >/dev/null || fail "peer cannot ping $BLUE_IP"

step "add-network red (conflist, VLAN) and green (macvlan)"
"$SIM" add-network --name "$A" --vm "$HOTPLUG_VM" --network red 2> "$WORK/red.err"
RED=$("$PY" -c 'import hashlib; print("pod" + hashlib.sha256(b"red").hexdigest()[:11])')
GREEN=$("$PY" -c 'import hashlib; print("pod" + hashlib.sha256(b"green").hexdigest()[:11])')
have_link "$A" "$RED" || fail "no $RED after add-network red"
check_status "$A" "$STATUS" "eth0 pod16477688c0e $RED"
[ "$(status_field "$STATUS" "$RED" name)" = tenant-a/red-net ] || fail "red entry name"
[ "$(status_field "$STATUS" "$RED" mtu)" = 1450 ] || fail "tuning's MTU not applied (prevResult chain)"
ip netns add "$P-vp"
if ip -n "$P-vp" link add vp type bridge vlan_filtering 1 2>/dev/null; then VLAN=yes; else VLAN=no; fi
ip netns del "$P-vp"
if [ $VLAN = no ]; then
  grep -q "WARNING: .*vlan.*100" "$WORK/red.err" || fail "no VLAN warning: $(cat "$WORK/red.err")"
else
  ! grep -q WARNING "$WORK/red.err" || fail "VLAN warning on a kernel with vlan_filtering"
fi
"$SIM" add-network --name "$A" --vm "$HOTPLUG_VM" --network red 2>/dev/null &&
  fail "adding an attached network must fail"
"$SIM" add-network --name "$A" --vm "$HOTPLUG_VM" --network green 2>/dev/null
check_status "$A" "$STATUS" "eth0 pod16477688c0e $RED $GREEN"
GREEN_IP=$(status_field "$STATUS" "$GREEN" ips)
grep -q '"info_kind":"macvlan"' <<<"$(ip -n "$A" -d -j link show dev "$GREEN")" || fail "$GREEN not macvlan"
GPEER=$("$SIM" peer --name "$A" --network green --ip 192.168.150.250/24)
ip netns exec "$GPEER" busybox ping -c 2 -W 2 "$GREEN_IP" >/dev/null || fail "green peer ping"

step "remove-network green and red"
"$SIM" remove-network --name "$A" --network green 2>/dev/null
have_link "$A" "$GREEN" && fail "$GREEN still in the pod after remove-network"
check_status "$A" "$STATUS" "eth0 pod16477688c0e $RED"
[ -e "$STATE_DIR/ipam/$GREEN/green-net/$GREEN_IP" ] && fail "green lease not released by DEL"
"$SIM" remove-network --name "$A" --network green 2>/dev/null && fail "removing twice must fail"
"$SIM" remove-network --name "$A" --network default 2>/dev/null && fail "removing eth0 must fail"
"$SIM" remove-network --name "$A" --network red 2>/dev/null
check_status "$A" "$STATUS" "eth0 pod16477688c0e"
"$SIM" add-network --name "$A" --vm "$HOTPLUG_VM" --network green 2>/dev/null
check_status "$A" "$STATUS" "eth0 pod16477688c0e $GREEN"
ip netns exec "$GPEER" busybox ping -c 2 -W 2 "$(status_field "$STATUS" "$GREEN" ips)" >/dev/null ||
  fail "green peer ping after re-add"

step "--primary-udn"
U="$P-u"
"$SIM" up --name "$U" --vm "$VM" --primary-udn --mtu 1450 >"$WORK/u.out"
USTATUS=$(sed -n 2p "$WORK/u.out")
check_status "$U" "$USTATUS" "eth0 ovn-udn1 pod16477688c0e"
[ "$(status_field "$USTATUS" ovn-udn1 default)" = True ] || fail "ovn-udn1 not default"
[ "$(status_field "$USTATUS" eth0 default)" = None ] || fail "eth0 must not be default with a UDN"
[ "$(status_field "$USTATUS" ovn-udn1 mtu)" = 1450 ] || fail "ovn-udn1 MTU"
grep -q "dev ovn-udn1" <<<"$(ip -n "$U" route show default)" || fail "default route not via ovn-udn1"

step "--ipv6 dual stack, custom state dir"
S="$P-6"
"$SIM" up --name "$S" --ipv6 --state-dir "$WORK/state6" --pod-cidr 10.99.0.0/24 >"$WORK/6.out"
SSTATUS=$(sed -n 2p "$WORK/6.out")
[ "$SSTATUS" = "$WORK/state6/network-status.json" ] || fail "custom state dir not used: $SSTATUS"
check_status "$S" "$SSTATUS" "eth0"
[ "$(status_field "$SSTATUS" eth0 ips)" = "10.99.0.2,fd00:10:244::2" ] || fail "dual-stack IPs"
"$SIM" del --name "$S" 2>/dev/null
[ -e "$WORK/state6" ] && fail "custom state dir left behind"

step "a failed up cleans up (second secondary network's plugin is missing)"
B="$P-b"
"$SIM" up --name "$B" --vm "$DATA/podsim-vm-broken.yaml" 2>"$WORK/b.err" && fail "broken up succeeded"
grep -q "k6t-no-such-plugin" "$WORK/b.err" || fail "unclear error: $(cat "$WORK/b.err")"
[ "$(wc -l < "$WORK/b.err")" = 1 ] || fail "error is not one line: $(cat "$WORK/b.err")"
grep -q "^$B" <<<"$(ip netns list)" && fail "failed up left a netns"
[ -e "/run/k6t-sim/$B" ] && fail "failed up left its state dir"

step "del"
export POD_SIM_CNI_LOG="$WORK/cni.log"
"$SIM" del --name "$A" 2>/dev/null
# DEL ran for every network, in reverse order of the pod's networks, then loopback.
DELS=$("$PY" -c 'import json,sys
print(" ".join(e["type"] + ":" + e["ifname"] for e in map(json.loads, open(sys.argv[1]))
               if e["command"] == "DEL" and e["rc"] == 0))' "$POD_SIM_CNI_LOG")
[ "$DELS" = "macvlan:$GREEN bridge:pod16477688c0e bridge:eth0 loopback:lo" ] ||
  fail "CNI DELs of del: $DELS"
unset POD_SIM_CNI_LOG
"$SIM" del --name "$U" 2>/dev/null
grep -q "^$P" <<<"$(ip netns list)" && fail "netns left: $(ip netns list | grep "^$P")"
[ -e "$STATE_DIR" ] && fail "state dir (IPAM files) left: $STATE_DIR"
[ -e "/run/k6t-sim/$U" ] && fail "state dir of $U left"
"$SIM" del --name "$A" 2>/dev/null || fail "a second del must succeed"
# Partly gone: only the node netns remains.
ip netns add "$A-node"
"$SIM" del --name "$A" 2>/dev/null || fail "del of a partly gone pod"
grep -q "^$A" <<<"$(ip netns list)" && fail "del left $A-node"
[ "$(ip -br link)" = "$HOST_LINKS_BEFORE" ] || fail "host links changed:
$(diff <(echo "$HOST_LINKS_BEFORE") <(ip -br link))"
