#!/bin/sh
# Installs the flowdb build in $1 into temporary prefixes and checks what lands there:
#   install-layout.sh BUILD VERSION SOVERSION
# the real file libflowdb.so.VERSION with the links libflowdb.so.SOVERSION and
# libflowdb.so, libflowdb.a, headers, the CMake package and both pkg-config files;
# no debug info by default, libflowdb.so.VERSION.debug with `--component debug`;
# `--strip` leaves libraries without debug info.
set -eu
build="$1" version="$2" sov="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/p" >/dev/null
lib=$(dirname "$(find "$work/p" -name libflowdb.a)")
[ -f "$lib/libflowdb.so.$version" ] && [ ! -L "$lib/libflowdb.so.$version" ] || fail "no real file libflowdb.so.$version"
[ "$(readlink "$lib/libflowdb.so.$sov")" = "libflowdb.so.$version" ] || fail "libflowdb.so.$sov is not a link to libflowdb.so.$version"
[ "$(readlink "$lib/libflowdb.so")" = "libflowdb.so.$sov" ] || fail "libflowdb.so is not a link to libflowdb.so.$sov"
for f in "$lib/pkgconfig/flowdb.pc" "$lib/pkgconfig/flowdb-static.pc" "$lib/cmake/flowdb/flowdbConfig.cmake" \
         "$work/p/include/flowdb.h" "$work/p/include/flowdb.hpp"; do
  [ -f "$f" ] || fail "not installed: $f"
done
# The parts of the C++ wrapper: each one the installed flowdb.hpp includes.
parts=$(grep -o '"flowdb/[a-z_]*\.hpp"' "$work/p/include/flowdb.hpp" | tr -d '"')
[ -n "$parts" ] || fail "flowdb.hpp includes no parts"
for part in $parts; do
  [ -f "$work/p/include/$part" ] || fail "not installed: $work/p/include/$part"
done
[ ! -e "$lib/libflowdb.so.$version.debug" ] || fail "the debug info is installed by default"
for f in "$lib/libflowdb.so.$version" "$lib/libflowdb.a"; do
  ! readelf -S -W "$f" | grep -q ' \.debug_info ' || fail "$f carries debug info"
done

cmake --install "$build" --prefix "$work/p" --component debug >/dev/null
[ -f "$lib/libflowdb.so.$version.debug" ] || fail "--component debug did not install libflowdb.so.$version.debug"
readelf -S -W "$lib/libflowdb.so.$version.debug" | grep -q ' \.debug_info ' || fail "the .debug file has no debug info"

cmake --install "$build" --prefix "$work/s" --strip >/dev/null
lib_s=$(dirname "$(find "$work/s" -name libflowdb.a)")
for f in "$lib_s/libflowdb.so.$version" "$lib_s/libflowdb.a"; do
  ! readelf -S -W "$f" | grep -q ' \.debug_info ' || fail "--strip: $f carries debug info"
done
echo "installed: libflowdb.so.$version ($(wc -c <"$lib/libflowdb.so.$version") bytes) + links," \
  "libflowdb.a ($(wc -c <"$lib/libflowdb.a") bytes); --component debug: .debug ($(wc -c <"$lib/libflowdb.so.$version.debug") bytes)"
