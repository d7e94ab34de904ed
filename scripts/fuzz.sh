#!/usr/bin/env bash
# cargo-fuzz (libFuzzer, nightly) over every target in fuzz/:
#   scripts/fuzz.sh [seconds per target] [target...]   (default 60 s, all targets)
# FLOWDB_FUZZ_DEV=1 builds the targets without optimizations (cargo fuzz --dev): a
# build about twice as fast for a smoke pass (CI's), fuzzing several times slower.
# The corpus starts from the harnesses' seeds and grows in fuzz/corpus (not in git).
# A crasher is copied to fuzz/regressions/<target>/, which is in git:
# tests/fuzz_corpus.rs then runs it on every `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wal table manifest json_doc jsondb_stored ops numeric)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# With the cli feature, as the test suite builds the library: no second debug build.
FLOWDB_FUZZ_WRITE_SEEDS="$PWD/fuzz/corpus" cargo test -q --features cli --test fuzz_corpus >/dev/null
cd fuzz
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== fuzz $t for ${secs}s"
    if ! cargo +nightly fuzz run ${FLOWDB_FUZZ_DEV:+--dev} "$t" "corpus/$t" -- -max_total_time="$secs" \
            -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 2>"artifacts/$t.log"; then
        status=1
        mkdir -p "regressions/$t"
        cp artifacts/"$t"/crash-* artifacts/"$t"/oom-* artifacts/"$t"/timeout-* \
            "regressions/$t/" 2>/dev/null || true
        echo "!! $t found a crasher; see fuzz/artifacts/$t.log, copied to fuzz/regressions/$t"
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "artifacts/$t.log" || true
done
exit $status
