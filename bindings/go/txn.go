package flowdb

// JSON database transactions (Txn): begun with JSONDB.Transaction, used by one
// goroutine at a time, finished by Commit or Abort, and freed by Close.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Txn is a JSONDB transaction; used by one goroutine at a time. End it with Commit
// or Abort, and Close it (Close aborts one still active).
type Txn struct {
	mu      sync.Mutex // held by every call and by Close
	t       *C.flowdb_txn_t
	release func() // called when t is freed (beginthread.go)
	cleanup runtime.Cleanup
}

type txnHandle struct {
	t       *C.flowdb_txn_t
	release func()
}

// Begin states of a transaction begin.
const (
	beginWaiting   int32 = iota // the C call runs; the caller waits for it
	beginAbandoned              // the caller gave up (ctx done): begin frees the transaction
	beginDelivered              // begin hands the transaction to the caller
)

// Transaction starts a transaction over stores, read-write or read-only. It waits
// for overlapping transactions begun before it, at most the database's transaction
// timeout (then ErrBusy), and at most until ctx is done: then it returns ctx.Err()
// and no transaction. A ctx already done returns ctx.Err() at once. No stores is
// ErrInvalidArgument (IndexedDB's transaction([]) is an error too).
//
// The waiting C call cannot be interrupted, so after ctx is done it goes on in the
// background until it gets its transaction or times out; a transaction it gets then
// is aborted and freed at once, before the database can be closed (Close waits for
// that background call, at most the transaction timeout).
//
// Goroutines are not threads: a goroutine that holds a transaction and begins an
// overlapping one waits like any other (where the Rust and C APIs answer ErrBusy at
// once to a thread that would wait on itself); bound that wait with ctx.
func (db *JSONDB) Transaction(ctx context.Context, stores []string, readWrite bool) (*Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var state atomic.Int32
	begin := func(delivered func()) (*C.flowdb_txn_t, error) {
		return db.begin(stores, readWrite, &state, delivered)
	}
	var r beginResult
	if ctx.Done() == nil { // never done: wait here
		r = beginOnCleanThread(begin)
	} else {
		done := make(chan beginResult, 1)
		go func() { done <- beginOnCleanThread(begin) }()
		select {
		case r = <-done:
		case <-ctx.Done():
			if state.CompareAndSwap(beginWaiting, beginAbandoned) {
				return nil, ctx.Err()
			}
			r = <-done // begun just now and being handed over: take it
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return newTxn(r.t, r.release), nil
}

// begin runs the C call. A transaction the caller has abandoned meanwhile is freed
// here, under the database's read lock, so that Close (which takes the write lock)
// never finds it open; nil is returned for it. delivered is called before a
// transaction is returned.
func (db *JSONDB) begin(stores []string, readWrite bool, state *atomic.Int32, delivered func()) (*C.flowdb_txn_t, error) {
	var t *C.flowdb_txn_t
	err := withCArray("stores", stores, func(arr **C.char, n C.size_t) error {
		mode := C.enum_flowdb_txn_mode_t(C.FLOWDB_READ_ONLY_TXN)
		if readWrite {
			mode = C.FLOWDB_READ_WRITE_TXN
		}
		return db.handle(func(h *C.flowdb_jsondb_t) error {
			var cerr *C.flowdb_error_t
			if err := check(C.flowdb_jsondb_transaction(h, arr, n, mode, &t, &cerr), cerr); err != nil {
				return err
			}
			if !state.CompareAndSwap(beginWaiting, beginDelivered) {
				C.flowdb_txn_free(t) // abandoned: aborts it
				t = nil
				return nil
			}
			delivered()
			return nil
		})
	})
	return t, err
}

func newTxn(t *C.flowdb_txn_t, release func()) *Txn {
	liveHandles.Add(1)
	tx := &Txn{t: t, release: release}
	tx.cleanup = runtime.AddCleanup(tx, func(h txnHandle) {
		C.flowdb_txn_free(h.t)
		liveHandles.Add(-1)
		h.release()
	}, txnHandle{t, release})
	return tx
}

// SetTransactionTimeout sets how long a transaction waits for overlapping ones
// before ErrBusy. A negative d is ErrInvalidArgument.
func (db *JSONDB) SetTransactionTimeout(d time.Duration) error {
	if d < 0 {
		return newError(CodeInvalidArgument, fmt.Sprintf("invalid argument: transaction timeout %v is negative", d))
	}
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_set_transaction_timeout_ms(h, C.uint64_t(d.Milliseconds()), c)
	})
}

