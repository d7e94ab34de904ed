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

// IndexQuery returns the documents whose index key is in r, in dir order.
func (db *JSONDB) IndexQuery(store, index string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	kr, err := r.c()
	if err != nil {
		return nil, err
	}
	defer C.flowdb_key_range_free(kr)
	var j json.RawMessage
	err = withStr([]string{store, index}, func(p []*C.char) error {
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_index_query(h, p[0], p[1], kr, C.enum_flowdb_direction_t(dir), o, c)
		})
		return e
	})
	return docs(j, err)
}

// CountByIndex is how many entries of index have a key in r.
func (db *JSONDB) CountByIndex(store, index string, r IndexRange) (int, error) {
	kr, err := r.c()
	if err != nil {
		return 0, err
	}
	defer C.flowdb_key_range_free(kr)
	var n C.size_t
	err = withStr([]string{store, index}, func(p []*C.char) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_count_by_index(h, p[0], p[1], kr, &n, c)
		})
	})
	return int(n), err
}

// GetRange returns the documents whose primary key is in r, in dir order.
func (db *JSONDB) GetRange(store string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	kr, err := r.c()
	if err != nil {
		return nil, err
	}
	defer C.flowdb_key_range_free(kr)
	var j json.RawMessage
	err = withStr([]string{store}, func(p []*C.char) error {
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_get_range(h, p[0], kr, C.enum_flowdb_direction_t(dir), o, c)
		})
		return e
	})
	return docs(j, err)
}

// IndexQuery returns the documents whose index key is in r, as the transaction
// sees them, in dir order.
func (tx *Txn) IndexQuery(store, index string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	kr, err := r.c()
	if err != nil {
		return nil, err
	}
	defer C.flowdb_key_range_free(kr)
	var j json.RawMessage
	err = withStr([]string{store, index}, func(p []*C.char) error {
		var e error
		j, e = tx.text(func(t *C.flowdb_txn_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_index_query(t, p[0], p[1], kr, C.enum_flowdb_direction_t(dir), o, c)
		})
		return e
	})
	return docs(j, err)
}
