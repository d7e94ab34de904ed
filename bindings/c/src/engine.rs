//! `flowdb_engine_t`: open, sync, shutdown and free; writes, deletes, patches;
//! maintenance; stats and metrics.
//!
//! An engine handle may be used from many threads at once. After
//! `flowdb_engine_shutdown` the handle stays valid but every call on it returns
//! `FLOWDB_CLOSED`, until `flowdb_engine_free`.

use std::ffi::{c_char, CString};

use parking_lot::RwLock;

use super::error::{
    bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put, put_cstring,
};
use super::options::{flowdb_options_t, open_into};
use super::records::{flowdb_record_view_t, flowdb_records_t, records, RecordList};
use flowdb::engine::{Engine, MaintenanceHandle};
use flowdb::error::{Error, Result};

/// An open engine. Thread-safe.
#[derive(Debug)]
pub struct flowdb_engine_t {
    engine: RwLock<Option<Engine>>,
}

/// A `(key, ts)` pair, for `flowdb_engine_delete_batch`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_key_ts_t {
    pub key: *const u8,
    pub key_len: usize,
    pub ts: i64,
}

/// Runs `f` on the engine behind a handle: `FLOWDB_INVALID_ARGUMENT` for NULL,
/// `FLOWDB_CLOSED` after shutdown.
pub(crate) unsafe fn with_engine<T>(
    h: *const flowdb_engine_t,
    f: impl FnOnce(&Engine) -> Result<T>,
) -> Result<T> {
    // SAFETY: NULL or a live handle from flowdb_engine_open (documented).
    let h = unsafe { h.as_ref() }.ok_or_else(|| null("engine"))?;
    let g = match in_callback() {
        // A C callback running inside a call (a last_n visit) may call the engine
        // again through this handle: a plain read lock would queue that call behind
        // a shutdown waiting for the outer call to end, and neither would.
        true => h.engine.read_recursive(),
        // Otherwise a plain one: a waiting shutdown is not starved by new readers.
        false => h.engine.read(),
    };
    let e = g
        .as_ref()
        .ok_or_else(|| Error::Closed("the engine was shut down".into()))?;
    f(e)
}

thread_local! {
    /// How many C callbacks this thread is running from inside a flowdb call.
    static CALLBACKS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether this thread is inside a C callback that a flowdb call is running.
pub(crate) fn in_callback() -> bool {
    CALLBACKS.with(|c| c.get() > 0)
}

/// Shutting down (or moving the engine out of its handle) from inside a callback (an
/// event listener, a `last_n_visit` visitor, an upgrade) would wait for the callback
/// itself: refused. `what` names the call, as the message's subject.
pub(crate) fn refuse_in_callback(what: &str) -> Result<()> {
    match in_callback() {
        true => Err(Error::Busy(format!(
            "{what} from inside a flowdb callback would wait for that callback: call it \
             after the callback returns"
        ))),
        false => Ok(()),
    }
}

/// Runs `f`, a call of a C callback from inside a flowdb call (see `with_engine`).
pub(crate) fn calling_back<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CALLBACKS.with(|c| c.set(c.get() - 1));
        }
    }
    CALLBACKS.with(|c| c.set(c.get() + 1));
    let _leave = Leave;
    f()
}

/// A handle for `engine`.
pub(crate) fn engine_handle(engine: Engine) -> flowdb_engine_t {
    flowdb_engine_t {
        engine: RwLock::new(Some(engine)),
    }
}

/// Moves the engine out of its handle (which then answers `FLOWDB_CLOSED`) into what
/// `into` makes of it; when that fails, the engine goes back into the handle, still
/// open, and the error is returned. The handle's lock is not held while `into` runs:
/// a listener calling the handle meanwhile gets `FLOWDB_CLOSED`, not a deadlock.
pub(crate) unsafe fn move_engine<T>(
    h: *const flowdb_engine_t,
    into: impl FnOnce(Engine) -> std::result::Result<T, (Error, Engine)>,
) -> Result<T> {
    // SAFETY: NULL or a live handle.
    let h = unsafe { h.as_ref() }.ok_or_else(|| null("engine"))?;
    refuse_in_callback("moving the engine into a database")?;
    let taken = h.engine.write().take();
    let e = taken.ok_or_else(|| Error::Closed("the engine was shut down or moved".into()))?;
    into(e).map_err(|(err, e)| {
        *h.engine.write() = Some(e);
        err
    })
}

/// Opens (or creates) the database described by `opts` into `*out`.
/// Errors: `FLOWDB_INVALID_ARGUMENT` (a bad option, named in the message),
/// `FLOWDB_LOCKED` (another open handle), `FLOWDB_CORRUPTION`, `FLOWDB_IO`.
/// Free the handle with `flowdb_engine_free`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_open(
    opts: *const flowdb_options_t,
    out: *mut *mut flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_into(opts, out, |o| Ok(engine_handle(o.open_engine()?)))
    })
}

