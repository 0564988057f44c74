#!/usr/bin/env bash
# Builds k6t's tiny default guest: the Debian cloud kernel, extracted from its package (never
# installed on the host), and a busybox-static initramfs whose /init reports the guest's
# network on the serial console and serves it over HTTP.
#
#   hack/build-guest.sh [OUTDIR]     default: ${K6T_GUEST_DIR:-/var/cache/k6t/guest}
#
# Output: OUTDIR/vmlinuz and OUTDIR/initrd.cpio.gz (symlinks to the versioned files
# vmlinuz-<kver> / initrd-<kver>-<script hash>.cpio.gz) and OUTDIR/VERSION.
# Cached by kernel version and by this script's content: a second run is a fast no-op.
#
# Guest contract (kernel command line, serial console, HTTP):
#   k6t.net=dhcp (default)            DHCPv4 (udhcpc) on every NIC; DHCPv6 (ISC dhclient -6)
#                                     when the RA has the M flag or always with k6t.dhcp6=1;
#                                     the kernel takes RAs for routes.
#   k6t.net=static:IP/PFX:GW          eth0 gets IP/PFX and default via GW; other NICs DHCP.
#   k6t.net=none                      links up, no addresses.
#   k6t.poweroff_after_up=1          powers off 1 s after eth0 has an IPv4 address (tests).
#   Serial lines, one event each, prefix "K6T-GUEST: ":
#     boot uptime=S
#     iface eth0 new mac=M
#     iface eth0 up mac=M ipv4=A/P mtu=N [source=dhcp|static]
#     iface eth0 ipv6 addr=A/P [source=dhcpv6]
#     iface eth0 carrier 0|1
#     iface gone eth1
#     route default via 10.0.2.1 dev eth0        (every IPv4 route added)
#     route gone <route>                         (every IPv4 route removed)
#     route6 <route> / route6 gone <route>       (IPv6, link-local/multicast routes skipped)
#     ready http=8080
#     poweroff (ACPI power button)
#   HTTP on TCP 8080, path / (or /cgi-bin/index.cgi): text/plain with `ip addr`, `ip route`, `ip -6 route`,
#   produced per request.
#   HTTP /cgi-bin/disk.cgi[?TEXT]: writes TEXT (A-Za-z0-9_-) at byte 512 KiB of every virtio disk,
#   synced; then, page cache dropped, one line per disk "vdX <what is there>" (live-migration tests).
#   TCP 7: echo (each connection held until the client closes it; live-migration tests).
set -euo pipefail

OUT=${1:-${K6T_GUEST_DIR:-/var/cache/k6t/guest}}
SELF=$(readlink -f "$0")
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")

exec 9>"$OUT/.lock"
flock 9  # concurrent test runs build once

PKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$PKG" ]; then
  echo "build-guest: cannot resolve linux-image-cloud-amd64 (apt-get update needed?)" >&2
  exit 1
fi
KV=${PKG#linux-image-}
SCRIPT_HASH=$(sha256sum "$SELF" | cut -c1-12)
KERNEL=vmlinuz-$KV
INITRD=initrd-$KV-$SCRIPT_HASH.cpio.gz
STAMP="$KV $SCRIPT_HASH"

if [ -f "$OUT/$KERNEL" ] && [ -f "$OUT/$INITRD" ] && [ "$(cat "$OUT/VERSION" 2>/dev/null)" = "$STAMP" ]; then
  echo "build-guest: up to date ($STAMP) in $OUT" >&2
  exit 0
fi

WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# The kernel package: reuse apt's cache when it has it, else download (no install).
DEB=$(ls /var/cache/apt/archives/${PKG}_*.deb 2>/dev/null | head -1 || true)
if [ -z "$DEB" ]; then
  apt-get download "$PKG" >/dev/null 2>&1 || { echo "build-guest: apt-get download $PKG failed" >&2; exit 1; }
  DEB=$(ls "$WORK"/${PKG}_*.deb | head -1)
fi
mkdir kern
dpkg -x "$DEB" kern

R=$WORK/root
mkdir -p "$R"/{bin,sbin,proc,sys,dev,run,tmp,etc/acpi/PWRF,lib/modules,www/cgi-bin,var/lib/dhcp,usr/share/udhcpc}
cp /bin/busybox "$R/bin/busybox"

# Modules the cloud kernel builds as =m, in dependency order (no modules.dep in the .deb).
KM=kern/lib/modules/$KV/kernel
MODS="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
      drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover
      drivers/net/net_failover drivers/net/virtio_net drivers/block/virtio_blk
      drivers/char/virtio_console
      drivers/input/evdev drivers/acpi/button"
: >"$R/lib/modules/order"
for m in $MODS; do
  f=$(ls "$KM/$m.ko"* 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "build-guest: module $m missing in $PKG" >&2; exit 1; }
  case "$f" in
    *.ko) cp "$f" "$R/lib/modules/" ;;
    *.ko.xz) xz -dc "$f" >"$R/lib/modules/$(basename "$m").ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$R/lib/modules/$(basename "$m").ko" ;;
  esac
  basename "$m" >>"$R/lib/modules/order"
