#!/usr/bin/env bash
# The Rust test suite under ThreadSanitizer: nightly with rust-src, std rebuilt with
# the sanitizer (-Zbuild-std), so its atomics and fences are instrumented too.
#   scripts/tsan.sh [cargo test args...]   (default: every test)
# Exits 0 with a note when this toolchain cannot do it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly --version >/dev/null 2>&1 ||
    ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q rust-src; then
    echo "SKIPPED: ThreadSanitizer needs the nightly toolchain with rust-src"
    exit 0
fi
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--tests)
RUSTFLAGS="-Zsanitizer=thread" RUSTDOCFLAGS="-Zsanitizer=thread" \
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/tsan}" \
    cargo +nightly test -Zbuild-std --target "$(rustc -vV | sed -n 's/^host: //p')" "${args[@]}"
