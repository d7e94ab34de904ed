#!/bin/sh
# Runs the Go bindings' tests against the flowdb build in $1 (installed into a prefix
# inside it): plain, with -race, with GOEXPERIMENT=cgocheck2, statically linked, a
# one-iteration benchmark smoke pass, and the Go example.
set -eu
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
prefix="$build/go-prefix"
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CGO_ENABLED=1
# A Go build cache of this build's own: cgo records pkg-config's link flags in cached
# packages, and a shared cache could keep flags that name another (removed) prefix.
export GOCACHE="$build/go-cache"
cd "$here"
test -z "$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above are not formatted"; exit 1; }
go vet ./...
go test -count=1 ./...
go test -count=1 -race ./...
GOEXPERIMENT=cgocheck2 go test -count=1 ./...
go test -count=1 -tags flowdb_static ./...
go test -count=1 -run '^$' -bench . -benchtime 1x ./... >/dev/null
cd "$here/../../examples/go"
test -z "$(gofmt -l .)"
go vet .
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
go run . "$data" >/dev/null
echo "go bindings: tests (plain, race, cgocheck2, static), benchmark smoke and example passed"
