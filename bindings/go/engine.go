package flowdb

/*
#include <stdlib.h>
#include <string.h>
#include <flowdb.h>
*/
import "C"

import (
	"errors"
	"iter"
	"runtime"
	"sync"
	"unsafe"
)

// SyncMode says when writes are made durable.
type SyncMode int

const (
	// SyncAlways: fdatasync before every write returns (survives power loss).
	SyncAlways SyncMode = 0
	// SyncInterval: write(2) before a write returns (survives kill -9); fdatasync
	// every SyncIntervalMs.
	SyncInterval SyncMode = 1
)

// Options are the engine's configuration; zero values mean the library defaults.
type Options struct {
	DefaultTTLSecs       uint64 // 0: records never expire by default
	GCIntervalSecs       uint64
	MemtableSizeMB       uint64
	MaxFrozenMemtables   uint64
	BlockSize            uint64
	FlushIntervalMs      uint64
	TimeBucketSecs       uint64
	IndexMemoryBudgetMB  uint64
	BlockCacheCapacityMB *uint64 // nil: default; 0 disables the cache
	BloomBitsPerKey      *uint64 // nil: default; 0 disables filters
	WALSegmentSizeMB     uint64
	CompactionThreshold  uint64
	NoCreateIfMissing    bool
	NoAutoBackground     bool
	SyncMode             SyncMode
	SyncIntervalMs       uint64 // for SyncInterval (default 1000)
}

func cstr(s string) *C.char { return C.CString(s) }

// options builds C options for dir and o (freed by the caller).
func options(dir string, o *Options) (*C.flowdb_options_t, error) {
	if o == nil {
		o = &Options{}
	}
	p := C.flowdb_options_new()
	d := cstr(dir)
	defer C.free(unsafe.Pointer(d))
	var cerr *C.flowdb_error_t
	set := func(st uint32) error { return check(st, cerr) }
	errs := []error{set(C.flowdb_options_set_data_dir(p, d, &cerr))}
	u := func(v uint64, f func(uint64) uint32) {
		if v != 0 {
			errs = append(errs, set(f(v)))
		}
	}
	u(o.GCIntervalSecs, func(v uint64) uint32 { return C.flowdb_options_set_gc_interval_secs(p, C.uint64_t(v), &cerr) })
	u(o.MemtableSizeMB, func(v uint64) uint32 { return C.flowdb_options_set_memtable_size_mb(p, C.uint64_t(v), &cerr) })
	u(o.MaxFrozenMemtables, func(v uint64) uint32 { return C.flowdb_options_set_max_frozen_memtables(p, C.uint64_t(v), &cerr) })
	u(o.BlockSize, func(v uint64) uint32 { return C.flowdb_options_set_block_size(p, C.uint64_t(v), &cerr) })
	u(o.FlushIntervalMs, func(v uint64) uint32 { return C.flowdb_options_set_flush_interval_ms(p, C.uint64_t(v), &cerr) })
	u(o.TimeBucketSecs, func(v uint64) uint32 { return C.flowdb_options_set_time_bucket_secs(p, C.uint64_t(v), &cerr) })
	u(o.IndexMemoryBudgetMB, func(v uint64) uint32 { return C.flowdb_options_set_index_memory_budget_mb(p, C.uint64_t(v), &cerr) })
	u(o.WALSegmentSizeMB, func(v uint64) uint32 { return C.flowdb_options_set_wal_segment_size_mb(p, C.uint64_t(v), &cerr) })
	u(o.CompactionThreshold, func(v uint64) uint32 { return C.flowdb_options_set_compaction_threshold(p, C.uint64_t(v), &cerr) })
	if o.BlockCacheCapacityMB != nil {
		errs = append(errs, set(C.flowdb_options_set_block_cache_capacity_mb(p, C.uint64_t(*o.BlockCacheCapacityMB), &cerr)))
	}
	if o.BloomBitsPerKey != nil {
		errs = append(errs, set(C.flowdb_options_set_bloom_bits_per_key(p, C.uint64_t(*o.BloomBitsPerKey), &cerr)))
	}
	if o.DefaultTTLSecs != 0 {
		errs = append(errs, set(C.flowdb_options_set_default_ttl_secs(p, true, C.uint64_t(o.DefaultTTLSecs), &cerr)))
	}
	errs = append(errs, set(C.flowdb_options_set_create_if_missing(p, C.bool(!o.NoCreateIfMissing), &cerr)))
	errs = append(errs, set(C.flowdb_options_set_auto_background(p, C.bool(!o.NoAutoBackground), &cerr)))
	interval := o.SyncIntervalMs
	if interval == 0 {
		interval = 1000
	}
	errs = append(errs, set(C.flowdb_options_set_sync_mode(p, C.int32_t(o.SyncMode), C.uint64_t(interval), &cerr)))
	if err := errors.Join(errs...); err != nil {
		C.flowdb_options_free(p)
		return nil, err
	}
	return p, nil
}

