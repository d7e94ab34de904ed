#!/bin/sh
# Runs the Go bindings' checks and tests against the flowdb build in $1 (installed into
# a prefix inside it), over every Go module of the repository: bindings/go (module
# github.com/flowdb/flowdb/bindings/go), examples/go, tests/go-consumer (a module
# outside it that requires it, as a consumer does) and tests/go-stdversion (the go-line
# checker).
#   - gofmt, go vet and staticcheck (all checks: staticcheck.conf) on each module;
#   - the go lines: go vet's stdversion analyzer reports standard-library symbols newer
#     than a module's go line, but skips files that import "C" (it sees cgo's generated
#     output), so tests/go-stdversion checks every file; and 1.24 is the minimum: with
#     the line at 1.23 it reports runtime.AddCleanup;
#   - the tests plain, with -race, with GOEXPERIMENT=cgocheck2, statically linked, and a
#     one-iteration benchmark smoke pass (the Example functions run with the tests);
#   - the Go example, and the consumer module (shared and static).
# Only the installed Go toolchain is used (GOTOOLCHAIN=local); staticcheck comes from
# the module proxy (or the module cache) the first time.
set -eu
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prefix="$build/go-prefix"
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CGO_ENABLED=1
export GOTOOLCHAIN=local
# A Go build cache of this build's own: cgo records pkg-config's link flags in cached
# packages, and a shared cache could keep flags that name another (removed) prefix.
export GOCACHE="$build/go-cache"
staticcheck=honnef.co/go/tools/cmd/staticcheck@v0.8.2
modules="bindings/go examples/go tests/go-consumer tests/go-stdversion"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for m in $modules; do
  cd "$root/$m"
  test -z "$(gofmt -l .)" || { gofmt -l .; echo "gofmt: $m: the files above are not formatted"; exit 1; }
  go vet ./...
  go run "$staticcheck" ./...
done

# The go lines are honest: no standard-library symbol newer than them, cgo files included.
cd "$root/tests/go-stdversion"
for m in $modules; do
  go run . "$root/$m"
done
# And 1.24 is the minimum of bindings/go: at 1.23 the checker finds runtime.AddCleanup.
mkdir "$tmp/go123"
cp "$here"/*.go "$here/go.mod" "$tmp/go123/"
(cd "$tmp/go123" && go mod edit -go=1.23)
if go run . "$tmp/go123" >"$tmp/go123.txt" 2>&1; then
  echo "go-stdversion: bindings/go at go 1.23 passed; is 1.24 still the minimum?"
  exit 1
fi
grep -q "runtime.AddCleanup requires go1.24" "$tmp/go123.txt" || { cat "$tmp/go123.txt"; exit 1; }

# The modules that require the bindings require this release's version.
version="$(pkg-config --modversion flowdb)"
for m in examples/go tests/go-consumer; do
  grep -q "^require github.com/flowdb/flowdb/bindings/go v$version\$" "$root/$m/go.mod" ||
    { echo "$m/go.mod: should require github.com/flowdb/flowdb/bindings/go v$version"; exit 1; }
done

cd "$here"
go test -count=1 ./...
go test -count=1 -race ./...
GOEXPERIMENT=cgocheck2 go test -count=1 ./...
go test -count=1 -tags flowdb_static ./...
go test -count=1 -run '^$' -bench . -benchtime 1x ./... >/dev/null

cd "$root/examples/go"
go run . "$tmp/example" >/dev/null
cd "$root/tests/go-consumer"
go run . "$tmp/consumer"
go run -tags flowdb_static . "$tmp/consumer-static"
echo "go bindings: static checks, go lines, tests (plain, race, cgocheck2, static), benchmark smoke, example and consumer module passed"
