package flowdb

// Series listing: the distinct keys under a prefix, from metadata.

/*
#include <flowdb.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// SeriesInfo describes one series (a distinct key) as the engine's metadata does.
// Points is an estimate (no point is read): it counts the stored versions not yet
// merged away, so a point overwritten counts once per version and a deleted (or
// expired) one until compaction drops it; without overwrites, deletes or expiry it is
// exact. FirstTS and LastTS are the least and greatest ts stored for the key: exact
// unless points were deleted since (deletes leave them as they were until
// compaction, except a time-range delete covering a whole table's part of the key).
type SeriesInfo struct {
	Key             []byte
	Points          uint64
	FirstTS, LastTS int64
}

// goSeries copies a C series list into Go memory and frees it.
func goSeries(list *C.flowdb_series_t) []SeriesInfo {
	defer C.flowdb_series_free(list)
	n := int(C.flowdb_series_len(list))
	out := make([]SeriesInfo, 0, n)
	for i := 0; i < n; i++ {
		var v C.flowdb_series_view_t
		C.flowdb_series_at(list, C.size_t(i), &v, nil)
		out = append(out, SeriesInfo{
			Key:     C.GoBytes(unsafe.Pointer(v.key), C.int(v.key_len)),
			Points:  uint64(v.points),
			FirstTS: int64(v.first_ts),
			LastTS:  int64(v.last_ts),
		})
	}
	return out
}

// pageArgs runs f with the C forms of a series page's arguments.
func pageArgs(prefix, after []byte, limit int, f func(p *C.uint8_t, pn C.size_t, a *C.uint8_t, an C.size_t, n C.uint64_t) error) error {
	n := C.uint64_t(^uint64(0)) // UINT64_MAX: all
	if limit >= 0 {
		n = C.uint64_t(limit)
	}
	p, pn, fp := bytesArg(prefix)
	defer fp()
	a, an, fa := bytesArg(after)
	defer fa()
	return f(p, pn, a, an, n)
}

func negativeLimit(limit int) error {
	return newError(CodeInvalidArgument, fmt.Sprintf("invalid argument: limit %d is negative", limit))
}

// Series lists every series whose key begins with prefix (the empty prefix: all), in
// key order, from metadata: no point is read (see SeriesInfo for what is estimated).
// No match is an empty list.
func (e *Engine) Series(prefix string) ([]SeriesInfo, error) {
	return e.seriesPage([]byte(prefix), nil, -1)
}

// SeriesPage is one page of Series: at most limit series under prefix whose key is
// greater than after (empty: from the first), in key order. The next page is
// SeriesPage(prefix, <the last key of this one>, limit); a page shorter than limit is
// the last. A negative limit is ErrInvalidArgument.
func (e *Engine) SeriesPage(prefix, after []byte, limit int) ([]SeriesInfo, error) {
	if limit < 0 {
		return nil, negativeLimit(limit)
	}
	return e.seriesPage(prefix, after, limit)
}

// seriesPage lists a page; a negative limit means all.
func (e *Engine) seriesPage(prefix, after []byte, limit int) ([]SeriesInfo, error) {
	var out []SeriesInfo
	err := pageArgs(prefix, after, limit, func(p *C.uint8_t, pn C.size_t, a *C.uint8_t, an C.size_t, n C.uint64_t) error {
		return e.handle(func(h *C.flowdb_engine_t) error {
			var list *C.flowdb_series_t
			var cerr *C.flowdb_error_t
			if err := check(C.flowdb_engine_series(h, p, pn, a, an, n, &list, &cerr), cerr); err != nil {
				return err
			}
			out = goSeries(list)
			return nil
		})
	})
	return out, err
}

// Series is Engine.Series as of the snapshot.
func (s *Snapshot) Series(prefix string) ([]SeriesInfo, error) {
	return s.seriesPage([]byte(prefix), nil, -1)
}

// SeriesPage is Engine.SeriesPage as of the snapshot.
func (s *Snapshot) SeriesPage(prefix, after []byte, limit int) ([]SeriesInfo, error) {
	if limit < 0 {
		return nil, negativeLimit(limit)
	}
	return s.seriesPage(prefix, after, limit)
}

func (s *Snapshot) seriesPage(prefix, after []byte, limit int) ([]SeriesInfo, error) {
	var out []SeriesInfo
	err := pageArgs(prefix, after, limit, func(p *C.uint8_t, pn C.size_t, a *C.uint8_t, an C.size_t, n C.uint64_t) error {
		return s.handle(func(sp *C.flowdb_snapshot_t) error {
			var list *C.flowdb_series_t
			var cerr *C.flowdb_error_t
			if err := check(C.flowdb_snapshot_series(sp, p, pn, a, an, n, &list, &cerr), cerr); err != nil {
				return err
			}
			out = goSeries(list)
			return nil
		})
	})
	return out, err
}
