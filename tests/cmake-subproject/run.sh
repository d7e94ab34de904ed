#!/bin/sh
# Builds and runs tests/cmake-subproject, which takes flowdb in with add_subdirectory,
# in $1/cmake-subproject. $2 is the flowdb build's cargo target directory: reusing it
# means the Rust library is not compiled again. $3 is the SONAME programs must need.
set -eu
build="$(cd "$1" && pwd)"
cargo_dir="$2"
soname="$3"
here="$(cd "$(dirname "$0")" && pwd)"
work="$build/cmake-subproject"
rm -rf "$work"
cmake -S "$here" -B "$work/build" -DFLOWDB_CARGO_DIR="$cargo_dir" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/subproject_shared" "$work/db1"
"$work/build/subproject_static" "$work/db2"
readelf -d "$work/build/subproject_shared" | grep -q "NEEDED.*\[$soname\]"
! readelf -d "$work/build/subproject_static" | grep -q 'libflowdb'
rm -rf "$work"
echo "add_subdirectory consumer passed"
