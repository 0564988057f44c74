#!/usr/bin/env bash
# The embedding contract, tested from outside: installs the build into a scratch prefix,
# builds examples/embed against the *installed* package (find_package(k6t), and once more
# with pkg-config), then runs it as root in a scratch netns: setup through the pod-network
# session, setup again (no change), teardown, each checked with `ip`.
#
#   hack/embed-test.sh [BUILD_DIR]     (default build/; needs root)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
work=$(mktemp -d /tmp/k6t-embed.XXXXXX)
ns=k6t-embed-$$
cleanup() { ip netns del "$ns" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

passed=0 failed=0
check() {  # name, command...
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then
    passed=$((passed + 1)); echo "embed: ok   $name"
  else
    failed=$((failed + 1)); echo "embed: FAIL $name"; sed 's/^/    /' "$work/out" | tail -30
  fi
}
finish() { echo "embed: $passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

prefix=$work/prefix
if ! cmake --install "$BUILD" --prefix "$prefix" >"$work/install.log" 2>&1; then
  cat "$work/install.log"; failed=1; finish
fi
libdir=$(dirname "$(find "$prefix" -name libk6tbinding.so | head -1)")

soname() { readelf -d "$libdir/$1" | grep -q "SONAME.*\[$2\]"; }
check "libk6tapi.so has SONAME libk6tapi.so.0" soname libk6tapi.so libk6tapi.so.0
check "libk6tbinding.so has SONAME libk6tbinding.so.0" soname libk6tbinding.so libk6tbinding.so.0
check "libk6tdomxml.so has SONAME libk6tdomxml.so.0" soname libk6tdomxml.so libk6tdomxml.so.0
check "libk6trpc.so has SONAME libk6trpc.so.0" soname libk6trpc.so libk6trpc.so.0

# The example sees only the prefix: a path into this checkout in its build would mean the
# package leaks the source or build tree.
cmake_build() {
  cmake -S examples/embed -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" &&
    cmake --build "$work/cmake" &&
    ! grep -F -e "$ROOT/api" -e "$ROOT/libbinding" -e "$ROOT/libdomxml" -e "$ROOT/librpc" \
      -e "$ROOT/$BUILD" "$work/cmake/build.ninja"
}
check "examples/embed builds with find_package(k6t) from the prefix" cmake_build

pc_build() {
  local flags
  flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs k6t-domxml) &&
    c++ -std=c++20 -Wall -Wextra -Werror examples/embed/main.cc -o "$work/embed-pc" $flags \
      -Wl,-rpath,"$libdir" || return 1
  # Without arguments it prints its usage: it loaded, so the libraries resolve.
  "$work/embed-pc" 2>"$work/usage"
  [ $? = 2 ] && grep -q usage "$work/usage"
}
check "examples/embed builds with pkg-config k6t-domxml (and k6t-binding)" pc_build

bin=$work/cmake/k6t-embed-example
if [ ! -x "$bin" ]; then finish; fi
ip netns add "$ns"
run() { "$bin" --netns "/run/netns/$ns" --state-dir "$work/state" "$@"; }
applied() {
  run | tee /dev/stderr >"$work/applied" && grep -q "changed=5" "$work/applied" &&
    grep -q "<target dev='tap0' managed='no'/>" "$work/applied" &&
    ip -n "$ns" -d link show tap0 | grep -q "master k6t-eth0" &&
    ip -n "$ns" -d link show k6t-eth0 | grep -q "bridge"
}
check "apply: bridge k6t-eth0 holds tap0" applied
again() { run | tee /dev/stderr | grep -q "changed=0"; }
check "apply again changes nothing" again
gone() {
  run --teardown | tee /dev/stderr | grep -q "are gone" &&
    ! ip -n "$ns" link show tap0 2>/dev/null && ! ip -n "$ns" link show k6t-eth0 2>/dev/null
}
check "teardown removes both" gone
forgotten() { [ -z "$(ls -A "$work/state/interfaces" 2>/dev/null)" ]; }
check "teardown leaves nothing in the state dir" forgotten
finish
