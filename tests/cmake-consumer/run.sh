#!/bin/sh
# Installs the flowdb build in $1 into a temporary prefix, then builds and runs a
# consumer against it: with find_package (shared, static, C++) and with pkg-config.
set -eu
build="$1"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer_shared" "$work/db1"
"$work/consumer/consumer_static" "$work/db2"
"$work/consumer/consumer_cpp" "$work/db3"
readelf -d "$work/consumer/consumer_shared" | grep -q 'NEEDED.*libflowdb.so.0'
! readelf -d "$work/consumer/consumer_static" | grep -q 'libflowdb'
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
cc -Wall -Wextra -Werror "$here/main.c" $(pkg-config --cflags --libs flowdb) -Wl,-rpath,"$work/prefix/lib" -o "$work/pc_shared"
"$work/pc_shared" "$work/db4"
cc -Wall -Wextra -Werror "$here/main.c" $(pkg-config --cflags flowdb) "$work/prefix/lib/libflowdb.a" $(pkg-config --static --libs-only-l flowdb | sed 's/-lflowdb//') -o "$work/pc_static"
"$work/pc_static" "$work/db5"
echo "installed package: find_package and pkg-config consumers passed"
