# Sourced by the e2e scripts that boot the real Debian 12 cloud guest (hack/build-cloud-guest.sh):
# cloud_guest_raw_e2e.sh (raw QEMU) and cloud_guest_e2e.sh (k6t). Set SRC and WORK first.
#   cg_skip MSG               exit 77 (ctest's skip)
#   cg_image                  the guest image, built once then cached by content (or the build
#                             dir K6T_CLOUD_GUEST_DIR as it is): sets K6T_CLOUD_GUEST_QCOW2,
#                             _OCI_LAYOUT, _OCI_ARCHIVE, _IMAGE, _DIGEST; prints how long it took
#   cg_keygen                 an SSH key for the test: $WORK/id, PUBKEY; empty known_hosts
#   gssh IP CMD...            ssh as cloud-init's default user from the netns $CG_NETNS; the
#                             host key is pinned after the first login (a new one fails)
#   wait_ssh IP SECONDS       until `ssh true` answers, or the process $CG_ALIVE_PID exits
#   show_boot SERIAL_LOG      the end of a console log, when a boot failed
#   ok / bad MSG              tally the checks (passed, failed); cg_result ends the script
#   now / since T             timings in seconds
passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
cg_result() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.1f' % ($(now) - float(sys.argv[1])))" "$1"; }
cg_skip() { echo "SKIP: $*"; exit 77; }

cg_image() {
  local t
  t=$(now)
  if [ -n "${K6T_CLOUD_GUEST_DIR:-}" ]; then
    # An image built earlier (a build directory of hack/build-cloud-guest.sh), as it is.
    echo "build-cloud-guest: cached: given K6T_CLOUD_GUEST_DIR" >"$WORK/build.log"
    K6T_CLOUD_GUEST_QCOW2=$K6T_CLOUD_GUEST_DIR/disk.qcow2
    K6T_CLOUD_GUEST_OCI_LAYOUT=$K6T_CLOUD_GUEST_DIR/oci
    K6T_CLOUD_GUEST_OCI_ARCHIVE=$(ls "$K6T_CLOUD_GUEST_DIR"/*.oci.tar)
    K6T_CLOUD_GUEST_IMAGE="(given)"
    K6T_CLOUD_GUEST_DIGEST=$(cat "$K6T_CLOUD_GUEST_DIR/digest")
  else
    local tool cached=${K6T_GUEST_CACHE:-/var/cache/k6t/guests}/debian12-cloud/current
    for tool in mmdebstrap mkfs.ext4 sfdisk qemu-img; do
      command -v "$tool" >/dev/null && continue
      # Cannot build (nor check the cache key): the newest build there is, if any, as it is.
      [ -f "$cached/COMPLETE" ] || cg_skip "no cloud guest image and $tool missing to build it (hack/install-deps.sh installs it)"
      echo "note: $tool missing: testing the cached build $(readlink -f "$cached") as it is"
      K6T_CLOUD_GUEST_DIR=$(readlink -f "$cached") cg_image
      return
    done
    "$SRC/hack/build-cloud-guest.sh" >"$WORK/guest.env" 2>"$WORK/build.log" ||
      { tail -40 "$WORK/build.log"; echo "FAIL: hack/build-cloud-guest.sh"; exit 1; }
    . "$WORK/guest.env"
  fi
  echo "timing: guest image ready in $(since "$t") s ($(grep -q '^build-cloud-guest: cached' "$WORK/build.log" && echo cached || echo built))"
  echo "image: $K6T_CLOUD_GUEST_QCOW2 ($(du -m "$K6T_CLOUD_GUEST_QCOW2" | cut -f1) MiB), $K6T_CLOUD_GUEST_IMAGE $K6T_CLOUD_GUEST_DIGEST"
}

cg_keygen() {
  ssh-keygen -q -t ed25519 -N '' -C k6t-e2e -f "$WORK/id"
  PUBKEY=$(cat "$WORK/id.pub")
  : >"$WORK/known_hosts"
}

gssh() {
  local ip=$1; shift
  ip netns exec "$CG_NETNS" ssh -q -i "$WORK/id" -o BatchMode=yes -o ConnectTimeout=5 \
    -o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=accept-new \
    -o LogLevel=ERROR "debian@$ip" "$@"
}

wait_ssh() {
  local end=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$end" ]; do
    kill -0 "$CG_ALIVE_PID" 2>/dev/null || { echo "the VM's process $CG_ALIVE_PID exited"; return 1; }
    gssh "$1" true 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

show_boot() {
  echo "--- serial console (last 60 lines) of $1"; tail -60 "$1" | tr -d '\r'
}
