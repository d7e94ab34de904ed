#!/usr/bin/env bash
# The long kill -9 loop (tests/crash.rs): N cycles per sync mode, each a child
# writing from four threads, killed at a random moment, reopened and checked against
# its oracle log. Usage: scripts/crash-loop.sh [cycles per mode]  (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWDB_CRASH_CYCLES="${1:-1000}" \
    cargo test --release --test crash -- --nocapture 2>&1 |
    grep -E "seed|cycles|panicked|stored data|documents|test result"
