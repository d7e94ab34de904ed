#!/bin/sh
# Checks the libraries flowdb ships, as the build made them in LIBDIR:
#   check-libraries.sh LIBDIR VERSION SOVERSION soname|exports|debuginfo
# soname     libflowdb.so.VERSION has the SONAME libflowdb.so.SOVERSION, and the links
#            libflowdb.so -> libflowdb.so.SOVERSION -> libflowdb.so.VERSION exist
# exports    the shared library exports flowdb_*@@FLOWDB_SOVERSION and nothing else;
#            the static library defines no global symbol but flowdb_*; the same set
# debuginfo  the shared library is stripped and links to libflowdb.so.VERSION.debug,
#            which has the debug info; the static library has none (unless built
#            with FLOWDB_STATIC_DEBUG_INFO)
set -eu
dir="$1" version="$2" sov="$3" what="$4"
so="$dir/libflowdb.so.$version"
a="$dir/libflowdb.a"
fail() { echo "FAIL: $*" >&2; exit 1; }

case "$what" in
soname)
  readelf -d "$so" | grep -q "(SONAME).*\[libflowdb.so.$sov\]" ||
    fail "$so: SONAME is not libflowdb.so.$sov: $(readelf -d "$so" | grep SONAME)"
  [ "$(readlink "$dir/libflowdb.so.$sov")" = "libflowdb.so.$version" ] || fail "libflowdb.so.$sov is not a link to libflowdb.so.$version"
  [ "$(readlink "$dir/libflowdb.so")" = "libflowdb.so.$sov" ] || fail "libflowdb.so is not a link to libflowdb.so.$sov"
  echo "SONAME libflowdb.so.$sov, links in place"
  ;;
exports)
  dyn=$(nm -D --defined-only --with-symbol-versions "$so" | awk '{print $NF}')
  # The version node itself is a defined (absolute) symbol too.
  other=$(printf '%s\n' "$dyn" | grep -v -e "^flowdb_[A-Za-z0-9_]*@@FLOWDB_$sov\$" -e "^FLOWDB_$sov\$" || true)
  [ -z "$other" ] || fail "$so exports more than flowdb_*@@FLOWDB_$sov:
$other"
  shared=$(printf '%s\n' "$dyn" | grep '^flowdb_' | sed 's/@.*//' | sort)
  static_all=$(nm -g --defined-only "$a" | awk 'NF == 3 {print $3}' | sort)
  other=$(printf '%s\n' "$static_all" | grep -v '^flowdb_' || true)
  [ -z "$other" ] || fail "$a has global symbols other than flowdb_* ($(printf '%s\n' "$other" | wc -l)):
$(printf '%s\n' "$other" | head -20)"
  [ "$shared" = "$static_all" ] || fail "the shared and static libraries define different flowdb_* symbols:
$(printf '%s\n' "$shared" >"${TMPDIR:-/tmp}/flowdb-so.$$"; printf '%s\n' "$static_all" | diff "${TMPDIR:-/tmp}/flowdb-so.$$" - || true; rm -f "${TMPDIR:-/tmp}/flowdb-so.$$")"
  n=$(printf '%s\n' "$shared" | wc -l)
  [ "$n" -gt 100 ] || fail "only $n flowdb_* symbols"
  echo "both libraries: $n flowdb_* symbols (FLOWDB_$sov in the shared one) and nothing else"
  ;;
debuginfo)
  readelf -S -W "$so" | grep -q ' \.debug_info ' && fail "$so carries debug info"
  readelf -S -W "$so" | grep -q ' \.symtab ' && fail "$so is not stripped (.symtab)"
  readelf -p .gnu_debuglink "$so" 2>/dev/null | grep -q "libflowdb.so.$version.debug" || fail "$so has no .gnu_debuglink"
  readelf -S -W "$so.debug" | grep -q ' \.debug_info ' || fail "$so.debug has no debug info"
  if readelf -S -W "$a" | grep -q ' \.debug_info '; then
    grep -q 'STATIC_DEBUG_INFO ON' "$dir/../flowdb-artifacts-settings.cmake" 2>/dev/null ||
      fail "$a carries debug info"
  fi
  echo "$(basename "$so"): $(wc -c <"$so") bytes, debug info in $(basename "$so").debug ($(wc -c <"$so.debug") bytes); libflowdb.a: $(wc -c <"$a") bytes"
  ;;
*) fail "unknown check $what" ;;
esac
