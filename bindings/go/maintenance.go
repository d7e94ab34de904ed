package flowdb

// Background maintenance and durability calls: the maintenance thread handle, and
// flushing/syncing an engine or the engine under a JSON database.

/*
#include <stdlib.h>
#include <flowdb.h>
*/
import "C"

import (
	"runtime"
)

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

// Sync flushes memtables and syncs the log; the engine stays open (the C API's
// flowdb_engine_close, Rust's Engine::close).
func (e *Engine) Sync() error {
	return e.handle(func(h *C.flowdb_engine_t) error {
		var cerr *C.flowdb_error_t
		return check(C.flowdb_engine_close(h, &cerr), cerr)
	})
}

// Sync flushes and syncs the underlying engine; the database stays open (Rust's
// JsonDB::close).
func (db *JsonDB) Sync() error {
	return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 { return C.flowdb_jsondb_close(h, c) })
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
