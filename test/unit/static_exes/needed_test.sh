#!/usr/bin/env bash
# The executables linked by cmake/K6tStaticExe.cmake load none of k6t's own libraries,
# Abseil, yaml-cpp or libnl at run time (their DT_NEEDED entries), and still start.
#   needed_test.sh EXECUTABLE...
set -euo pipefail
fail=0
for exe in "$@"; do
  needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  [ -n "$needed" ] || { echo "FAIL $exe: no NEEDED entries read" >&2; fail=1; continue; }
  bad=$(grep -E '^lib(k6t|absl_|yaml-cpp|nl-)' <<<"$needed" || true)
  if [ -n "$bad" ]; then
    echo "FAIL $exe loads libraries it should link statically:" $bad >&2
    fail=1
  else
    echo "ok   $exe: $(wc -l <<<"$needed") shared libraries:" $needed
  fi
done
exit "$fail"
