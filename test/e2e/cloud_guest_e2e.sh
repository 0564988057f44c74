#!/usr/bin/env bash
# The real Debian 12 cloud guest (hack/build-cloud-guest.sh) run by k6t as a KubeVirt user writes
# the VM: pods from the real CNI plugins (hack/pod-sim), `k6t-handler setup`, `k6t-launcher`
# with the containerDisk found in --image-store (the guest's OCI archive), libvirt + QEMU (TCG).
#  A. examples/debian-cloud-init.yaml (containerDisk, cloudInitNoCloud with the test's SSH key
#     and networkData v2: eth0 DHCP, eth1 static 10.10.10.14/24) on a dual-stack pod whose
#     resolv.conf names a cluster DNS: systemd-networkd leases 10.0.2.2 from k6t's DHCP with the
#     pod's MTU, DNS and search domains, fd10:0:2::2 by DHCPv6 and an IPv6 default route from
#     k6t's RA; ssh to the pod IP (port 22 on the masquerade interface) runs a command; eth1 has
#     the static address and reaches a peer on its L2 segment; `k6t-handler status` lists both
#     addresses with `guest-agent` as a source; `k6t-handler console` shows the login prompt.
#  B. test/e2e/testdata/debian-cloud-configdrive.yaml (cloudInitConfigDrive with
#     network_data.json: eth0 DHCP, eth1 static with its own MTU; root on a persistent claim):
#     the datasource is ConfigDrive and network_data.json is applied.
#  C. B's launcher stopped and started again on the same state dir: a new boot, the same
#     instance-id and SSH host key, bootcmd ran twice and the once-per-instance runcmd once.
# Prints boot timings. Label `guest` (not CI): three TCG boots of a full distribution. Exit 77
# (skip) only when the guest image is absent and cannot be built, or a tool is missing.
# K6T_CLOUD_GUEST_DIR=<a build dir of hack/build-cloud-guest.sh> tests that image as it is.
set -euo pipefail
SRC=${K6T_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${K6T_BUILD_DIR:?K6T_BUILD_DIR: the build dir with bin/k6t-handler and bin/k6t-launcher}
. "$SRC/test/e2e/cloud_guest_lib.sh"
[ "$(id -u)" = 0 ] || cg_skip "needs root (netns, taps)"
for t in ssh ssh-keygen qemu-img ip python3; do
  command -v "$t" >/dev/null || cg_skip "$t missing (hack/install-deps.sh installs it)"
done
H=$BUILD/bin/k6t-handler
L=$BUILD/bin/k6t-launcher
[ -x "$H" ] && [ -x "$L" ] || { echo "FAIL: $H or $L not built"; exit 1; }

WORK=$(mktemp -d /tmp/k6t-cg-XXXXXX)  # short: QEMU monitor socket paths under it must fit 108 bytes
chmod 0711 "$WORK"  # QEMU runs as 107 and must reach the state dirs, claims and images
PODS=()
LAUNCHER_PID=
cleanup() {
  set +e
  [ -n "$LAUNCHER_PID" ] && kill -KILL "$LAUNCHER_PID" 2>/dev/null && wait "$LAUNCHER_PID" 2>/dev/null
  for p in $(pgrep -f "$WORK/"); do kill -KILL "$p"; done
  for pod in "${PODS[@]}"; do
    "$H" teardown --vmi "$WORK/$pod.yaml" --pod-netns "/run/netns/$pod" --state-dir "$WORK/$pod" >/dev/null 2>&1
    "$SRC/hack/pod-sim" del --name "$pod" >/dev/null 2>&1
    rm -rf "/etc/netns/$pod"
  done
  [ -n "${K6T_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

cg_image
cg_keygen
# The image store: the guest's OCI archive, as `podman save --format oci-archive` leaves one.
mkdir "$WORK/images"
ln -s "$K6T_CLOUD_GUEST_OCI_ARCHIVE" "$WORK/images/debian12-cloud.oci.tar"

# with_key SPEC OUT: the spec with the test's public key in place of the placeholder.
with_key() {
  sed "s|ssh-ed25519 REPLACE-WITH-YOUR-PUBLIC-KEY|$PUBKEY|" "$1" >"$2"
  grep -qF "$PUBKEY" "$2" || { echo "FAIL: no key placeholder in $1"; exit 1; }
}

# pod_up POD SPEC [pod-sim flags]: the pod (its resolv.conf: a cluster DNS, as the kubelet
# writes it), then k6t-handler setup. The VM is $WORK/POD.yaml, its state dir $WORK/POD.
pod_up() {
  local pod=$1 spec=$2; shift 2
  PODS+=("$pod")
  with_key "$spec" "$WORK/$pod.yaml"
  mkdir -p "/etc/netns/$pod"
  printf 'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
    >"/etc/netns/$pod/resolv.conf"
  "$SRC/hack/pod-sim" up --name "$pod" --vm "$WORK/$pod.yaml" --state-dir "$WORK/$pod-sim" "$@" >/dev/null
  "$H" setup --vmi "$WORK/$pod.yaml" --pod-netns "/run/netns/$pod" \
    --network-status "$WORK/$pod-sim/network-status.json" --state-dir "$WORK/$pod" \
    >"$WORK/$pod-setup.log" 2>&1 || { cat "$WORK/$pod-setup.log"; echo "FAIL: k6t-handler setup"; exit 1; }
  CG_NETNS=$pod-node  # ssh comes from the node, through the pod IP
}
pod_ip() {  # POD [N]: the pod's Nth address on its default network (1: IPv6 when dual stack)
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["ips"][int(sys.argv[2])])' \
    "$WORK/$1-sim/network-status.json" "${2:-0}"
}

# launcher_start POD [flags]: k6t-launcher in the pod's netns, its command socket $WORK/POD.sock.
launcher_start() {
  local pod=$1; shift
  ip netns exec "$pod" "$L" --vmi "$WORK/$pod.yaml" --state-dir "$WORK/$pod" \
    --caps-cache "$BUILD/qemu-caps" --image-store "$WORK/images" --claims-dir "$WORK/claims" \
    --socket "$WORK/$pod.sock" --shutdown-timeout 120 --log-level info "$@" \
    >>"$WORK/$pod-launcher.log" 2>&1 &
  LAUNCHER_PID=$!
  CG_ALIVE_PID=$LAUNCHER_PID
}
# launcher_stop POD WHAT: SIGTERM (ACPI power-off); the launcher exits 0, leaves nothing running.
launcher_stop() {
  local t rc=0
  t=$(now)
  kill -TERM "$LAUNCHER_PID"
  wait "$LAUNCHER_PID" || rc=$?
  LAUNCHER_PID=
  [ "$rc" = 0 ] && ok "$2: launcher exited 0 on SIGTERM, the guest powered off in $(since "$t") s" ||
    bad "$2: launcher exited $rc on SIGTERM"
  for _ in $(seq 1 50); do pgrep -f "$WORK/$1/" >/dev/null || break; sleep 0.1; done
  pgrep -f "$WORK/$1/" >/dev/null && bad "$2: processes of its state dir left running" ||
    ok "$2: no QEMU left"
}
# boot POD WHAT: the launcher started, then until ssh through the pod IP answers.
boot() {
  local t
  t=$(now)
  launcher_start "$1"
  if wait_ssh "$(pod_ip "$1")" 900; then
    ok "$2: ssh debian@$(pod_ip "$1") (port 22 through the masquerade NAT) runs a command: $(gssh "$(pod_ip "$1")" uname -r)"
    echo "timing: launcher start -> ssh answers ($2): $(since "$t") s"
  else
    show_boot "$WORK/$1/serial.log"; tail -20 "$WORK/$1-launcher.log"
    bad "$2: no ssh through the pod IP $(pod_ip "$1")"; exit 1
  fi
}
# cloud_init_result POD WHAT DATASOURCE: cloud-init finished, from DATASOURCE, without errors.
cloud_init_result() {
  local status
  status=$(gssh "$(pod_ip "$1")" 'cloud-init status --wait' 2>&1 | tail -1)
  [ "$status" = "status: done" ] && ok "$2: cloud-init finished" || bad "$2: cloud-init: $status"
  gssh "$(pod_ip "$1")" python3 - "$3" <<'PY' && ok "$2: datasource $3, no cloud-init errors" || bad "$2: datasource or errors"
import json, sys
r = json.load(open("/run/cloud-init/result.json"))["v1"]
print("  guest: cloud-init result", r)
assert sys.argv[1] in r["datasource"] and not r["errors"]
PY
}
# peer_ping POD GUEST_IP PEER_IP: a peer on bridge-net's segment and the guest reach each other.
peer_ping() {
  local peer
  peer=$("$SRC/hack/pod-sim" peer --name "$1" --network bridge-net --ip "$3/24")
  gssh "$(pod_ip "$1")" ping -c 2 -W 5 -I eth1 "$3" >/dev/null &&
    ip netns exec "$peer" busybox ping -c 2 -W 5 "$2" >/dev/null
}

# From here on every check reports itself (ok/bad); a failing command must not end the run.
set +e

# === A. NoCloud, containerDisk, dual-stack pod ===================================================
A=cga$$
pod_up "$A" "$SRC/examples/debian-cloud-init.yaml" --ipv6
boot "$A" "NoCloud"
IP=$(pod_ip "$A")
grep -q 'containerDisk .*extracted now' "$WORK/$A-launcher.log" &&
  ok "NoCloud: the containerDisk k6t.local/debian12-cloud:latest extracted from the image store's OCI archive" ||
  bad "NoCloud: no containerDisk extraction in the launcher log"
cloud_init_result "$A" NoCloud DataSourceNoCloud
gssh "$IP" 'networkctl status eth0 --no-pager; ip -br addr; ip route; ip -6 route; resolvectl dns eth0; resolvectl domain eth0' \
  2>&1 | sed 's/^/  guest: /'
ifindex=$(gssh "$IP" cat /sys/class/net/eth0/ifindex)
lease=$(gssh "$IP" cat "/run/systemd/netif/leases/$ifindex" 2>/dev/null)
grep -q '^ADDRESS=10.0.2.2$' <<<"$lease" && grep -q '^SERVER_ADDRESS=10.0.2.1$' <<<"$lease" &&
  ok "NoCloud: systemd-networkd's DHCPv4 lease on eth0: 10.0.2.2 from k6t's server 10.0.2.1" ||
  bad "NoCloud: networkd lease: $lease"
pod_mtu=$(ip -n "$A" -o link show dev eth0 | sed -E 's/.* mtu ([0-9]+).*/\1/')
mtu=$(gssh "$IP" cat /sys/class/net/eth0/mtu)
[ "$mtu" = "$pod_mtu" ] && ok "NoCloud: eth0 MTU $mtu, the pod's" || bad "NoCloud: eth0 MTU $mtu, the pod's is $pod_mtu"
gssh "$IP" ip -4 route show default | grep -q 'default via 10.0.2.1 dev eth0 proto dhcp' &&
  ok "NoCloud: default route via 10.0.2.1 from DHCP" || bad "NoCloud: no DHCP default route"
gssh "$IP" resolvectl dns eth0 | grep -q '10.96.0.10' && ok "NoCloud: the pod's DNS 10.96.0.10 in systemd-resolved" ||
  bad "NoCloud: the pod's DNS not in resolved"
gssh "$IP" resolvectl domain eth0 | grep -q 'default.svc.cluster.local svc.cluster.local cluster.local' &&
  ok "NoCloud: the pod's search domains in systemd-resolved" || bad "NoCloud: the pod's search domains missing"
gssh "$IP" ip -6 -o addr show dev eth0 | grep -q 'inet6 fd10:0:2::2/' &&
  ok "NoCloud: eth0 has fd10:0:2::2 from k6t's DHCPv6" || bad "NoCloud: no fd10:0:2::2 on eth0"
gssh "$IP" ip -6 route show default | grep -q 'default via fe80::[0-9a-f:]* dev eth0 proto ra' &&
  ok "NoCloud: IPv6 default route from k6t's RA" || bad "NoCloud: no IPv6 default route from an RA"
gssh "$IP" ip -4 -o addr show dev eth1 | grep -q 'inet 10.10.10.14/24' &&
  ok "NoCloud: eth1 has the static 10.10.10.14/24 from networkData" || bad "NoCloud: eth1 static address missing"
peer_ping "$A" 10.10.10.14 10.10.10.1 && ok "NoCloud: eth1 and a peer on bridge-net's L2 segment ping each other" ||
  bad "NoCloud: eth1 and its peer 10.10.10.1 do not reach each other"
[ "$(gssh "$IP" hostname)" = debian-cloud ] && ok "NoCloud: hostname from meta-data (the VM's name)" || bad "NoCloud: hostname"
# The guest agent starts a little after sshd: give the status a minute.
status_ok=
for _ in $(seq 1 30); do
  st=$("$H" status --launcher-socket "$WORK/$A.sock" --output json 2>&1)
  python3 - "$st" <<'PY' && { status_ok=1; break; }
import json, sys
s = json.loads(sys.argv[1])
by = {i["name"]: i for i in s["interfaces"]}
d, b = by["default"], by["bridge-net"]
assert "guest-agent" in d["infoSource"] and d["interfaceName"] == "eth0", d
assert "guest-agent" in b["infoSource"] and b["interfaceName"] == "eth1", b
assert "10.10.10.14" in b["ipAddresses"], b
assert any(a.startswith("10.244.") for a in d["ipAddresses"]), d  # masquerade: the pod IP
PY
  sleep 2
done
"$H" status --launcher-socket "$WORK/$A.sock" | sed 's/^/  /'
[ -n "$status_ok" ] && ok "NoCloud: k6t-handler status: default (pod IP) and bridge-net 10.10.10.14, guest-agent a source of both" ||
  bad "NoCloud: k6t-handler status: $st"
# A console session; Enter makes the getty print its prompt again.
(printf '\r'; sleep 6) | timeout 12 "$H" console --state-dir "$WORK/$A" >"$WORK/console.out" 2>&1
grep -aq 'debian-cloud login:' "$WORK/console.out" && ok "NoCloud: k6t-handler console shows the login prompt" ||
  { cat -v "$WORK/console.out" | tail -5; bad "NoCloud: no login prompt through k6t-handler console"; }
grep -aq 'debian-cloud login:' "$WORK/$A/serial.log" && ok "NoCloud: the serial log has the login prompt" ||
  bad "NoCloud: no login prompt in the serial log"
IID_A=$(gssh "$IP" cat /var/lib/cloud/data/instance-id)
echo "  NoCloud instance-id: $IID_A"
launcher_stop "$A" NoCloud
"$H" teardown --vmi "$WORK/$A.yaml" --pod-netns "/run/netns/$A" --state-dir "$WORK/$A" >/dev/null
"$SRC/hack/pod-sim" del --name "$A" >/dev/null 2>&1

# === B. ConfigDrive, root disk on a persistent claim =============================================
B=cgb$$
mkdir -p "$WORK/claims/debian-cloud-cd-root"
qemu-img convert -O raw "$K6T_CLOUD_GUEST_QCOW2" "$WORK/claims/debian-cloud-cd-root/disk.img"
chown -R 107:107 "$WORK/claims"
pod_up "$B" "$SRC/test/e2e/testdata/debian-cloud-configdrive.yaml"
: >"$WORK/known_hosts"
boot "$B" "ConfigDrive"
IP=$(pod_ip "$B")
cloud_init_result "$B" ConfigDrive DataSourceConfigDrive
gssh "$IP" 'ip -br addr; ip -br link' 2>&1 | sed 's/^/  guest: /'
gssh "$IP" ip -4 -o addr show dev eth0 | grep -q 'inet 10.0.2.2/24' &&
  ok "ConfigDrive: eth0 leased 10.0.2.2 (ipv4_dhcp in network_data.json)" || bad "ConfigDrive: eth0 has no 10.0.2.2"
gssh "$IP" ip -4 -o addr show dev eth1 | grep -q 'inet 10.10.10.15/24' &&
  ok "ConfigDrive: eth1 has the static 10.10.10.15/24 from network_data.json" || bad "ConfigDrive: eth1 static address missing"
[ "$(gssh "$IP" cat /sys/class/net/eth1/mtu)" = 1360 ] && ok "ConfigDrive: eth1 MTU 1360 from network_data.json" ||
  bad "ConfigDrive: eth1 MTU $(gssh "$IP" cat /sys/class/net/eth1/mtu), network_data.json says 1360"
peer_ping "$B" 10.10.10.15 10.10.10.2 && ok "ConfigDrive: eth1 and a peer on its L2 segment ping each other" ||
  bad "ConfigDrive: eth1 and its peer do not reach each other"
[ "$(gssh "$IP" hostname)" = debian-cloud-cd ] && ok "ConfigDrive: hostname from meta_data.json" || bad "ConfigDrive: hostname"
IID_B=$(gssh "$IP" cat /var/lib/cloud/data/instance-id)
BOOT_B=$(gssh "$IP" cat /proc/sys/kernel/random/boot_id)
echo "  ConfigDrive instance-id: $IID_B"

# === C. the same VM restarted: stop and start the launcher on the same state dir ================
launcher_stop "$B" ConfigDrive
boot "$B" "restart"  # the host key is pinned: a regenerated one (a new instance) fails here
ok "restart: ssh with the same host key"
[ "$(gssh "$IP" cat /proc/sys/kernel/random/boot_id)" != "$BOOT_B" ] && ok "restart: the guest booted again" ||
  bad "restart: same boot_id"
iid=$(gssh "$IP" cat /var/lib/cloud/data/instance-id)
[ -n "$iid" ] && [ "$iid" = "$IID_B" ] && ok "restart: same instance-id $iid" || bad "restart: instance-id $iid, was $IID_B"
counts="$(gssh "$IP" 'cloud-init status --wait >/dev/null; wc -l </var/lib/k6t-bootcmd.log; wc -l </var/lib/k6t-runcmd.log' | tr '\n' ' ')"
[ "$counts" = "2 1 " ] && ok "restart: bootcmd ran on both boots, the per-instance runcmd once" ||
  bad "restart: bootcmd/runcmd counts '$counts', want '2 1'"
launcher_stop "$B" restart

cg_result
