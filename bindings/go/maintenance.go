package flowdb

// Maintenance and durability: the background maintenance thread, and the calls that
// do maintenance work now (flush, compaction, GC, retention, sync). These calls can
// take a while, so they take a context.Context; see ctxCheck for what it does.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
)

// Maintenance is a running background maintenance thread. Close stops it; one
// dropped without Close is stopped when the garbage collector reclaims it.
type Maintenance struct {
	mu      sync.Mutex
	m       *C.flowdb_maintenance_t
	cleanup runtime.Cleanup
}

type maintenanceHandle struct{ m *C.flowdb_maintenance_t }

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
	liveHandles.Add(1)
	mt := &Maintenance{m: m}
	mt.cleanup = runtime.AddCleanup(mt, func(mh maintenanceHandle) {
		C.flowdb_maintenance_stop(mh.m)
		liveHandles.Add(-1)
	}, maintenanceHandle{m})
	return mt, nil
}

// Close stops the thread and waits for it (a maintenance step under way finishes
// first). Idempotent; a nil *Maintenance (SpawnBackgroundMaintenance's answer when
// one already runs) closes too.
func (m *Maintenance) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m != nil {
		m.cleanup.Stop()
		C.flowdb_maintenance_stop(m.m)
		liveHandles.Add(-1)
		m.m = nil
	}
	return nil
}

// ctxCheck wraps a call that can take a while: ctx is checked just before the C call
// starts, and one already done returns ctx.Err() with nothing done. A call once
// started is not interrupted: the C library has no way to stop a flush, compaction,
// GC, retention pass or sync half-way, so it runs to its end whatever ctx does
// meanwhile (and the handle stays in use until then, so Close waits for it).
func ctxCheck[H any](ctx context.Context, f func(h H) error) func(h H) error {
	return func(h H) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return f(h)
	}
}

// Flush writes every memtable to tables. ctx: see TriggerCompaction.
func (e *Engine) Flush(ctx context.Context) error {
	return e.handle(ctxCheck(ctx, func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_flush(h, &cerr), cerr)
	}))
}

// TriggerCompaction merges every table into one run (cut into tables of about
// 64 MiB), which background compaction then leaves alone; reports whether anything
// changed.
//
// A context already done when the call is made returns ctx.Err() and nothing is
// done. Once begun, the work is not interrupted: cancelling ctx does not stop it and
// the call returns when it is finished. The same holds for Flush, RunCompactions,
// TriggerGC, EnforceRetention and Sync.
func (e *Engine) TriggerCompaction(ctx context.Context) (bool, error) {
	var done C.bool
	err := e.handle(ctxCheck(ctx, func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_trigger_compaction(h, &done, &cerr), cerr)
	}))
	return bool(done), err
}

// RunCompactions runs the merges background maintenance would run (the time-window
// policy), until none is due; returns how many steps did something. For programs that
// open with NoAutoBackground and schedule maintenance themselves. ctx: see
// TriggerCompaction (the steps run as one call, not interruptible between steps).
func (e *Engine) RunCompactions(ctx context.Context) (uint64, error) {
	var n C.uint64_t
	err := e.handle(ctxCheck(ctx, func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_run_compactions(h, &n, &cerr), cerr)
	}))
	return uint64(n), err
}

// EnforceRetention enforces the retention limits (Options.RetentionMaxAgeSecs,
// RetentionMaxBytes) now, as background maintenance does every tick. ok tells
// whether a cutoff was written: then every record with a TS below cutoff is gone.
// For programs that open with NoAutoBackground. ctx: see TriggerCompaction.
func (e *Engine) EnforceRetention(ctx context.Context) (cutoff int64, ok bool, err error) {
	var has C.bool
	var c C.int64_t
	err = e.handle(ctxCheck(ctx, func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_enforce_retention(h, &has, &c, &cerr), cerr)
	}))
	if err != nil || !bool(has) {
		return 0, false, err
	}
	return int64(c), true, nil
}

// TriggerGC purges expired records now; returns how many. ctx: see
// TriggerCompaction.
func (e *Engine) TriggerGC(ctx context.Context) (uint64, error) {
	var n C.uint64_t
	err := e.handle(ctxCheck(ctx, func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_trigger_gc(h, &n, &cerr), cerr)
	}))
	return uint64(n), err
}

// Sync flushes memtables and syncs the log; the engine stays open (the C API's
// flowdb_engine_sync, Rust's Engine::close). ctx: see TriggerCompaction.
func (e *Engine) Sync(ctx context.Context) error {
	return e.handle(ctxCheck(ctx, func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_sync(h, &cerr), cerr)
	}))
}

// Sync flushes and syncs the underlying engine; the database stays open (Rust's
// JsonDB::close). ctx: see Engine.TriggerCompaction.
func (db *JSONDB) Sync(ctx context.Context) error {
	return db.handle(ctxCheck(ctx, func(h *C.flowdb_jsondb_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_jsondb_sync(h, &cerr), cerr)
	}))
}

// EngineFlush flushes the underlying engine's memtables to tables. ctx: see
// Engine.TriggerCompaction.
func (db *JSONDB) EngineFlush(ctx context.Context) error {
	return db.handle(ctxCheck(ctx, func(h *C.flowdb_jsondb_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_jsondb_engine_flush(h, &cerr), cerr)
	}))
}

// EngineMetricsText is the underlying engine's metrics (Prometheus text format).
func (db *JSONDB) EngineMetricsText() (string, error) {
	j, err := db.text(func(h *C.flowdb_jsondb_t, o **C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_engine_metrics_text(h, o, c)
	})
	return string(j), err
}
