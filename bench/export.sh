#!/usr/bin/env bash
# `flowdb export` to Parquet: records/s and peak RSS (docs/benchmarks.md, "Parquet
# export"; target: >= 3M records/s, peak RSS <= 2x one row group).
#
#   bash bench/export.sh [--series N] [--points N] [--rounds R] [--value-bytes 128|16]
#                        [--compression "none snappy zstd"] [--keep]
#
# The standard set of docs/benchmarks.md: N series x N points (default 1,000 x 1,000
# = 1M records), keys cpu.host-00042.usage, points one second apart, values of
# 128 bytes (32 that vary, a reading as text, and a constant 96-byte tail; or 16
# bytes that vary with --value-bytes 16), no expiry. The records are written as CSV
# (awk), loaded with `flowdb load` and compacted with `flowdb compact` (a settled
# tree, as flowdb-bench reads), once. Then, R rounds (default 3) for each
# compression: `flowdb export DIR OUT --compression C -q`, timed by the clock, under
# /usr/bin/time -v for its "Maximum resident set size". Prints each run, then the medians:
# records/s over the whole command (open, scan, encode, write, fsync, rename),
# peak RSS, file bytes, and the row group size for comparison. Release build of the
# CLI (`--features cli`), built here with -j2.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERIES=1000 POINTS=1000 ROUNDS=3 VALUE_BYTES=128 CODECS="none snappy zstd" KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --series) SERIES=$2; shift 2 ;;
    --points) POINTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --value-bytes) VALUE_BYTES=$2; shift 2 ;;
    --compression) CODECS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--series N] [--points N] [--rounds R] [--value-bytes 128|16] [--compression LIST] [--keep]" >&2; exit 2 ;;
  esac
done
case "$VALUE_BYTES" in 128|16) ;; *) echo "--value-bytes is 128 or 16" >&2; exit 2 ;; esac
[ -x /usr/bin/time ] || { echo "bench/export.sh needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -j2 --features cli --bin flowdb >&2
CLI=$TARGET/release/flowdb

N=$((SERIES * POINTS))
DATA=$ROOT/build-bench/export
DB=$DATA/db-${SERIES}x${POINTS}-${VALUE_BYTES}
mkdir -p "$DATA"
if [ ! -d "$DB" ]; then
  CSV=$DATA/points.csv
  echo "making $N records ($SERIES series x $POINTS points, $VALUE_BYTES-byte values)" >&2
  # Point-major order (each round writes one point of every series), as ingest does.
  awk -v S="$SERIES" -v P="$POINTS" -v VB="$VALUE_BYTES" 'BEGIN {
    srand(42);
    tail = sprintf("%96s", ""); gsub(/ /, "t", tail);
    print "key,ts,value";
    for (p = 0; p < P; p++) {
      ts = sprintf("%.0f", 1700000000000000 + p * 1000000);
      for (s = 0; s < S; s++) {
        v = sprintf("v=%.3f;s=%d;p=%d;", int(rand() * 10000000) / 1000, s, p);
        if (VB == 128) v = sprintf("%-32s%s", substr(v, 1, 32), tail);
        else v = sprintf("%-16s", substr(v, 1, 16));
        printf "cpu.host-%05d.usage,%s,%s\n", s, ts, v;
      }
    }
  }' >"$CSV"
  "$CLI" load "$DB.tmp" "$CSV" --batch 100000 -q
  "$CLI" compact "$DB.tmp" >&2
  mv "$DB.tmp" "$DB"
  rm -f "$CSV"
fi
TABLES=$(du -sb "$DB" | cut -f1)
echo "export: $N records ($SERIES series x $POINTS points, $VALUE_BYTES-byte values), $TABLES bytes of database; $ROUNDS rounds"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# One row group: min(1,048,576 rows, 128 MiB of data counted as key + value + 16
# bytes a row), as ExportOptions counts it.
ROW=$((20 + VALUE_BYTES + 16))
RG_ROWS=$(( (128 << 20) / ROW )); [ "$RG_ROWS" -gt 1048576 ] && RG_ROWS=1048576
[ "$RG_ROWS" -gt "$N" ] && RG_ROWS=$N
RG_MIB=$(echo "$RG_ROWS * $ROW / 1048576" | bc -l | xargs printf '%.0f')
echo "one row group: $RG_ROWS rows, $RG_MIB MiB of data"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

OUT=$DATA/out.parquet
printf '\n| compression | records/s (median of %s) | peak RSS MiB | file bytes | bytes/record |\n|---|---:|---:|---:|---:|\n' "$ROUNDS" >"$DATA/table"
for codec in $CODECS; do
  : >"$DATA/rates"; : >"$DATA/rss"
  for round in $(seq 1 "$ROUNDS"); do
    rm -f "$OUT"
    start=$(date +%s.%N)
    /usr/bin/time -v "$CLI" export "$DB" "$OUT" --compression "$codec" -q 2>"$DATA/time.log"
    wall=$(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.3f')
    rss_kb=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$DATA/time.log")
    rate=$(echo "$N / $wall" | bc -l | xargs printf '%.0f')
    bytes=$(stat -c %s "$OUT")
    echo "$codec round $round: ${wall} s, $rate records/s, peak RSS $((rss_kb / 1024)) MiB, $bytes bytes"
    echo "$rate" >>"$DATA/rates"; echo "$((rss_kb / 1024))" >>"$DATA/rss"
  done
  printf '| %s | %s | %s | %s | %.1f |\n' "$codec" "$(median <"$DATA/rates")" \
    "$(median <"$DATA/rss")" "$bytes" "$(echo "$bytes / $N" | bc -l)" >>"$DATA/table"
done
cat "$DATA/table"
rm -f "$OUT"
[ "$KEEP" = 1 ] || rm -rf "$DB"
