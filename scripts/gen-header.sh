#!/usr/bin/env bash
# Regenerates include/flowdb.h from bindings/c with cbindgen (installing it if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cbindgen >/dev/null 2>&1 || cargo install cbindgen --locked --version 0.29.4
cbindgen --quiet --config bindings/c/cbindgen.toml --output include/flowdb.h bindings/c
