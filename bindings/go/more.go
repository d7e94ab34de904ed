package flowdb

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"encoding/json"
	"iter"
	"runtime"
	"time"
)

// PatchRecord replaces the value (when value != nil) and/or sets expire_at = ts +
// ttlSecs (when ttlSecs != nil) of a live record; returns it as stored. ErrNotFound
// when it is missing or expired.
func (e *Engine) PatchRecord(key []byte, ts int64, value []byte, ttlSecs *uint64) (*Record, error) {
	k, kn, fk := bytesArg(key)
	defer fk()
	v, vn, fv := bytesArg(value)
	defer fv()
	ttl := uint64(0)
	if ttlSecs != nil {
		ttl = *ttlSecs
	}
	return first(e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_patch_record(h, k, kn, C.int64_t(ts), C.bool(value != nil), v, vn, C.bool(ttlSecs != nil), C.uint64_t(ttl), o, c)
	}))
}

// ReadOptions tune a scan: FillCache keeps read blocks cached; VerifyChecksums
// checks every block read.
type ReadOptions struct {
	FillCache, VerifyChecksums bool
}

// ScanOpt is Scan with read options.
func (e *Engine) ScanOpt(r Range, o ReadOptions) iter.Seq2[Record, error] {
	return e.scan(r, o)
}

// Maintenance is a running background maintenance thread. One dropped without Stop
// is stopped when the garbage collector reclaims it.
type Maintenance struct {
	m       *C.flowdb_maintenance_t
	cleanup runtime.Cleanup
}

// SpawnBackgroundMaintenance starts flush/compaction/GC in the background; nil when
// it already runs (as it does unless Options.NoAutoBackground).
func (e *Engine) SpawnBackgroundMaintenance() (*Maintenance, error) {
	var m *C.flowdb_maintenance_t
	err := e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_spawn_background_maintenance(h, &m, &cerr), cerr)
	})
	if err != nil || m == nil {
		return nil, err
	}
	mt := &Maintenance{m: m}
	mt.cleanup = runtime.AddCleanup(mt, func(m *C.flowdb_maintenance_t) { C.flowdb_maintenance_stop(m) }, m)
	return mt, nil
}

// Stop stops the thread and waits for it. Idempotent.
func (m *Maintenance) Stop() {
	if m != nil && m.m != nil {
		m.cleanup.Stop()
		C.flowdb_maintenance_stop(m.m)
		m.m = nil
	}
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
func (db *JsonDB) GetStore(name string) (*StoreDef, error) {
	var j json.RawMessage
	err := withStr([]string{name}, func(p []*C.char) error {
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

// Direction orders index results (IndexedDB cursor directions).
type Direction int

const (
	Next       Direction = 0
	Prev       Direction = 1
	NextUnique Direction = 2
	PrevUnique Direction = 3
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
func (db *JsonDB) IndexQuery(store, index string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	kr, err := r.c()
	if err != nil {
		return nil, err
	}
	defer C.flowdb_key_range_free(kr)
	var j json.RawMessage
	err = withStr([]string{store, index}, func(p []*C.char) error {
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_index_query(h, p[0], p[1], kr, C.int32_t(dir), o, c)
		})
		return e
	})
	return docs(j, err)
}

// CountByIndex is how many entries of index have a key in r.
func (db *JsonDB) CountByIndex(store, index string, r IndexRange) (int, error) {
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

// Query is a query-builder query over one store; run it with Collect. A Query holds
// only Go values: each Collect builds its own C query and frees it before returning,
// so a query may be collected any number of times (polling), from one goroutine at a
// time, and one never collected holds no C memory.
type Query struct {
	store string
	steps []queryStep
}

// queryStep adds one step to a C query; its strings are C copies made for this call
// (the C API copies what it keeps).
type queryStep struct {
	strs []string
	add  func(h *C.flowdb_query_t, ps []*C.char, c **C.flowdb_error_t) uint32
}

// Query starts a query over store.
func (db *JsonDB) Query(store string) *Query { return &Query{store: store} }

func (q *Query) add(strs []string, f func(h *C.flowdb_query_t, ps []*C.char, c **C.flowdb_error_t) uint32) *Query {
	q.steps = append(q.steps, queryStep{strs, f})
	return q
}

// WhereEq keeps documents whose field equals value (a JSON key).
func (q *Query) WhereEq(field string, value json.RawMessage) *Query {
	return q.add([]string{field, string(value)}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_where_eq(h, p[0], p[1], C.size_t(len(value)), c)
	})
}

// WhereRange keeps documents with start <= field < end (half-open, as the Rust
// where_range).
func (q *Query) WhereRange(field string, start, end json.RawMessage) *Query {
	return q.add([]string{field, string(start), string(end)}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_where_range(h, p[0], p[1], C.size_t(len(start)), p[2], C.size_t(len(end)), c)
	})
}

// WhereIn keeps documents whose field is one of values (a JSON array).
func (q *Query) WhereIn(field string, values json.RawMessage) *Query {
	return q.add([]string{field, string(values)}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_where_in(h, p[0], p[1], C.size_t(len(values)), c)
	})
}

// OrderBy orders by field.
func (q *Query) OrderBy(field string, descending bool) *Query {
	return q.add([]string{field}, func(h *C.flowdb_query_t, p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_order_by(h, p[0], C.bool(descending), c)
	})
}

// Limit returns at most n documents.
func (q *Query) Limit(n int) *Query {
	return q.add(nil, func(h *C.flowdb_query_t, _ []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_limit(h, C.size_t(n), c)
	})
}

// Offset skips the first n documents.
func (q *Query) Offset(n int) *Query {
	return q.add(nil, func(h *C.flowdb_query_t, _ []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_query_offset(h, C.size_t(n), c)
	})
}

// Collect runs the query on db. It may be called again (the same query, the same or
// another database); every C object it makes is freed before it returns.
func (q *Query) Collect(db *JsonDB) ([]json.RawMessage, error) {
	var out json.RawMessage
	err := withStr([]string{q.store}, func(s []*C.char) error {
		cq := C.flowdb_query_new(s[0])
		defer C.flowdb_query_free(cq)
		for _, st := range q.steps {
			if err := withStr(st.strs, func(ps []*C.char) error {
				var cerr *C.flowdb_error_t
				return check(st.add(cq, ps, &cerr), cerr)
			}); err != nil {
				return err
			}
		}
		var err error
		out, err = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_query_collect(h, cq, o, c)
		})
		return err
	})
	return docs(out, err)
}

