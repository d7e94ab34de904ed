#!/bin/sh
# Builds and runs tests/cmake-subproject, which takes flowdb in as part of itself, in
# $1/cmake-subproject-$4. $2 is the flowdb build's cargo target directory: reusing it
# means the Rust library's dependencies are not compiled again. $3 is the SONAME
# programs must need. $4 is how: add_subdirectory or FetchContent (both of this
# checkout; see CMakeLists.txt beside this).
set -eu
build="$(cd "$1" && pwd)"
cargo_dir="$2"
soname="$3"
how="${4:-add_subdirectory}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$build/cmake-subproject-$how"
rm -rf "$work"
case "$how" in
  add_subdirectory) fetch=OFF ;;
  FetchContent) fetch=ON ;;
  *) echo "run.sh: unknown way '$how'" >&2; exit 2 ;;
esac
cmake -S "$here" -B "$work/build" -DFLOWDB_CARGO_DIR="$cargo_dir" -DFLOWDB_FETCHCONTENT=$fetch >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/subproject_shared" "$work/db1"
"$work/build/subproject_static" "$work/db2"
readelf -d "$work/build/subproject_shared" | grep -q "NEEDED.*\[$soname\]"
! readelf -d "$work/build/subproject_static" | grep -q 'libflowdb'
rm -rf "$work"
echo "$how consumer passed"
