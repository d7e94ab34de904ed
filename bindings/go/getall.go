package flowdb

// The key-range reads (IndexedDB's getAll, getAllKeys, getAllRecords, getKey and
// count(range), on stores and indexes) and the writes beyond Put and Delete (add,
// put and add with out-of-line keys, delete(range), clear), on a database (each a
// transaction of its own) and on a transaction (as it sees its stores).

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/json"
)

// DocRecord is a document with its keys, as GetAllRecords returns them (IndexedDB's
// IDBRecord): Key is the index key for an index, the primary key for a store.
type DocRecord struct {
	Key        json.RawMessage `json:"key"`
	PrimaryKey json.RawMessage `json:"primary_key"`
	Value      json.RawMessage `json:"value"`
}

func records(j json.RawMessage, err error) ([]DocRecord, error) {
	if err != nil {
		return nil, err
	}
	var out []DocRecord
	return out, json.Unmarshal(j, &out)
}

// ---- on the database ----

// Add stores doc as a new document (IndexedDB's add): a document with the same key
// already there is ErrConstraint, and nothing changes. Returns its key.
func (db *JSONDB) Add(store string, doc json.RawMessage) (json.RawMessage, error) {
	j, n, free := jsonArg(doc)
	defer free()
	return rangeText(db.text, store, "", IndexRange{}, 0, func(h *C.flowdb_jsondb_t, s, _ *C.char, _ *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_add(h, s, j, n, o, c)
	})
}

// keyedFn is a write of doc under key on a handle H (put_with_key, add_with_key).
type keyedFn[H any] func(h H, s, d *C.char, dn C.size_t, k *C.char, kn C.size_t, o **C.char, c **C.flowdb_error_t) uint32

// keyed runs f through run (JSONDB.text or Txn.text) with doc and key in C form.
func keyed[H any](run func(func(H, **C.char, **C.flowdb_error_t) uint32) (json.RawMessage, error),
	store string, doc, key json.RawMessage, f keyedFn[H]) (json.RawMessage, error) {
	j, n, free := jsonArg(doc)
	defer free()
	k, kn, kfree := jsonArg(key)
	defer kfree()
	return rangeText(run, store, "", IndexRange{}, 0, func(h H, s, _ *C.char, _ *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return f(h, s, j, n, k, kn, o, c)
	})
}

// PutWithKey stores doc (any JSON value) under key in a store without a key path
// (out-of-line keys: key path "[]"), replacing a document with that key (IndexedDB's
// put(value, key)); returns the key. On a store with a key path it is ErrData.
func (db *JSONDB) PutWithKey(store string, doc, key json.RawMessage) (json.RawMessage, error) {
	return keyed(db.text, store, doc, key, func(h *C.flowdb_jsondb_t, s, d *C.char, dn C.size_t, k *C.char, kn C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_put_with_key(h, s, d, dn, k, kn, o, c)
	})
}

// AddWithKey is PutWithKey that inserts only (IndexedDB's add(value, key)): a
// document under key already there is ErrConstraint, and nothing changes.
func (db *JSONDB) AddWithKey(store string, doc, key json.RawMessage) (json.RawMessage, error) {
	return keyed(db.text, store, doc, key, func(h *C.flowdb_jsondb_t, s, d *C.char, dn C.size_t, k *C.char, kn C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_add_with_key(h, s, d, dn, k, kn, o, c)
	})
}

// DeleteRange deletes every document whose primary key is in r, atomically.
func (db *JSONDB) DeleteRange(store string, r IndexRange) error {
	return rangeCall(db.simple, store, "", r, func(h *C.flowdb_jsondb_t, s, _ *C.char, kr *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_delete_range(h, s, kr, c)
	})
}

// Clear deletes every document of store (and its index entries); the key generator
// keeps its next key.
func (db *JSONDB) Clear(store string) error {
	return rangeCall(db.simple, store, "", IndexRange{}, func(h *C.flowdb_jsondb_t, s, _ *C.char, _ *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_clear(h, s, c)
	})
}

// GetAll returns the documents whose primary key is in r, ascending, at most count
// (0: all).
func (db *JSONDB) GetAll(store string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(db.text, store, "", r, count, func(h *C.flowdb_jsondb_t, s, _ *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_all(h, s, kr, n, o, c)
	}))
}

