#!/usr/bin/env bash
# The embedding contract, tested from outside: installs the build into a scratch prefix,
# builds examples/embed against the *installed* package (find_package(k6t), and once more
# with pkg-config), then runs it as root in a scratch netns: setup through the pod-network
# session, setup again (no change), teardown, each checked with `ip`. A DHCP-only program
# is built against k6t::dhcp the same two ways and must not load libk6tbinding.
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
check "libk6tdhcp.so has SONAME libk6tdhcp.so.0" soname libk6tdhcp.so libk6tdhcp.so.0
check "libk6tdomxml.so has SONAME libk6tdomxml.so.0" soname libk6tdomxml.so libk6tdomxml.so.0
check "libk6trpc.so has SONAME libk6trpc.so.0" soname libk6trpc.so libk6trpc.so.0

# The example sees only the prefix: a path into this checkout in its build would mean the
# package leaks the source or build tree.
cmake_build() {
  cmake -S examples/embed -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" &&
    cmake --build "$work/cmake" &&
    ! grep -F -e "$ROOT/api" -e "$ROOT/libbinding" -e "$ROOT/libdhcp" -e "$ROOT/libdomxml" \
      -e "$ROOT/librpc" \
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

# libdhcp alone: a program serving DHCP needs k6t::dhcp and k6t::api, never libk6tbinding.
mkdir -p "$work/dhcp-src"
cat >"$work/dhcp-src/main.cc" <<'EOF_CC'
#include <cstdio>

#include "k6t/api/dhcp_offer.h"
#include "k6t/dhcp/responder.h"

int main() {
  k6t::api::DhcpV4Offer offer;
  offer.server_ip = "10.0.2.1";
  offer.client_ip = "10.0.2.2";
  offer.router = "10.0.2.1";
  auto responder = k6t::dhcp::Dhcpv4Responder::Create(offer, "");
  if (!responder.ok()) return 1;
  k6t::dhcp::Dhcpv4Message discover;
  discover.chaddr[0] = 0x02;
  discover.Set(k6t::dhcp::opt4::kMessageType, std::string(1, '\x01'));
  auto out = responder->Respond(discover);
  if (!out.reply) return 1;
  std::printf("offer %s\n", k6t::dhcp::FormatIpv4(out.reply->message.yiaddr).c_str());
  return 0;
}
EOF_CC
cat >"$work/dhcp-src/CMakeLists.txt" <<'EOF_CMAKE'
cmake_minimum_required(VERSION 3.25)
project(k6t_dhcp_only LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(k6t 0.1 REQUIRED)
add_executable(dhcp-only main.cc)
target_compile_options(dhcp-only PRIVATE -Wall -Wextra -Werror)
target_link_libraries(dhcp-only PRIVATE k6t::dhcp)
EOF_CMAKE
dhcp_cmake() {
  cmake -S "$work/dhcp-src" -B "$work/dhcp-cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" &&
    cmake --build "$work/dhcp-cmake" && "$work/dhcp-cmake/dhcp-only" | grep -q "offer 10.0.2.2" &&
    ! ldd "$work/dhcp-cmake/dhcp-only" | grep -q libk6tbinding
}
check "a DHCP-only program builds with find_package(k6t) and k6t::dhcp alone" dhcp_cmake
dhcp_pc() {
  local flags
  flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs k6t-dhcp) &&
    c++ -std=c++20 -Wall -Wextra -Werror "$work/dhcp-src/main.cc" -o "$work/dhcp-pc" $flags \
      -Wl,-rpath,"$libdir" &&
    "$work/dhcp-pc" | grep -q "offer 10.0.2.2" && ! ldd "$work/dhcp-pc" | grep -q libk6tbinding
}
check "a DHCP-only program builds with pkg-config k6t-dhcp" dhcp_pc

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
