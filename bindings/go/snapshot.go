package flowdb

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

// Snapshot is a consistent, read-only view of an engine at one moment: its reads see
// the writes that returned before it was taken and none after, whatever flushes and
// compactions happen meanwhile. Safe for concurrent use. Close it when done (it
// holds the data of that moment); one dropped unclosed is freed by the garbage
// collector. It may outlive its engine: reads then fail with ErrClosed.
type Snapshot struct {
	mu      sync.RWMutex
	s       *C.flowdb_snapshot_t
	cleanup runtime.Cleanup
}

// Snapshot takes a snapshot of the engine as of now.
func (e *Engine) Snapshot() (*Snapshot, error) {
	var p *C.flowdb_snapshot_t
	err := e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_snapshot(h, &p, &cerr), cerr)
	})
	if err != nil {
		return nil, err
	}
	liveHandles.Add(1)
	s := &Snapshot{s: p}
	s.cleanup = runtime.AddCleanup(s, func(p *C.flowdb_snapshot_t) {
		C.flowdb_snapshot_free(p)
		liveHandles.Add(-1)
	}, p)
	return s, nil
}

// Close frees the snapshot. Idempotent.
func (s *Snapshot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s != nil {
		s.cleanup.Stop()
		C.flowdb_snapshot_free(s.s)
		liveHandles.Add(-1)
		s.s = nil
	}
	return nil
}

func (s *Snapshot) handle(f func(p *C.flowdb_snapshot_t) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.s == nil {
		return newError(CodeClosed, "closed: the snapshot was closed")
	}
	return f(s.s)
}

func (s *Snapshot) list(f func(p *C.flowdb_snapshot_t, out **C.flowdb_records_t, cerr **C.flowdb_error_t) uint32) ([]Record, error) {
	var recs []Record
	err := s.handle(func(p *C.flowdb_snapshot_t) error {
		var out *C.flowdb_records_t
		var cerr *C.flowdb_error_t
		if err := check(f(p, &out, &cerr), cerr); err != nil {
			return err
		}
		recs = goRecords(out)
		return nil
	})
	return recs, err
}

// Get returns the live record at (key, ts) as of the snapshot, or nil.
func (s *Snapshot) Get(key []byte, ts int64) (*Record, error) {
	k, n, free := bytesArg(key)
	defer free()
	return first(s.list(func(p *C.flowdb_snapshot_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_snapshot_get(p, k, n, C.int64_t(ts), o, c)
	}))
}

// GetLatest returns the live record of exactly key with the greatest ts as of the
// snapshot, or nil.
func (s *Snapshot) GetLatest(key []byte) (*Record, error) {
	k, n, free := bytesArg(key)
	defer free()
	return first(s.list(func(p *C.flowdb_snapshot_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_snapshot_get_latest(p, k, n, o, c)
	}))
}

// LastN returns the n live records of exactly key with the greatest ts as of the
// snapshot, newest first.
func (s *Snapshot) LastN(key []byte, n uint64) ([]Record, error) {
	k, kn, free := bytesArg(key)
	defer free()
	return s.list(func(p *C.flowdb_snapshot_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_snapshot_last_n(p, k, kn, C.uint64_t(n), o, c)
	})
}

// Query returns every live record in r as of the snapshot, in (key, ts) order
// (descending with Reverse), at most its Limit.
func (s *Snapshot) Query(r Range) ([]Record, error) {
	var recs []Record
	err := withRange(r, func(cr *C.flowdb_range_t) error {
		var err error
		recs, err = s.list(func(p *C.flowdb_snapshot_t, o **C.flowdb_records_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_snapshot_query(p, cr, o, c)
		})
		return err
	})
	return recs, err
}

// Scan iterates over the live records in r as of the snapshot, lazily, in r's order
// (newest first for r.Reverse()), at most its Limit.
func (s *Snapshot) Scan(r Range) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		var it *C.flowdb_iter_t
		if err := withRange(r, func(cr *C.flowdb_range_t) error {
			return s.handle(func(p *C.flowdb_snapshot_t) error {
				var cerr *C.flowdb_error_t
				return check(C.flowdb_snapshot_scan(p, cr, &it, &cerr), cerr)
			})
		}); err != nil {
			yield(Record{}, err)
			return
		}
		drain(it, yield)
	}
}