// GetAllKeys returns the primary keys in r, ascending, at most count (0: all); no
// document is read.
func (db *JSONDB) GetAllKeys(store string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(db.text, store, "", r, count, func(h *C.flowdb_jsondb_t, s, _ *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_all_keys(h, s, kr, n, o, c)
	}))
}

// GetAllRecords returns the documents with their keys whose primary key is in r, in
// dir order, at most count (0: all).
func (db *JSONDB) GetAllRecords(store string, r IndexRange, count int, dir Direction) ([]DocRecord, error) {
	return records(rangeText(db.text, store, "", r, count, func(h *C.flowdb_jsondb_t, s, _ *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_all_records(h, s, kr, n, C.enum_flowdb_direction_t(dir), o, c)
	}))
}

// GetKey returns the lowest primary key in r, or nil when there is none.
func (db *JSONDB) GetKey(store string, r IndexRange) (json.RawMessage, error) {
	return rangeText(db.text, store, "", r, 0, func(h *C.flowdb_jsondb_t, s, _ *C.char, kr *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_key(h, s, kr, o, c)
	})
}

// CountRange is how many documents have a primary key in r (no document is read).
func (db *JSONDB) CountRange(store string, r IndexRange) (int, error) {
	var n C.size_t
	err := rangeCall(db.simple, store, "", r, func(h *C.flowdb_jsondb_t, s, _ *C.char, kr *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_count_range(h, s, kr, &n, c)
	})
	return int(n), err
}

// GetAllByIndex returns the documents of the index entries whose key is in r, in
// (index key, primary key) order, at most count (0: all); a multi-entry index may
// list a document once per entry.
func (db *JSONDB) GetAllByIndex(store, index string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(db.text, store, index, r, count, func(h *C.flowdb_jsondb_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_all_by_index(h, s, i, kr, n, o, c)
	}))
}

// GetAllKeysByIndex returns the primary keys of the index entries whose key is in r,
// in (index key, primary key) order, at most count (0: all).
func (db *JSONDB) GetAllKeysByIndex(store, index string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(db.text, store, index, r, count, func(h *C.flowdb_jsondb_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_all_keys_by_index(h, s, i, kr, n, o, c)
	}))
}

// GetAllRecordsByIndex returns the index keys, primary keys and documents of the
// index entries whose key is in r, in dir order, at most count (0: all).
func (db *JSONDB) GetAllRecordsByIndex(store, index string, r IndexRange, count int, dir Direction) ([]DocRecord, error) {
	return records(rangeText(db.text, store, index, r, count, func(h *C.flowdb_jsondb_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_all_records_by_index(h, s, i, kr, n, C.enum_flowdb_direction_t(dir), o, c)
	}))
}

// GetKeyByIndex returns the primary key of the first index entry whose key is in r,
// or nil when there is none.
func (db *JSONDB) GetKeyByIndex(store, index string, r IndexRange) (json.RawMessage, error) {
	return rangeText(db.text, store, index, r, 0, func(h *C.flowdb_jsondb_t, s, i *C.char, kr *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_get_key_by_index(h, s, i, kr, o, c)
	})
}

// ---- in a transaction ----

// Add stores doc as a new document in the transaction: a document with the same key
// (committed, or written by the transaction) is ErrConstraint. Returns its key.
func (tx *Txn) Add(store string, doc json.RawMessage) (json.RawMessage, error) {
	j, n, free := jsonArg(doc)
	defer free()
	return rangeText(tx.text, store, "", IndexRange{}, 0, func(t *C.flowdb_txn_t, s, _ *C.char, _ *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_add(t, s, j, n, o, c)
	})
}

// PutWithKey stores doc under key in an out-of-line store, in the transaction.
func (tx *Txn) PutWithKey(store string, doc, key json.RawMessage) (json.RawMessage, error) {
	return keyed(tx.text, store, doc, key, func(t *C.flowdb_txn_t, s, d *C.char, dn C.size_t, k *C.char, kn C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_put_with_key(t, s, d, dn, k, kn, o, c)
	})
}

