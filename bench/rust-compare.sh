#!/usr/bin/env bash
# flowdb against the current RocksDB release (11.8.1, the rocksdb crate 0.25.0), both
# through their Rust APIs, on flowdb-compare's time-series workloads
# (docs/benchmarks.md, "Against the current RocksDB (Rust API)").
#
#   bash bench/rust-compare.sh [--series N] [--points N] [--rounds R] [--check] [--scattered]
#
# Builds bench/rust-compare (its own workspace, not the root one's, not CI's) in release
# mode into ~/.cache/flowdb-rust-compare: the first build compiles RocksDB's C++ sources
# (27 minutes on the 2-core machine), later ones reuse it and rebuild only flowdb and the
# benchmark. Each round runs flowdb, then RocksDB, each in a process of its own (so its
# peak RSS is its own), with its data under build-bench/. Prints a markdown table of
# the medians over the rounds. --check: exit 1 unless both systems' reads returned the
# same records (and the counts the data implies). --scattered: ingest the records in a
# scattered order (record i*1,000,003 mod N) instead of time order.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERIES=1000 POINTS=1000 ROUNDS=3 CHECK=0 ORDER=() ORDER_NAME=time
while [ $# -gt 0 ]; do
  case "$1" in
    --series) SERIES=$2; shift 2 ;;
    --points) POINTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    --scattered) ORDER=(--scattered); ORDER_NAME=scattered; shift ;;
    *) echo "usage: $0 [--series N] [--points N] [--rounds R] [--check] [--scattered]" >&2; exit 2 ;;
  esac
done

# bindgen (librocksdb-sys's build script) loads libclang.
if ! dpkg -s libclang-dev >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libclang-dev >/dev/null
fi

CACHE=${FLOWDB_RUST_COMPARE_CACHE:-$HOME/.cache/flowdb-rust-compare}
mkdir -p "$CACHE"
export CARGO_TARGET_DIR=$CACHE/target
if [ ! -d "$CARGO_TARGET_DIR/release/build" ] || ! ls "$CARGO_TARGET_DIR"/release/build/librocksdb-sys-*/out/librocksdb.a >/dev/null 2>&1; then
  echo "rust-compare: building RocksDB 11.8.1 from source once (27 minutes on the 2-core machine); log: $CACHE/build.log" >&2
fi
start=$(date +%s)
if ! cargo build --release -j2 --manifest-path "$ROOT/bench/rust-compare/Cargo.toml" >"$CACHE/build.log" 2>&1; then
  tail -40 "$CACHE/build.log" >&2
  echo "rust-compare: build failed (full log: $CACHE/build.log)" >&2
  exit 1
fi
echo "rust-compare: build took $(( $(date +%s) - start )) s" >&2
BIN=$CARGO_TARGET_DIR/release/rust-compare

DATA=$ROOT/build-bench/rust-compare
OUT=$DATA/results
rm -rf "$DATA"
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for sys in flowdb rocksdb; do
    t=$(date +%s.%N)
    "$BIN" --system "$sys" --series "$SERIES" --points "$POINTS" --dir "$DATA/$sys" ${ORDER[@]+"${ORDER[@]}"} >"$OUT/$round-$sys.tsv"
    echo "round $round: $sys took $(python3 -c "print(f'{$(date +%s.%N) - $t:.1f}')") s" >&2
  done
done

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
status=0
python3 - "$OUT" "$ROUNDS" "$SERIES" "$POINTS" "$CHECK" "$VERSION" "$COMMIT$DIRTY" "$ORDER_NAME" <<'EOF' || status=$?
import statistics, sys, datetime
out, rounds, series, points, check, version, commit = sys.argv[1:8]
rounds, series, points, check = int(rounds), int(series), int(points), check == "1"
SYSTEMS = ("flowdb", "rocksdb")

def load(path):
    w, m, info = {}, {}, ""
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "workload":
            w[f[1]] = (int(f[2]), float(f[3]), int(f[4]), int(f[5]))
        elif f[0] == "metric":
            m[f[1]] = float(f[2])
        elif f[0] == "system":
            info = f[2]
    return w, m, info

res = {(r, s): load(f"{out}/{r}-{s}.tsv") for r in range(1, rounds + 1) for s in SYSTEMS}

