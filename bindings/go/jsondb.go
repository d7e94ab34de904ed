package flowdb

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// JSONDB is the IndexedDB-compatible JSON document database; safe for concurrent use.
// Documents and keys are JSON (json.RawMessage); PutValue/GetInto marshal Go values.
// Close it when done.
type JSONDB struct {
	mu     sync.RWMutex
	h      *C.flowdb_jsondb_t
	events *listener // SetEventListener's (events.go)
	// upMu orders UpgradeTo's start against Close: neither waits for the other
	// while holding mu (an upgrade func calling the database while Close waited for
	// mu would queue behind it, and neither would end).
	upMu     sync.Mutex
	upgrades int // UpgradeTo calls under way (upgrade.go), under upMu
	closing  int // Close calls under way, under upMu
	cleanup  runtime.Cleanup
}

type jsondbHandle struct {
	h      *C.flowdb_jsondb_t
	events *listener
}

// OpenJSONDB opens the engine in dir and the document layer on it.
func OpenJSONDB(dir string, opts *Options) (*JSONDB, error) {
	var h *C.flowdb_jsondb_t
	err := openWith(dir, opts, func(o *C.flowdb_options_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_open(o, &h, c)
	})
	if err != nil {
		return nil, err
	}
	return newJSONDB(h), nil
}

// newJSONDB wraps an open C handle.
func newJSONDB(h *C.flowdb_jsondb_t) *JSONDB {
	liveHandles.Add(1)
	db := &JSONDB{h: h, events: new(listener)}
	db.cleanup = runtime.AddCleanup(db, func(jh jsondbHandle) {
		C.flowdb_jsondb_free(jh.h) // removes the listener, after its last call
		jh.events.mu.Lock()
		jh.events.drop()
		jh.events.mu.Unlock()
		liveHandles.Add(-1)
	}, jsondbHandle{h, db.events})
	return db
}

func (db *JSONDB) handle(f func(h *C.flowdb_jsondb_t) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.h == nil {
		return newError(CodeClosed, "closed: the database was closed")
	}
	var err error
	onThreadWithoutTxn(func() { err = f(db.h) }) // (beginthread.go)
	return err
}

// Close shuts the database down and frees it. Idempotent. ErrBusy while transactions
// are open or an upgrade runs: only then does the database stay open. Any other error
// (ErrIO from the last flush, say) is returned once the database is closed all the
// same and its handle freed: a second Close returns nil. The event listener is
// removed first (Close waits for its last call), and set again after ErrBusy.
func (db *JSONDB) Close() error {
	db.upMu.Lock()
	if db.upgrades > 0 {
		db.upMu.Unlock()
		// Not waiting for it: its func may be using the database.
		return newError(CodeBusy, "busy: an upgrade of the database is under way")
	}
	db.closing++
	db.upMu.Unlock()
	defer func() {
		db.upMu.Lock()
		db.closing--
		db.upMu.Unlock()
	}()
	// Before db.mu is locked: the listener's last call may be using the database.
	db.events.mu.Lock()
	defer db.events.mu.Unlock()
	listening := db.events.h != 0 && db.listen(0) == nil
	err := db.shutdown()
	if listening && errors.Is(err, ErrBusy) {
		_ = db.listen(C.uintptr_t(db.events.h))
	}
	return err
}

// shutdown shuts the database down and frees the handle, unless the shutdown is
// ErrBusy: only then does the database stay open (the C shutdown took nothing).
// Any other error has taken the database out of the handle all the same (as C's
// flowdb_jsondb_shutdown does), so the handle is freed and the error returned.
func (db *JSONDB) shutdown() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.h == nil {
		return nil
	}
	var cerr *C.flowdb_error_t
	err := check(C.flowdb_jsondb_shutdown(db.h, &cerr), cerr)
	if errors.Is(err, ErrBusy) {
		return err
	}
	db.cleanup.Stop()
	C.flowdb_jsondb_free(db.h)
	liveHandles.Add(-1)
	db.h = nil
	db.events.drop()
	return err
}

// noNUL refuses s, the argument name, when it holds a NUL byte: C would take that
// for the end of the string and read a shorter one ("users\x00x" as "users").
func noNUL(name, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return newError(CodeInvalidArgument, fmt.Sprintf("invalid argument: %s %q holds a NUL byte", name, s))
	}
	return nil
}

// withStr passes Go strings to C as NUL-terminated copies; names[i] is the name of
// ss[i], the argument it came from, for the ErrInvalidArgument of one holding a NUL
// byte (nothing is passed then). An empty name is a string passed with its length
// (C reads that many bytes, a NUL is no end there): it is not checked.
func withStr(names, ss []string, f func(ps []*C.char) error) error {
	for i, s := range ss {
		if names[i] != "" {
			if err := noNUL(names[i], s); err != nil {
				return err
			}
		}
	}
	ps := make([]*C.char, len(ss))
	for i, s := range ss {
		ps[i] = C.CString(s)
	}
	defer func() {
		for _, p := range ps {
			C.free(unsafe.Pointer(p))
		}
	}()
	return f(ps)
}

