package flowdb

// Key ranges over JSON keys (IndexRange, IndexedDB's IDBKeyRange) and directions, and
// the reads that take them: by primary key and by index, on a database or a transaction.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/json"
	"strconv"
)

// Direction orders index results (IndexedDB cursor directions).
type Direction int

const (
	Next       Direction = 0 // ascending keys, every entry
	Prev       Direction = 1 // descending keys, every entry
	NextUnique Direction = 2 // ascending keys, per key the entry with the lowest primary key
	PrevUnique Direction = 3 // NextUnique's entries, descending
)

// KeyBound is one end of a KeyRange: a JSON key, open (excluded) or closed.
type KeyBound struct {
	Key  json.RawMessage
	Open bool
}

// IndexRange is a key range over JSON keys; nil bounds are unbounded.
type IndexRange struct {
	Lower, Upper *KeyBound
}

// c builds the C key range (freed by the caller).
func (r IndexRange) c() (*C.flowdb_key_range_t, error) {
	var out *C.flowdb_key_range_t
	var cerr *C.flowdb_error_t
	var st uint32
	switch {
	case r.Lower == nil && r.Upper == nil:
		return C.flowdb_key_range_all(), nil
	case r.Upper == nil:
		k, n, f := jsonArg(r.Lower.Key)
		defer f()
		st = C.flowdb_key_range_lower_bound(k, n, C.bool(r.Lower.Open), &out, &cerr)
	case r.Lower == nil:
		k, n, f := jsonArg(r.Upper.Key)
		defer f()
		st = C.flowdb_key_range_upper_bound(k, n, C.bool(r.Upper.Open), &out, &cerr)
	default:
		a, an, fa := jsonArg(r.Lower.Key)
		defer fa()
		b, bn, fb := jsonArg(r.Upper.Key)
		defer fb()
		st = C.flowdb_key_range_bound(a, an, b, bn, C.bool(r.Lower.Open), C.bool(r.Upper.Open), &out, &cerr)
	}
	return out, check(st, cerr)
}

// countArg is a count for C: 0 means all; a negative one is ErrInvalidArgument.
func countArg(n int) (C.size_t, error) {
	if n < 0 {
		return 0, newError(CodeInvalidArgument, "invalid argument: count "+strconv.Itoa(n)+" is negative")
	}
	return C.size_t(n), nil
}

// rangeFn is one key-range request on a handle H: store, index (unused by store
// requests), key range and count in C form.
type rangeFn[H any] func(h H, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32

// rangeText runs f through run (JSONDB.text or Txn.text) and returns its JSON result.
func rangeText[H any](run func(func(H, **C.char, **C.flowdb_error_t) uint32) (json.RawMessage, error),
	store, index string, r IndexRange, count int, f rangeFn[H]) (json.RawMessage, error) {
	n, err := countArg(count)
	if err != nil {
		return nil, err
	}
	kr, err := r.c()
	if err != nil {
		return nil, err
	}
	defer C.flowdb_key_range_free(kr)
	var j json.RawMessage
	err = withStr([]string{"store", "index"}, []string{store, index}, func(p []*C.char) error {
		var e error
		j, e = run(func(h H, o **C.char, c **C.flowdb_error_t) uint32 { return f(h, p[0], p[1], kr, n, o, c) })
		return e
	})
	return j, err
}

// rangeCall runs f (a request with no text result) through run (JSONDB.simple or
// Txn.call), with store, index and r in C form.
func rangeCall[H any](run func(func(H, **C.flowdb_error_t) uint32) error, store, index string, r IndexRange,
	f func(h H, s, i *C.char, kr *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32) error {
	_, err := rangeText(func(g func(H, **C.char, **C.flowdb_error_t) uint32) (json.RawMessage, error) {
		return nil, run(func(h H, c **C.flowdb_error_t) uint32 { return g(h, nil, c) })
	}, store, index, r, 0, func(h H, s, i *C.char, kr *C.flowdb_key_range_t, _ C.size_t, _ **C.char, c **C.flowdb_error_t) uint32 {
		return f(h, s, i, kr, c)
	})
	return err
}

// IndexQuery returns the documents whose index key is in r, in dir order.
func (db *JSONDB) IndexQuery(store, index string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	return docs(rangeText(db.text, store, index, r, 0, func(h *C.flowdb_jsondb_t, s, i *C.char, kr *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_index_query(h, s, i, kr, C.enum_flowdb_direction_t(dir), o, c)
	}))
}

// CountByIndex is how many entries of index have a key in r.
func (db *JSONDB) CountByIndex(store, index string, r IndexRange) (int, error) {
	var n C.size_t
	err := rangeCall(db.simple, store, index, r, func(h *C.flowdb_jsondb_t, s, i *C.char, kr *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_count_by_index(h, s, i, kr, &n, c)
	})
	return int(n), err
}

// GetRange returns the documents whose primary key is in r, in dir order.
func (db *JSONDB) GetRange(store string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	return docs(rangeText(db.text, store, "", r, 0, func(h *C.flowdb_jsondb_t, s, _ *C.char, kr *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_range(h, s, kr, C.enum_flowdb_direction_t(dir), o, c)
	}))
}

// IndexQuery returns the documents whose index key is in r, as the transaction
// sees them, in dir order.
func (tx *Txn) IndexQuery(store, index string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	return docs(rangeText(tx.text, store, index, r, 0, func(t *C.flowdb_txn_t, s, i *C.char, kr *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_index_query(t, s, i, kr, C.enum_flowdb_direction_t(dir), o, c)
	}))
}
