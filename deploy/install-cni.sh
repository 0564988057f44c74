#!/bin/sh
# install-cni.sh [DEST]: the DaemonSet's init container. Copies k6t-cni into the node's CNI bin
# dir (DEST, default /host/opt/cni/bin, the node's /opt/cni/bin mounted by the DaemonSet),
# atomically: a temporary file in DEST renamed over the old plugin, so a runtime never execs a
# half-written binary, and a plugin in use keeps running from its old inode.
# Exit codes: 0 installed (or already identical), 1 DEST missing or a copy failed.
set -eu
dest=${1:-/host/opt/cni/bin}
src=/usr/local/bin/k6t-cni
if [ ! -d "$dest" ]; then
  echo "install-cni: $dest is not a directory (mount the node's CNI bin dir there)" >&2
  exit 1
fi
if cmp -s "$src" "$dest/k6t-cni"; then
  echo "install-cni: $dest/k6t-cni is already this version"
  exit 0
fi
tmp="$dest/.k6t-cni.$$"
trap 'rm -f "$tmp"' EXIT
cp "$src" "$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$dest/k6t-cni"
trap - EXIT
echo "install-cni: installed $dest/k6t-cni ($(CNI_COMMAND=VERSION "$dest/k6t-cni" </dev/null))"
