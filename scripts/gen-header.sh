#!/usr/bin/env bash
# Regenerates include/flowdb.h from bindings/c with cbindgen (installing it if missing).
# `scripts/gen-header.sh OUT` writes it to OUT instead (the CI drift check uses that).
#
# The Rust functions take modes and directions as plain i32 (a C enum argument holding
# a value outside the enum must be an InvalidArgument, not undefined behaviour in
# Rust); the header declares those parameters with their enum types, so C and C++
# callers see what to pass. The parameter name says which enum: the one table below.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-include/flowdb.h}
command -v cbindgen >/dev/null 2>&1 || cargo install cbindgen --locked --version 0.29.4 --quiet
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
cbindgen --quiet --config bindings/c/cbindgen.toml --output "$raw" bindings/c
#  parameter name -> enum type
sed -E \
  -e 's/\bint32_t direction([,)])/enum flowdb_direction_t direction\1/' \
  -e 's/\bint32_t txn_mode([,)])/enum flowdb_txn_mode_t txn_mode\1/' \
  -e 's/\bint32_t sync_mode([,)])/enum flowdb_sync_mode_t sync_mode\1/' \
  "$raw" >"$out"
