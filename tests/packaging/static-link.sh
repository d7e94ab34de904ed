#!/bin/sh
# Installs the flowdb build in $1 into a temporary prefix, then links the consumer
# program (tests/cmake-consumer/main.c) with C compiler $2 through pkg-config:
#   fully static:  cc -static main.c $(pkg-config --static --cflags --libs flowdb)
#   flowdb static, C library shared:  cc main.c $(pkg-config --cflags --libs flowdb-static)
# and runs both.
set -eu
build="$1" cc="$2"
here="$(cd "$(dirname "$0")" && pwd)"
main="$here/../cmake-consumer/main.c"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$(dirname "$(find "$work/prefix" -name flowdb.pc)")"

"$cc" -static -Wall -Wextra -Werror "$main" $(pkg-config --static --cflags --libs flowdb) -o "$work/full_static"
file "$work/full_static" | grep -q 'statically linked' || fail "not static: $(file "$work/full_static")"
! ldd "$work/full_static" >/dev/null 2>&1 || fail "ldd sees a dynamic executable: $(ldd "$work/full_static")"
"$work/full_static" "$work/db1"

"$cc" -Wall -Wextra -Werror "$main" $(pkg-config --cflags --libs flowdb-static) -o "$work/flowdb_static"
! readelf -d "$work/flowdb_static" | grep -q 'NEEDED.*libflowdb' || fail "flowdb-static.pc linked the shared library"
readelf -d "$work/flowdb_static" | grep -q 'NEEDED.*libc\.so' || fail "flowdb-static.pc: the C library is not shared"
"$work/flowdb_static" "$work/db2"
echo "pkg-config: fully static ($(wc -c <"$work/full_static") bytes) and flowdb-static.pc consumers passed"
