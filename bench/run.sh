#!/usr/bin/env bash
# The full side-by-side benchmark (docs/benchmarks.md): installs RocksDB's and
# SQLite's development packages when missing, builds flowdb-compare in build-bench/
# (Release), and runs it with any arguments given, e.g.
#   bash bench/run.sh                      # 1M records, 100K documents, 3 rounds
#   bash bench/run.sh --rounds 5 --only ts
# The table is printed and also written to build-bench/compare-results.md.
# The data goes in build-bench/compare-data (on disk, not tmpfs: syncs are measured).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
missing=""
command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"
pkg-config --exists rocksdb 2>/dev/null || missing="$missing librocksdb-dev"
pkg-config --exists sqlite3 2>/dev/null || missing="$missing libsqlite3-dev"
if [ -n "$missing" ]; then
  echo "== installing$missing"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DFLOWDB_BUILD_TESTS=OFF -DFLOWDB_BUILD_EXAMPLES=OFF \
  -DFLOWDB_REQUIRE_BENCH=ON >/dev/null
cmake --build build-bench --target flowdb-compare
echo "== $(nproc) cores, $(uname -r), $(df -h build-bench | awk 'NR==2 {print $1, $2}')"
./build-bench/bench/flowdb-compare --dir build-bench/compare-data "$@" | tee build-bench/compare-results.md