done

# ISC dhclient for DHCPv6 (busybox has no udhcpc6), with the libraries ldd lists.
if [ -x /usr/sbin/dhclient ]; then
  cp /usr/sbin/dhclient "$R/sbin/dhclient"
  for lib in $(ldd /usr/sbin/dhclient | grep -o '/[^ ]*'); do
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
  done
fi

# The QEMU guest agent (Debian's qemu-guest-agent, extracted like the kernel, not installed
# on the host), with the libraries ldd lists: k6t's status reads the guest's interfaces
# through it, as KubeVirt does.
QGA_DEB=$(ls /var/cache/apt/archives/qemu-guest-agent_*.deb 2>/dev/null | head -1 || true)
if [ -z "$QGA_DEB" ]; then
  apt-get download qemu-guest-agent >/dev/null 2>&1 || { echo "build-guest: apt-get download qemu-guest-agent failed" >&2; exit 1; }
  QGA_DEB=$(ls "$WORK"/qemu-guest-agent_*.deb | head -1)
fi
mkdir qga
dpkg -x "$QGA_DEB" qga
cp qga/usr/sbin/qemu-ga "$R/sbin/qemu-ga"
if ldd qga/usr/sbin/qemu-ga | grep -q 'not found'; then
  echo "build-guest: qemu-ga needs libraries this host lacks:" >&2
  ldd qga/usr/sbin/qemu-ga | grep 'not found' >&2
  exit 1
fi
for lib in $(ldd qga/usr/sbin/qemu-ga | grep -o '/[^ ]*'); do
  mkdir -p "$R$(dirname "$lib")"
  cp -L "$lib" "$R$lib"
done

cat >"$R/bin/k6t-log" <<'EOF'
#!/bin/sh
echo "K6T-GUEST: $*" >/dev/console
EOF

cat >"$R/bin/k6t-report-up" <<'EOF'
#!/bin/sh
# k6t-report-up IFACE SOURCE
ifc=$1
a=$(ip -4 -o addr show dev "$ifc" | awk '{print $4; exit}')
k6t-log "iface $ifc up mac=$(cat /sys/class/net/$ifc/address) ipv4=${a:-none} mtu=$(cat /sys/class/net/$ifc/mtu) source=$2"
EOF

cat >"$R/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc hook: applies the lease (address, MTU, routes incl. option 121) and reports it.
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  leasefail|nak) k6t-log "iface $interface dhcp $1" ;;
  bound|renew)
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    if [ -n "$staticroutes" ]; then
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        case "$2" in 0.0.0.0) ip route replace "$1" dev "$interface" ;;
          *) ip route replace "$1" via "$2" dev "$interface" ;; esac
        shift 2
      done
    elif [ -n "$router" ]; then
      ip route replace default via "${router%% *}" dev "$interface"
    fi
    [ -n "$dns" ] && { for s in $dns; do echo "nameserver $s"; done; } >/etc/resolv.conf
    k6t-report-up "$interface" dhcp ;;
esac
exit 0
EOF

cat >"$R/sbin/dhclient-script" <<'EOF'
#!/bin/sh
# ISC dhclient -6 hook (only the DHCPv6 reasons matter here).
case "$reason" in
  PREINIT6) ip link set "$interface" up ;;
  BOUND6|RENEW6|REBIND6|REBOOT6)
    if [ -n "$new_ip6_address" ]; then
      # busybox ip has no "nodad"; DAD is off guest-wide (init), so the address is usable at once.
      if ip -6 addr replace "$new_ip6_address/${new_ip6_prefixlen:-128}" dev "$interface"; then
        k6t-log "iface $interface ipv6 addr=$new_ip6_address/${new_ip6_prefixlen:-128} source=dhcpv6"
      else
        k6t-log "iface $interface ipv6 addr=$new_ip6_address/${new_ip6_prefixlen:-128} failed"
      fi
    fi ;;
  EXPIRE6|RELEASE6|STOP6)
    [ -n "$old_ip6_address" ] && ip -6 addr del "$old_ip6_address/${old_ip6_prefixlen:-128}" dev "$interface" ;;
