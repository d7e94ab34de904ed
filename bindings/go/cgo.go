// Package flowdb is the Go binding of flowdb, an embedded time-series and JSON
// document store, over its C library (cgo).
//
// Linking: the package uses `#cgo pkg-config: flowdb`. Point PKG_CONFIG_PATH at an
// installed flowdb (`<prefix>/lib/pkgconfig`), and make libflowdb.so findable at run
// time (LD_LIBRARY_PATH or an rpath). With the build tag `flowdb_static` the static
// library is linked instead (no run-time dependency).
//
// Handles (Engine, JsonDB, Snapshot) are safe for concurrent use by many goroutines;
// a Txn or an Iterator is used by one goroutine at a time. Close handles explicitly; a cleanup frees any that
// become unreachable, as a net for leaks only.
//
// Reads copy what they return into Go memory (LastN's records included). There is no
// lending form like the C API's flowdb_engine_last_n_visit, which hands each value to
// a callback in place: a cgo callback per record costs more than the copy it saves.
package flowdb

/*
#cgo !flowdb_static pkg-config: flowdb
#cgo flowdb_static pkg-config: --static flowdb
#cgo flowdb_static LDFLAGS: -Wl,-Bstatic -lflowdb -Wl,-Bdynamic
#include <flowdb.h>
*/
import "C"

import "sync/atomic"

var liveHandles atomic.Int64

// LiveHandles is the number of C handles (engines, databases, transactions, scans)
// the package holds open right now: for tests that check nothing leaks.
func LiveHandles() int64 { return liveHandles.Load() }

// Version is the C library's version, e.g. "0.7.0".
func Version() string { return C.GoString(C.flowdb_version()) }
