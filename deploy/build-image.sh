#!/bin/bash
# build-image.sh [--build-dir DIR] [--tag IMAGE] [--save FILE]: the k6t image (Containerfile
# here), built offline with podman from a local build: no registry is contacted.
#   1. deploy/mkrootfs.sh makes a root filesystem of busybox-static plus the executables
#      listed in EXECUTABLES below, found in DIR/bin (default ./build), with the shared
#      libraries ldd resolves for them (k6t links its own dependencies statically), debug
#      sections stripped;
#   2. podman imports it as IMAGE's base (<IMAGE>-base), and builds the Containerfile on it
#      (--pull=never);
#   3. with --save, writes an OCI archive to load on nodes (`ctr -n k8s.io images import`,
#      `podman load`).
# k6t-sidecar is listed but optional until its branch is built here: without it the image is
# built from the others and a warning says so (its entrypoint then fails to start).
# PODMAN (env) is the podman command, e.g. with --root/--runroot for private storage.
set -euo pipefail

EXECUTABLES=(k6t-cni k6t-sidecar k6t-handler k6t-launcher)
OPTIONAL=(k6t-sidecar)
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build_dir=$src/build
version=$(sed -n 's/^project(k6t VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
tag=localhost/k6t:$version
save=
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --save) save=$2; shift 2 ;;
    *) echo "usage: $0 [--build-dir DIR] [--tag IMAGE] [--save FILE]" >&2; exit 2 ;;
  esac
done
read -r -a podman <<<"${PODMAN:-podman}"

exes=() included=()
for name in "${EXECUTABLES[@]}"; do
  exe=$build_dir/bin/$name
  if [[ -x $exe ]]; then
    exes+=("$exe"); included+=("$name")
  elif [[ " ${OPTIONAL[*]} " == *" $name "* ]]; then
    echo "build-image: WARNING: $exe is not built; the image has no $name" >&2
  else
    echo "build-image: $exe is missing (cmake --build $build_dir --target $name)" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/mkrootfs.sh" --strip "$work/rootfs.tar" "${exes[@]}" "$here/install-cni.sh"
base=${tag%:*}-base:${tag##*:}
"${podman[@]}" import -q "$work/rootfs.tar" "$base" >/dev/null
"${podman[@]}" build -q --pull=never --network=none -f "$here/Containerfile" \
  --build-arg "BASE=$base" --build-arg "VERSION=$version" \
  --build-arg "EXECUTABLES=${included[*]}" -t "$tag" "$work" >/dev/null
echo "build-image: $tag (${included[*]})"
if [[ -n $save ]]; then
  "${podman[@]}" save -q --format oci-archive -o "$save" "$tag"
  echo "build-image: saved $save"
fi