// withCArray passes Go strings to C as an array of NUL-terminated copies, in C memory
// (a pointer to Go memory holding pointers may not be passed to C); name is the
// argument's, for the error of a string holding a NUL byte (withStr).
func withCArray(name string, ss []string, f func(arr **C.char, n C.size_t) error) error {
	names := make([]string, len(ss))
	for i := range ss {
		names[i] = fmt.Sprintf("%s[%d]", name, i)
	}
	return withStr(names, ss, func(p []*C.char) error {
		arr := (**C.char)(C.malloc(C.size_t(len(p)+1) * C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(arr))
		copy(unsafe.Slice(arr, len(p)+1), p)
		return f(arr, C.size_t(len(p)))
	})
}

// jsonArg passes JSON to C as (pointer, length) in C memory.
func jsonArg(j []byte) (*C.char, C.size_t, func()) {
	p, n, free := bytesArg(j)
	return (*C.char)(unsafe.Pointer(p)), n, free
}

// takeJSON copies a returned string into Go memory and frees it (nil stays nil).
func takeJSON(s *C.char) json.RawMessage {
	if s == nil {
		return nil
	}
	defer C.flowdb_string_free(s)
	return json.RawMessage(C.GoString(s))
}

func (db *JSONDB) simple(f func(h *C.flowdb_jsondb_t, cerr **C.flowdb_error_t) uint32) error {
	return db.handle(func(h *C.flowdb_jsondb_t) error {
		var cerr *C.flowdb_error_t
		return check(f(h, &cerr), cerr)
	})
}

func (db *JSONDB) text(f func(h *C.flowdb_jsondb_t, out **C.char, cerr **C.flowdb_error_t) uint32) (json.RawMessage, error) {
	var res json.RawMessage
	err := db.handle(func(h *C.flowdb_jsondb_t) error {
		var out *C.char
		var cerr *C.flowdb_error_t
		if err := check(f(h, &out, &cerr), cerr); err != nil {
			return err
		}
		res = takeJSON(out)
		return nil
	})
	return res, err
}

// CreateObjectStore creates a store whose documents carry their key at keyPath, a key
// path in any of IndexedDB's forms, as text: "" (the document itself), an identifier
// or identifiers joined by "." ("id", "a.b"); a JSON array of those for an array key
// path (`["a","b"]`: the key is the array of their values); or "[]" for none:
// out-of-line keys, given beside each document (PutWithKey, AddWithKey) or generated.
func (db *JSONDB) CreateObjectStore(name, keyPath string) error {
	return withStr([]string{"name", "keyPath"}, []string{name, keyPath}, func(p []*C.char) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_create_object_store(h, p[0], p[1], c)
		})
	})
}

// CreateStore creates a store from a description, e.g. {"name":"users","keyPath":"id",
// "autoIncrement":true,"indexes":[{"name":"email","keyPath":"email","unique":true}]}.
// Key paths are text as for CreateObjectStore, passed through: "keyPath":"[]" makes an
// out-of-line store.
func (db *JSONDB) CreateStore(schema json.RawMessage) error {
	j, n, free := jsonArg(schema)
	defer free()
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_create_store(h, j, n, c)
	})
}

// CreateIndex creates an index over keyPaths (several: compound). One key path may
// be in any form (CreateObjectStore): `["a"]` is an array key path, keying {"a":1} by
// [1] where "a" keys it by 1.
func (db *JSONDB) CreateIndex(store, name string, keyPaths []string, unique, multiEntry bool) error {
	return withStr([]string{"store", "name"}, []string{store, name}, func(p []*C.char) error {
		return withCArray("keyPaths", keyPaths, func(paths **C.char, n C.size_t) error {
			return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
				return C.flowdb_jsondb_create_index_with(h, p[0], p[1], paths, n, C.bool(unique), C.bool(multiEntry), c)
			})
		})
	})
}

// DeleteIndex deletes an index and its entries.
func (db *JSONDB) DeleteIndex(store, name string) error {
	return withStr([]string{"store", "name"}, []string{store, name}, func(p []*C.char) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_delete_index(h, p[0], p[1], c)
		})
	})
}

// DeleteObjectStore deletes a store with its documents and indexes.
func (db *JSONDB) DeleteObjectStore(name string) error {
	return withStr([]string{"name"}, []string{name}, func(p []*C.char) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_delete_object_store(h, p[0], c)
		})
	})
}

