#!/usr/bin/env bash
# k6t-sidecar playing its part of a KubeVirt launcher pod, without a cluster: pod-sim builds the
# pod through the NADs' chains (bridge -> k6t-cni), k6t-sidecar runs in the pod netns, the test
# plays virt-launcher over real gRPC (k6t-hookctl: Info, OnDefineDomain with a domain shaped as
# KubeVirt's converter shapes it, refusals, Shutdown), then libvirt defines and starts the
# rewritten domain in the pod netns and the default guest leases both addresses from the
# sidecar's DHCP.
set -euo pipefail
cd "${K6T_SOURCE_DIR:?}"
BUILD=${K6T_BUILD_DIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
DATA=test/e2e/testdata/sidecar
POD=k6tsc$$
WORK=$(mktemp -d /tmp/k6t-e2e-sidecar-XXXXXX)
GUEST=${K6T_GUEST_DIR:-$BUILD/guest}
HOOKCTL=$BUILD/test-bin/k6t-hookctl
SOCK=$WORK/hooks/k6t.sock
SIDECAR_PID= VIRSH_PID= NONROOT_PID=
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

cleanup() {
  set +e
  [ -n "$VIRSH_PID" ] && kill -KILL "$VIRSH_PID" 2>/dev/null
  for p in $(pgrep -f "$WORK/"); do kill -KILL "$p"; done
  [ -n "$SIDECAR_PID" ] && kill -KILL "$SIDECAR_PID" 2>/dev/null
  [ -n "$NONROOT_PID" ] && kill -KILL "$NONROOT_PID" 2>/dev/null
  POD_SIM_CNI_PATH=/usr/lib/cni:$BUILD/bin ./hack/pod-sim del --name "$POD" >/dev/null 2>&1
  rmdir /run/k6t-sidecar-e2e 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

./hack/build-guest.sh "$GUEST" >/dev/null
export POD_SIM_CNI_PATH=/usr/lib/cni:$BUILD/bin
./hack/pod-sim up --name "$POD" --vm "$DATA/sidecar-vm.yaml" --state-dir "$WORK/sim" >/dev/null
python3 -c 'import json,sys,yaml; print(json.dumps(next(yaml.safe_load_all(open(sys.argv[1])))))' \
  "$DATA/sidecar-vm.yaml" >"$WORK/vmi.json"
sed -e "s|@GUEST@|$GUEST|g" -e "s|@SERIAL@|$WORK/serial.log|g" "$DATA/domain.xml.in" >"$WORK/domain.xml"
echo "nameserver 10.96.0.10" >"$WORK/resolv.conf"

# --- the sidecar, in the pod as KubeVirt runs it (its plugin's name in the environment)
ip netns exec "$POD" env NETWORK_BINDING_PLUGIN_NAME= "$BUILD/bin/k6t-sidecar" \
  --hooks-dir "$WORK/hooks" --resolv-conf "$WORK/resolv.conf" --network-info "$WORK/no-such-file" \
  --log-level debug >"$WORK/sidecar.log" 2>&1 &
SIDECAR_PID=$!
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] && ok "socket $SOCK" || { cat "$WORK/sidecar.log"; echo "FAIL: no socket"; exit 1; }

info=$("$HOOKCTL" "$SOCK" info)
python3 - "$info" <<'PY' && ok "Info: $info" || bad "Info: $info"
import json, sys
i = json.loads(sys.argv[1])
assert i["name"] == "k6t", i
assert [p["name"] for p in i["hookPoints"]] == ["OnDefineDomain", "Shutdown"], i
assert i["versions"][0] == "v1alpha3" and "v1alpha2" in i["versions"], i
PY

# --- OnDefineDomain: the k6t devices become the plan's, twice the same, v1alpha2 alike
"$HOOKCTL" "$SOCK" define "$WORK/domain.xml" "$WORK/vmi.json" >"$WORK/out1.xml"
"$HOOKCTL" "$SOCK" define "$WORK/out1.xml" "$WORK/vmi.json" >"$WORK/out2.xml"
"$HOOKCTL" "$SOCK" define "$WORK/domain.xml" "$WORK/vmi.json" v1alpha2 >"$WORK/out-v2.xml"
cmp -s "$WORK/out1.xml" "$WORK/out2.xml" && ok "OnDefineDomain on its own output: same XML" ||
  { diff "$WORK/out1.xml" "$WORK/out2.xml"; bad "second OnDefineDomain changed the domain"; }
cmp -s "$WORK/out1.xml" "$WORK/out-v2.xml" && ok "v1alpha2 gives the same XML" || bad "v1alpha2 differs"
blue_mac=$(ip -n "$POD" -j link show pod16477688c0e | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
python3 - "$WORK/out1.xml" "$blue_mac" <<'PY' && ok "devices: tap0 and tap16477688c0e, blue takes $blue_mac" || bad "rewritten devices (see $WORK/out1.xml)"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ifs = {i.find("alias").get("name"): i for i in root.find("devices").findall("interface")}
assert set(ifs) == {"ua-default", "ua-blue"}, ifs.keys()
for alias, tap in (("ua-default", "tap0"), ("ua-blue", "tap16477688c0e")):
    i = ifs[alias]
    assert i.get("type") == "ethernet", alias
    t = i.find("target")
    assert (t.get("dev"), t.get("managed")) == (tap, "no"), (alias, t.attrib)
    assert i.find("model").get("type") == "virtio-non-transitional", alias
assert ifs["ua-blue"].find("mac").get("address") == sys.argv[2], ifs["ua-blue"].find("mac").attrib
assert ifs["ua-blue"].find("mtu").get("size") == "1500"
assert ifs["ua-default"].find("mtu").get("size") == "1400"
# Everything else as the converter wrote it.
assert root.find("os/kernel").text.endswith("/vmlinuz")
assert root.find("devices/serial/source").get("path").endswith("/serial.log")
PY
for t in tap0 tap16477688c0e; do
  ip -n "$POD" link show "$t" >/dev/null 2>&1 && ok "the pod has $t (k6t-cni's)" || bad "no $t in the pod"
done

# --- as KubeVirt renders a non-root VMI's sidecar container for the plugin k6t-bridge: uid 107,
# every capability dropped, no new privileges, the plugin's name in the environment. The hook
# needs no privilege (its blue device is the one above; default is not its interface), the
# socket is named after the plugin; DHCP cannot be served (README).
chmod 0711 "$WORK"
mkdir -m 0777 "$WORK/hooks-nonroot"
NONROOT_SOCK=$WORK/hooks-nonroot/k6t-bridge.sock
ip netns exec "$POD" env NETWORK_BINDING_PLUGIN_NAME=k6t-bridge setpriv --reuid 107 --regid 107 \
  --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs "$BUILD/bin/k6t-sidecar" \
  --hooks-dir "$WORK/hooks-nonroot" --resolv-conf "$WORK/resolv.conf" >"$WORK/sidecar-nonroot.log" 2>&1 &
NONROOT_PID=$!
for _ in $(seq 1 100); do [ -S "$NONROOT_SOCK" ] && break; sleep 0.1; done
[ -S "$NONROOT_SOCK" ] && ok "plugin k6t-bridge serves on $(basename "$NONROOT_SOCK")" || bad "no $NONROOT_SOCK"
"$HOOKCTL" "$NONROOT_SOCK" define "$WORK/domain.xml" "$WORK/vmi.json" >"$WORK/out-nonroot.xml" &&
python3 - "$WORK/out-nonroot.xml" "$WORK/out1.xml" "$WORK/domain.xml" <<'PY' &&
import sys, xml.etree.ElementTree as ET
def dev(path, alias):
    for i in ET.parse(path).getroot().find("devices").findall("interface"):
        if i.find("alias").get("name") == alias:
            return ET.tostring(i)
assert dev(sys.argv[1], "ua-blue") == dev(sys.argv[2], "ua-blue"), "blue differs"
assert dev(sys.argv[1], "ua-default") == dev(sys.argv[3], "ua-default"), "default was touched"
PY
  ok "uid 107 without capabilities, plugin k6t-bridge: blue rewritten as above, default untouched" ||
  { cat "$WORK/sidecar-nonroot.log"; bad "uid 107 without capabilities: OnDefineDomain"; }
sleep 1
grep -E "dhcp: .*(not served|Permission|permitted)" "$WORK/sidecar-nonroot.log" | head -3 | sed 's/^/  unprivileged: /'
"$HOOKCTL" "$NONROOT_SOCK" shutdown >/dev/null
wait "$NONROOT_PID" && ok "unprivileged sidecar exited 0" || bad "unprivileged sidecar exit status"
NONROOT_PID=

# --- refusals name the problem; the server keeps serving
# refused WHAT DOMAIN VMI ERE: OnDefineDomain must fail with stderr "CODE: message" matching ERE.
refused() {
  if "$HOOKCTL" "$SOCK" define "$2" "$3" >/dev/null 2>"$WORK/err"; then
    bad "$1 was accepted"
  elif grep -qE "$4" "$WORK/err"; then
    ok "$1 refused: $(head -1 "$WORK/err")"
  else
    bad "$1: $(cat "$WORK/err")"
  fi
}
echo "<domain><devices>" >"$WORK/bad.xml"
sed 's/"k6t-bridge"/"k6t-bridgee"/' "$WORK/vmi.json" >"$WORK/bad-vmi.json"
echo '{"kind": "VirtualMachineInstance", "spec": ' >"$WORK/cut-vmi.json"
refused "a malformed domain" "$WORK/bad.xml" "$WORK/vmi.json" '^3: domain XML: not well-formed'
refused "a VMI naming no k6t binding" "$WORK/domain.xml" "$WORK/bad-vmi.json" '^3: interface "blue"'
refused "a truncated VMI" "$WORK/domain.xml" "$WORK/cut-vmi.json" '^3: VMI: '
"$HOOKCTL" "$SOCK" info >/dev/null && ok "still serving after refusals" || bad "server gone after refusals"
[ "$("$HOOKCTL" "$SOCK" cloudinit '{"userData":"x"}')" = '{"userData":"x"}' ] &&
  ok "PreCloudInitIso returns the data unchanged" || bad "PreCloudInitIso"

# --- libvirt defines and starts the result in the pod netns (embedded driver, TCG, QEMU as
# root: the test's own simplification; k6t-launcher runs it as 107)
mkdir -p "$WORK/lv/etc"
cat >"$WORK/lv/etc/qemu.conf" <<'EOF2'
user = "+0"
group = "+0"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOF2
ip netns exec "$POD" virsh -q -c "qemu:///embed?root=$WORK/lv" \
  "define $WORK/out1.xml; start default_hooked; event --all --loop --timeout 240" >"$WORK/virsh.log" 2>&1 &
VIRSH_PID=$!
leased() { grep -qE "K6T-GUEST: iface $1 up .*ipv4=$2/" "$WORK/serial.log" 2>/dev/null; }
for _ in $(seq 1 1500); do
  leased eth0 10.0.2.2 && leased eth1 '192\.168\.107\.[0-9]+' && break
  kill -0 "$VIRSH_PID" 2>/dev/null || break
  sleep 0.1
done
leased eth0 10.0.2.2 && ok "guest eth0 (k6t-masquerade) leased 10.0.2.2 from the sidecar" ||
  bad "guest eth0 got no lease"
blue_ip=$(ip -n "$POD" -j addr show pod16477688c0e | python3 -c 'import json,sys; print([a["local"] for a in json.load(sys.stdin)[0]["addr_info"] if a["family"]=="inet"][0])')
leased eth1 "${blue_ip//./\\.}" && ok "guest eth1 (k6t-bridge) leased the pod's $blue_ip from the sidecar" ||
  bad "guest eth1 did not lease $blue_ip"
grep -E "K6T-GUEST: iface eth[01] up" "$WORK/serial.log" || true
grep -q "dhcp: interface blue served on k6t-16477688c0e" "$WORK/sidecar.log" && ok "sidecar served blue" ||
  bad "sidecar did not serve blue"

# What the sidecar costs the pod (KubeVirt's computeResourceOverhead), while serving DHCP.
grep -E '^(VmRSS|VmHWM|Threads)' "/proc/$SIDECAR_PID/status" | tr -s ' \t' ' ' | paste -sd' ' |
  sed 's/^/measure: k6t-sidecar /'

# --- Shutdown: the sidecar exits 0 and removes its socket
"$HOOKCTL" "$SOCK" shutdown && ok "Shutdown answered" || bad "Shutdown"
rc=0
for _ in $(seq 1 100); do kill -0 "$SIDECAR_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SIDECAR_PID" || rc=$?
SIDECAR_PID=
[ "$rc" = 0 ] && ok "sidecar exited 0" || bad "sidecar exited $rc"
[ ! -e "$SOCK" ] && ok "socket removed" || bad "socket left behind"

if [ "$fail" != 0 ]; then
  echo "--- sidecar log"; cat "$WORK/sidecar.log"; echo "--- virsh"; cat "$WORK/virsh.log"
  echo "--- serial"; cat "$WORK/serial.log" 2>/dev/null; echo "--- out1.xml"; cat "$WORK/out1.xml"
  echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