/// Flushes memtables to tables and syncs the log (Rust's `Engine::close`); the
/// engine stays open and usable. Errors: `FLOWDB_CLOSED` after shutdown, `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_sync(
    engine: *const flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_engine(engine, |e| e.close()) })
}

/// Deprecated name of `flowdb_engine_sync` (kept for the 0.7 ABI): despite the name
/// it does not close anything; the engine stays open. To close, use
/// `flowdb_engine_shutdown` then `flowdb_engine_free`.
#[deprecated(note = "use flowdb_engine_sync (same call; the engine stays open)")]
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_close(
    engine: *const flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { flowdb_engine_sync(engine, err) }
}

/// Syncs (as `flowdb_engine_sync`), stops background work and releases the directory
/// lock. The handle stays valid (calls return `FLOWDB_CLOSED`) until
/// `flowdb_engine_free`, which must still be called.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_shutdown(
    engine: *const flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    guard(err, || {
        // SAFETY: NULL or a live handle.
        let h = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        refuse_in_callback("a shutdown")?;
        let taken = h.engine.write().take();
        match taken {
            Some(e) => e.shutdown(),
            None => Err(Error::Closed("the engine was already shut down".into())),
        }
    })
}

/// Frees the handle (without shutdown it still loses no acknowledged write). NULL
/// does nothing. No other call may use the handle during or after this one.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_free(engine: *mut flowdb_engine_t) {
    if !engine.is_null() {
        no_unwind((), || {
            // The engine first, out of the handle under its lock: its drop waits for
            // the event listener's last call, and a listener calling the handle
            // meanwhile must find it closed (`FLOWDB_CLOSED`), not an engine being
            // dropped. The handle's memory goes once nothing can call through it.
            // SAFETY: made by flowdb_engine_open, live until the Box::from_raw below.
            let taken = unsafe { &*engine }.engine.write().take();
            drop(taken);
            // SAFETY: made by flowdb_engine_open, freed once.
            drop(unsafe { Box::from_raw(engine) })
        });
    }
}

/// Writes `n` records atomically (all or none, also across a crash). Records keep
/// their own `expire_at`; else the default TTL applies. Nothing is written when any
/// record is invalid (`FLOWDB_INVALID_ARGUMENT` names it).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.write_batch_owned(records(recs, n)?))
    })
}

/// Same as `flowdb_engine_write_batch` (in C the library always copies the records;
/// kept so every Rust write form has a C function).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch_owned(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { flowdb_engine_write_batch(engine, recs, n, err) }
}

/// `flowdb_engine_write_batch`, durable on stable storage when it returns, whatever
/// the sync mode.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch_sync(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.write_batch_sync(records(recs, n)?))
    })
}

/// `flowdb_engine_write_batch` with a batch TTL: when `has_ttl`, every record gets
/// `expire_at = ts + ttl_secs` seconds (overriding its own).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch_ttl(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    has_ttl: bool,
    ttl_secs: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| {
            e.write_batch_ttl(&records(recs, n)?, has_ttl.then_some(ttl_secs))
        })
    })
}

/// Deletes the `n` records `(key, ts)` atomically (absent ones are fine).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_batch(
    engine: *const flowdb_engine_t,
    keys: *const flowdb_key_ts_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if n > 0 && keys.is_null() {
            return Err(null("keys"));
        }
        let ks = if n == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(keys, n)
        };
        let mut owned = Vec::with_capacity(n);
        for (i, k) in ks.iter().enumerate() {
            owned.push((bytes(k.key, k.key_len, &format!("keys[{i}].key"))?, k.ts));
        }
        with_engine(engine, |e| e.delete_batch_bytes(&owned))
    })
}

/// Deletes every record with `start <= key < end` (half-open, as RocksDB's
/// DeleteRange); `start == end` deletes nothing, `start > end` is an error.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_range(
    engine: *const flowdb_engine_t,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, e) = (
            bytes(start, start_len, "start")?,
            bytes(end, end_len, "end")?,
        );
        with_engine(engine, |eng| eng.delete_range_bytes(s, e))
    })
}

