#!/usr/bin/env bash
# flowdb's numeric series (write_points, aggregate) against SQLite, both through their
# Rust APIs (rusqlite on the system's libsqlite3), on the workloads of
# examples/numeric-codecs.rs (docs/benchmarks.md, "Numeric series (issue 19)").
#
#   bash bench/numeric-compare.sh [--workload node|cpu|cpu2dp[,...]] [--series N] [--hours H]
#                                 [--rounds R] [--check] [--dir D]
#                                 [--sqlite-schema without-rowid|rowid]
#                                 [--hour-queries N] [--day-queries N] [--gets N] [--series-scans N]
#
# With no option: a smoke run of seconds (node, 100 series x 2 hours, 1 round).
# Builds bench/numeric-compare (its own workspace, not the root one's, not CI's) in
# release mode into ~/.cache/flowdb-numeric-compare, then runs it: every system in a
# child process of its own on a fresh store under D/<workload>/ (default
# build-bench/numeric-compare, removed afterwards), and prints markdown tables of the
# medians over the rounds. Exits 1 when two systems' reads disagree; --check also
# compares count, sum, min and max per bucket of flowdb's and SQLite's aggregations.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARGS=("$@")
HAS_DIR=0
for a in "$@"; do
  case "$a" in
    --dir) HAS_DIR=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
  esac
done
[ "$HAS_DIR" -eq 1 ] || ARGS+=(--dir "$ROOT/build-bench/numeric-compare")

# rusqlite links the system's libsqlite3 (no bundled copy): bench/run.sh and
# scripts/test-all.sh install the same package.
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libsqlite3-dev pkg-config >/dev/null
fi

CACHE=${FLOWDB_NUMERIC_COMPARE_CACHE:-$HOME/.cache/flowdb-numeric-compare}
mkdir -p "$CACHE"
export CARGO_TARGET_DIR=$CACHE/target
start=$(date +%s)
if ! cargo build --release -j2 --manifest-path "$ROOT/bench/numeric-compare/Cargo.toml" >"$CACHE/build.log" 2>&1; then
  tail -40 "$CACHE/build.log" >&2
  echo "numeric-compare: build failed (full log: $CACHE/build.log)" >&2
  exit 1
fi
echo "numeric-compare: build took $(( $(date +%s) - start )) s" >&2

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
echo "numeric-compare: $(date -u +%Y-%m-%d), commit $COMMIT$DIRTY, flowdb $VERSION; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$CARGO_TARGET_DIR/release/numeric-compare" "${ARGS[@]}"
