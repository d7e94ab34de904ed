#!/usr/bin/env bash
# The locking test at full length (docs/reliability.md): N pairs of processes race
# to open one directory (default 1,000; CI runs 100), plus a killed owner's lock.
#   bash scripts/lock-race.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWDB_LOCK_RACES="${1:-1000}" cargo test --release --test lock_race -- --nocapture