// AddWithKey is PutWithKey that inserts only: a document under key (committed, or
// written by the transaction) is ErrConstraint.
func (tx *Txn) AddWithKey(store string, doc, key json.RawMessage) (json.RawMessage, error) {
	return keyed(tx.text, store, doc, key, func(t *C.flowdb_txn_t, s, d *C.char, dn C.size_t, k *C.char, kn C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_add_with_key(t, s, d, dn, k, kn, o, c)
	})
}

// DeleteRange deletes every document whose primary key is in r, in the transaction.
func (tx *Txn) DeleteRange(store string, r IndexRange) error {
	return rangeCall(tx.call, store, "", r, func(t *C.flowdb_txn_t, s, _ *C.char, kr *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_delete_range(t, s, kr, c)
	})
}

// Clear deletes every document of store in the transaction; the key generator keeps
// its next key.
func (tx *Txn) Clear(store string) error {
	return rangeCall(tx.call, store, "", IndexRange{}, func(t *C.flowdb_txn_t, s, _ *C.char, _ *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_clear(t, s, c)
	})
}

// GetAll returns the documents whose primary key is in r as the transaction sees
// them, ascending, at most count (0: all).
func (tx *Txn) GetAll(store string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(tx.text, store, "", r, count, func(t *C.flowdb_txn_t, s, _ *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_all(t, s, kr, n, o, c)
	}))
}

// GetAllKeys returns the primary keys in r, ascending, at most count (0: all).
func (tx *Txn) GetAllKeys(store string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(tx.text, store, "", r, count, func(t *C.flowdb_txn_t, s, _ *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_all_keys(t, s, kr, n, o, c)
	}))
}

// GetAllRecords returns the documents with their keys in r, in dir order, at most
// count (0: all).
func (tx *Txn) GetAllRecords(store string, r IndexRange, count int, dir Direction) ([]DocRecord, error) {
	return records(rangeText(tx.text, store, "", r, count, func(t *C.flowdb_txn_t, s, _ *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_all_records(t, s, kr, n, C.enum_flowdb_direction_t(dir), o, c)
	}))
}

// GetKey returns the lowest primary key in r, or nil when there is none.
func (tx *Txn) GetKey(store string, r IndexRange) (json.RawMessage, error) {
	return rangeText(tx.text, store, "", r, 0, func(t *C.flowdb_txn_t, s, _ *C.char, kr *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_key(t, s, kr, o, c)
	})
}

// CountRange is how many documents have a primary key in r, as the transaction sees them.
func (tx *Txn) CountRange(store string, r IndexRange) (int, error) {
	var n C.size_t
	err := rangeCall(tx.call, store, "", r, func(t *C.flowdb_txn_t, s, _ *C.char, kr *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_count_range(t, s, kr, &n, c)
	})
	return int(n), err
}

// GetAllByIndex returns the documents of the index entries whose key is in r, in
// (index key, primary key) order, at most count (0: all).
func (tx *Txn) GetAllByIndex(store, index string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(tx.text, store, index, r, count, func(t *C.flowdb_txn_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_all_by_index(t, s, i, kr, n, o, c)
	}))
}

// GetAllKeysByIndex returns the primary keys of the index entries whose key is in r,
// at most count (0: all).
func (tx *Txn) GetAllKeysByIndex(store, index string, r IndexRange, count int) ([]json.RawMessage, error) {
	return docs(rangeText(tx.text, store, index, r, count, func(t *C.flowdb_txn_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_all_keys_by_index(t, s, i, kr, n, o, c)
	}))
}

// GetAllRecordsByIndex returns the index keys, primary keys and documents of the
// index entries whose key is in r, in dir order, at most count (0: all).
func (tx *Txn) GetAllRecordsByIndex(store, index string, r IndexRange, count int, dir Direction) ([]DocRecord, error) {
	return records(rangeText(tx.text, store, index, r, count, func(t *C.flowdb_txn_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_all_records_by_index(t, s, i, kr, n, C.enum_flowdb_direction_t(dir), o, c)
	}))
}

// GetKeyByIndex returns the primary key of the first index entry whose key is in r,
// or nil when there is none.
func (tx *Txn) GetKeyByIndex(store, index string, r IndexRange) (json.RawMessage, error) {
	return rangeText(tx.text, store, index, r, 0, func(t *C.flowdb_txn_t, s, i *C.char, kr *C.flowdb_key_range_t, _ C.size_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_txn_get_key_by_index(t, s, i, kr, o, c)
	})
}
