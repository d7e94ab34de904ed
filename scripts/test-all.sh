#!/usr/bin/env bash
# Runs every test of flowdb: the format, lint (clippy) and header-drift checks; then, through
# `cmake --workflow --preset default` and ctest, the Rust unit and integration tests
# and the C/C++ tests (shared, static, ASan+UBSan, valgrind, the installed-package
# consumer, examples), the Go bindings and the flowdb-compare smoke pass (flowdb,
# RocksDB and SQLite must return the same results); then smoke passes of the Rust
# benchmarks; then short passes of cargo-fuzz and ThreadSanitizer (nightly only).
# Installs what a fresh machine lacks (promtool, valgrind, cmake,
# RocksDB's, SQLite's and zstd's dev packages; cbindgen from crates.io).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=""
need() { # need COMMAND DEBIAN_PACKAGE: installs the package when the command is missing
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "== installing $2 (for $1)"
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq >/dev/null; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need promtool prometheus   # the metrics-format test
need valgrind valgrind     # the C tests under valgrind
need cmake cmake
need go golang-go          # the Go bindings (the machine image normally has Go)
need pkg-config pkg-config
need_lib() { # need_lib PKG_CONFIG_NAME DEBIAN_PACKAGE: a dev package a test needs
  pkg-config --exists "$1" && return 0
  need "lib-$1" "$2"
}
need_lib rocksdb librocksdb-dev
need_lib sqlite3 libsqlite3-dev
need_lib libzstd libzstd-dev   # the zstd coexistence tests (a program with its own zstd and flowdb)
export FLOWDB_REQUIRE_PROMTOOL=1 FLOWDB_REQUIRE_BENCH=1
# Each step's line says when it started (seconds since this script did), so a slow
# CI run shows which step took the time (the budget is 20 minutes on 2 cores).
step() { echo "== [${SECONDS}s] $*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors; every unsafe block states its safety argument)"
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --workspace --all-targets --features flowdb/cli --quiet -- -D warnings
else
  echo "SKIPPED: clippy is not installed with this toolchain"
fi

step "cargo doc (broken or private links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "include/flowdb.h is what cbindgen generates"
fresh_header=$(mktemp)
bash scripts/gen-header.sh "$fresh_header"
diff -u include/flowdb.h "$fresh_header"
rm -f "$fresh_header"

step "every test through ctest (cmake --workflow --preset default): Rust, C, C++, Go"
cmake --workflow --preset default

step "Parquet export read back by DuckDB (tests/export.rs; duckdb from PyPI)"
python3 -m pip install --quiet duckdb
FLOWDB_REQUIRE_DUCKDB=1 cargo test --quiet --features cli --test export

step "benchmark smoke pass (small sizes; results are checked, not timed)"
# In the test profile, with the features the test suite built: its build is reused
# (a release build of its own took a minute of CI). Its C API run loads the library
# the CMake build made (FLOWDB_LIB), as a C program would.
FLOWDB_LIB="$PWD/build/lib/libflowdb.so" \
  cargo run --profile test --features cli --quiet --example flowdb-bench -- --series 50 --points 200
cargo run --profile test --features cli --quiet --example jsondb-bench -- --docs 2000

step "reliability: cargo-fuzz smoke pass (5 s per target) and ThreadSanitizer"
# Both need a nightly toolchain; each prints SKIPPED where this machine has none.
if cargo +nightly --version >/dev/null 2>&1; then
  FLOWDB_FUZZ_DEV=1 bash scripts/fuzz.sh 5   # unoptimized: half the build time
else
  echo "SKIPPED: cargo-fuzz needs a nightly toolchain"
fi
bash scripts/tsan.sh --test concurrency --test jsondb_concurrency --test crash

step "all tests passed"
