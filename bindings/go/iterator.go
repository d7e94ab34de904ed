package flowdb

// Iterator: a lazy scan that can also be moved (Seek), for paging and for reading on
// from a position.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"iter"
	"runtime"
	"sync"
)

// Iterator is a lazy scan over a snapshot taken when it was made (later writes stay
// invisible to it, seeks included), in its Range's order: (key, ts) ascending, or
// newest first for a Reverse range, at most the range's Limit per position. Read it
// with Next and Record (or All; IsPoint tells a numeric point from bytes), move it
// with Seek, and Close it when done (it holds its snapshot; one dropped unclosed is
// freed by the garbage collector). Use it from one goroutine at a time.
type Iterator struct {
	mu      sync.Mutex
	it      *C.flowdb_iter_t
	cur     Record
	point   bool // cur was written as a numeric point
	err     error
	cleanup runtime.Cleanup
}

type iterHandle struct{ it *C.flowdb_iter_t }

func newIterator(it *C.flowdb_iter_t) *Iterator {
	liveHandles.Add(1)
	i := &Iterator{it: it}
	i.cleanup = runtime.AddCleanup(i, func(h iterHandle) {
		C.flowdb_iter_free(h.it)
		liveHandles.Add(-1)
	}, iterHandle{it})
	return i
}

// NewIterator starts a scan of r over the engine as of now.
func (e *Engine) NewIterator(r Range) (*Iterator, error) {
	var it *C.flowdb_iter_t
	err := withRange(r, func(cr *C.flowdb_range_t) error {
		return e.handle(func(h *C.flowdb_engine_t) error {
			var cerr *C.flowdb_error_t
			return check(C.flowdb_engine_scan(h, cr, &it, &cerr), cerr)
		})
	})
	if err != nil {
		return nil, err
	}
	return newIterator(it), nil
}

// NewIterator starts a scan of r as of the snapshot (the iterator may outlive it).
func (s *Snapshot) NewIterator(r Range) (*Iterator, error) {
	var it *C.flowdb_iter_t
	err := withRange(r, func(cr *C.flowdb_range_t) error {
		return s.handle(func(p *C.flowdb_snapshot_t) error {
			var cerr *C.flowdb_error_t
			return check(C.flowdb_snapshot_scan(p, cr, &it, &cerr), cerr)
		})
	})
	if err != nil {
		return nil, err
	}
	return newIterator(it), nil
}

var errIteratorClosed = newError(CodeClosed, "closed: the iterator was closed")

// Next moves to the next record and reports whether there is one (then read it with
// Record). False at the end of the scan or on an error (then Err returns it).
func (i *Iterator) Next() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.cur, i.point, i.err = Record{}, false, nil
	if i.it == nil {
		i.err = errIteratorClosed
		return false
	}
	var has C.bool
	var cerr *C.flowdb_error_t
	if err := check(C.flowdb_iter_next(i.it, &has, &cerr), cerr); err != nil {
		i.err = err
		return false
	}
	if !has {
		return false
	}
	var v C.flowdb_record_view_t
	C.flowdb_iter_record(i.it, &v, nil)
	var point C.bool
	C.flowdb_iter_is_point(i.it, &point, nil)
	i.cur, i.point = goRecord(&v), bool(point)
	return true
}

// Record is the record the last Next moved to (a copy, the caller's to keep); the
// zero Record when it returned false.
func (i *Iterator) Record() Record {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.cur
}

// IsPoint reports whether the record the last Next moved to was written as a numeric
// point (Engine.WritePoints, WriteBatch.PutPoint): its Value is then a float64's 8
// bytes, little-endian (Record.Float64 reads it). An 8-byte value written as bytes is
// no point. False before the first Next, when the last Next returned false, and after
// a Seek. In a loop over All, it is about the record just yielded.
func (i *Iterator) IsPoint() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.point
}

// Err is the error that ended the last Next, if any.
func (i *Iterator) Err() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.err
}

// Seek moves the scan to (key, ts) within its range, as RocksDB's Seek and, for a
// Reverse range, SeekForPrev: the next record is the first at or after (key, ts) in
// (key, ts) order, or for a reverse scan the first at or before it (reading then goes
// on backwards). A position before the range (in the scan's direction) restarts the
// scan from the range's beginning; one beyond it ends the scan. The range's Limit
// counts again from each seek (a page of at most Limit records per seek), and the
// scan keeps reading its snapshot. A seek also revives a scan that had ended or
// failed. Fails with ErrClosed after Close.
func (i *Iterator) Seek(key []byte, ts int64) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.cur, i.point = Record{}, false
	if i.it == nil {
		return errIteratorClosed
	}
	k, n, free := bytesArg(key)
	defer free()
	var cerr *C.flowdb_error_t
	return check(C.flowdb_iter_seek(i.it, k, n, C.int64_t(ts), &cerr), cerr)
}

// All yields the records from the current position to the end of the scan (or of
// its page, with a Limit), then an error if one ended it. Breaking out of the loop
// leaves the iterator where it was, to read on or Seek; it does not close it.
func (i *Iterator) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for i.Next() {
			if !yield(i.Record(), nil) {
				return
			}
		}
		if err := i.Err(); err != nil {
			yield(Record{}, err)
		}
	}
}

// Close frees the scan and its snapshot. Idempotent.
func (i *Iterator) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.it != nil {
		i.cleanup.Stop()
		C.flowdb_iter_free(i.it)
		liveHandles.Add(-1)
		i.it = nil
	}
	return nil
}
