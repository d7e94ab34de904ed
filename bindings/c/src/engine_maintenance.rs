//! The engine's maintenance, for applications that schedule it themselves (open with
//! auto_background off) or want it now: flush, compaction, retention, GC of expired
//! records, and the background maintenance thread (`flowdb_maintenance_t`).

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put, put_opt};
use flowdb::engine::MaintenanceHandle;

/// Flushes every memtable to tables.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_flush(
    engine: *const flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_engine(engine, |e| e.flush()) })
}

/// Merges every table into one run (cut into tables of about 64 MiB), which
/// background compaction then leaves alone; `*compacted` (may be NULL) tells whether
/// anything was rewritten.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_trigger_compaction(
    engine: *const flowdb_engine_t,
    compacted: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let c = with_engine(engine, |e| e.trigger_compaction())?;
        put_opt(compacted, c);
        Ok(())
    })
}

/// Runs the merges background maintenance would run (the time-window policy), until
/// none is due; `*steps` (may be NULL) receives how many steps did something. For
/// applications that open with auto_background off and schedule maintenance
/// themselves.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_run_compactions(
    engine: *const flowdb_engine_t,
    steps: *mut u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let n = with_engine(engine, |e| e.run_compactions())?;
        put_opt(steps, n);
        Ok(())
    })
}

/// Enforces the retention limits (`flowdb_options_set_retention_max_age_secs`,
/// `flowdb_options_set_retention_max_bytes`) now, as background maintenance does
/// every tick: writes the delete-before they call for and deletes the tables it
/// wholly covers. `*has_cutoff` (may be NULL) receives whether a cutoff was written,
/// and `*cutoff` (may be NULL) the cutoff: every record with `ts < *cutoff` is gone
/// (`INT64_MIN` when nothing was due, or no limit is set). For applications that
/// open with auto_background off. Errors: `FLOWDB_CLOSED` after shutdown,
/// `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_enforce_retention(
    engine: *const flowdb_engine_t,
    has_cutoff: *mut bool,
    cutoff: *mut i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let c = with_engine(engine, |e| e.enforce_retention())?;
        put_opt(has_cutoff, c.is_some());
        put_opt(cutoff, c.unwrap_or(i64::MIN));
        Ok(())
    })
}

/// Purges expired records now; `*purged` (may be NULL) receives how many.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_trigger_gc(
    engine: *const flowdb_engine_t,
    purged: *mut u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let n = with_engine(engine, |e| e.trigger_gc())?;
        put_opt(purged, n);
        Ok(())
    })
}

/// A running background maintenance thread; stop (and free) it with
/// `flowdb_maintenance_stop`, from any one thread.
#[derive(Debug)]
pub struct flowdb_maintenance_t {
    handle: MaintenanceHandle,
}

/// Starts background maintenance; `*out` receives its handle, or NULL when it
/// already runs (as it does after open with auto_background). Stop it with
/// `flowdb_maintenance_stop`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_spawn_background_maintenance(
    engine: *const flowdb_engine_t,
    out: *mut *mut flowdb_maintenance_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let h = with_engine(engine, |e| Ok(e.spawn_background_maintenance()))?;
        let p = h.map_or(std::ptr::null_mut(), |handle| {
            Box::into_raw(Box::new(flowdb_maintenance_t { handle }))
        });
        put(out, p, "out")
    })
}

/// Stops the thread, waits for it, and frees the handle. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_maintenance_stop(m: *mut flowdb_maintenance_t) {
    if !m.is_null() {
        // SAFETY: made by flowdb_engine_spawn_background_maintenance, freed once.
        no_unwind((), || unsafe { Box::from_raw(m) }.handle.stop());
    }
}
