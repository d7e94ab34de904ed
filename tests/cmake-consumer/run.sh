#!/bin/sh
# Installs the flowdb build in $1 into a temporary prefix, then builds and runs a
# consumer against it: with find_package (shared, static, C++) and with pkg-config
# (flowdb.pc: shared; flowdb-static.pc: static). $2 is the SONAME programs must need.
set -eu
build="$1"
soname="$2"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer_shared" "$work/db1"
"$work/consumer/consumer_static" "$work/db2"
"$work/consumer/consumer_cpp" "$work/db3"
readelf -d "$work/consumer/consumer_shared" | grep -q "NEEDED.*\[$soname\]"
! readelf -d "$work/consumer/consumer_static" | grep -q 'libflowdb'
libdir="$(dirname "$(find "$work/prefix" -name libflowdb.a)")"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -Wall -Wextra -Werror "$here/main.c" $(pkg-config --cflags --libs flowdb) -Wl,-rpath,"$libdir" -o "$work/pc_shared"
readelf -d "$work/pc_shared" | grep -q "NEEDED.*\[$soname\]"
"$work/pc_shared" "$work/db4"
cc -Wall -Wextra -Werror "$here/main.c" $(pkg-config --cflags --libs flowdb-static) -o "$work/pc_static"
! readelf -d "$work/pc_static" | grep -q 'libflowdb'
"$work/pc_static" "$work/db5"
echo "installed package: find_package and pkg-config consumers passed"
