#!/usr/bin/env bash
# k6t-cni under podman's CNI backend (podman + runc, libcni inside): a container on a network
# whose conflist chains bridge -> k6t-cni. `podman run` accepts k6t's result (every interface
# has a MAC), the container's links are k6t's plan, `podman network reload` (DEL then ADD with
# the container's MAC/IP) keeps it so, and stop/rm leave neither k6t state nor a link behind.
# The image is busybox-static's binary imported as a rootfs, no registry. Needs root; exits 77
# (skipped) without podman/runc. Private storage, config and state: nothing of the host's
# podman is touched.
set -euo pipefail

build=${K6T_BUILD_DIR:?}
command -v podman >/dev/null && command -v runc >/dev/null || { echo "skip: no podman/runc"; exit 77; }
[[ -x /bin/busybox ]] || { echo "skip: no busybox-static"; exit 77; }

work=$(mktemp -d /tmp/k6t-podman-e2e.XXXXXX)
net=k6tpode2e
bridge=k6tpode2e0
state=$work/k6t-state
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

mkdir -p "$work/net.d" "$work/rootfs/bin"
cat >"$work/containers.conf" <<CONF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "cni"
cni_plugin_dirs = ["$build/bin", "/usr/lib/cni"]
network_config_dir = "$work/net.d"
CONF
cat >"$work/net.d/$net.conflist" <<CONF
{"cniVersion": "1.0.0", "name": "$net", "plugins": [
  {"type": "bridge", "bridge": "$bridge",
   "ipam": {"type": "host-local", "subnet": "10.233.0.0/24", "dataDir": "$work/ipam"}},
  {"type": "k6t-cni", "binding": "bridge", "stateDir": "$state"}]}
CONF
export CONTAINERS_CONF=$work/containers.conf
pm() { podman --root "$work/root" --runroot "$work/run" --tmpdir "$work/tmp" "$@"; }
cleanup() {
  pm rm -f -t 0 -a >/dev/null 2>&1 || true
  pm rmi -a -f >/dev/null 2>&1 || true
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || { umount -R "$work"/* 2>/dev/null; rm -rf "$work"; } || true
}
trap cleanup EXIT

cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in sh sleep ip cat ls; do ln -s busybox "$work/rootfs/bin/$applet"; done
tar -C "$work/rootfs" -c . | pm import - localhost/k6t-busybox:e2e >/dev/null

links_in() { pm exec "$1" ip -o link show; }
attachments() { find "$state" -mindepth 3 -maxdepth 3 -type d 2>/dev/null | wc -l; }
host_ports() { ip -o link show master "$bridge" 2>/dev/null | wc -l; }

if ! out=$(pm run -d --ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" --ulimit "nproc=$(ulimit -Su):$(ulimit -Hu)" --name c1 --network "$net" localhost/k6t-busybox:e2e sleep 600 2>&1); then
  bad "podman run on bridge -> k6t-cni: $out"
  exit 1
fi
ok "podman run accepts k6t-cni's result"

check_plan() {
  local what=$1 links
  links=$(links_in c1)
  for want in "eth0-nic.*master k6t-eth0" "k6t-eth0:.*<.*UP" "eth0:"; do
    grep -Eq "$want" <<<"$links" && ok "$what: link /$want/" || bad "$what: no link /$want/ in: $links"
  done
  tap=$(grep -Eo '[0-9]+: tap[^:@]*' <<<"$links" | awk '{print $2}' | head -1)
  [[ -n $tap ]] && grep -Eq "$tap:.*master k6t-eth0" <<<"$links" && ok "$what: $tap on k6t-eth0" ||
    bad "$what: no tap on k6t-eth0 in: $links"
  pm exec c1 ip -o addr show dev eth0 | grep -q "10.233.0." && ok "$what: eth0 keeps the pod IP" ||
    bad "$what: eth0 lost its pod IP: $(pm exec c1 ip -o addr)"
  [[ $(attachments) == 1 ]] && ok "$what: one k6t attachment in state" ||
    bad "$what: $(attachments) k6t attachments in state"
}
check_plan "after run"

mac_before=$(pm exec c1 cat /sys/class/net/eth0/address)
if out=$(pm network reload c1 2>&1); then ok "podman network reload"; else bad "podman network reload: $out"; fi
check_plan "after reload"
mac_after=$(pm exec c1 cat /sys/class/net/eth0/address)
[[ $mac_before == "$mac_after" ]] && ok "reload keeps eth0's MAC $mac_after" ||
  bad "reload changed eth0's MAC $mac_before -> $mac_after"

pm stop -t 0 c1 >/dev/null
[[ $(attachments) == 0 ]] && ok "stop leaves no k6t state" || bad "stop left $(attachments) attachments"
[[ $(host_ports) == 0 ]] && ok "stop leaves no link on $bridge" || bad "stop left $(host_ports) ports"
if out=$(pm start c1 2>&1); then ok "start again"; else bad "start again: $out"; fi
check_plan "after restart"
pm rm -f -t 0 c1 >/dev/null
[[ $(attachments) == 0 ]] && ok "rm leaves no k6t state" || bad "rm left $(attachments) attachments"
[[ $(host_ports) == 0 ]] && ok "rm leaves no link on $bridge" || bad "rm left $(host_ports) ports"
[[ -z $(find "$state" -mindepth 1 2>/dev/null) ]] && ok "state dir empty" ||
  bad "state left: $(find "$state" -mindepth 1)"
exit $fail
