#!/usr/bin/env bash
# The real Debian 12 cloud guest (hack/build-cloud-guest.sh) on raw QEMU under TCG, no k6t: the
# guest's own disk boots through SeaBIOS and GRUB from a throwaway qcow2 overlay, on two taps in
# a scratch netns (eth0: a bridge with dnsmasq's DHCP; eth1: a peer on its L2 segment).
#  1. NoCloud (cidata ISO): cloud-init takes the test's SSH key and network-config v2 (eth0 DHCP,
#     eth1 static 10.10.10.14/24); systemd-networkd leases 10.0.2.2 with the server's MTU and
#     DNS; ssh runs a command; the guest agent answers guest-network-get-interfaces on its
#     virtio-serial socket; the serial console shows a login prompt; after a reboot the
#     instance-id, the SSH host key and the once-per-instance runcmd are unchanged.
#  2. ConfigDrive (config-2 ISO, openstack/latest/*): meta_data.json's key and network_data.json's
#     static addresses (no DHCP server) are applied; ssh works.
# Builds the guest, or reuses the cached one. Prints boot timings. Exit 77 (skip) only when a
# tool or device it needs is absent. K6T_CLOUD_GUEST_DIR=<a build dir> tests that image as it is.
set -euo pipefail
SRC=${K6T_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/test/e2e/cloud_guest_lib.sh"
[ "$(id -u)" = 0 ] || cg_skip "needs root (netns, taps)"
[ -c /dev/net/tun ] || cg_skip "no /dev/net/tun"
for t in qemu-system-x86_64 qemu-img xorriso ssh ssh-keygen dnsmasq ip; do
  command -v "$t" >/dev/null || cg_skip "$t missing (hack/install-deps.sh installs it)"
done

NS=k6tcg$$
CG_NETNS=$NS
WORK=$(mktemp -d /tmp/k6t-cloud-guest-XXXXXX)
QEMU_PID=
DNSMASQ_PID=
cleanup() {
  set +e
  [ -n "$QEMU_PID" ] && kill -KILL "$QEMU_PID" 2>/dev/null && wait "$QEMU_PID" 2>/dev/null
  [ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the guest image (built once, then cached by content) ------------------------------------
cg_image

# --- the containerDisk: read back by independent tools ----------------------------------------
check_oci() {  # LAYOUT_DIR WHAT
  local dir=$1 what=$2 out=$WORK/unpack-$RANDOM
  if command -v umoci >/dev/null; then
    # umoci checks every digest and size while unpacking (and the config's diff_ids).
    if umoci unpack --image "$dir:latest" "$out" >"$WORK/umoci.log" 2>&1; then
      local st; st=$(stat -c '%u:%g %a' "$out/rootfs/disk/disk.qcow2" 2>/dev/null || true)
      [ "$st" = "107:107 440" ] && ok "$what: umoci unpacks /disk/disk.qcow2 owned 107:107 mode 0440" ||
        bad "$what: /disk/disk.qcow2 is '$st', want 107:107 440"
      cmp -s "$out/rootfs/disk/disk.qcow2" "$K6T_CLOUD_GUEST_QCOW2" && ok "$what: layer holds the built qcow2" ||
        bad "$what: layer content differs from the qcow2"
    else
      cat "$WORK/umoci.log"; bad "$what: umoci unpack failed"
    fi
    rm -rf "$out"
  else
    echo "note: umoci absent, OCI checked by digests only"
  fi
  python3 - "$dir" <<'PY' && ok "$what: index/manifest/config/layer digests, sizes and mediaTypes" || bad "$what: OCI structure"
import hashlib, json, os, sys
d = sys.argv[1]
def blob(desc):
    algo, hexd = desc["digest"].split(":")
    data = open(os.path.join(d, "blobs", algo, hexd), "rb").read()
    assert hashlib.sha256(data).hexdigest() == hexd and len(data) == desc["size"], desc
    return data
assert json.load(open(os.path.join(d, "oci-layout")))["imageLayoutVersion"] == "1.0.0"
index = json.load(open(os.path.join(d, "index.json")))
[m] = index["manifests"]
assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
assert m["annotations"]["org.opencontainers.image.ref.name"] == "latest"
man = json.loads(blob(m))
assert man["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
cfg = json.loads(blob(man["config"]))
[layer] = man["layers"]
assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
h = hashlib.sha256()
with open(os.path.join(d, "blobs", "sha256", layer["digest"][7:]), "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
assert "sha256:" + h.hexdigest() == layer["digest"] == cfg["rootfs"]["diff_ids"][0]
assert cfg["os"] == "linux" and cfg["architecture"] == "amd64"
PY
}
check_oci "$K6T_CLOUD_GUEST_OCI_LAYOUT" "OCI layout"
mkdir "$WORK/archive" && tar -C "$WORK/archive" -xf "$K6T_CLOUD_GUEST_OCI_ARCHIVE"
check_oci "$WORK/archive" "OCI archive"
rm -rf "$WORK/archive"

# --- network: tap0 on a bridge with DHCP (dnsmasq), tap1 with a static peer ----------------------
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add 10.0.2.1/24 dev br0
ip -n "$NS" link set br0 up
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" link set tap0 master br0 up
ip -n "$NS" tuntap add dev tap1 mode tap
ip -n "$NS" addr add 10.10.10.1/24 dev tap1
ip -n "$NS" link set tap1 up
MAC0=52:54:00:6b:36:01
MAC1=52:54:00:6b:36:02
DHCP_MTU=1400
start_dnsmasq() {
  ip netns exec "$NS" dnsmasq --keep-in-foreground --port=0 --bind-interfaces --interface=br0 \
    --dhcp-range=10.0.2.2,10.0.2.2,255.255.255.0,1h --dhcp-host="$MAC0,10.0.2.2" \
    --dhcp-option=option:router,10.0.2.1 --dhcp-option=option:dns-server,10.0.2.1 \
    --dhcp-option=option:domain-search,k6t.test --dhcp-option=option:mtu,$DHCP_MTU \
    --dhcp-leasefile="$WORK/dnsmasq.leases" --pid-file= --log-dhcp --log-facility="$WORK/dnsmasq.log" &
  DNSMASQ_PID=$!
}

cg_keygen

# boot_vm ISO SERIAL_LOG: QEMU (TCG) on a fresh overlay of the image, with ISO as a cdrom-less
# virtio disk (as KubeVirt attaches cloud-init volumes), the guest agent and QMP on sockets.
boot_vm() {
  rm -f "$WORK/overlay.qcow2" "$WORK/qga.sock" "$WORK/qmp.sock"
  qemu-img create -q -f qcow2 -F qcow2 -b "$K6T_CLOUD_GUEST_QCOW2" "$WORK/overlay.qcow2"
  ip netns exec "$NS" qemu-system-x86_64 -accel tcg -machine q35 -cpu max -m 1024 -smp 1 \
    -display none -vga none -no-user-config -nodefaults \
    -serial "file:$2" \
    -drive "file=$WORK/overlay.qcow2,if=virtio,format=qcow2" \
    -drive "file=$1,if=virtio,format=raw,readonly=on" \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device "virtio-net-pci,netdev=n0,mac=$MAC0" \
    -netdev tap,id=n1,ifname=tap1,script=no,downscript=no -device "virtio-net-pci,netdev=n1,mac=$MAC1" \
    -device virtio-serial-pci \
    -chardev "socket,id=qga0,path=$WORK/qga.sock,server=on,wait=off" \
    -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
    -qmp "unix:$WORK/qmp.sock,server=on,wait=off" >"$WORK/qemu.log" 2>&1 &
  QEMU_PID=$!
  CG_ALIVE_PID=$QEMU_PID
}
stop_vm() {
  kill -TERM "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
}

# qga REQUEST_JSON: one guest-agent command over the virtio-serial socket, after guest-sync.
qga() {
  python3 - "$WORK/qga.sock" "$1" <<'PY'
import json, random, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
f = s.makefile("rwb")
sync = random.randint(1, 1 << 30)
# guest-sync flushes whatever an earlier client left in the channel: skip lines until our id.
f.write(b"\xff" + json.dumps({"execute": "guest-sync", "arguments": {"id": sync}}).encode() + b"\n")
f.flush()
while True:
    line = f.readline().strip(b"\xff\r\n ")
    if not line:
        continue
    try:
        if json.loads(line).get("return") == sync:
            break
    except ValueError:
        pass
f.write(sys.argv[2].encode() + b"\n")
f.flush()
print(json.dumps(json.loads(f.readline())))
PY
}

# From here on every check reports itself (ok/bad); a failing command must not end the run.
set +e

# === 1. NoCloud ==================================================================================
IID=k6t-nocloud-$$
mkdir -p "$WORK/cidata"
cat >"$WORK/cidata/meta-data" <<EOF
instance-id: $IID
local-hostname: k6t-cloud-guest
EOF
cat >"$WORK/cidata/user-data" <<EOF
#cloud-config
ssh_authorized_keys:
  - $PUBKEY
bootcmd:
  - echo boot >>/var/lib/k6t-bootcmd.log
runcmd:
  - echo once >>/var/lib/k6t-runcmd.log
EOF
cat >"$WORK/cidata/network-config" <<EOF
version: 2
ethernets:
  eth0:
    dhcp4: true
  eth1:
    addresses: [10.10.10.14/24]
EOF
mkiso() {  # LABEL DIR ISO: ISO9660 + Rock Ridge + Joliet, as KubeVirt's cloud-init disks
  xorriso -as mkisofs -quiet -V "$1" -J -R -o "$3" "$2" 2>"$WORK/xorriso.log" ||
    { cat "$WORK/xorriso.log"; bad "xorriso $1"; exit 1; }
}
mkiso cidata "$WORK/cidata" "$WORK/cidata.iso"

start_dnsmasq
t=$(now)
boot_vm "$WORK/cidata.iso" "$WORK/serial-nocloud.log"
if wait_ssh 10.0.2.2 600; then
  BOOT_S=$(since "$t")
  ok "NoCloud: ssh to 10.0.2.2 (leased from dnsmasq) runs a command: $(gssh 10.0.2.2 uname -r)"
  echo "timing: QEMU start -> ssh answers (NoCloud, DHCP): $BOOT_S s"
else
  show_boot "$WORK/serial-nocloud.log"; bad "NoCloud: no ssh on 10.0.2.2"; exit 1
fi

status=$(gssh 10.0.2.2 'cloud-init status --wait' 2>&1 | tail -1)
[ "$status" = "status: done" ] && ok "NoCloud: cloud-init finished ($status)" || bad "NoCloud: cloud-init: $status"
gssh 10.0.2.2 'systemctl is-system-running --wait >/dev/null; systemd-analyze; systemd-analyze blame | head -8' 2>&1 |
  sed 's/^/  guest: /' || true
gssh 10.0.2.2 python3 - <<'PY' && ok "NoCloud: datasource NoCloud, no cloud-init errors" || bad "NoCloud: datasource or errors"
import json
r = json.load(open("/run/cloud-init/result.json"))["v1"]
print("  guest: cloud-init result", r)
assert "DataSourceNoCloud" in r["datasource"] and not r["errors"]
PY
gssh 10.0.2.2 'networkctl status eth0 --no-pager; ip -4 route; resolvectl dns eth0; resolvectl domain eth0' >"$WORK/net0.txt" 2>&1 || true
sed 's/^/  guest: /' "$WORK/net0.txt"
# What networkd took from the lease: its lease file, the MTU, the default route, DNS.
ifindex=$(gssh 10.0.2.2 cat /sys/class/net/eth0/ifindex)
lease=$(gssh 10.0.2.2 cat /run/systemd/netif/leases/"$ifindex" 2>/dev/null || true)
grep -q '^ADDRESS=10.0.2.2$' <<<"$lease" && grep -q '^SERVER_ADDRESS=10.0.2.1$' <<<"$lease" &&
  ok "NoCloud: systemd-networkd's DHCPv4 lease on eth0: 10.0.2.2 from 10.0.2.1" || bad "NoCloud: networkd lease: $lease"
mtu=$(gssh 10.0.2.2 cat /sys/class/net/eth0/mtu)
[ "$mtu" = "$DHCP_MTU" ] && ok "NoCloud: eth0 MTU $mtu from DHCP option 26" || bad "NoCloud: eth0 MTU $mtu, DHCP offered $DHCP_MTU"
gssh 10.0.2.2 ip -4 route show default | grep -q 'default via 10.0.2.1 dev eth0 proto dhcp' &&
  ok "NoCloud: default route via 10.0.2.1 from DHCP" || bad "NoCloud: no DHCP default route"
grep -q '10.0.2.1' <(gssh 10.0.2.2 resolvectl dns eth0) && ok "NoCloud: DNS 10.0.2.1 from DHCP in systemd-resolved" ||
  bad "NoCloud: DHCP DNS not in resolved"
gssh 10.0.2.2 ip -4 -o addr show dev eth1 | grep -q 'inet 10.10.10.14/24' &&
  ok "NoCloud: eth1 has the static 10.10.10.14/24 from network-config" || bad "NoCloud: eth1 static address missing"
# The peer answers from tap1's side of the segment (ARP, then ICMP both ways).
gssh 10.0.2.2 ping -c 2 -W 5 -I eth1 10.10.10.1 >/dev/null && ok "NoCloud: eth1 10.10.10.14 reaches its peer 10.10.10.1" ||
  bad "NoCloud: eth1 cannot reach its peer 10.10.10.1"
[ "$(gssh 10.0.2.2 hostname)" = k6t-cloud-guest ] && ok "NoCloud: hostname from meta-data" || bad "NoCloud: hostname"

# Guest agent over its virtio-serial port (qemu-guest-agent starts when the port appears).
agent=
for _ in $(seq 1 30); do
  agent=$(qga '{"execute":"guest-network-get-interfaces"}' 2>/dev/null) && break
  sleep 2
done
python3 - "$agent" <<'PY' && ok "NoCloud: guest agent reports eth0 10.0.2.2 and eth1 10.10.10.14" || bad "NoCloud: guest agent: $agent"
import json, sys
ifs = {i["name"]: {a["ip-address"] for a in i.get("ip-addresses", [])} for i in json.loads(sys.argv[1])["return"]}
assert "10.0.2.2" in ifs["eth0"] and "10.10.10.14" in ifs["eth1"], ifs
PY
# cloud-init's console messages may follow the prompt on the same line.
grep -aq 'k6t-cloud-guest login:' "$WORK/serial-nocloud.log" &&
  ok "NoCloud: serial console shows the login prompt" || bad "NoCloud: no login prompt on ttyS0"

# Reboot from inside: same instance, so cloud-init must not run its per-instance modules again.
iid1=$(gssh 10.0.2.2 cat /var/lib/cloud/data/instance-id)
boot1=$(gssh 10.0.2.2 cat /proc/sys/kernel/random/boot_id)
[ "$iid1" = "$IID" ] && ok "NoCloud: instance-id $iid1 from meta-data" || bad "NoCloud: instance-id $iid1"
gssh 10.0.2.2 'sudo systemctl reboot' || true
t=$(now)
sleep 5
if wait_ssh 10.0.2.2 600; then
  echo "timing: reboot -> ssh answers: $(since "$t") s"
  # The host key is pinned: ssh above fails if cloud-init made new keys (a new instance would).
  ok "NoCloud: ssh after the reboot with the same host key"
  [ "$(gssh 10.0.2.2 cat /proc/sys/kernel/random/boot_id)" != "$boot1" ] && ok "NoCloud: the guest did reboot" ||
    bad "NoCloud: same boot_id after the reboot"
  [ "$(gssh 10.0.2.2 cat /var/lib/cloud/data/instance-id)" = "$IID" ] && ok "NoCloud: same instance-id after the reboot" ||
    bad "NoCloud: instance-id changed"
  counts="$(gssh 10.0.2.2 'cloud-init status --wait >/dev/null; wc -l </var/lib/k6t-bootcmd.log; wc -l </var/lib/k6t-runcmd.log' | tr '\n' ' ')"
  [ "$counts" = "2 1 " ] && ok "NoCloud: bootcmd ran on both boots, runcmd (per instance) once" ||
    bad "NoCloud: bootcmd/runcmd counts '$counts', want '2 1'"
else
  show_boot "$WORK/serial-nocloud.log"; bad "NoCloud: no ssh after the reboot"
fi
stop_vm
kill "$DNSMASQ_PID" 2>/dev/null; wait "$DNSMASQ_PID" 2>/dev/null || true
DNSMASQ_PID=

# === 2. ConfigDrive (no DHCP server: the addresses come from network_data.json) ==================
mkdir -p "$WORK/configdrive/openstack/latest"
CD=$WORK/configdrive/openstack/latest
cat >"$CD/meta_data.json" <<EOF
{"uuid": "k6t-configdrive-$$", "hostname": "k6t-cd-guest", "name": "k6t-cd-guest",
 "public_keys": {"k6t": "$PUBKEY"}}
EOF
cat >"$CD/user_data" <<'EOF'
#cloud-config
runcmd:
  - echo once >>/var/lib/k6t-runcmd.log
EOF
cat >"$CD/network_data.json" <<EOF
{"links": [
  {"id": "link0", "type": "phy", "ethernet_mac_address": "$MAC0", "mtu": 1450},
  {"id": "link1", "type": "phy", "ethernet_mac_address": "$MAC1"}],
 "networks": [
  {"id": "net0", "type": "ipv4", "link": "link0", "ip_address": "10.0.2.3", "netmask": "255.255.255.0",
   "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.1"}], "network_id": "pod"},
  {"id": "net1", "type": "ipv4", "link": "link1", "ip_address": "10.10.10.15", "netmask": "255.255.255.0",
   "network_id": "secondary"}],
 "services": [{"type": "dns", "address": "10.0.2.1"}]}
EOF
mkiso config-2 "$WORK/configdrive" "$WORK/configdrive.iso"
: >"$WORK/known_hosts"
t=$(now)
boot_vm "$WORK/configdrive.iso" "$WORK/serial-configdrive.log"
if wait_ssh 10.0.2.3 600; then
  echo "timing: QEMU start -> ssh answers (ConfigDrive, static): $(since "$t") s"
  ok "ConfigDrive: ssh with meta_data.json's key to 10.0.2.3 from network_data.json"
  gssh 10.0.2.3 'cloud-init status --wait >/dev/null; cat /run/cloud-init/result.json' | grep -q DataSourceConfigDrive &&
    ok "ConfigDrive: datasource ConfigDrive" || bad "ConfigDrive: datasource"
  [ "$(gssh 10.0.2.3 cat /sys/class/net/eth0/mtu)" = 1450 ] && ok "ConfigDrive: eth0 MTU 1450 from network_data.json" ||
    bad "ConfigDrive: eth0 MTU $(gssh 10.0.2.3 cat /sys/class/net/eth0/mtu)"
  gssh 10.0.2.3 ip -4 route show default | grep -q 'default via 10.0.2.1 dev eth0' && ok "ConfigDrive: default route" ||
    bad "ConfigDrive: no default route"
  gssh 10.0.2.3 ping -c 2 -W 5 -I eth1 10.10.10.1 >/dev/null && ok "ConfigDrive: eth1 10.10.10.15 reaches its peer 10.10.10.1" ||
    bad "ConfigDrive: eth1 cannot reach its peer 10.10.10.1"
  [ "$(gssh 10.0.2.3 hostname)" = k6t-cd-guest ] && ok "ConfigDrive: hostname from meta_data.json" || bad "ConfigDrive: hostname"
else
  show_boot "$WORK/serial-configdrive.log"; bad "ConfigDrive: no ssh on 10.0.2.3"
fi
stop_vm

cg_result
