#!/usr/bin/env bash
# passt end to end: a passtBinding interface on a pod from the real CNI plugins, k6t-launcher
# running passt itself (Debian 12's libvirt has no passt backend) with QEMU on
# <qemu:commandline> -netdev stream. The guest must take the pod IP from passt's DHCP and
# serve its page on the forwarded port to a client in the node netns via the pod IP; after
# kill -9 of passt the launcher restarts it on the same QEMU connection and the guest is
# reachable again; kill -9 of the launcher leaves the guest reachable; SIGTERM of the
# launcher that adopted the VM leaves no passt, QEMU or socket behind.
POD=k6tpt$$
. "$(dirname "$0")/pod_vm_lib.sh"
[ -x /usr/bin/passt ] || { echo "SKIP: passt missing"; exit 77; }

cat >"$WORK/vm.yaml" <<YAML
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: vm-$POD
  namespace: default
spec:
  domain:
    devices:
      interfaces:
        - name: default
          passtBinding: {}
          ports:
            - name: http
              port: 8080
  networks:
    - name: default
      pod: {}
YAML
pod_up "$WORK/vm.yaml"
POD_IP=$(pod_ip 0)
launcher_up
grep 'K6T-GUEST' "$STATE/serial.log" || true
grep -qE "K6T-GUEST: iface eth0 up .*ipv4=${POD_IP//./\\.}/[0-9]+ .*source=dhcp" "$STATE/serial.log" &&
  ok "guest leased the pod IP $POD_IP from passt's DHCP" || bad "guest did not lease the pod IP $POD_IP"

# HTTP from the node netns (a separate client) to the pod IP on the forwarded port.
page=$(fetch "$POD-node" "$POD_IP" 8080 || true)
grep -q "inet $POD_IP/" <<<"$page" && ok "guest page reached through the pod IP on forwarded port 8080" ||
  bad "no guest page through $POD_IP:8080"

passt_pid() { pgrep -f "passt .*--log-file $STATE/passt/default.log" | head -1 || true; }
PASST_PID=$(passt_pid)
if [ -z "$PASST_PID" ]; then
  bad "no passt process"
else
  [ "$(ip netns identify "$PASST_PID")" = "$POD" ] &&
    ok "passt (pid $PASST_PID) runs in the pod netns" || bad "passt is not in the pod netns"
  kill -KILL "$PASST_PID"
  for _ in $(seq 1 100); do grep -q 'passt default: restarted' "$WORK/launcher.log" && break; sleep 0.1; done
  grep -q 'passt default: restarted' "$WORK/launcher.log" && ok "launcher logged the restart" ||
    bad "no restart in the launcher log"
  NEW_PID=$(passt_pid)
  [ -n "$NEW_PID" ] && [ "$NEW_PID" != "$PASST_PID" ] && ok "a new passt runs (pid $NEW_PID)" || bad "no new passt"
  page=$(fetch "$POD-node" "$POD_IP" 8080 || true)
  grep -q "inet $POD_IP/" <<<"$page" && ok "guest reachable again through the pod IP after the restart" ||
    bad "guest unreachable after the passt restart"
fi

# kill -9 of the launcher: QEMU and passt live on, and so does the guest's network. A new
# launcher adopts the running VM; its SIGTERM then ends the VM, and passt goes with QEMU.
kill -KILL "$LAUNCHER_PID"; wait "$LAUNCHER_PID" 2>/dev/null || true
page=$(fetch "$POD-node" "$POD_IP" 8080 || true)
grep -q "inet $POD_IP/" <<<"$page" && ok "guest reachable after kill -9 of the launcher" ||
  bad "guest unreachable after kill -9 of the launcher"
launcher_start
for _ in $(seq 1 600); do grep -q 'already running: adopted' "$WORK/launcher.log" && break; sleep 0.1; done
grep -q 'already running: adopted' "$WORK/launcher.log" && ok "a new launcher adopted the VM" ||
  bad "the new launcher did not adopt the VM"
launcher_down
[ -e "$STATE/passt/default.sock" ] && bad "passt socket left" || ok "passt socket removed"
pod_vm_result
