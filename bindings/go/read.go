package flowdb

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"iter"
	"unsafe"
)

// Reads: gets, ranges, queries and lazy scans.

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
		TS:       int64(v.ts),
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

// LastN returns the n live records of exactly key with the greatest ts, newest first
// (fewer when the key holds fewer; none for n = 0), in one backwards walk. The
// values are copied (see the package doc: no lending form in Go).
func (e *Engine) LastN(key []byte, n uint64) ([]Record, error) {
	k, kn, free := bytesArg(key)
	defer free()
	return e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_engine_last_n(h, k, kn, C.uint64_t(n), o, c)
	})
}

// Range says what a query or scan covers (key and time ranges include both ends), in
// which order and how much of it: Reverse makes it newest first, Limit keeps the first
// n records. A Range is a plain value: each builder returns a changed copy.
type Range struct {
	kind           int
	a, b           []byte
	tsStart, tsEnd int64
	timeRestricted bool
	reverse        bool
	limited        bool
	limit          int
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

// Reverse makes the range newest first: records in descending (key, ts) order, the
// greatest key first and each key's points newest first, read backwards (not
// collected and turned round).
func (r Range) Reverse() Range {
	r.reverse = true
	return r
}

// Limit keeps at most n records, the first n in the read's order (the n smallest
// (key, ts), or with Reverse the n greatest); reading stops there. Limit(0) returns
// none; a negative n makes the read fail with ErrInvalidArgument. An Iterator's limit
// counts again from each Seek (a page of at most n records per seek).
func (r Range) Limit(n int) Range {
	r.limited, r.limit = true, n
	return r
}

// c builds the C range (freed by the caller with C.flowdb_range_free).
func (r Range) c() (*C.flowdb_range_t, error) {
	if r.limited && r.limit < 0 {
		return nil, negativeLimit(r.limit)
	}
	a, an, freeA := bytesArg(r.a)
	defer freeA()
	b, bn, freeB := bytesArg(r.b)
	defer freeB()
	var cr *C.flowdb_range_t
	switch {
	case r.kind == 0 && !r.timeRestricted:
		cr = C.flowdb_range_all()
	case r.kind == 0:
		cr = C.flowdb_range_time(C.int64_t(r.tsStart), C.int64_t(r.tsEnd))
	case r.kind == 1 && !r.timeRestricted:
		cr = C.flowdb_range_prefix(a, an)
	case r.kind == 1:
		cr = C.flowdb_range_prefix_time(a, an, C.int64_t(r.tsStart), C.int64_t(r.tsEnd))
	case !r.timeRestricted:
		cr = C.flowdb_range_key(a, an, b, bn)
	default:
		cr = C.flowdb_range_key_time(a, an, b, bn, C.int64_t(r.tsStart), C.int64_t(r.tsEnd))
	}
	var cerr *C.flowdb_error_t
	if r.reverse {
		if err := check(C.flowdb_range_set_reverse(cr, true, &cerr), cerr); err != nil {
			C.flowdb_range_free(cr)
			return nil, err
		}
	}
	if r.limited {
		if err := check(C.flowdb_range_set_limit(cr, C.uint64_t(r.limit), &cerr), cerr); err != nil {
			C.flowdb_range_free(cr)
			return nil, err
		}
	}
	return cr, nil
}

// withRange runs f with r as a C range, freed when f returns.
func withRange(r Range, f func(cr *C.flowdb_range_t) error) error {
	cr, err := r.c()
	if err != nil {
		return err
	}
	defer C.flowdb_range_free(cr)
	return f(cr)
}

// Query returns every live record in r, in (key, ts) order (descending with
// Reverse), at most its Limit.
func (e *Engine) Query(r Range) ([]Record, error) {
	var recs []Record
	err := withRange(r, func(cr *C.flowdb_range_t) error {
		var err error
		recs, err = e.list(func(h *C.flowdb_engine_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_engine_query(h, cr, o, c)
		})
		return err
	})
	return recs, err
}

// Scan iterates the live records of r lazily, over a snapshot taken when iteration
// starts: in (key, ts) order, or newest first for r.Reverse() (a reverse scan in a
// range-over-func loop), at most r's Limit. Breaking out of the loop frees the scan.
// NewIterator gives a scan that can also Seek, and tell numeric points (IsPoint).
func (e *Engine) Scan(r Range) iter.Seq2[Record, error] {
	return e.scan(r, ReadOptions{FillCache: true, VerifyChecksums: true})
}

func (e *Engine) scan(r Range, o ReadOptions) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		var it *C.flowdb_iter_t
		if err := withRange(r, func(cr *C.flowdb_range_t) error {
			return e.handle(func(h *C.flowdb_engine_t) error {
				var cerr *C.flowdb_error_t
				return check(C.flowdb_engine_scan_opt(h, cr, C.bool(o.FillCache), C.bool(o.VerifyChecksums), &it, &cerr), cerr)
			})
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
