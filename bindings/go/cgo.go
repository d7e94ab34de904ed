// Package flowdb is the Go binding of flowdb, an embedded time-series and JSON
// document store, over its C library (cgo).
//
// The module is github.com/flowdb/flowdb/bindings/go (the bindings/go directory of
// the flowdb repository, released with tags bindings/go/vX.Y.Z); the package is
// named flowdb:
//
//	import flowdb "github.com/flowdb/flowdb/bindings/go"
//
// Linking: the package uses `#cgo pkg-config: flowdb`. Point PKG_CONFIG_PATH at an
// installed flowdb (`<prefix>/lib/pkgconfig`), and make libflowdb.so findable at run
// time (LD_LIBRARY_PATH or an rpath). With the build tag `flowdb_static` the static
// library is linked instead (no run-time dependency).
//
// Handles (Engine, JSONDB, Snapshot) are safe for concurrent use by many goroutines;
// a Txn, a Cursor or an Iterator is used by one goroutine at a time. A Subscription
// delivers changes on a channel from a goroutine of its own. Every handle,
// Maintenance included, is an io.Closer: Close it when done (Close is idempotent). A
// cleanup frees any that become unreachable, as a net for leaks only.
//
// Calls that can wait take a context.Context first: JSONDB.Transaction (which waits
// for overlapping transactions, and gives up when the context is done) and the
// maintenance calls (Flush, TriggerCompaction, RunCompactions, TriggerGC,
// EnforceRetention, Sync), which check the context before they start but, once
// started, run to their end.
//
// Errors are *Error values: Error() reads "flowdb: <message>", and errors.Is(err,
// ErrNotFound) (one Err* sentinel per Code) tells the kind.
//
// Reads copy what they return into Go memory (LastN's records included). There is no
// lending form like the C API's flowdb_engine_last_n_visit, which hands each value to
// a callback in place: a cgo callback per record costs more than the copy it saves.
// (GetAllKeysTyped uses flowdb_jsondb_get_all_keys_visit with a callback written in
// C, which packs the keys into one buffer that Go reads after the call.)
package flowdb

/*
#cgo !flowdb_static pkg-config: flowdb
#cgo flowdb_static pkg-config: --static flowdb
#cgo flowdb_static LDFLAGS: -Wl,-Bstatic -lflowdb -Wl,-Bdynamic
#include <flowdb.h>
*/
import "C"

import (
	"io"
	"sync/atomic"
)

// Every handle is an io.Closer.
var (
	_ io.Closer = (*Engine)(nil)
	_ io.Closer = (*JSONDB)(nil)
	_ io.Closer = (*Snapshot)(nil)
	_ io.Closer = (*Iterator)(nil)
	_ io.Closer = (*Txn)(nil)
	_ io.Closer = (*Cursor)(nil)
	_ io.Closer = (*Subscription)(nil)
	_ io.Closer = (*Maintenance)(nil)
)

var liveHandles atomic.Int64

// LiveHandles is the number of C handles (engines, databases, snapshots,
// transactions, cursors, subscriptions, scans, maintenance threads) the package holds
// open right now: for tests that check nothing leaks.
func LiveHandles() int64 { return liveHandles.Load() }

// Version is the C library's version, e.g. "0.7.0".
func Version() string { return C.GoString(C.flowdb_version()) }
