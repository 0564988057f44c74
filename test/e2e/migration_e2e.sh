#!/usr/bin/env bash
# Live migration between two pods on two simulated nodes (issue 17): pod A runs the VM
# (masquerade + a bridge-bound secondary "blue"), pod B has its networks set up and a launcher
# waiting with --incoming; `k6t-handler migrate` moves the VM over a dedicated migration
# network (a link in both pods). A peer on blue pings the guest every 10 ms throughout: the
# guest keeps its address and answers on the target, the longest silence is recorded; the
# masquerade port answers on the target pod's IP; the source launcher exits 9 (migrated); the
# source pod's teardown leaves no k6t link; a TCP connection the peer holds to the guest keeps
# working across the switch; what the guest wrote to its pod-local disks (a containerDisk's
# overlay, an emptyDisk) is on the target. Then the faults, the VM staying at the source each
# time: a target that is not waiting (refused, nothing moved), the migration network down,
# Ctrl-C, the target launcher killed mid-way. Last, the VM goes back over a unix socket.
set -euo pipefail
SRC_DIR=${K6T_SOURCE_DIR:?}
. "$SRC_DIR/test/e2e/migration_lib.sh"
TCP_HOLD=1
mig_vm_with_disks
mig_pods_up
mig_boot
# The guest writes a marker to each pod-local disk; it reaches the source pod's files.
MARK=k6t-mig-$$-$RANDOM
marks_in_files() {  # pod, marker: both disk files of the pod hold it
  grep -qa "$2" "$WORK/$1/state/data.qcow2" && grep -qa "$2" "$WORK/$1/state/disks/scratch.img"
}
guest_reads() {  # marker [write]: the guest reads it back from both of its disks
  [ "$(disk_marks ${2:+"$1"} | grep -c " $1\$")" = 2 ]
}
guest_reads "$MARK" write && marks_in_files "$A" "$MARK" &&
  ok "the guest wrote $MARK to its containerDisk overlay and emptyDisk in pod $A" ||
  bad "writing the disk markers: $(disk_marks | xargs)"
echo "== migrate $A -> $B"
ip netns exec "$A-node" python3 test/e2e/announce_watch.py mgA "$WORK/stop-announce" >"$WORK/announce.out" &
ANNOUNCE=$!
wait_for 20 grep -q listening "$WORK/announce.out" || bad "the announce watcher did not start"
launcher "$B" --incoming --incoming-timeout 120
wait_for 60 test -S "$WORK/$B/launcher.sock" || { cat "$WORK/$B/launcher.log"; echo "FAIL: target launcher"; exit 1; }
migrate "$A" "$B" mig0 --vmi "$VM" --source-pod-netns "/run/netns/$A" --source-state-dir "$WORK/$A/state" \
  --target-pod-netns "/run/netns/$B" --target-state-dir "$WORK/$B/state" &&
  ok "k6t-handler migrate exited 0" || bad "k6t-handler migrate exited non-zero"
pod_gone "$A"
gap=$(ping_gap_ms)
echo "K6T-FIGURE migration_ping_gap_ms $gap"
[ -n "$gap" ] && [ "$gap" -lt 10000 ] && ok "guest answered again after the switch (longest silence ${gap} ms)" ||
  bad "guest silent for ${gap:-?} ms"
reap "$A"
[ "$RC" = 9 ] && ok "source launcher exited 9 (migrated)" || { bad "source launcher exited $RC"; cat "$WORK/$A/launcher.log"; }
"$H" status --launcher-socket "$WORK/$B/launcher.sock" | tee "$WORK/status.out"
grep -q '^phase: running' "$WORK/status.out" && ok "target reports the VM running" || bad "target status"
wait_for 20 fetch "$PEER" "$GIP" 8080 && ok "peer reaches the guest on blue, now in pod $B" || bad "blue after migration"
# The switch is announced from the target (QEMU's RARP, or the guest's gratuitous ARP when
# QEMU asks its virtio-net driver): frames from the guest's MAC crossed into node A.
touch "$WORK/stop-announce"; wait "$ANNOUNCE" || true
GMAC=$(awk '$1 == "blue" {print $4}' "$WORK/status.out")
grep -qiE "(rarp|garp) from $GMAC" "$WORK/announce.out" &&
  ok "the guest's MAC $GMAC was announced from node $B: $(grep -iE "from $GMAC" "$WORK/announce.out" | sort | uniq -c | xargs)" ||
  { bad "no announce of $GMAC seen on node $A"; cat "$WORK/announce.out"; }
BIP=$(pod_ip "$B")
if wait_for 20 fetch "$B-node" "$BIP" 8080; then
  ok "masquerade port 8080 answers on target pod IP $BIP"
else
  bad "masquerade on the target pod IP"
  ip netns exec "$B" nft list ruleset; ip -n "$B" neigh; ip -n "$B" -br addr; ip -n "$B" route
  fetch "$B" 10.0.2.2 8080 && echo "(the guest answers from inside the pod)"
  grep -E 'K6T-GUEST' "$WORK/$A/state/serial.log" | tail -5
fi
grep -q 'source pod: plumbing torn down' "$WORK/migrate.err" && ok "migrate tore the source pod's plumbing down" ||
  bad "no teardown of the source pod"
grep -q '^held=1' "$WORK/tcp.out" && ok "the peer's TCP connection to the guest survived ($(cat "$WORK/tcp.out"))" ||
  bad "the TCP connection broke: $(cat "$WORK/tcp.out")"
