package flowdb

// JSON database transactions (Txn): begun with JsonDB.Transaction, used by one
// goroutine at a time, finished by Commit, Abort or Close.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"time"
	"unsafe"
)

// Txn is a JsonDB transaction; used by one goroutine at a time.
type Txn struct {
	t       *C.flowdb_txn_t
	cleanup runtime.Cleanup
}

// Transaction starts a transaction over stores.
func (db *JsonDB) Transaction(stores []string, readWrite bool) (*Txn, error) {
	var t *C.flowdb_txn_t
	err := withStr(stores, func(p []*C.char) error {
		arr := (**C.char)(C.malloc(C.size_t(len(p)+1) * C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(arr))
		copy(unsafe.Slice(arr, len(p)+1), p)
		mode := C.enum_flowdb_txn_mode_t(C.FLOWDB_READ_ONLY_TXN)
		if readWrite {
			mode = C.FLOWDB_READ_WRITE_TXN
		}
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_transaction(h, arr, C.size_t(len(p)), mode, &t, c)
		})
	})
	if err != nil {
		return nil, err
	}
	liveHandles.Add(1)
	tx := &Txn{t: t}
	tx.cleanup = runtime.AddCleanup(tx, func(t *C.flowdb_txn_t) {
		C.flowdb_txn_free(t)
		liveHandles.Add(-1)
	}, t)
	return tx, nil
}

// SetTransactionTimeout sets how long a transaction waits for overlapping ones
// before ErrBusy.
func (db *JsonDB) SetTransactionTimeout(d time.Duration) error {
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_set_transaction_timeout_ms(h, C.uint64_t(d.Milliseconds()), c)
	})
}

func (tx *Txn) call(f func(c **C.flowdb_error_t) uint32) error {
	if tx.t == nil {
		return &Error{Code: CodeTransactionInactive, Msg: "the transaction was closed"}
	}
	var cerr *C.flowdb_error_t
	return check(f(&cerr), cerr)
}

func (tx *Txn) text(f func(o **C.char, c **C.flowdb_error_t) uint32) (json.RawMessage, error) {
	var out *C.char
	if err := tx.call(func(c **C.flowdb_error_t) uint32 { return f(&out, c) }); err != nil {
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
	err := withStr([]string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(doc)
		defer free()
		var e error
		key, e = tx.text(func(o **C.char, c **C.flowdb_error_t) uint32 {
			if auto {
				return C.flowdb_txn_put_auto(tx.t, p[0], j, n, o, c)
			}
			return C.flowdb_txn_put(tx.t, p[0], j, n, o, c)
		})
		return e
	})
	return key, err
}

// Get returns the document the transaction sees (nil when none).
func (tx *Txn) Get(store string, key json.RawMessage) (json.RawMessage, error) {
	var doc json.RawMessage
	err := withStr([]string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(key)
		defer free()
		var e error
		doc, e = tx.text(func(o **C.char, c **C.flowdb_error_t) uint32 { return C.flowdb_txn_get(tx.t, p[0], j, n, o, c) })
		return e
	})
	return doc, err
}

// Delete deletes the document with key in the transaction.
func (tx *Txn) Delete(store string, key json.RawMessage) error {
	return withStr([]string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(key)
		defer free()
		return tx.call(func(c **C.flowdb_error_t) uint32 { return C.flowdb_txn_delete(tx.t, p[0], j, n, c) })
	})
}

// Count is the number of documents the transaction sees.
func (tx *Txn) Count(store string) (int, error) {
	var n C.size_t
	err := withStr([]string{store}, func(p []*C.char) error {
		return tx.call(func(c **C.flowdb_error_t) uint32 { return C.flowdb_txn_count(tx.t, p[0], &n, c) })
	})
	return int(n), err
}

// Scan returns every document the transaction sees.
func (tx *Txn) Scan(store string) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{store}, func(p []*C.char) error {
		var e error
		j, e = tx.text(func(o **C.char, c **C.flowdb_error_t) uint32 { return C.flowdb_txn_scan(tx.t, p[0], o, c) })
		return e
	})
	return docs(j, err)
}

// GetByIndex returns the documents whose index key equals value.
func (tx *Txn) GetByIndex(store, index string, value json.RawMessage) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{store, index}, func(p []*C.char) error {
		v, n, free := jsonArg(value)
		defer free()
		var e error
		j, e = tx.text(func(o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_get_by_index(tx.t, p[0], p[1], v, n, o, c)
		})
		return e
	})
	return docs(j, err)
}

// RangeByIndex returns the documents with start <= index key < end (half-open).
func (tx *Txn) RangeByIndex(store, index string, start, end json.RawMessage) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{store, index}, func(p []*C.char) error {
		a, an, fa := jsonArg(start)
		defer fa()
		b, bn, fb := jsonArg(end)
		defer fb()
		var e error
		j, e = tx.text(func(o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_range_by_index(tx.t, p[0], p[1], a, an, b, bn, o, c)
		})
		return e
	})
	return docs(j, err)
}

// Commit applies the transaction atomically.
func (tx *Txn) Commit() error {
	return tx.call(func(c **C.flowdb_error_t) uint32 { return C.flowdb_txn_commit(tx.t, c) })
}

// Abort discards the transaction.
func (tx *Txn) Abort() error {
	return tx.call(func(c **C.flowdb_error_t) uint32 { return C.flowdb_txn_abort(tx.t, c) })
}

// Close frees the transaction (aborting it if still active). Idempotent.
func (tx *Txn) Close() {
	if tx.t != nil {
		tx.cleanup.Stop()
		C.flowdb_txn_free(tx.t)
		tx.t = nil
		liveHandles.Add(-1)
	}
}