// Record is one time-series point; Ts and ExpireAt are microseconds since the Unix
// epoch (ExpireAt = NeverExpires: never).
type Record struct {
	Key      []byte
	Ts       int64
	ExpireAt int64
	Value    []byte
}

// NeverExpires is the ExpireAt of a record without expiry.
const NeverExpires = int64(^uint64(0) >> 1)

// Engine is an open flowdb engine; safe for concurrent use.
type Engine struct {
	mu      sync.RWMutex
	h       *C.flowdb_engine_t
	cleanup runtime.Cleanup
}

type engineHandle struct{ h *C.flowdb_engine_t }

// Open opens (or creates) the database in dir.
func Open(dir string, opts *Options) (*Engine, error) {
	o, err := options(dir, opts)
	if err != nil {
		return nil, err
	}
	defer C.flowdb_options_free(o)
	var h *C.flowdb_engine_t
	var cerr *C.flowdb_error_t
	if err := check(C.flowdb_engine_open(o, &h, &cerr), cerr); err != nil {
		return nil, err
	}
	liveHandles.Add(1)
	e := &Engine{h: h}
	// A net for engines never closed: free the handle (nothing acknowledged is lost).
	e.cleanup = runtime.AddCleanup(e, func(eh engineHandle) {
		C.flowdb_engine_free(eh.h)
		liveHandles.Add(-1)
	}, engineHandle{h})
	return e, nil
}

// handle runs f with the C handle, or returns ErrClosed after Close.
func (e *Engine) handle(f func(h *C.flowdb_engine_t) error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.h == nil {
		return &Error{Code: CodeClosed, Msg: "the engine was closed"}
	}
	return f(e.h)
}

// Close shuts the engine down (flush, stop background work, release the lock) and
// frees it. Idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.h == nil {
		return nil
	}
	var cerr *C.flowdb_error_t
	err := check(C.flowdb_engine_shutdown(e.h, &cerr), cerr)
	e.cleanup.Stop()
	C.flowdb_engine_free(e.h)
	liveHandles.Add(-1)
	e.h = nil
	return err
}

// cRecords copies records into one C allocation (keys and values included), so no
// Go pointer is handed to C; free the returned block with C.free.
func cRecords(recs []Record) (*C.flowdb_record_view_t, unsafe.Pointer) {
	if len(recs) == 0 {
		return nil, nil
	}
	size := len(recs) * C.sizeof_flowdb_record_view_t
	data := 0
	for _, r := range recs {
		data += len(r.Key) + len(r.Value)
	}
	block := C.malloc(C.size_t(size + data + 1))
	views := unsafe.Slice((*C.flowdb_record_view_t)(block), len(recs))
	bytes := unsafe.Slice((*byte)(unsafe.Add(block, size)), data+1)
	off := 0
	for i, r := range recs {
		k := copy(bytes[off:], r.Key)
		views[i].key = (*C.uint8_t)(unsafe.Pointer(&bytes[off]))
		views[i].key_len = C.size_t(k)
		off += k
		v := copy(bytes[off:], r.Value)
		views[i].value = (*C.uint8_t)(unsafe.Pointer(&bytes[off]))
		views[i].value_len = C.size_t(v)
		off += v
		views[i].ts = C.int64_t(r.Ts)
		views[i].expire_at = C.int64_t(r.ExpireAt) // 0: never (the C API's rule)
	}
	return (*C.flowdb_record_view_t)(block), block
}

func (e *Engine) write(recs []Record, f func(h *C.flowdb_engine_t, v *C.flowdb_record_view_t, n C.size_t, cerr **C.flowdb_error_t) uint32) error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		v, block := cRecords(recs)
		defer C.free(block)
		var cerr *C.flowdb_error_t
		return check(f(h, v, C.size_t(len(recs)), &cerr), cerr)
	})
}

// WriteBatch writes records atomically. A zero ExpireAt means "no expiry of its
// own" (the default TTL, if any, applies).
func (e *Engine) WriteBatch(recs []Record) error {
	return e.write(recs, func(h *C.flowdb_engine_t, v *C.flowdb_record_view_t, n C.size_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_write_batch(h, v, n, c)
	})
}

// WriteBatchSync is WriteBatch, durable on stable storage when it returns.
func (e *Engine) WriteBatchSync(recs []Record) error {
	return e.write(recs, func(h *C.flowdb_engine_t, v *C.flowdb_record_view_t, n C.size_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_write_batch_sync(h, v, n, c)
	})
}

