package flowdb

/*
#include <stdlib.h>
#include <string.h>
#include <flowdb.h>
*/
import "C"

import (
	"errors"
	"runtime"
	"strconv"
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

// Compression says how data blocks of records are compressed (Options.BlockCompression).
// Index, filter and other metadata blocks, and blocks of numeric points, are always
// zstd; tables written under one setting stay readable under any other.
type Compression int32

const (
	CompressionDefault Compression = iota // the default: LZ4
	CompressionNone                       // stored as they are: the most disk, no decompression
	CompressionZstd                       // zstd at ZstdLevel: the smallest files; reads that miss the cache are slower
	CompressionLZ4                        // LZ4: files about a fifth larger than zstd's; blocks decompress about three times faster
)

// Options are the engine's configuration; zero values mean the library defaults.
type Options struct {
	DefaultTTLSecs       uint64 // 0: records never expire by default
	GCIntervalSecs       uint64
	MemtableSizeMB       uint64
	MaxFrozenMemtables   uint64
	BlockSize            uint64
	FlushIntervalMs      uint64
	TimeBucketSecs       uint64 // width of a compaction time window (default 3600)
	IndexMemoryBudgetMB  uint64
	BlockCacheCapacityMB *uint64 // nil: default; 0 disables the cache
	BloomBitsPerKey      *uint64 // nil: default; 0 disables filters
	WALSegmentSizeMB     uint64
	CompactionThreshold  uint64 // runs of one level that trigger a merge; below 4 acts as 4
	NoCreateIfMissing    bool
	NoAutoBackground     bool
	SyncMode             SyncMode
	SyncIntervalMs       uint64 // for SyncInterval (default 1000)

	// Tuning beyond the configuration (Rust's Tuning); 0 means the default.
	BlockCompression     Compression // how data blocks of records are compressed (default CompressionLZ4)
	ZstdLevel            int32       // zstd level for metadata, numeric and CompressionZstd blocks (default -1; -7..-1 or 1..19)
	BlockRestartInterval uint64      // entries between full keys in a block (default 16)
	IndexPartitionBlocks uint64      // data blocks per index partition (default 128)
	TargetTableBytes     uint64      // where flush and compaction cut tables (default 64 MiB)
	RetentionMaxAgeSecs  uint64      // retention by age: records with a TS older than this go (0: no limit)
	RetentionMaxBytes    uint64      // retention by size: past this many table bytes the oldest data goes (0: no limit)
	// MemtablesInBlockCache charges the memtables' memory to the block cache: while
	// they hold M bytes the cache holds at most its capacity less M (never less than
	// an eighth), as RocksDB's WriteBufferManager with cost_to_cache (default false).
	MemtablesInBlockCache bool

	// MetricsLabels are constant labels put on every sample of MetricsText, in this
	// order (e.g. {Name: "db", Value: "sensors"}), so that several databases in one
	// process export distinguishable series (docs/metrics.md).
	MetricsLabels []MetricsLabel

	// Rollups are downsampling rules (RollupRule; docs/numeric.md, "Rollups"), each
	// kept in a rollup of its own, read with RollupQuery and RollupAggregate.
	Rollups []RollupRule
}

// MetricsLabel is one constant label of an engine's metrics.
type MetricsLabel struct{ Name, Value string }

// options builds C options for dir and o (freed by the caller).
func options(dir string, o *Options) (*C.flowdb_options_t, error) {
	if o == nil {
		o = &Options{}
	}
	p := C.flowdb_options_new()
	var cerr *C.flowdb_error_t
	set := func(st uint32) error { return check(st, cerr) }
	errs := []error{withStr([]string{"dir"}, []string{dir}, func(d []*C.char) error {
		return set(C.flowdb_options_set_data_dir(p, d[0], &cerr))
	})}
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
	u(o.BlockRestartInterval, func(v uint64) uint32 { return C.flowdb_options_set_block_restart_interval(p, C.uint64_t(v), &cerr) })
	u(o.IndexPartitionBlocks, func(v uint64) uint32 { return C.flowdb_options_set_index_partition_blocks(p, C.uint64_t(v), &cerr) })
	u(o.TargetTableBytes, func(v uint64) uint32 { return C.flowdb_options_set_target_table_bytes(p, C.uint64_t(v), &cerr) })
	u(o.RetentionMaxAgeSecs, func(v uint64) uint32 { return C.flowdb_options_set_retention_max_age_secs(p, C.uint64_t(v), &cerr) })
	u(o.RetentionMaxBytes, func(v uint64) uint32 { return C.flowdb_options_set_retention_max_bytes(p, C.uint64_t(v), &cerr) })
	for i, l := range o.MetricsLabels {
		arg := "Options.MetricsLabels[" + strconv.Itoa(i) + "]"
		errs = append(errs, withStr([]string{arg + ".Name", arg + ".Value"}, []string{l.Name, l.Value}, func(nv []*C.char) error {
			return set(C.flowdb_options_add_metrics_label(p, nv[0], nv[1], &cerr))
		}))
	}
	for i, r := range o.Rollups {
		errs = append(errs, addRollup(p, i, r))
	}
	switch o.BlockCompression {
	case CompressionDefault:
	case CompressionNone, CompressionZstd, CompressionLZ4:
		errs = append(errs, set(C.flowdb_options_set_block_compression(p, C.int32_t(o.BlockCompression-1), &cerr)))
	default:
		errs = append(errs, newError(CodeInvalidArgument, "invalid argument: Options.BlockCompression: block compression "+strconv.Itoa(int(o.BlockCompression))+" is not a Compression"))
	}
	if o.ZstdLevel != 0 {
		errs = append(errs, set(C.flowdb_options_set_zstd_level(p, C.int32_t(o.ZstdLevel), &cerr)))
	}
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
	errs = append(errs, set(C.flowdb_options_set_memtables_in_block_cache(p, C.bool(o.MemtablesInBlockCache), &cerr)))
	interval := o.SyncIntervalMs
	if interval == 0 {
		interval = 1000
	}
	errs = append(errs, set(C.flowdb_options_set_sync_mode(p, C.enum_flowdb_sync_mode_t(o.SyncMode), C.uint64_t(interval), &cerr)))
	if err := errors.Join(errs...); err != nil {
		C.flowdb_options_free(p)
		return nil, err
	}
	return p, nil
}

// Record is one time-series point; TS and ExpireAt are microseconds since the Unix
// epoch (ExpireAt = NeverExpires: never).
type Record struct {
	Key      []byte
	TS       int64
	ExpireAt int64
	Value    []byte
}

// NeverExpires is the ExpireAt of a record without expiry.
const NeverExpires = int64(^uint64(0) >> 1)

// Engine is an open flowdb engine; safe for concurrent use. Close it when done.
type Engine struct {
	mu      sync.RWMutex
	h       *C.flowdb_engine_t
	events  *listener // SetEventListener's (events.go)
	cleanup runtime.Cleanup
}

type engineHandle struct {
	h      *C.flowdb_engine_t
	events *listener
}

// Open opens (or creates) the database in dir.
func Open(dir string, opts *Options) (*Engine, error) {
	var h *C.flowdb_engine_t
	err := openWith(dir, opts, func(o *C.flowdb_options_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_open(o, &h, c)
	})
	if err != nil {
		return nil, err
	}
	return newEngine(h), nil
}

// openWith builds the C options for dir and opts and runs open (one of the C open
// calls, writing its handle) on them: Open, OpenJSONDB and their read-only forms.
func openWith(dir string, opts *Options, open func(*C.flowdb_options_t, **C.flowdb_error_t) uint32) error {
	o, err := options(dir, opts)
	if err != nil {
		return err
	}
	defer C.flowdb_options_free(o)
	var cerr *C.flowdb_error_t
	return check(open(o, &cerr), cerr)
}

// newEngine wraps an open C handle.
func newEngine(h *C.flowdb_engine_t) *Engine {
	liveHandles.Add(1)
	e := &Engine{h: h, events: new(listener)}
	// A net for engines never closed: free the handle (nothing acknowledged is lost;
	// the free waits for the event listener's last call, then its func is let go).
	e.cleanup = runtime.AddCleanup(e, func(eh engineHandle) {
		C.flowdb_engine_free(eh.h)
		eh.events.mu.Lock()
		eh.events.drop()
		eh.events.mu.Unlock()
		liveHandles.Add(-1)
	}, engineHandle{h, e.events})
	return e
}

// handle runs f with the C handle, or returns ErrClosed after Close.
func (e *Engine) handle(f func(h *C.flowdb_engine_t) error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.h == nil {
		return newError(CodeClosed, "closed: the engine was closed")
	}
	return f(e.h)
}

// Close removes the event listener (waiting for its last call), shuts the engine
// down (flush, stop background work, release the lock) and frees it. Idempotent.
func (e *Engine) Close() error {
	// The listener goes first, before e.mu is locked: its last call may be using the
	// engine (e.mu read-locked) meanwhile.
	e.events.mu.Lock()
	defer e.events.mu.Unlock()
	if e.events.h != 0 {
		_ = e.listen(0)
	}
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
	e.events.drop()
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
		views[i].ts = C.int64_t(r.TS)
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

// KeyTS names one record for DeleteBatch.
type KeyTS struct {
	Key []byte
	TS  int64
}

// DeleteBatch deletes the records atomically (absent ones are fine).
func (e *Engine) DeleteBatch(keys []KeyTS) error {
	recs := make([]Record, len(keys))
	for i, k := range keys {
		recs[i] = Record{Key: k.Key, TS: k.TS}
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

// DeleteTimeRange deletes every record with start <= key < end (half-open, as
// DeleteRange) and tsStart <= ts <= tsEnd (inclusive, as query time ranges): one
// range tombstone, whatever the number of records it hides. start == end deletes
// nothing; start > end or tsStart > tsEnd is ErrInvalidArgument.
func (e *Engine) DeleteTimeRange(start, end []byte, tsStart, tsEnd int64) error {
	a, an, fa := bytesArg(start)
	defer fa()
	b, bn, fb := bytesArg(end)
	defer fb()
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_delete_time_range(h, a, an, b, bn, C.int64_t(tsStart), C.int64_t(tsEnd), &cerr), cerr)
	})
}

// DeleteBefore deletes every record of every key with a TS below ts ("keep nothing
// older than ts"); math.MinInt64 deletes nothing.
func (e *Engine) DeleteBefore(ts int64) error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_delete_before(h, C.int64_t(ts), &cerr), cerr)
	})
}

// DeletePrefixBefore deletes every record whose key begins with prefix and whose TS
// is below ts.
func (e *Engine) DeletePrefixBefore(prefix []byte, ts int64) error {
	p, pn, fp := bytesArg(prefix)
	defer fp()
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_delete_prefix_before(h, p, pn, C.int64_t(ts), &cerr), cerr)
	})
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
