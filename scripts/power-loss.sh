#!/usr/bin/env bash
# The long power-loss run: every I/O step of many short scripts, and many long
# scripts cut at a random step, each restarted as a kill, a power loss and a torn
# power loss. Usage: scripts/power-loss.sh [scripts] [cycles]  (defaults 100, 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWDB_POWER_LOSS_SCRIPTS="${1:-100}" FLOWDB_POWER_LOSS_CYCLES="${2:-1000}" \
    cargo test --release --test power_loss -- --nocapture 2>&1 |
    grep -E "seed|scripts|cycles|panicked|test result"
