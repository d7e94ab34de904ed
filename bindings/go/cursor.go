package flowdb

// Cursor: IndexedDB's IDBCursor over a store or an index, opened on a Txn (it sees the
// transaction's writes and may write through it) or on a JSONDB (in a read-only
// transaction of its own).

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"iter"
	"runtime"
	"sync"
	"unsafe"
)

// CursorEntry is the entry a Cursor is on: its key (the index key for an index
// cursor), its primary key and its document (nil for a key cursor), as JSON.
type CursorEntry struct {
	Key        json.RawMessage
	PrimaryKey json.RawMessage
	Value      json.RawMessage
}

// Cursor is a lazy walk over a store's documents or an index's entries, in one of the
// four directions, through its transaction's view; it is on its first entry when
// opened. Entry, Key, PrimaryKey and Value give the entry it is on (copies, read when
// it moved there); Continue, ContinueTo, ContinuePrimaryKey and Advance move it and
// report whether it is still on an entry; Update and Delete write through it; All
// iterates. It lives within its transaction: once that is committed, aborted or
// closed, moves and writes fail with ErrTransactionInactive. Use it from one goroutine
// at a time, and Close it when done (one dropped unclosed is freed by the garbage
// collector).
type Cursor struct {
	mu      sync.Mutex
	c       *C.flowdb_cursor_t
	tx      *Txn // its transaction: kept reachable; closed with it when owned
	owned   bool // opened by JSONDB.OpenCursor: the transaction is the cursor's
	cur     CursorEntry
	on      bool
	cleanup runtime.Cleanup
}

type cursorHandle struct{ c *C.flowdb_cursor_t }

var errCursorClosed = newError(CodeClosed, "closed: the cursor was closed")

func newCursor(c *C.flowdb_cursor_t, tx *Txn, owned bool) (*Cursor, error) {
	liveHandles.Add(1)
	cu := &Cursor{c: c, tx: tx, owned: owned}
	cu.cleanup = runtime.AddCleanup(cu, func(h cursorHandle) {
		C.flowdb_cursor_free(h.c)
		liveHandles.Add(-1)
	}, cursorHandle{c})
	if err := cu.load(); err != nil {
		cu.Close()
		return nil, err
	}
	return cu, nil
}

// load reads the entry the cursor is on (mu held, or not yet shared).
func (cu *Cursor) load() error {
	var k, pk, v *C.char
	var cerr *C.flowdb_error_t
	if err := check(C.flowdb_cursor_key(cu.c, &k, &cerr), cerr); err != nil {
		return err
	}
	cu.cur, cu.on = CursorEntry{}, k != nil
	if k == nil {
		return nil
	}
	cu.cur.Key = takeJSON(k)
	if err := check(C.flowdb_cursor_primary_key(cu.c, &pk, &cerr), cerr); err != nil {
		return err
	}
	cu.cur.PrimaryKey = takeJSON(pk)
	// The document lent (no C copy to free), copied once into Go memory.
	var n C.size_t
	if err := check(C.flowdb_cursor_value_view(cu.c, &v, &n, &cerr), cerr); err != nil {
		return err
	}
	if v != nil {
		cu.cur.Value = json.RawMessage(C.GoBytes(unsafe.Pointer(v), C.int(n)))
	}
	return nil
}

// openCursor opens a cursor of the transaction over store, or over its index when
// byIndex.
func (tx *Txn) openCursor(store, index string, byIndex bool, r IndexRange, dir Direction, keyOnly bool) (*Cursor, error) {
	var c *C.flowdb_cursor_t
	d := C.enum_flowdb_direction_t(dir)
	err := rangeCall(tx.call, store, index, r, func(t *C.flowdb_txn_t, s, i *C.char, kr *C.flowdb_key_range_t, e **C.flowdb_error_t) uint32 {
		switch {
		case !byIndex && !keyOnly:
			return C.flowdb_txn_open_cursor(t, s, kr, d, &c, e)
		case !byIndex:
			return C.flowdb_txn_open_key_cursor(t, s, kr, d, &c, e)
		case !keyOnly:
			return C.flowdb_txn_open_index_cursor(t, s, i, kr, d, &c, e)
		default:
			return C.flowdb_txn_open_index_key_cursor(t, s, i, kr, d, &c, e)
		}
	})
	if err != nil {
		return nil, err
	}
	return newCursor(c, tx, false)
}