# Reads whose tallies must agree; what the data implies for some counts.
READS = ["get", "get_absent", "get_latest", "last_n", "series_scan", "series_window", "all_window", "full_scan", "reopen"]
mismatches = 0
for r in range(1, rounds + 1):
    a, b = res[(r, "flowdb")][0], res[(r, "rocksdb")][0]
    for name in READS:
        if name not in a or name not in b:
            continue
        (ops, _, ca, sa), (_, _, cb, sb) = a[name], b[name]
        if (ca, sa) != (cb, sb):
            print(f"MISMATCH round {r}, {name}: flowdb {ca} records (sum {sa}), rocksdb {cb} (sum {sb})", file=sys.stderr)
            mismatches += 1
        want = {"get": ops, "get_absent": 0, "get_latest": ops, "last_n": ops * min(100, points), "series_scan": ops * points,
                "series_window": ops * min(10, points), "all_window": ops * min(10, points) * series,
                "full_scan": series * points, "reopen": 1}[name]
        if ca != want:
            print(f"WRONG COUNT round {r}, {name}: {ca} records, expected {want}", file=sys.stderr)
            mismatches += 1

def med(sys_, key, rate=True):
    vals = []
    for r in range(1, rounds + 1):
        w, m, _ = res[(r, sys_)]
        if rate:
            if key not in w:
                return None
            ops, secs, _, _ = w[key]
            vals.append(ops / secs)
        elif key == "reopen_ms":
            vals.append(w["reopen"][1] * 1e3)
        else:
            vals.append(m[key])
    return statistics.median(vals)

def fmt(v):
    if v is None: return "-"
    if v >= 1e6: return f"{v / 1e6:.2f}M"
    if v >= 1e4: return f"{v / 1e3:.0f}K"
    if v >= 100: return f"{v:.0f}"
    return f"{v:.2f}"

rocks_version = res[(1, "rocksdb")][2]
order = "scattered order" if len(sys.argv) > 8 and sys.argv[8] == "scattered" else "time order"
print(f"rust-compare: {series} series x {points} points ({series * points:,} records, 128-byte values, {order}), "
      f"median of {rounds} round{'s' if rounds > 1 else ''}; {datetime.date.today()}, commit {commit}; "
      f"flowdb {version}, RocksDB {rocks_version}\n")
print("| workload (higher is better) | unit | flowdb | RocksDB | flowdb / RocksDB |")
print("|---|---|---:|---:|---:|")
for key, name, unit in [
    ("ingest", "ingest, batches of 100 (records made in the timed loop)", "records/s"),
    ("get", "get(key, ts)", "ops/s"),
    ("get_absent", "get of absent keys", "ops/s"),
    ("get_latest", "get_latest", "ops/s"),
    ("last_n", "last_n(key, 100), newest first", "ops/s"),
    ("series_scan", f"series scan (all {points} points)", "scans/s"),
    ("series_window", "series 10-point window", "queries/s"),
    ("all_window", "all-series 10-second window", "queries/s"),
    ("full_scan", "full scan", "records/s"),
]:
    f, r = med("flowdb", key), med("rocksdb", key)
    if f is None or r is None:
        continue
    print(f"| {name} | {unit} | {fmt(f)} | {fmt(r)} | {f / r:.2f} |")
print()
print("| cost (lower is better) | unit | flowdb | RocksDB | flowdb / RocksDB |")
print("|---|---|---:|---:|---:|")
for key, name, unit in [
    ("write_amplification", "write amplification of the ingest (table bytes written / flushed)", "x"),
    ("settle_s", "flush + full compaction", "s"),
    ("disk_bytes_per_record", "disk bytes per record", "bytes"),
    ("reopen_ms", "reopen + first read", "ms"),
    ("peak_rss_mib", "peak RSS", "MiB"),
]:
    if key == "reopen_ms" and "reopen" not in res[(1, "flowdb")][0]:
        continue
    f, r = med("flowdb", key, rate=False), med("rocksdb", key, rate=False)
    print(f"| {name} | {unit} | {fmt(f)} | {fmt(r)} | {f / r if r else float('nan'):.2f} |")
if mismatches:
    print(f"\nrust-compare: {mismatches} results differed from the other system or the data", file=sys.stderr)
    sys.exit(1)
if check:
    print("\nrust-compare: both systems returned the same results", file=sys.stderr)
EOF
rm -rf "$DATA/flowdb" "$DATA/rocksdb"
exit $status