// Count is the number of documents the transaction sees.
func (tx *Txn) Count(store string) (int, error) {
	var n C.size_t
	err := withStr([]string{store}, func(p []*C.char) error {
		return tx.call(func(c **C.flowdb_error_t) uint32 { return C.flowdb_txn_count(tx.t, p[0], &n, c) })
	})
	return int(n), err
}

func (tx *Txn) text(f func(o **C.char, c **C.flowdb_error_t) uint32) (json.RawMessage, error) {
	var out *C.char
	if err := tx.call(func(c **C.flowdb_error_t) uint32 { return f(&out, c) }); err != nil {
		return nil, err
	}
	return takeJSON(out), nil
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

// Sync flushes memtables and syncs the log; the engine stays open (the C API's
// flowdb_engine_close, Rust's Engine::close).
func (e *Engine) Sync() error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_close(h, &cerr), cerr)
	})
}

// SetTransactionTimeout sets how long a transaction waits for overlapping ones
// before ErrBusy.
func (db *JsonDB) SetTransactionTimeout(d time.Duration) error {
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_set_transaction_timeout_ms(h, C.uint64_t(d.Milliseconds()), c)
	})
}

// GetRange returns the documents whose primary key is in r, in dir order.
func (db *JsonDB) GetRange(store string, r IndexRange, dir Direction) ([]json.RawMessage, error) {
	kr, err := r.c()
	if err != nil {
		return nil, err
	}
	defer C.flowdb_key_range_free(kr)
	var j json.RawMessage
	err = withStr([]string{store}, func(p []*C.char) error {
		var e error
		j, e = db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_jsondb_get_range(h, p[0], kr, C.int32_t(dir), o, c)
		})
		return e
	})
	return docs(j, err)
}

// EngineFlush flushes the underlying engine's memtables to tables.
func (db *JsonDB) EngineFlush() error {
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 { return C.flowdb_jsondb_engine_flush(h, c) })
}

// EngineMetricsText is the underlying engine's metrics (Prometheus text format).
func (db *JsonDB) EngineMetricsText() (string, error) {
	j, err := db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_engine_metrics_text(h, o, c)
	})
	return string(j), err
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
		j, e = tx.text(func(o **C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_txn_index_query(tx.t, p[0], p[1], kr, C.int32_t(dir), o, c)
		})
		return e
	})
	return docs(j, err)
}

// GetSync is Get that reports any failure as "not found" (nil), like Rust's get_sync.
func (e *Engine) GetSync(key []byte, ts int64) *Record {
	r, err := e.Get(key, ts)
	if err != nil {
		return nil
	}
	return r
}

// Sync flushes and syncs the underlying engine; the database stays open (Rust's
// JsonDB::close).
func (db *JsonDB) Sync() error {
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 { return C.flowdb_jsondb_close(h, c) })
}