// call runs f with the C handle, holding the Txn's lock (so that a Close cannot free
// the handle under it); ErrTransactionInactive after Close.
func (tx *Txn) call(f func(t *C.flowdb_txn_t, c **C.flowdb_error_t) uint32) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.t == nil {
		return newError(CodeTransactionInactive, "transaction inactive: the transaction was closed")
	}
	var cerr *C.flowdb_error_t
	return check(f(tx.t, &cerr), cerr)
}

func (tx *Txn) text(f func(t *C.flowdb_txn_t, o **C.char, c **C.flowdb_error_t) uint32) (json.RawMessage, error) {
	var out *C.char
	if err := tx.call(func(t *C.flowdb_txn_t, c **C.flowdb_error_t) uint32 { return f(t, &out, c) }); err != nil {
		return nil, err
	}
	return takeJSON(out), nil
}

// Put stores a document in the transaction; returns its key.
func (tx *Txn) Put(store string, doc json.RawMessage) (json.RawMessage, error) {
	return tx.put(store, doc, false)
}

// PutAuto stores a document under a newly generated key in the transaction.
func (tx *Txn) PutAuto(store string, doc json.RawMessage) (json.RawMessage, error) {
	return tx.put(store, doc, true)
}

func (tx *Txn) put(store string, doc json.RawMessage, auto bool) (json.RawMessage, error) {
	var key json.RawMessage
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(doc)
		defer free()
		var e error
		key, e = tx.text(func(t *C.flowdb_txn_t, o **C.char, c **C.flowdb_error_t) uint32 {
			if auto {
				return C.flowdb_txn_put_auto(t, p[0], j, n, o, c)
			}
			return C.flowdb_txn_put(t, p[0], j, n, o, c)
		})
		return e
	})
	return key, err
}

// Get returns the document the transaction sees (nil when none).
func (tx *Txn) Get(store string, key json.RawMessage) (json.RawMessage, error) {
	var doc json.RawMessage
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(key)
		defer free()
		var e error
		doc, e = tx.text(func(t *C.flowdb_txn_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_get(t, p[0], j, n, o, c)
		})
		return e
	})
	return doc, err
}

// Delete deletes the document with key in the transaction.
func (tx *Txn) Delete(store string, key json.RawMessage) error {
	return withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(key)
		defer free()
		return tx.call(func(t *C.flowdb_txn_t, c **C.flowdb_error_t) uint32 { return C.flowdb_txn_delete(t, p[0], j, n, c) })
	})
}

// Count is the number of documents the transaction sees.
func (tx *Txn) Count(store string) (int, error) {
	var n C.size_t
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		return tx.call(func(t *C.flowdb_txn_t, c **C.flowdb_error_t) uint32 { return C.flowdb_txn_count(t, p[0], &n, c) })
	})
	return int(n), err
}

// Scan returns every document the transaction sees.
func (tx *Txn) Scan(store string) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		var e error
		j, e = tx.text(func(t *C.flowdb_txn_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_scan(t, p[0], o, c)
		})
		return e
	})
	return docs(j, err)
}

// GetByIndex returns the documents whose index key equals value.
func (tx *Txn) GetByIndex(store, index string, value json.RawMessage) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{"store", "index"}, []string{store, index}, func(p []*C.char) error {
		v, n, free := jsonArg(value)
		defer free()
		var e error
		j, e = tx.text(func(t *C.flowdb_txn_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_get_by_index(t, p[0], p[1], v, n, o, c)
		})
		return e
	})
	return docs(j, err)
}

// RangeByIndex returns the documents with start <= index key < end (half-open).
func (tx *Txn) RangeByIndex(store, index string, start, end json.RawMessage) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{"store", "index"}, []string{store, index}, func(p []*C.char) error {
		a, an, fa := jsonArg(start)
		defer fa()
		b, bn, fb := jsonArg(end)
		defer fb()
		var e error
		j, e = tx.text(func(t *C.flowdb_txn_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_range_by_index(t, p[0], p[1], a, an, b, bn, o, c)
		})
		return e
	})
	return docs(j, err)
}

// Commit applies the transaction atomically.
func (tx *Txn) Commit() error {
	return tx.call(func(t *C.flowdb_txn_t, c **C.flowdb_error_t) uint32 { return C.flowdb_txn_commit(t, c) })
}

// Abort discards the transaction.
func (tx *Txn) Abort() error {
	return tx.call(func(t *C.flowdb_txn_t, c **C.flowdb_error_t) uint32 { return C.flowdb_txn_abort(t, c) })
}

// Close frees the transaction, aborting it if still active. Idempotent; the
// error is always nil (freeing cannot fail; an abort that Close does is not
// reported), there to make a Txn an io.Closer.
func (tx *Txn) Close() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.t != nil {
		tx.cleanup.Stop()
		C.flowdb_txn_free(tx.t)
		tx.t = nil
		liveHandles.Add(-1)
		tx.release()
		tx.release = nil
	}
	return nil
}
