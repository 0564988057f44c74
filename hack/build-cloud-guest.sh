#!/usr/bin/env bash
# Builds k6t's real e2e guest: a Debian 12 (bookworm) cloud image from Debian packages
# (mmdebstrap), booted by SeaBIOS from its own disk like any user's cloud image (GRUB in the MBR,
# no direct kernel boot), packaged as a KubeVirt containerDisk OCI image. Root; no loop devices,
# udev or systemd needed on the host.
#
#   hack/build-cloud-guest.sh [CACHE_DIR]      default: ${K6T_GUEST_CACHE:-/var/cache/k6t/guests}
#
# Guest: linux-image-cloud-amd64 + initramfs-tools, systemd with systemd-networkd and
# systemd-resolved, cloud-init (datasources NoCloud, ConfigDrive, None; renders networkd), openssh
# server, qemu-guest-agent (started by udev when its virtio-serial port exists), a getty on ttyS0,
# sudo. Kernel command line: console=tty0 console=ttyS0,115200n8 net.ifnames=0 (NICs are eth0,
# eth1, ... as cloud-init networkData and KubeVirt's guides name them). Default user: cloud-init's
# `debian` (keys from the datasource, sudo without password); no password anywhere.
# Disk: 2 GiB MBR, one ext4 partition (label k6t-root), qcow2 (zlib-compressed clusters).
#
# Cached by content: the key is this script, hack/containerdisk.py and the exact versions of every
# package the guest gets (resolved from the host's apt lists, which the build then uses as they
# are, so the image holds exactly those versions). A second run with the same key only prints the
# paths. `apt-get update` on the host moves the key when the archive has newer packages.
#
# stdout (for `eval`), everything else goes to stderr:
#   K6T_CLOUD_GUEST_DIR=<cache>/debian12-cloud/<key>
#   K6T_CLOUD_GUEST_QCOW2=<dir>/disk.qcow2            the bootable disk
#   K6T_CLOUD_GUEST_OCI_LAYOUT=<dir>/oci              OCI image layout, ref.name "latest"
#   K6T_CLOUD_GUEST_OCI_ARCHIVE=<dir>/debian12-cloud.oci.tar   the same as an OCI archive
#   K6T_CLOUD_GUEST_IMAGE=k6t.local/debian12-cloud:latest      reference in index.json
#   K6T_CLOUD_GUEST_DIGEST=sha256:...                 manifest digest
# <cache>/debian12-cloud/current links to the newest <key>; older builds beyond two are removed.
set -euo pipefail

SELF=$(readlink -f "$0")
HACK=$(dirname "$SELF")
NAME=debian12-cloud
REF=k6t.local/$NAME:latest
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
DISK_SIZE_MIB=2048
PART_START_SECTOR=2048  # 1 MiB: room for GRUB's core.img after the MBR
KCMDLINE="console=tty0 console=ttyS0,115200n8 net.ifnames=0"

# What the guest gets on top of Essential + apt (mmdebstrap's minbase). No Recommends.
PACKAGES=(
  linux-image-cloud-amd64 initramfs-tools zstd grub-pc-bin
  systemd systemd-sysv udev dbus systemd-resolved libnss-resolve
  cloud-init cloud-guest-utils openssh-server qemu-guest-agent sudo
  iproute2 iputils-ping netbase procps less ca-certificates e2fsprogs tzdata
)