// WriteBatchTTL writes records with expire_at = ts + ttlSecs seconds.
func (e *Engine) WriteBatchTTL(recs []Record, ttlSecs uint64) error {
	return e.write(recs, func(h *C.flowdb_engine_t, v *C.flowdb_record_view_t, n C.size_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_write_batch_ttl(h, v, n, true, C.uint64_t(ttlSecs), c)
	})
}

func bytesArg(b []byte) (*C.uint8_t, C.size_t, func()) {
	if len(b) == 0 {
		return nil, 0, func() {}
	}
	p := C.CBytes(b)
	return (*C.uint8_t)(p), C.size_t(len(b)), func() { C.free(p) }
}

// goRecords copies a C record list into Go memory and frees it.
func goRecords(list *C.flowdb_records_t) []Record {
	defer C.flowdb_records_free(list)
	n := int(C.flowdb_records_len(list))
	out := make([]Record, 0, n)
	for i := 0; i < n; i++ {
		var v C.flowdb_record_view_t
		C.flowdb_records_at(list, C.size_t(i), &v, nil)
		out = append(out, goRecord(&v))
	}
	return out
}

func goRecord(v *C.flowdb_record_view_t) Record {
	return Record{
		Key:      C.GoBytes(unsafe.Pointer(v.key), C.int(v.key_len)),
		Ts:       int64(v.ts),
		ExpireAt: int64(v.expire_at),
		Value:    C.GoBytes(unsafe.Pointer(v.value), C.int(v.value_len)),
	}
}

func (e *Engine) list(f func(h *C.flowdb_engine_t, out **C.flowdb_records_t, cerr **C.flowdb_error_t) uint32) ([]Record, error) {
	var recs []Record
	err := e.handle(func(h *C.flowdb_engine_t) error {
		var out *C.flowdb_records_t
		var cerr *C.flowdb_error_t
		if err := check(f(h, &out, &cerr), cerr); err != nil {
			return err
		}
		recs = goRecords(out)
		return nil
	})
	return recs, err
}

func first(recs []Record, err error) (*Record, error) {
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return &recs[0], nil
}

// Get returns the live record at (key, ts), or nil when there is none.
func (e *Engine) Get(key []byte, ts int64) (*Record, error) {
	k, n, free := bytesArg(key)
	defer free()
	return first(e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_get(h, k, n, C.int64_t(ts), o, c)
	}))
}

// GetLatest returns the live record of exactly key with the greatest ts, or nil.
func (e *Engine) GetLatest(key []byte) (*Record, error) {
	k, n, free := bytesArg(key)
	defer free()
	return first(e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_get_latest(h, k, n, o, c)
	}))
}

// Range says what a query or scan covers; key and time ranges include both ends.
type Range struct {
	kind           int
	a, b           []byte
	tsStart, tsEnd int64
	timeRestricted bool
}

// All is every record.
func All() Range { return Range{} }

// Prefix is every key beginning with p.
func Prefix(p []byte) Range { return Range{kind: 1, a: p} }

// KeyRange is start <= key <= end.
func KeyRange(start, end []byte) Range { return Range{kind: 2, a: start, b: end} }

// TimeRange is every key with start <= ts <= end.
func TimeRange(start, end int64) Range {
	return Range{tsStart: start, tsEnd: end, timeRestricted: true}
}

// WithTime restricts a range to start <= ts <= end.
func (r Range) WithTime(start, end int64) Range {
	r.tsStart, r.tsEnd, r.timeRestricted = start, end, true
	return r
}

// c builds the C range (freed by the caller with C.flowdb_range_free).
func (r Range) c() *C.flowdb_range_t {
	a, an, freeA := bytesArg(r.a)
	defer freeA()
	b, bn, freeB := bytesArg(r.b)
	defer freeB()
	switch {
	case r.kind == 0 && !r.timeRestricted:
		return C.flowdb_range_all()
	case r.kind == 0:
		return C.flowdb_range_time(C.int64_t(r.tsStart), C.int64_t(r.tsEnd))
	case r.kind == 1 && !r.timeRestricted:
		return C.flowdb_range_prefix(a, an)
	case r.kind == 1:
		return C.flowdb_range_prefix_time(a, an, C.int64_t(r.tsStart), C.int64_t(r.tsEnd))
	case !r.timeRestricted:
		return C.flowdb_range_key(a, an, b, bn)
	default:
		return C.flowdb_range_key_time(a, an, b, bn, C.int64_t(r.tsStart), C.int64_t(r.tsEnd))
	}
}

// Query returns every live record in r, in (key, ts) order.
func (e *Engine) Query(r Range) ([]Record, error) {
	cr := r.c()
	defer C.flowdb_range_free(cr)
	return e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_query(h, cr, o, c)
	})
}

// Scan iterates the live records of r lazily, over a snapshot taken when iteration
// starts. Breaking out of the loop frees the scan.
func (e *Engine) Scan(r Range) iter.Seq2[Record, error] {
	return e.scan(r, ReadOptions{FillCache: true, VerifyChecksums: true})
}

