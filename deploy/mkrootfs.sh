#!/bin/bash
# mkrootfs.sh [--strip] OUT.tar [EXE...]: a minimal container root filesystem made on this machine from
# Debian packages, no registry: busybox-static's applets in /bin, and each EXE in
# /usr/local/bin with the shared libraries `ldd` resolves for it (k6t links its own
# dependencies statically; what remains is the C/C++ runtime and Debian libraries such as
# libnftables and libvirt), copied at the same paths with the dynamic loader (libraries from
# outside the system dirs, such as a build tree's, go to /usr/local/lib; the image gets an
# ld.so.cache).
# --strip drops the executables' debug sections (strip --strip-debug; RelWithDebInfo builds are
# mostly DWARF). The tarball's owner, group and times are fixed, so the same inputs give the same bytes.
set -euo pipefail

usage() { echo "usage: $0 [--strip] OUT.tar [EXE...]" >&2; exit 2; }
strip_debug=false
if [[ ${1:-} == --strip ]]; then strip_debug=true; shift; fi
[[ $# -ge 1 ]] || usage
out=$1; shift
busybox=/bin/busybox
if ! "$busybox" --list >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
  echo "$0: $busybox is not busybox-static (apt-get install busybox-static)" >&2; exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,run,var/tmp,usr/local/bin}
chmod 1777 "$root/tmp" "$root/var/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [[ -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nqemu:x:107:107:qemu:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nqemu:x:107:\n' >"$root/etc/group"

copy_with_libs() {  # EXE: the executable into /usr/local/bin, its libraries where ldd found them
  local exe=$1 lib
  local copy
  copy=$root/usr/local/bin/$(basename "$exe")
  install -m 0755 "$exe" "$copy"
  if $strip_debug && ldd "$exe" >/dev/null 2>&1; then strip --strip-debug "$copy"; fi
  # "name => /path (addr)" and the loader's "/path (addr)"; vdso has no path.
  for lib in $(ldd "$exe" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    local at=$lib
    case $lib in
      /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;;
      # Found through a build tree's RUNPATH (libk6t*.so of an executable not linked static):
      # /usr/local/lib in the image, where its ld.so.cache finds it.
      *) at=/usr/local/lib/$(basename "$lib") ;;
    esac
    [[ -e "$root$at" ]] && continue
    mkdir -p "$root$(dirname "$at")"
    cp -L "$lib" "$root$at"
  done
}
for exe in "$@"; do
  [[ -x "$exe" ]] || { echo "$0: $exe is not an executable" >&2; exit 1; }
  copy_with_libs "$exe"
done

echo /usr/local/lib >"$root/etc/ld.so.conf"
ldconfig -r "$root"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$out" .