// StoreNames lists the stores, sorted by UTF-16 code unit (IndexedDB's order; for
// ASCII names, byte order).
func (db *JSONDB) StoreNames() ([]string, error) {
	j, err := db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_store_names(h, o, c)
	})
	if err != nil {
		return nil, err
	}
	var names []string
	return names, json.Unmarshal(j, &names)
}

// Put stores a document; returns its key (JSON).
func (db *JSONDB) Put(store string, doc json.RawMessage) (json.RawMessage, error) {
	return db.put(store, doc, false)
}

// PutAuto stores a document under a newly generated key.
func (db *JSONDB) PutAuto(store string, doc json.RawMessage) (json.RawMessage, error) {
	return db.put(store, doc, true)
}

// PutValue marshals v and stores it.
func (db *JSONDB) PutValue(store string, v any) (json.RawMessage, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, newError(CodeData, "data error: "+err.Error())
	}
	return db.Put(store, doc)
}

func (db *JSONDB) put(store string, doc json.RawMessage, auto bool) (json.RawMessage, error) {
	var key json.RawMessage
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(doc)
		defer free()
		var e error
		key, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			if auto {
				return C.flowdb_jsondb_put_auto(h, p[0], j, n, o, c)
			}
			return C.flowdb_jsondb_put(h, p[0], j, n, o, c)
		})
		return e
	})
	return key, err
}

// Get returns the document with key (JSON), or nil when there is none.
func (db *JSONDB) Get(store string, key json.RawMessage) (json.RawMessage, error) {
	var doc json.RawMessage
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(key)
		defer free()
		var e error
		doc, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_get(h, p[0], j, n, o, c)
		})
		return e
	})
	return doc, err
}

// GetInto unmarshals the document with key into v; false when there is none.
func (db *JSONDB) GetInto(store string, key json.RawMessage, v any) (bool, error) {
	doc, err := db.Get(store, key)
	if err != nil || doc == nil {
		return false, err
	}
	return true, json.Unmarshal(doc, v)
}

// Delete deletes the document with key (absent: nothing happens).
func (db *JSONDB) Delete(store string, key json.RawMessage) error {
	return withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		j, n, free := jsonArg(key)
		defer free()
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_delete(h, p[0], j, n, c)
		})
	})
}

// Count is the number of documents in store.
func (db *JSONDB) Count(store string) (int, error) {
	var n C.size_t
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 { return C.flowdb_jsondb_count(h, p[0], &n, c) })
	})
	return int(n), err
}

func docs(j json.RawMessage, err error) ([]json.RawMessage, error) {
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	return out, json.Unmarshal(j, &out)
}

// Scan returns every document in primary-key order.
func (db *JSONDB) Scan(store string) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{"store"}, []string{store}, func(p []*C.char) error {
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_scan(h, p[0], o, c)
		})
		return e
	})
	return docs(j, err)
}

// GetByIndex returns the documents whose index key equals value (JSON). On a
// compound index a key with fewer components ("NYC" or ["NYC"]) matches every
// entry that starts with it; null, false and true are keys too.
func (db *JSONDB) GetByIndex(store, index string, value json.RawMessage) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{"store", "index"}, []string{store, index}, func(p []*C.char) error {
		v, n, free := jsonArg(value)
		defer free()
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_get_by_index(h, p[0], p[1], v, n, o, c)
		})
		return e
	})
	return docs(j, err)
}

// RangeByIndex returns the documents with start <= index key < end (half-open).
func (db *JSONDB) RangeByIndex(store, index string, start, end json.RawMessage) ([]json.RawMessage, error) {
	var j json.RawMessage
	err := withStr([]string{"store", "index"}, []string{store, index}, func(p []*C.char) error {
		a, an, fa := jsonArg(start)
		defer fa()
		b, bn, fb := jsonArg(end)
		defer fb()
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_range_by_index(h, p[0], p[1], a, an, b, bn, o, c)
		})
		return e
	})
	return docs(j, err)
}

// StoreDef is a store's definition.
type StoreDef struct {
	Name          string `json:"name"`
	KeyPath       string `json:"key_path"`
	AutoIncrement bool   `json:"auto_increment"`
	Indexes       []struct {
		Name       string   `json:"name"`
		KeyPaths   []string `json:"key_paths"`
		Unique     bool     `json:"unique"`
		MultiEntry bool     `json:"multi_entry"`
	} `json:"indexes"`
	NextAutoID uint64 `json:"next_auto_id"`
}

// GetStore returns a store's definition, or nil when there is no such store.
func (db *JSONDB) GetStore(name string) (*StoreDef, error) {
	var j json.RawMessage
	err := withStr([]string{"name"}, []string{name}, func(p []*C.char) error {
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_get_store(h, p[0], o, c)
		})
		return e
	})
	if err != nil || j == nil {
		return nil, err
	}
	var def StoreDef
	return &def, json.Unmarshal(j, &def)
}