log() { printf 'build-cloud-guest: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Configuration of the rootfs, run by mmdebstrap's hooks as `build-cloud-guest.sh --hook PHASE
# ROOT` (inside mmdebstrap, with /proc, /sys and /dev mounted in ROOT).
hook_setup() {  # before any package is unpacked: what postinsts and triggers must already see
  local R=$1
  mkdir -p "$R/etc/initramfs-tools/conf.d" "$R/etc/dpkg/dpkg.cfg.d"
  # No swap, so no resume device to wait for (initramfs-tools otherwise probes for it).
  echo 'RESUME=none' >"$R/etc/initramfs-tools/conf.d/resume"
  # Only the drivers a VM's root disk may need (virtio-blk, virtio-scsi, SATA; ext4 is built in):
  # a chroot has no root device for MODULES=dep to detect, and MODULES=most makes a 13 MB initrd
  # that GRUB reads through the BIOS and the guest unpacks, both slow under TCG.
  printf 'MODULES=list\nCOMPRESS=zstd\n' >"$R/etc/initramfs-tools/conf.d/k6t"
  mkdir -p "$R/etc/initramfs-tools/hooks"
  cat >"$R/etc/initramfs-tools/hooks/k6t-vm-disks" <<'HOOK'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_pci virtio_blk virtio_scsi sd_mod ahci
HOOK
  chmod 0755 "$R/etc/initramfs-tools/hooks/k6t-vm-disks"
  mkdir -p "$R/etc/default"
  echo 'LANG=C.UTF-8' >"$R/etc/default/locale"
  cat >"$R/etc/dpkg/dpkg.cfg.d/k6t-small" <<'EOF'
# k6t cloud guest: no documentation, manuals or translations (licences stay).
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/bug/*
EOF
}

hook_customize() {  # after all packages are installed and configured
  local R=$1
  local uuid=$K6T_ROOT_UUID

  # --- boot: GRUB from the guest's own grub-pc-bin, files where grub-install would put them.
  mkdir -p "$R/boot/grub/i386-pc"
  cp "$R"/usr/lib/grub/i386-pc/*.mod "$R"/usr/lib/grub/i386-pc/*.lst "$R/boot/grub/i386-pc/"
  cat >"$R/boot/grub/grub.cfg" <<EOF
# k6t cloud guest. /vmlinuz and /initrd.img are the kernel package's own symlinks, so a kernel
# upgrade in the guest boots the new kernel without regenerating this file.
set default=0
set timeout=0
set timeout_style=hidden
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
menuentry 'Debian GNU/Linux 12 (k6t cloud guest)' {
  search --no-floppy --fs-uuid --set=root $uuid
  linux /vmlinuz root=UUID=$uuid ro $KCMDLINE
  initrd /initrd.img
}
EOF
  # core.img finds the root filesystem by UUID (not by BIOS disk number), then reads grub.cfg.
  printf 'search.fs_uuid %s root\nset prefix=($root)/boot/grub\n' "$uuid" >"$R/tmp/grub-early.cfg"
  chroot "$R" grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img -c /tmp/grub-early.cfg \
    -p /boot/grub biosdisk part_msdos ext2 search_fs_uuid
  cp "$R/usr/lib/grub/i386-pc/boot.img" "$R/boot/grub/i386-pc/boot.img"
  rm -f "$R/tmp/grub-early.cfg"
  [ -e "$R/vmlinuz" ] && [ -e "$R/initrd.img" ] || die "no /vmlinuz or /initrd.img in the rootfs"
  # The kernel's postinst made the initrd; if it ran before zstd was unpacked, make it again.
  if [ "$(head -c4 "$R/initrd.img" | od -An -tx1 | tr -d ' ')" != 28b52ffd ] ||
    ! chroot "$R" sh -c 'zstd -dc /initrd.img | cpio -t 2>/dev/null' | grep -q '/virtio_blk.ko$'; then
    log "regenerating the initramfs (zstd, VM disk drivers)"
    chroot "$R" update-initramfs -u -k all >&2
  fi

  printf 'UUID=%s / ext4 rw,discard,errors=remount-ro 0 1\n' "$uuid" >"$R/etc/fstab"

  # --- cloud-init: the datasources KubeVirt gives (NoCloud, ConfigDrive), rendered for
  # systemd-networkd; None keeps a guest without cloud-init data on DHCP (fallback config).
  cat >"$R/etc/cloud/cloud.cfg.d/90_k6t.cfg" <<'EOF'
# k6t cloud guest
datasource_list: [ NoCloud, ConfigDrive, None ]
system_info:
  network:
    renderers: [ networkd ]
    activators: [ networkd ]
# The hostname in /etc/hosts (as Debian's own cloud images do): sudo and others resolve it.
manage_etc_hosts: true
# C.UTF-8 is built into glibc: nothing to generate (en_US.UTF-8 would need locale-gen).
locale: C.UTF-8
# No grub-pc package (the image's GRUB is installed by hand), so nothing for grub-dpkg to do.
grub_dpkg:
  enabled: false
# Boot time under TCG: a containerDisk has a fixed size (nothing to grow; user-data can turn
# growpart/resize_rootfs back on for a larger disk), RSA host key generation alone took longer
# than the rest of cloud-init's network stage, and printing the keys' fingerprints to the
# console took seconds more.
growpart:
  mode: "off"
resize_rootfs: false
ssh_genkeytypes: [ ed25519, ecdsa ]
ssh:
  emit_keys_to_console: false
EOF
  # ds-identify: run with the None datasource when no NoCloud/ConfigDrive disk is attached
  # (fallback DHCP on the first NIC) instead of disabling cloud-init.
  echo 'policy: search,found=all,maybe=all,notfound=enabled' >"$R/etc/cloud/ds-identify.cfg"

  # --- systemd: networkd + resolved, a getty on the serial console, guest agent.
  chroot "$R" systemctl enable systemd-networkd.service systemd-resolved.service \
    serial-getty@ttyS0.service >/dev/null
  # Boot does not wait for every link: one link up is "online" (a NIC without carrier or
  # without a DHCP server must not hold cloud-init and sshd back for two minutes).
  mkdir -p "$R/etc/systemd/system/systemd-networkd-wait-online.service.d"
  cat >"$R/etc/systemd/system/systemd-networkd-wait-online.service.d/k6t.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=30
EOF
  # DHCP leases set the link MTU and the DNS search domains, as netplan-rendered cloud images do
  # (networkd's own defaults ignore both; KubeVirt's DHCP sends the pod's MTU and search list).
  # cloud-init's networkd renderer names its files 10-cloud-init-<ifname>.network.
  local i
  for i in $(seq 0 15); do
    mkdir -p "$R/etc/systemd/network/10-cloud-init-eth$i.network.d"
    printf '[DHCPv4]\nUseMTU=yes\nUseDomains=yes\n' \
      >"$R/etc/systemd/network/10-cloud-init-eth$i.network.d/50-k6t-dhcp.conf"
  done
  ln -sf ../run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"
  # e2scrub_reap looks for LVM snapshots of ext4 volumes (there is no LVM): seconds at boot.
  chroot "$R" systemctl mask e2scrub_reap.service e2scrub_all.timer >/dev/null

  # --- per-instance identity is made on first boot, never baked into the image.
  rm -f "$R"/etc/ssh/ssh_host_*
  : >"$R/etc/machine-id"
  rm -f "$R/var/lib/dbus/machine-id"
  echo localhost >"$R/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
  rm -rf "$R"/var/lib/cloud/* "$R"/var/log/*.log "$R"/var/cache/debconf/*-old
}

if [ "${1:-}" = --hook ]; then
  # Never let a hook write into the host's own /.
  [ -d "${3:-}" ] && [ "$(readlink -f "$3")" != / ] || die "hook $2: bad root '${3:-}'"
  "hook_$2" "$3"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap builds the rootfs as root)"
for t in mmdebstrap mkfs.ext4 sfdisk qemu-img python3 apt-get; do
  command -v "$t" >/dev/null || die "$t missing: run hack/install-deps.sh"
done

CACHE=${1:-${K6T_GUEST_CACHE:-/var/cache/k6t/guests}}
mkdir -p "$CACHE/$NAME"
CACHE=$(readlink -f "$CACHE")
TOP=$CACHE/$NAME
exec 9>"$TOP/.lock"
flock 9  # concurrent builds: one builds, the others then find it cached

# --- the cache key ----------------------------------------------------------------------------
LISTS=/var/lib/apt/lists
list_prefixes=("deb.debian.org_debian_dists_${SUITE}_" "deb.debian.org_debian_dists_${SUITE}-updates_"
  "deb.debian.org_debian-security_dists_${SUITE}-security_")
releases=()
for p in "${list_prefixes[@]}"; do
  [ -f "$LISTS/${p}InRelease" ] || die "no apt lists for ${p%_} on the host: run apt-get update"
  releases+=("$LISTS/${p}InRelease")
done
SCRIPT_HASH=$(cat "$SELF" "$HACK/containerdisk.py" | sha256sum | cut -c1-16)
LISTS_HASH=$(cat "${releases[@]}" | sha256sum | cut -c1-16)
# The exact package set (name=version) the lists give, memoised per lists and request since
# resolving takes apt several seconds.
mkdir -p "$TOP/.resolved"
RESOLVED=$TOP/.resolved/$(printf '%s %s %s\n' "$LISTS_HASH" "$SCRIPT_HASH" "${PACKAGES[*]}" | sha256sum | cut -c1-16)
if [ ! -s "$RESOLVED" ]; then
  log "resolving package versions from the host's apt lists"
  empty=$(mktemp); trap 'rm -f "$empty"' EXIT
  apt-get -s -o Dir::State::status="$empty" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
    -o APT::Install-Recommends=false install '?essential' apt "${PACKAGES[@]}" 2>/dev/null |
    awk '/^Inst /{v=$3; sub(/^\(/,"",v); print $2"="v}' | sort >"$RESOLVED.tmp"
  [ -s "$RESOLVED.tmp" ] || die "apt could not resolve ${PACKAGES[*]}"
  mv "$RESOLVED.tmp" "$RESOLVED"
fi
KEY=$( (echo "$SCRIPT_HASH"; cat "$RESOLVED") | sha256sum | cut -c1-16)
OUT=$TOP/$KEY

emit() {
  echo "K6T_CLOUD_GUEST_DIR=$OUT"
  echo "K6T_CLOUD_GUEST_QCOW2=$OUT/disk.qcow2"
  echo "K6T_CLOUD_GUEST_OCI_LAYOUT=$OUT/oci"
  echo "K6T_CLOUD_GUEST_OCI_ARCHIVE=$OUT/$NAME.oci.tar"
  echo "K6T_CLOUD_GUEST_IMAGE=$REF"
  echo "K6T_CLOUD_GUEST_DIGEST=$(cat "$OUT/digest")"
}
if [ -f "$OUT/COMPLETE" ]; then
  log "cached: $OUT (key $KEY)"
  ln -sfn "$KEY" "$TOP/current"
  emit
  exit 0
fi

# --- build ------------------------------------------------------------------------------------
START=$(date +%s.%N)
elapsed() { python3 -c "import time; print('%.1f' % (time.time() - $START))"; }
WORK=$(mktemp -d "$TOP/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building $NAME key $KEY in $WORK"

# Deterministic per key: the filesystem UUID (the hooks write it into grub.cfg and fstab) and
# the MBR disk id.
K6T_ROOT_UUID=$(python3 -c "import uuid,sys; print(uuid.UUID(bytes=bytes.fromhex(sys.argv[1]*2), version=4))" "$KEY")
export K6T_ROOT_UUID
DISK_ID=0x${KEY:0:8}

# mmdebstrap uses the host's apt lists as they are (--skip=update): the versions resolved above
# are the versions installed. Downloaded .debs are kept in the cache for the next build.
mkdir -p "$TOP/.debs"
SOURCES="deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main"
SOURCE_DATE_EPOCH=$(stat -c %Y "$LISTS/${list_prefixes[0]}InRelease") \
mmdebstrap --variant=minbase --mode=root --format=directory --skip=update \
  --aptopt='APT::Install-Recommends "false"' --dpkgopt=force-unsafe-io \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --setup-hook="\"$SELF\" --hook setup \"\$1\"" \
  --setup-hook='mkdir -p "$1/var/lib/apt/lists" "$1/var/cache/apt/archives"' \
  --setup-hook="cp $LISTS/deb.debian.org_debian*_dists_${SUITE}* \"\$1/var/lib/apt/lists/\"" \
  --setup-hook="find $TOP/.debs -name '*.deb' -exec cp -l -t \"\$1/var/cache/apt/archives/\" {} +" \
  --customize-hook="find \"\$1/var/cache/apt/archives\" -name '*.deb' -exec cp -ln -t $TOP/.debs/ {} +" \
  --customize-hook="\"$SELF\" --hook customize \"\$1\"" \
  --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Package}=\${Version}\n' | sort >$WORK/packages.txt" \
  "$SUITE" "$WORK/rootfs" - <<<"$SOURCES" >&2
log "rootfs done at $(elapsed) s: $(du -sm "$WORK/rootfs" | cut -f1) MiB"

# --- disk: MBR + GRUB + ext4 written straight into a sparse file (no loop device) --------------
RAW=$WORK/disk.raw
truncate -s "${DISK_SIZE_MIB}M" "$RAW"
printf 'label: dos\nlabel-id: %s\nstart=%s, type=83, bootable\n' "$DISK_ID" "$PART_START_SECTOR" |
  sfdisk --no-reread --no-tell-kernel -q "$RAW" >&2
PART_BYTES=$(( (DISK_SIZE_MIB * 1024 * 1024) - PART_START_SECTOR * 512 ))
# The rootfs keeps its owners, modes and xattrs. Features GRUB 2.06 reads (no
# metadata_csum_seed, no orphan_file); inode tables written now, not by the guest's lazyinit
# thread during its first boots under TCG.
mkfs.ext4 -q -F -d "$WORK/rootfs" -L k6t-root -U "$K6T_ROOT_UUID" \
  -O ^metadata_csum_seed,^orphan_file -E "offset=$((PART_START_SECTOR * 512)),lazy_itable_init=0,lazy_journal_init=0,nodiscard" \
  "$RAW" "$((PART_BYTES / 1024))k" >&2
G=$WORK/rootfs/boot/grub/i386-pc
CORE_SECTORS=$(( ($(stat -c %s "$G/core.img") + 511) / 512 ))
(( CORE_SECTORS < PART_START_SECTOR - 1 )) || die "core.img ($CORE_SECTORS sectors) does not fit before the partition"
# boot.img's code only (the partition table after byte 440 stays); it loads core.img from
# sector 1, whose first sector holds the block list grub-mkimage filled in.
dd if="$G/boot.img" of="$RAW" bs=440 count=1 conv=notrunc status=none
dd if="$G/core.img" of="$RAW" bs=512 seek=1 conv=notrunc status=none
qemu-img convert -c -f raw -O qcow2 "$RAW" "$WORK/disk.qcow2"
rm -f "$RAW"
log "disk done at $(elapsed) s: qcow2 $(du -m "$WORK/disk.qcow2" | cut -f1) MiB"

# --- containerDisk ----------------------------------------------------------------------------
python3 "$HACK/containerdisk.py" --disk "$WORK/disk.qcow2" --ref "$REF" --layout "$WORK/oci" \
  --archive "$WORK/$NAME.oci.tar" --label "io.k6t.guest.key=$KEY" \
  --label "org.opencontainers.image.title=$NAME" >"$WORK/digest"
cp "$RESOLVED" "$WORK/resolved.txt"
if ! cmp -s "$WORK/resolved.txt" "$WORK/packages.txt"; then
  log "note: installed packages differ from the resolved set (key unaffected):"
  diff "$WORK/resolved.txt" "$WORK/packages.txt" | grep '^[<>]' | head -20 >&2 || true
fi
rm -rf "$WORK/rootfs"
BUILD_S=$(elapsed)
{
  echo "key=$KEY"
  echo "built=$(date -u +%FT%TZ)"
  echo "build_seconds=$BUILD_S"
  echo "qcow2_bytes=$(stat -c %s "$WORK/disk.qcow2")"
  echo "kernel=$(grep '^linux-image-[0-9]' "$WORK/packages.txt")"
  echo "digest=$(cat "$WORK/digest")"
} >"$WORK/build-info"
touch "$WORK/COMPLETE"
rm -rf "$OUT"
mv "$WORK" "$OUT"
trap - EXIT
chmod 0755 "$OUT"
ln -sfn "$KEY" "$TOP/current"
# Keep the two newest builds (real directories only: `current` is a symlink).
find "$TOP" -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name "$KEY" -printf '%T@ %p\n' |
  sort -rn | tail -n +2 | cut -d' ' -f2- | xargs -r rm -rf
log "built in $BUILD_S s: $OUT"
emit
