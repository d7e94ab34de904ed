#!/usr/bin/env bash
# `flowdb load` against the Rust API's batched ingest of the same records
# (docs/benchmarks.md, "flowdb load").
#
#   bash bench/cli-load.sh [--series N] [--points N] [--rounds R]
#
# Builds the CLI (`--features cli --bin flowdb`) and bench/cli-load (the API side; its
# own workspace, built into the root's target/ so flowdb's dependencies are reused),
# both in release mode. bench/cli-load writes the CSV file: N series x N points
# (default 1,000 x 1,000), header key,ts,value, 16-byte values, in time order. Then,
# R rounds (default 5), each on fresh directories under build-bench/cli-load/:
#   - `flowdb load DIR points.csv` (Config defaults: SyncMode::Always; batches of
#     10,000): its wall time (open, the checking pass, the load, shutdown) and the
#     rate it reports for its load pass;
#   - `cli-load ingest DIR`: the same records through `write_batch_owned` in batches
#     of 10,000 on Config defaults: the write calls alone (records made outside the
#     timer), and open + making the records + writing + shutdown.
# Prints each round and the medians, and the ratios CLI / API.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERIES=1000 POINTS=1000 ROUNDS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --series) SERIES=$2; shift 2 ;;
    --points) POINTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: $0 [--series N] [--points N] [--rounds R]" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -j2 --features cli --bin flowdb >&2
CARGO_TARGET_DIR=$TARGET cargo build --release -j2 --manifest-path bench/cli-load/Cargo.toml >&2
CLI=$TARGET/release/flowdb
API=$TARGET/release/cli-load

DATA=$ROOT/build-bench/cli-load
rm -rf "$DATA"
mkdir -p "$DATA"
CSV=$DATA/points.csv
"$API" csv "$CSV" --series "$SERIES" --points "$POINTS"
N=$((SERIES * POINTS))
echo "cli-load: $N records ($SERIES series x $POINTS points, 16-byte values), $(stat -c %s "$CSV") bytes of CSV; $ROUNDS rounds"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

: >"$DATA/cli_wall" ; : >"$DATA/cli_pass" ; : >"$DATA/api_calls" ; : >"$DATA/api_all"
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$DATA/cli-db" "$DATA/api-db"
  sync
  start=$(now)
  "$CLI" load "$DATA/cli-db" "$CSV" 2>"$DATA/cli.log"
  wall=$(echo "$(now) - $start" | bc)
  # "flowdb load: loaded 1,000,000 records, 0.82 s, 1.23M records/s"
  pass_s=$(grep 'loaded' "$DATA/cli.log" | sed -E 's/.*records, ([0-9.]+) s,.*/\1/')
  sync
  api=$("$API" ingest "$DATA/api-db" --series "$SERIES" --points "$POINTS")
  calls_s=$(echo "$api" | sed -nE 's/^api write calls: [0-9]+ records in ([0-9.]+) s.*/\1/p')
  all_s=$(echo "$api" | sed -nE 's/^api open\+write\+shutdown: [0-9]+ records in ([0-9.]+) s.*/\1/p')
  rate() { echo "$N / $1" | bc -l | xargs printf '%.0f'; }
  echo "round $round: flowdb load ${wall} s wall ($(rate "$wall")/s), load pass ${pass_s} s ($(rate "$pass_s")/s); API write calls ${calls_s} s ($(rate "$calls_s")/s), API open+write+shutdown ${all_s} s ($(rate "$all_s")/s)"
  echo "$(rate "$wall")" >>"$DATA/cli_wall"; echo "$(rate "$pass_s")" >>"$DATA/cli_pass"
  echo "$(rate "$calls_s")" >>"$DATA/api_calls"; echo "$(rate "$all_s")" >>"$DATA/api_all"
done

cw=$(median <"$DATA/cli_wall"); cp=$(median <"$DATA/cli_pass")
ac=$(median <"$DATA/api_calls"); aa=$(median <"$DATA/api_all")
echo
echo "| medians of $ROUNDS rounds | records/s |"
echo "|---|---|"
echo "| flowdb load, wall time (open, check pass, load, shutdown) | $cw |"
echo "| flowdb load, its load pass | $cp |"
echo "| API write_batch_owned calls alone | $ac |"
echo "| API open + make records + write + shutdown | $aa |"
printf '| ratio load pass / API write calls | %.2f |\n' "$(echo "$cp / $ac" | bc -l)"
printf '| ratio load wall / API open..shutdown | %.2f |\n' "$(echo "$cw / $aa" | bc -l)"
