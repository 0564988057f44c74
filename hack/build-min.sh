#!/usr/bin/env bash
# Builds only the named targets (default: the executables hack/quickstart.sh runs) in a build
# dir configured without tests, benchmarks, header checks or fuzz targets, and shows the build
# as ONE updating line with an estimate of the time left (from ninja's [finished/total]).
#
#   hack/build-min.sh [-B DIR] [TARGET...]     default: -B build-quickstart k6t-handler k6t-launcher
#
# A DIR that is already configured (e.g. a full build/) is reused as it is: its targets are
# brought up to date, nothing else is built. ccache is used when installed. The whole ninja
# output goes to DIR/build-min.log; on failure its tail is shown.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=build-quickstart
if [ "${1:-}" = "-B" ]; then DIR=$2; shift 2; fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(k6t-handler k6t-launcher)
mkdir -p "$DIR"
LOG=$DIR/build-min.log

if [ ! -f "$DIR/build.ninja" ]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  if ! cmake -S . -B "$DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DK6T_BUILD_TESTS=OFF \
      -DK6T_BUILD_BENCH=OFF -DK6T_HEADER_CHECK=OFF -DK6T_FUZZ=OFF "${launcher[@]}" >"$DIR/configure.log" 2>&1; then
    cat "$DIR/configure.log" >&2
    exit 1
  fi
fi

hms() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# Reads ninja's output; status lines (marked through NINJA_STATUS) update the one line, the
# rest goes to the log. On a terminal the line is rewritten in place; otherwise (a pipe, CI)
# it is printed at most every 30 s.
progress() {
  local start=$SECONDS tty=0 last=-30 line done total elapsed left pct msg
  [ -t 1 ] && tty=1
  while IFS= read -r line; do
    if [[ $line =~ ^@k6t\ ([0-9]+)/([0-9]+)@ ]]; then
      done=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]}
      elapsed=$((SECONDS - start))
      pct=$((total ? 100 * done / total : 100))
      msg="build ${TARGETS[*]}: $done/$total ($pct%), $(hms "$elapsed") elapsed"
      if [ "$done" -gt 0 ]; then
        left=$((elapsed * (total - done) / done))
        msg+=", ~$(hms "$left") left"
      fi
      if [ "$tty" = 1 ]; then
        printf '\r\033[K%s' "$msg"
      elif [ $((elapsed - last)) -ge 30 ]; then
        echo "$msg"
        last=$elapsed
      fi
      line=${line#@k6t * }
    fi
    printf '%s\n' "$line" >>"$LOG"
  done
  [ "$tty" = 0 ] || printf '\r\033[K'
}

: >"$LOG"
start=$SECONDS
set +e
NINJA_STATUS='@k6t %f/%t@ ' cmake --build "$DIR" --target "${TARGETS[@]}" 2>&1 | progress
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
  echo "build failed (full output: $LOG):" >&2
  tail -n 40 "$LOG" >&2
  exit "$rc"
fi
echo "built ${TARGETS[*]} in $DIR in $(hms $((SECONDS - start)))"