func (e *Engine) scan(r Range, o ReadOptions) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		cr := r.c()
		defer C.flowdb_range_free(cr)
		var it *C.flowdb_iter_t
		if err := e.handle(func(h *C.flowdb_engine_t) error {
			var cerr *C.flowdb_error_t
			return check(C.flowdb_engine_scan_opt(h, cr, C.bool(o.FillCache), C.bool(o.VerifyChecksums), &it, &cerr), cerr)
		}); err != nil {
			yield(Record{}, err)
			return
		}
		drain(it, yield)
	}
}

// drain yields every record of a C scan, then frees it (also when yield stops early).
func drain(it *C.flowdb_iter_t, yield func(Record, error) bool) {
	liveHandles.Add(1)
	defer func() {
		C.flowdb_iter_free(it)
		liveHandles.Add(-1)
	}()
	for {
		var has C.bool
		var cerr *C.flowdb_error_t
		if err := check(C.flowdb_iter_next(it, &has, &cerr), cerr); err != nil {
			yield(Record{}, err)
			return
		}
		if !has {
			return
		}
		var v C.flowdb_record_view_t
		C.flowdb_iter_record(it, &v, nil)
		if !yield(goRecord(&v), nil) {
			return
		}
	}
}

// KeyTs names one record for DeleteBatch.
type KeyTs struct {
	Key []byte
	Ts  int64
}

// DeleteBatch deletes the records atomically (absent ones are fine).
func (e *Engine) DeleteBatch(keys []KeyTs) error {
	recs := make([]Record, len(keys))
	for i, k := range keys {
		recs[i] = Record{Key: k.Key, Ts: k.Ts}
	}
	return e.handle(func(h *C.flowdb_engine_t) error {
		views, block := cRecords(recs)
		defer C.free(block)
		ks := (*C.flowdb_key_ts_t)(C.malloc(C.size_t(len(keys)+1) * C.sizeof_flowdb_key_ts_t))
		defer C.free(unsafe.Pointer(ks))
		if len(keys) > 0 {
			vs := unsafe.Slice(views, len(keys))
			kk := unsafe.Slice(ks, len(keys))
			for i := range kk {
				kk[i] = C.flowdb_key_ts_t{key: vs[i].key, key_len: vs[i].key_len, ts: vs[i].ts}
			}
		}
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_delete_batch(h, ks, C.size_t(len(keys)), &cerr), cerr)
	})
}

// DeleteRange deletes every record with start <= key < end (half-open).
func (e *Engine) DeleteRange(start, end []byte) error {
	a, an, fa := bytesArg(start)
	defer fa()
	b, bn, fb := bytesArg(end)
	defer fb()
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_delete_range(h, a, an, b, bn, &cerr), cerr)
	})
}

// Flush writes every memtable to tables.
func (e *Engine) Flush() error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_flush(h, &cerr), cerr)
	})
}

// TriggerCompaction merges every table into one; reports whether anything changed.
func (e *Engine) TriggerCompaction() (bool, error) {
	var done C.bool
	err := e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_trigger_compaction(h, &done, &cerr), cerr)
	})
	return bool(done), err
}

// TriggerGC purges expired records now; returns how many.
func (e *Engine) TriggerGC() (uint64, error) {
	var n C.uint64_t
	err := e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_trigger_gc(h, &n, &cerr), cerr)
	})
	return uint64(n), err
}

// MetricsText is the engine's metrics in the Prometheus text format.
func (e *Engine) MetricsText() (string, error) {
	var s string
	err := e.handle(func(h *C.flowdb_engine_t) error {
		var out *C.char
		var n C.size_t
		var cerr *C.flowdb_error_t
		if err := check(C.flowdb_engine_metrics_text(h, &out, &n, &cerr), cerr); err != nil {
			return err
		}
		s = C.GoStringN(out, C.int(n))
		C.flowdb_string_free(out)
		return nil
	})
	return s, err
}

// Stats returns the engine's stats.
func (e *Engine) Stats() (Stats, error) {
	var st Stats
	err := e.handle(func(h *C.flowdb_engine_t) error {
		var s C.flowdb_stats_t
		s.struct_size = C.sizeof_flowdb_stats_t
		var cerr *C.flowdb_error_t
		if err := check(C.flowdb_engine_stats(h, &s, &cerr), cerr); err != nil {
			return err
		}
		st = statsFromC(&s)
		return nil
	})
	return st, err
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

// GetSync is Get that reports any failure as "not found" (nil), like Rust's get_sync.
func (e *Engine) GetSync(key []byte, ts int64) *Record {
	r, err := e.Get(key, ts)
	if err != nil {
		return nil
	}
	return r
}
