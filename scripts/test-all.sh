#!/usr/bin/env bash
# Runs every test of flowdb: the Rust unit and integration tests, a smoke pass of the
# benchmark, and format/lint checks. (The C, C++ and Go suites join here as they land.)
# Installs what a fresh machine lacks: promtool (Debian package `prometheus`) for the
# metrics-format test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "== installing promtool (Debian package prometheus)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
export FLOWDB_REQUIRE_PROMTOOL=1

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo test (unit + integration)"
cargo test --all-targets

echo "== benchmark smoke pass (small sizes; results are checked, not timed)"
cargo run --release --quiet --example flowdb-bench -- --series 50 --points 200
cargo run --release --quiet --example jsondb-bench -- --docs 2000

echo "== all tests passed"