marks_in_files "$B" "$MARK" && ok "the disks' writes were copied into pod $B's files" || bad "disk data not in pod $B"
guest_reads "$MARK" && ok "the guest reads its writes back from both disks on $B" ||
  bad "the guest on $B reads: $(disk_marks | xargs)"
[ ! -e "$WORK/$A/state/data.qcow2" ] && ok "the source pod's overlay is gone" || bad "overlay left in $A"
left=$(ip -n "$A" -o link | awk -F': ' '{print $2}' | grep -cE '^(k6t|tap)' || true)
[ "$left" = 0 ] && ok "source pod has no k6t link left" || { bad "source pod keeps $left k6t links"; ip -n "$A" -o link; }

echo "== a migration to a launcher that is not waiting is refused"
rc=0
"$H" migrate --source-socket "$WORK/$B/launcher.sock" --target-socket "$WORK/$B/launcher.sock" \
  --timeout 30 >/dev/null 2>"$WORK/refused.err" || rc=$?
cat "$WORK/refused.err"
[ "$rc" = 4 ] && ok "refused (exit 4), nothing moved" || bad "refused migration exited $rc"
"$H" status --launcher-socket "$WORK/$B/launcher.sock" | grep -q running && ok "VM still runs on $B" || bad "VM after refused migration"

echo "== the migration network down: a clear error, the VM stays on $B"
target_up "$A"
ip -n "$B" link set mig0 down
rc=0
"$H" migrate --source-socket "$WORK/$B/launcher.sock" --target-socket "$WORK/$A/launcher.sock" \
  --migration-network mig0 --timeout 60 --vmi "$VM" --target-pod-netns "/run/netns/$A" \
  --target-state-dir "$WORK/$A/state" >/dev/null 2>"$WORK/netdown.err" || rc=$?
cat "$WORK/netdown.err"
pod_gone "$A"
[ "$rc" = 1 ] && grep -q 'keeps running on the source' "$WORK/netdown.err" &&
  ok "failed with exit 1 and says the VM stays" || bad "migration over a downed network exited $rc"
still_on "$B" && ok "VM still runs on $B and answers" || bad "VM after the failed migration"
left=$(ip -n "$A" -o link | awk -F': ' '{print $2}' | grep -cE '^(k6t|tap)' || true)
[ "$left" = 0 ] && ok "the target pod's plumbing was torn down" || bad "target pod keeps $left k6t links"
reap "$A"
[ "$RC" = 10 ] && ok "the target launcher gave up (exit 10)" || bad "target launcher exited $RC"
ip -n "$B" link set mig0 up

echo "== Ctrl-C cancels: the VM stays on $B"
target_up "$A"
migrate_bg "$B" "$A" --migration-network mig0 || bad "migration did not start"
"$H" status --launcher-socket "$WORK/$B/launcher.sock" | grep -E '^migration: pass [0-9]+, .* left' &&
  ok "status shows the running migration" || bad "status during the migration"
kill -INT "$MIG"; rc=0; wait "$MIG" || rc=$?
cat "$WORK/bg.err" | tr '\r' '\n' | tail -2
[ "$rc" = 3 ] && ok "cancelled (exit 3)" || bad "Ctrl-C exited $rc"
still_on "$B" && ok "VM still runs on $B and answers" || bad "VM after the cancelled migration"
reap "$A"
[ "$RC" = 10 ] && ok "the target launcher gave up (exit 10)" || bad "target launcher exited $RC"

echo "== the target launcher killed mid-migration: the VM stays on $B"
target_up "$A"
migrate_bg "$B" "$A" --migration-network mig0 || bad "migration did not start"
kill_pod "$A"
rc=0; wait "$MIG" || rc=$?
cat "$WORK/bg.err" | tr '\r' '\n' | tail -2
[ "$rc" = 1 ] && ok "failed (exit 1)" || bad "migration to a killed target exited $rc"
still_on "$B" && ok "VM still runs on $B and answers" || bad "VM after the target died"

echo "== and back to $A over a unix socket (no migration network), with a link refresh"
MARK2=$MARK-back
guest_reads "$MARK2" write || bad "writing the second markers on $B"
target_up "$A"
migrate "$B" "$A" - --link-refresh && ok "migrated back to $A" || bad "migration back"
# --link-refresh: the guest saw blue's carrier go and come back on the target.
wait_for 20 grep -q 'K6T-GUEST: iface eth1 carrier 0' "$WORK/$A/state/serial.log" &&
  wait_for 20 grep -q 'K6T-GUEST: iface eth1 carrier 1' "$WORK/$A/state/serial.log" &&
  ok "link refresh: the guest saw eth1's carrier drop and return" || bad "link refresh not seen by the guest"
grep -q 'migration stream unix://' "$WORK/migrate.err" && ok "the stream went over a unix socket" ||
  bad "the stream was not a unix socket"
marks_in_files "$A" "$MARK2" && guest_reads "$MARK2" &&
  ok "the disks came back over the unix NBD socket" || bad "disk data after the return: $(disk_marks | xargs)"
reap "$B"
[ "$RC" = 9 ] && ok "launcher in $B exited 9" || bad "launcher in $B exited $RC"
wait_for 20 fetch "$PEER" "$GIP" 8080 && ok "peer reaches the guest back in pod $A" || bad "blue after the return"
mig_end "$A"