esac
exit 0
EOF

cat >"$R/www/cgi-bin/index.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "# ip addr"; ip addr
echo "# ip route"; ip route
echo "# ip -6 route"; ip -6 route
EOF
cat >"$R/www/cgi-bin/disk.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
text=$(printf %s "$QUERY_STRING" | tr -cd 'A-Za-z0-9_-')
for b in /sys/block/vd*; do
  [ -e "$b" ] || continue
  d=/dev/${b##*/}
  [ -z "$text" ] || printf %s "$text" | dd of="$d" bs=512 seek=1024 conv=fsync 2>/dev/null
done
sync; echo 3 > /proc/sys/vm/drop_caches
for b in /sys/block/vd*; do
  [ -e "$b" ] || continue
  echo "${b##*/} $(dd if=/dev/${b##*/} bs=512 skip=1024 count=1 2>/dev/null | tr -cd 'A-Za-z0-9_-')"
done
EOF
# busybox httpd runs /cgi-bin/index.cgi for "/" when there is no index.html.
: >"$R/etc/httpd.conf"

cat >"$R/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
k6t-log "poweroff"
sync
poweroff -f
EOF
echo "PWRF PWRF/00000080" >"$R/etc/acpid.conf"

cat >"$R/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /run /var/run; mount -t tmpfs tmpfs /run
exec </dev/null >/dev/console 2>&1
k6t-log "boot uptime=$(cut -d' ' -f1 /proc/uptime)"
# Before the NIC drivers load: a tentative link-local address would keep dhclient -6 from binding.
sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
for m in $(cat /lib/modules/order); do
  insmod /lib/modules/$m.ko 2>/dev/null || k6t-log "insmod $m failed"
done
hostname k6t-guest
ip link set lo up
# The QEMU guest agent on its virtio port (k6t's domains always have one).
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
  mkdir -p /var/lib/qemu-ga
  if qemu-ga -m virtio-serial -p "/dev/${p##*/}" -d -f /run/qemu-ga.pid -t /var/lib/qemu-ga; then
    k6t-log "guest agent on ${p##*/}"
  else
    k6t-log "guest agent failed"
  fi
done
# Each virtio disk: size, serial, its first bytes and an ISO9660 volume label if it has one
# (the launcher's e2e checks containerDisk and cloud-init volumes by these lines).
for b in /sys/block/vd*; do
  [ -e "$b" ] || continue
  n=${b##*/}
  k6t-log "disk $n sectors=$(cat $b/size) serial=$(cat $b/serial 2>/dev/null)" \
    "head=$(head -c 24 /dev/$n | tr -c 'A-Za-z0-9_-' '.')" \
    "label=$(dd if=/dev/$n bs=1 skip=32808 count=16 2>/dev/null | tr -dc 'A-Za-z0-9_-')"
done
acpid -c /etc/acpi -a /etc/acpid.conf -l /run/acpid.log -p /run/acpid.pid || k6t-log "acpid failed"

NET=dhcp; DHCP6=auto; POWEROFF_AFTER_UP=0
for a in $(cat /proc/cmdline); do
  case "$a" in
    k6t.net=*) NET=${a#k6t.net=} ;;
    k6t.dhcp6=*) DHCP6=${a#k6t.dhcp6=} ;;
    k6t.poweroff_after_up=*) POWEROFF_AFTER_UP=${a#k6t.poweroff_after_up=} ;;
  esac
done

dhcp6() {  # IFACE: DHCPv6 when asked, or when an RA with the M flag shows up within 5 s
  ifc=$1
  [ -x /sbin/dhclient ] || return 0
  [ "$DHCP6" = 0 ] && return 0
  if [ "$DHCP6" != 1 ]; then
    i=0
    while [ $i -lt 25 ]; do
      # The kernel sets a default route from an RA; managed flag is not exposed, so any RA
      # (route from a link-local router) counts as "DHCPv6 may be offered".
      ip -6 route show dev "$ifc" | grep -q '^default' && break
      sleep 0.2; i=$((i+1))
    done
    [ $i -ge 25 ] && return 0
  fi
  dhclient -6 -nw -sf /sbin/dhclient-script -lf /var/lib/dhcp/dhclient6.$ifc.leases \
    -pf /run/dhclient6.$ifc.pid "$ifc" >/dev/null 2>&1
}

cfg_if() {
  ifc=$1
  ip link set "$ifc" up
  case "$NET" in
    none) k6t-report-up "$ifc" none ;;
    static:*)
      if [ "$ifc" = eth0 ]; then
        rest=${NET#static:}; ipp=${rest%%:*}; gw=${rest#*:}
        ip addr add "$ipp" dev eth0
        [ -n "$gw" ] && [ "$gw" != "$rest" ] && ip route replace default via "$gw" dev eth0
        k6t-report-up eth0 static
      else
        udhcpc -i "$ifc" -b -S -t 20 -T 1 -A 3 -O mtu -O staticroutes \
          -s /usr/share/udhcpc/default.script >/dev/null 2>&1
      fi ;;
    *) udhcpc -i "$ifc" -b -S -t 20 -T 1 -A 3 -O mtu -O staticroutes \
         -s /usr/share/udhcpc/default.script >/dev/null 2>&1 ;;
  esac
  [ "$NET" != none ] && dhcp6 "$ifc" &
}

