#!/bin/sh
# Cross-compiling is configured from the CMake toolchain: configures flowdb (source
# $1) in $2/cross-aarch64 for CMAKE_SYSTEM_NAME=Linux, CMAKE_SYSTEM_PROCESSOR=aarch64
# with the host's C compiler $3 (configure only: nothing is built, this machine has
# no aarch64 Rust standard library), with generator $4, and checks that
# FLOWDB_RUST_TARGET is aarch64-unknown-linux-gnu, that the generated cargo command
# carries --target and the linker variable, and that the libraries are taken from
# target/aarch64-unknown-linux-gnu/release. When aarch64-linux-gnu-gcc is installed
# it also configures with cmake/toolchains/aarch64-linux-gnu.cmake and compiles the C
# and C++ examples for aarch64.
set -eu
src="$(cd "$1" && pwd)" build="$2" cc="$3" gen="$4"
work="$build/cross-aarch64"
rm -rf "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
triple=aarch64-unknown-linux-gnu

cmake -S "$src" -B "$work/host-cc" -G "$gen" -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release >"$work.log" 2>&1 || { cat "$work.log"; fail "configure"; }
cache() { cmake -L -N "$work/host-cc" 2>/dev/null | sed -n "s/^$1:[A-Z]*=//p"; }
[ "$(cache FLOWDB_RUST_TARGET)" = "$triple" ] || fail "FLOWDB_RUST_TARGET is '$(cache FLOWDB_RUST_TARGET)'"
[ "$(cache FLOWDB_BUILD_TESTS)" = "OFF" ] || fail "FLOWDB_BUILD_TESTS is ON when cross-compiling"
rules=$(find "$work/host-cc" -name build.make -o -name build.ninja)
grep -q -- "--target $triple" $rules || fail "the cargo command has no --target $triple"
grep -q "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$cc" $rules || fail "the cargo command does not set the linker"
grep -q "CC_aarch64_unknown_linux_gnu=$cc" $rules || fail "the cargo command does not set the cc crate's compiler"
grep -q "RAW_STATIC.*/$triple/release/libflowdb.a" "$work/host-cc/flowdb-artifacts-settings.cmake" ||
  fail "the libraries are not taken from target/$triple/release"
echo "configured for $triple: cargo build --target $triple, linker $cc"

if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  cmake -S "$src" -B "$work/toolchain" -G "$gen" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchains/aarch64-linux-gnu.cmake" \
    >"$work.log" 2>&1 || { cat "$work.log"; fail "configure with the toolchain file"; }
  grep -q "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=[^ ]*aarch64-linux-gnu-gcc" \
    $(find "$work/toolchain" -name build.make -o -name build.ninja) || fail "toolchain file: linker not set"
  aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror -I"$src/include" -c "$src/examples/c/quickstart.c" -o "$work/quickstart.o"
  aarch64-linux-gnu-g++ -std=c++17 -Wall -Wextra -Werror -I"$src/include" -c "$src/examples/cpp/quickstart.cpp" -o "$work/quickstart_cpp.o"
  file "$work/quickstart.o" | grep -q aarch64 || fail "not an aarch64 object: $(file "$work/quickstart.o")"
  echo "with aarch64-linux-gnu-gcc: the toolchain file configures, the C and C++ examples compile for aarch64"
fi
rm -rf "$work" "$work.log"