// OpenCursor opens a cursor over the documents of store whose primary key is in r, in
// dir order (IndexedDB's store.openCursor).
func (tx *Txn) OpenCursor(store string, r IndexRange, dir Direction) (*Cursor, error) {
	return tx.openCursor(store, "", false, r, dir, false)
}

// OpenKeyCursor is OpenCursor without documents (openKeyCursor): Value is nil, and it
// cannot Update or Delete.
func (tx *Txn) OpenKeyCursor(store string, r IndexRange, dir Direction) (*Cursor, error) {
	return tx.openCursor(store, "", false, r, dir, true)
}

// OpenIndexCursor opens a cursor over the entries of index whose key is in r, in dir
// order ((index key, primary key) order; the unique directions keep, per key, the
// entry with the lowest primary key). Its Key is the index key.
func (tx *Txn) OpenIndexCursor(store, index string, r IndexRange, dir Direction) (*Cursor, error) {
	return tx.openCursor(store, index, true, r, dir, false)
}

// OpenIndexKeyCursor is OpenIndexCursor without documents.
func (tx *Txn) OpenIndexKeyCursor(store, index string, r IndexRange, dir Direction) (*Cursor, error) {
	return tx.openCursor(store, index, true, r, dir, true)
}

// OpenCursor opens a cursor over store in a read-only transaction of its own, begun as
// Transaction begins one (it waits for overlapping read-write transactions, bounded by
// ctx); keyOnly reads no documents. The cursor holds the transaction until Close, so
// the database cannot close meanwhile (ErrBusy) and read-write transactions over store
// wait for it. It cannot Update or Delete (ErrReadOnly).
func (db *JSONDB) OpenCursor(ctx context.Context, store string, r IndexRange, dir Direction, keyOnly bool) (*Cursor, error) {
	return db.openCursor(ctx, store, "", false, r, dir, keyOnly)
}

// OpenIndexCursor is OpenCursor over the entries of one of the store's indexes.
func (db *JSONDB) OpenIndexCursor(ctx context.Context, store, index string, r IndexRange, dir Direction, keyOnly bool) (*Cursor, error) {
	return db.openCursor(ctx, store, index, true, r, dir, keyOnly)
}

func (db *JSONDB) openCursor(ctx context.Context, store, index string, byIndex bool, r IndexRange, dir Direction, keyOnly bool) (*Cursor, error) {
	tx, err := db.Transaction(ctx, []string{store}, false)
	if err != nil {
		return nil, err
	}
	cu, err := tx.openCursor(store, index, byIndex, r, dir, keyOnly)
	if err != nil {
		tx.Close()
		return nil, err
	}
	cu.owned = true
	return cu, nil
}

// Entry is the entry the cursor is on, and false past its end.
func (cu *Cursor) Entry() (CursorEntry, bool) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	return cu.cur, cu.on
}

// Key is the key of the entry the cursor is on (the index key for an index cursor),
// nil past its end.
func (cu *Cursor) Key() json.RawMessage { e, _ := cu.Entry(); return e.Key }

// PrimaryKey is the primary key of the entry the cursor is on, nil past its end.
func (cu *Cursor) PrimaryKey() json.RawMessage { e, _ := cu.Entry(); return e.PrimaryKey }

// Value is the document the cursor is on, nil past its end and for a key cursor.
// After Update it is still the document the cursor read, until it moves.
func (cu *Cursor) Value() json.RawMessage { e, _ := cu.Entry(); return e.Value }

// move runs a C move, then reads the entry it landed on.
func (cu *Cursor) move(f func(c *C.flowdb_cursor_t, on *C.bool, e **C.flowdb_error_t) uint32) (bool, error) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.c == nil {
		return false, errCursorClosed
	}
	var on C.bool
	var cerr *C.flowdb_error_t
	if err := check(f(cu.c, &on, &cerr), cerr); err != nil {
		return false, err
	}
	if err := cu.load(); err != nil {
		return false, err
	}
	return cu.on, nil
}