/// Deletes every record with `start <= key < end` (half-open, as
/// `flowdb_engine_delete_range`) and `ts_start <= ts <= ts_end` (inclusive, as the
/// time ranges of queries). One range tombstone is written, whatever the number of
/// records it hides: reads skip them at once, compaction drops them later, and a
/// table wholly inside the region is deleted without a rewrite. `start == end`
/// deletes nothing. Errors: `FLOWDB_INVALID_ARGUMENT` when `start > end`, when
/// `ts_start > ts_end`, or for NULL with a length; `FLOWDB_CLOSED` after shutdown;
/// `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_time_range(
    engine: *const flowdb_engine_t,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    ts_start: i64,
    ts_end: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, e) = (
            bytes(start, start_len, "start")?,
            bytes(end, end_len, "end")?,
        );
        with_engine(engine, |eng| {
            eng.delete_time_range_bytes(s, e, ts_start, ts_end)
        })
    })
}

/// Deletes every record of every key whose ts is below `ts` (exclusive: "keep
/// nothing older than `ts`"); `ts = INT64_MIN` deletes nothing. One range tombstone, as
/// `flowdb_engine_delete_time_range`. Errors: `FLOWDB_CLOSED` after shutdown,
/// `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_before(
    engine: *const flowdb_engine_t,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.delete_before(ts))
    })
}

/// Deletes every record whose key begins with the bytes `(prefix, prefix_len)` and
/// whose ts is below `ts` (exclusive); `ts = INT64_MIN` deletes nothing, an empty prefix
/// is every key (as `flowdb_engine_delete_before`). Errors:
/// `FLOWDB_INVALID_ARGUMENT` for NULL with a length; `FLOWDB_CLOSED` after
/// shutdown; `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_prefix_before(
    engine: *const flowdb_engine_t,
    prefix: *const u8,
    prefix_len: usize,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let p = bytes(prefix, prefix_len, "prefix")?;
        with_engine(engine, |e| e.delete_prefix_before_bytes(p, ts))
    })
}

/// Replaces the value (when `set_value`) and/or sets `expire_at = ts + ttl_secs`
/// (when `set_ttl`) of a live record, and returns the stored record in `*out` (a list
/// of one, freed with `flowdb_records_free`). Missing or expired: `FLOWDB_NOT_FOUND`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_patch_record(
    engine: *const flowdb_engine_t,
    key: *const u8,
    key_len: usize,
    ts: i64,
    set_value: bool,
    value: *const u8,
    value_len: usize,
    set_ttl: bool,
    ttl_secs: u64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let k = bytes(key, key_len, "key")?;
        let v = if set_value {
            Some(bytes(value, value_len, "value")?.to_vec())
        } else {
            None
        };
        let r = with_engine(engine, |e| {
            e.patch_record_bytes(k, ts, v, set_ttl.then_some(ttl_secs))
        })?;
        put(out, RecordList::boxed(vec![r]), "out")
    })
}

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
        if !compacted.is_null() {
            *compacted = c;
        }
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
        if !steps.is_null() {
            *steps = n;
        }
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
        if !has_cutoff.is_null() {
            *has_cutoff = c.is_some();
        }
        if !cutoff.is_null() {
            *cutoff = c.unwrap_or(i64::MIN);
        }
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
        if !purged.is_null() {
            *purged = n;
        }
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

pub use crate::stats::flowdb_stats_t;

/// Fills `*out` (see `flowdb_stats_t` on `struct_size`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_stats(
    engine: *const flowdb_engine_t,
    out: *mut flowdb_stats_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_engine(engine, |e| Ok(e.stats()))?;
        write_stats(out, &s)
    })
}

/// Writes as much of `s` as the caller's `out->struct_size` holds.
pub(crate) unsafe fn write_stats(out: *mut flowdb_stats_t, s: &flowdb::EngineStats) -> Result<()> {
    if out.is_null() {
        return Err(null("out"));
    }
    let full = crate::stats::stats_t(s);
    // SAFETY: non-NULL; the caller's struct holds at least `struct_size` bytes.
    let room = unsafe { (*out).struct_size };
    if room < std::mem::size_of::<usize>() {
        return Err(Error::invalid(
            "out->struct_size is not set (use sizeof(flowdb_stats_t))",
        ));
    }
    let n = room.min(std::mem::size_of::<flowdb_stats_t>());
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        std::ptr::copy_nonoverlapping(
            &full as *const flowdb_stats_t as *const u8,
            out as *mut u8,
            n,
        );
        (*out).struct_size = n;
    }
    Ok(())
}

/// The metrics in the Prometheus text format, NUL-terminated, in `*out` (free with
/// `flowdb_string_free`); `*len` (may be NULL) receives its length.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_metrics_text(
    engine: *const flowdb_engine_t,
    out: *mut *mut c_char,
    len: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let text = with_engine(engine, |e| Ok(e.metrics_text()))?;
        if !len.is_null() {
            *len = text.len();
        }
        let c =
            CString::new(text).map_err(|_| Error::Internal("metrics text holds a NUL".into()))?;
        put_cstring(out, c, "out")
    })
}
