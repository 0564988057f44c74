#!/usr/bin/env bash
# The one place that installs what building, testing and running k6t need.
# Idempotent: a fast no-op when every package is present. Debian packages only.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  # libraries
  libnl-3-dev libnl-route-3-dev libnftables-dev nftables libvirt-dev libisofs-dev libarchive-dev libxml2-dev
  nlohmann-json3-dev libyaml-cpp-dev libabsl-dev libspdlog-dev libfmt-dev libssl-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # the KubeVirt hook sidecar: gRPC C++ and the protobuf/gRPC code generators; python3-grpcio
  # for scripted clients of its socket
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc python3-grpcio
  # runtime: VM, network, CNI, DHCP clients
  qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients passt
  containernetworking-plugins busybox-static isc-dhcp-client iproute2 procps
  python3 python3-yaml
  # the CNI conformance runner: Go and libcni's source (test/netns/handler/cni_conformance)
  golang-go golang-github-appc-cni-dev
  # the Debian cloud guest (hack/build-cloud-guest.sh) and its raw-QEMU test: rootfs, disk,
  # qcow2, cloud-init ISOs, DHCP on the test bridge, ssh, an independent OCI reader
  mmdebstrap e2fsprogs fdisk qemu-utils xorriso dnsmasq-base openssh-client umoci
  # tests: zstd-compressed image layers (launcher_image_store_test)
  zstd
  # benchmark report plot (test/bench/report.py)
  gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    for p in "${missing[@]}"; do
      dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        echo "install-deps: FAILED to install package: $p" >&2
    done
    exit 1
  fi
fi

# libvirt's QEMU driver refuses to start without its compiled-in default user, which only
# libvirt-daemon-system (systemd-bound, not wanted here) would create.
if ! getent group libvirt-qemu >/dev/null; then groupadd -r libvirt-qemu; fi
if ! getent passwd libvirt-qemu >/dev/null; then
  useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
fi
# KubeVirt's non-root QEMU user (uid/gid 107 there); k6t names it k6t-qemu.
if ! getent group k6t-qemu >/dev/null; then groupadd -r k6t-qemu; fi
if ! getent passwd k6t-qemu >/dev/null; then
  useradd -r -g k6t-qemu -d /nonexistent -s /usr/sbin/nologin k6t-qemu
fi
echo "install-deps: all present" >&2