// Continue moves to the next entry (IndexedDB's continue()); false once past the last
// (a cursor past its end stays there).
func (cu *Cursor) Continue() (bool, error) {
	return cu.move(func(c *C.flowdb_cursor_t, on *C.bool, e **C.flowdb_error_t) uint32 {
		return C.flowdb_cursor_continue(c, on, e)
	})
}

// ContinueTo moves to the first entry whose key is key or past it in the cursor's
// direction; a key not past the current one is ErrData.
func (cu *Cursor) ContinueTo(key json.RawMessage) (bool, error) {
	k, n, free := jsonArg(key)
	defer free()
	return cu.move(func(c *C.flowdb_cursor_t, on *C.bool, e **C.flowdb_error_t) uint32 {
		return C.flowdb_cursor_continue_to(c, k, n, on, e)
	})
}

// ContinuePrimaryKey moves an index cursor in Next or Prev order to the entry (key,
// primaryKey) or the first past it (IndexedDB's continuePrimaryKey).
func (cu *Cursor) ContinuePrimaryKey(key, primaryKey json.RawMessage) (bool, error) {
	k, kn, fk := jsonArg(key)
	defer fk()
	p, pn, fp := jsonArg(primaryKey)
	defer fp()
	return cu.move(func(c *C.flowdb_cursor_t, on *C.bool, e **C.flowdb_error_t) uint32 {
		return C.flowdb_cursor_continue_primary_key(c, k, kn, p, pn, on, e)
	})
}

// Advance moves n entries on (n >= 1).
func (cu *Cursor) Advance(n uint32) (bool, error) {
	return cu.move(func(c *C.flowdb_cursor_t, on *C.bool, e **C.flowdb_error_t) uint32 {
		return C.flowdb_cursor_advance(c, C.uint32_t(n), on, e)
	})
}

// write runs a C write through the cursor.
func (cu *Cursor) write(f func(c *C.flowdb_cursor_t, e **C.flowdb_error_t) uint32) error {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.c == nil {
		return errCursorClosed
	}
	var cerr *C.flowdb_error_t
	return check(f(cu.c, &cerr), cerr)
}

// Update replaces the document the cursor is on with doc, whose key must be the
// cursor's primary key (else ErrData); returns the key. Value keeps the document
// read until the cursor moves.
func (cu *Cursor) Update(doc json.RawMessage) (json.RawMessage, error) {
	j, n, free := jsonArg(doc)
	defer free()
	var key *C.char
	err := cu.write(func(c *C.flowdb_cursor_t, e **C.flowdb_error_t) uint32 {
		return C.flowdb_cursor_update(c, j, n, &key, e)
	})
	return takeJSON(key), err
}

// Delete deletes the document the cursor is on; the cursor stays on its entry until
// it moves.
func (cu *Cursor) Delete() error {
	return cu.write(func(c *C.flowdb_cursor_t, e **C.flowdb_error_t) uint32 { return C.flowdb_cursor_delete(c, e) })
}

// All yields the entry the cursor is on and each one after it to its end, then an
// error if a move failed. Breaking out of the loop leaves the cursor on the entry last
// yielded; it does not close it.
func (cu *Cursor) All() iter.Seq2[CursorEntry, error] {
	return func(yield func(CursorEntry, error) bool) {
		for e, on := cu.Entry(); on; {
			if !yield(e, nil) {
				return
			}
			if _, err := cu.Continue(); err != nil {
				yield(CursorEntry{}, err)
				return
			}
			e, on = cu.Entry()
		}
	}
}

// Close frees the cursor (and the transaction of one from JSONDB.OpenCursor).
// Idempotent; the error is always nil.
func (cu *Cursor) Close() error {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.c != nil {
		cu.cleanup.Stop()
		C.flowdb_cursor_free(cu.c)
		liveHandles.Add(-1)
		cu.c = nil
		cu.cur, cu.on = CursorEntry{}, false
		if cu.owned {
			cu.tx.Close()
		}
		cu.tx = nil
	}
	return nil
}
