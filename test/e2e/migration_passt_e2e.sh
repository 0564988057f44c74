#!/usr/bin/env bash
# Live migration of a VM whose pod-network interface is bound with passt (issue 17): the
# target launcher starts a fresh passt in its own pod before the VM arrives, the guest keeps
# its bridge-bound secondary, and after the switch the port passt forwards answers on the
# target pod's IP; the source launcher exits 9 and leaves no passt behind.
set -euo pipefail
SRC_DIR=${K6T_SOURCE_DIR:?}
. "$SRC_DIR/test/e2e/migration_lib.sh"
[ -x /usr/bin/passt ] || { echo "SKIP: passt missing"; exit 77; }
# testdata/migration-vm.yaml with passt in place of masquerade on the pod network.
python3 - "$VM" "$WORK/vm.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
for i in docs[0]["spec"]["domain"]["devices"]["interfaces"]:
    if "masquerade" in i:
        del i["masquerade"]
        i["passtBinding"] = {}
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
PY
VM=$WORK/vm.yaml
mig_pods_up
mig_boot
passt_of() { pgrep -f "passt .*--log-file $WORK/$1/state/passt/default.log" || true; }
PASST_A=$(passt_of "$A")
[ -n "$PASST_A" ] && ok "passt serves the guest in pod $A (pid $PASST_A)" || bad "no passt in $A"
launcher "$B" --incoming --incoming-timeout 120
wait_for 60 test -S "$WORK/$B/launcher.sock" || { cat "$WORK/$B/launcher.log"; echo "FAIL: target launcher"; exit 1; }
# passt runs once the target's QEMU connects to its socket (QEMU starts when the migration does).
wait_for 30 grep -q 'passt: waiting for QEMU' "$WORK/$B/launcher.log" &&
  ok "the target launcher waits for QEMU on its own passt socket in pod $B" || bad "no passt socket in $B"
migrate "$A" "$B" mig0 && ok "k6t-handler migrate exited 0" || bad "k6t-handler migrate exited non-zero"
reap "$A"
[ "$RC" = 9 ] && ok "source launcher exited 9 (migrated)" || bad "source launcher exited $RC"
[ -z "$(passt_of "$A")" ] && ok "no passt left in pod $A" || bad "passt left in $A"
PASST_B=$(passt_of "$B")
[ -n "$PASST_B" ] && [ "$(ip netns identify "$PASST_B")" = "$B" ] &&
  ok "a fresh passt (pid $PASST_B) serves the guest in pod $B" || bad "no passt in pod $B"
BIP=$(pod_ip "$B")
wait_for 30 fetch "$B-node" "$BIP" 8080 && ok "passt's forwarded port 8080 answers on target pod IP $BIP" ||
  { bad "no answer through passt on $BIP"; tail -20 "$WORK/$B/state/passt/default.log" 2>/dev/null; }
wait_for 20 fetch "$PEER" "$GIP" 8080 && ok "the bridge-bound secondary still answers on blue" || bad "blue after migration"
mig_end "$B"
