#!/usr/bin/env bash
# k6t-cni as Multus runs it, against the reference Go `bridge` plugin (/usr/lib/cni), in the
# same run:
#   - ADD of a bridge-chain attachment (`bridge` then `k6t-cni` with the bridge's result as
#     prevResult, binding bridge): k6t-cni's ADD against the bridge plugin's own ADD (with its
#     host-local IPAM) on the same kind of pod, a fresh netns per iteration;
#   - VERSION (start-up alone): k6t-cni against bridge.
# Both plugins run from one shell inside a scratch "node" netns (where the bridge plugin puts
# its bridge and veth ends), so only the plugin processes are timed. Medians; figures recorded
# (test/bench/figures.sh); measured, never asserted. Needs root and a build (k6t-cni).
#
#   test/bench/cni_add_bench.sh [ITERATIONS]      (default 30; VERSION runs 10x as many)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
BUILD=${K6T_BUILD_DIR:-$SRC/build}
N=${1:-30}
CNI=$BUILD/bin/k6t-cni
BRIDGE=/usr/lib/cni/bridge
TAG=k6tcab$$
NODE=$TAG-node
W=$(mktemp -d /dev/shm/k6t-cni-bench-XXXXXX)
cleanup() {
  set +e
  for i in $(seq 1 "$N"); do ip netns del "$TAG-$i" 2>/dev/null; done
  ip netns del "$NODE" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
[ -x "$CNI" ] || { echo "no $CNI (build k6t-cni first)" >&2; exit 1; }
[ -x "$BRIDGE" ] || { echo "no $BRIDGE (containernetworking-plugins)" >&2; exit 1; }
. "$SRC/test/bench/figures.sh"

ip netns add "$NODE"
ip -n "$NODE" link set lo up
for i in $(seq 1 "$N"); do ip netns add "$TAG-$i"; done

cat >"$W/bridge.json" <<EOF
{"cniVersion": "1.0.0", "name": "bench-net", "type": "bridge", "bridge": "br-bench",
 "ipam": {"type": "host-local", "subnet": "10.77.0.0/16", "dataDir": "$W/ipam"}}
EOF
# The timed loop, run by one bash inside the node netns. Per iteration: bridge ADD (timed),
# k6t-cni ADD with its result as prevResult (timed), then DEL of both (not timed).
cat >"$W/loop.sh" <<'EOF'
set -euo pipefail
W=$1 N=$2 TAG=$3 CNI=$4 BRIDGE=$5
export CNI_PATH=/usr/lib/cni CNI_IFNAME=net1
for i in $(seq 1 "$N"); do
  export CNI_CONTAINERID=$TAG-$i CNI_NETNS=/run/netns/$TAG-$i
  export CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$TAG-$i"
  t0=${EPOCHREALTIME/./}
  CNI_COMMAND=ADD "$BRIDGE" <"$W/bridge.json" >"$W/bridge-result.json"
  t1=${EPOCHREALTIME/./}
  python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
prev = json.load(open(f"{w}/bridge-result.json"))
conf = {"cniVersion": "1.0.0", "name": "bench-net", "type": "k6t-cni", "binding": "bridge",
        "vmInterface": "blue", "stateDir": f"{w}/k6t", "prevResult": prev}
json.dump(conf, open(f"{w}/k6t.json", "w"))
PY
  t2=${EPOCHREALTIME/./}
  CNI_COMMAND=ADD "$CNI" <"$W/k6t.json" >"$W/k6t-result.json"
  t3=${EPOCHREALTIME/./}
  # The chain's result must name k6t's tap: an ADD that did nothing would be fast too.
  grep -q '"sandbox"' "$W/k6t-result.json" || { cat "$W/k6t-result.json" >&2; exit 1; }
  echo "$((t1 - t0)) $((t3 - t2))"
  CNI_COMMAND=DEL "$CNI" <"$W/k6t.json" >/dev/null
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["prevResult"]=json.load(open(sys.argv[2])); print(json.dumps(c))' \
    "$W/bridge.json" "$W/bridge-result.json" | CNI_COMMAND=DEL "$BRIDGE" >/dev/null
done
# VERSION: start-up and one tiny JSON answer, 10x N times each, interleaved.
echo '{"cniVersion": "1.0.0"}' >"$W/version.json"
for i in $(seq 1 $((N * 10))); do
  t0=${EPOCHREALTIME/./}
  CNI_COMMAND=VERSION "$BRIDGE" <"$W/version.json" >/dev/null
  t1=${EPOCHREALTIME/./}
  CNI_COMMAND=VERSION "$CNI" <"$W/version.json" >/dev/null
  t2=${EPOCHREALTIME/./}
  echo "V $((t1 - t0)) $((t2 - t1))"
done
EOF
ip netns exec "$NODE" bash "$W/loop.sh" "$W" "$N" "$TAG" "$CNI" "$BRIDGE" >"$W/times"

median() { sort -n | awk '{a[NR]=$1} END{printf "%.2f", a[int((NR+1)/2)] / 1000}'; }
BA=$(grep -v '^V' "$W/times" | awk '{print $1}' | median)
KA=$(grep -v '^V' "$W/times" | awk '{print $2}' | median)
BV=$(grep '^V' "$W/times" | awk '{print $2}' | median)
KV=$(grep '^V' "$W/times" | awk '{print $3}' | median)
ratio() { awk -v k="$1" -v b="$2" 'BEGIN{printf "%.2f", k / b}'; }
echo "k6t-cni against the reference bridge plugin ($BRIDGE), medians:"
echo "  ADD, bridge chain ($N pods):  bridge $BA ms   k6t-cni $KA ms   k6t/bridge $(ratio "$KA" "$BA")x  (goal <= 1.0x)"
echo "  VERSION ($((N * 10)) runs):        bridge $BV ms   k6t-cni $KV ms   k6t/bridge $(ratio "$KV" "$BV")x"
le() { awk -v a="$1" -v b="$2" 'BEGIN{print (a <= b) ? 1 : 0}'; }
figure cni_add_bench "k6t-cni ADD, bridge-chain attachment (median)" "$KA" ms "$BA" \
  "reference bridge plugin's own ADD (with host-local)" "k6t-cni <= bridge (baseline/k6t >= 1.0x)" "$(le "$KA" "$BA")"
figure cni_add_bench "k6t-cni VERSION, whole process (median)" "$KV" ms "$BV" \
  "reference bridge plugin VERSION" "k6t-cni <= bridge (baseline/k6t >= 1.0x)" "$(le "$KV" "$BV")"