# Routes and links are diffed against the last snapshot every 0.2 s.
snap_routes() {
  ip route show > /run/r4.new
  ip -6 route show | grep -v -e '^fe80' -e '^multicast' -e '^ff00' -e '^local' > /run/r6.new
}
diff_routes() {  # OLD NEW PREFIX
  while IFS= read -r l; do grep -Fxq -- "$l" "$1" || k6t-log "$3 $l"; done < "$2"
  while IFS= read -r l; do grep -Fxq -- "$l" "$2" || k6t-log "$3 gone $l"; done < "$1"
}

: > /run/r4; : > /run/r6
httpd -p 8080 -h /www -c /etc/httpd.conf
nc -ll -p 7 -e cat &
k6t-log "ready http=8080"
if [ "$POWEROFF_AFTER_UP" = 1 ]; then  # tests: a guest that ends on its own
  ( while ! ip -4 -o addr show dev eth0 2>/dev/null | grep -q inet; do sleep 0.2; done
    sleep 1; k6t-log "poweroff"; poweroff -f ) &
fi
known=" "
while true; do
  cur=" "
  for p in /sys/class/net/*; do
    ifc=${p##*/}
    [ "$ifc" = lo ] && continue
    cur="$cur$ifc "
    case "$known" in
      *" $ifc "*)
        c=$(cat "$p/carrier" 2>/dev/null || echo 0)
        if [ "$c" != "$(cat /run/carrier.$ifc 2>/dev/null)" ]; then
          echo "$c" > /run/carrier.$ifc; k6t-log "iface $ifc carrier $c"
        fi ;;
      *)
        k6t-log "iface $ifc new mac=$(cat $p/address)"
        cfg_if "$ifc" & ;;
    esac
  done
  for ifc in $known; do
    case "$cur" in *" $ifc "*) ;; *) k6t-log "iface gone $ifc"; rm -f /run/carrier.$ifc ;; esac
  done
  known="$cur"
  snap_routes
  diff_routes /run/r4 /run/r4.new route; mv /run/r4.new /run/r4
  diff_routes /run/r6 /run/r6.new route6; mv /run/r6.new /run/r6
  sleep 0.2
done
EOF

chmod 0755 "$R/init" "$R/bin/k6t-log" "$R/bin/k6t-report-up" "$R/usr/share/udhcpc/default.script" \
  "$R/sbin/dhclient-script" "$R/www/cgi-bin/index.cgi" "$R/www/cgi-bin/disk.cgi" "$R/etc/acpi/PWRF/00000080"

(cd "$R" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -6) >"$WORK/$INITRD"
cp "kern/boot/vmlinuz-$KV" "$WORK/$KERNEL"

mv -f "$WORK/$KERNEL" "$OUT/$KERNEL"
mv -f "$WORK/$INITRD" "$OUT/$INITRD"
ln -sfn "$KERNEL" "$OUT/vmlinuz"
ln -sfn "$INITRD" "$OUT/initrd.cpio.gz"
# Older initrds of this kernel (from earlier script versions) are dropped.
for f in "$OUT"/initrd-"$KV"-*.cpio.gz; do [ "$f" = "$OUT/$INITRD" ] || rm -f "$f"; done
echo "$STAMP" >"$OUT/VERSION"
echo "build-guest: built $KERNEL + $INITRD in $OUT" >&2
