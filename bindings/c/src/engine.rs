//! `flowdb_engine_t`: the handle and its lifecycle (open, sync, shutdown and free),
//! the lookups every other family of engine calls goes through (`with_engine`, the
//! callback guards, `move_engine`), and stats and metrics. The engine's writes,
//! deletes and patches are in engine_writes.rs; its maintenance (flush, compaction,
//! retention, GC, the background thread) in engine_maintenance.rs.
//!
//! An engine handle may be used from many threads at once. After
//! `flowdb_engine_shutdown` the handle stays valid but every call on it returns
//! `FLOWDB_CLOSED`, until `flowdb_engine_free`.

use std::ffi::{c_char, CString};

use parking_lot::RwLock;

use super::error::{flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put_cstring, put_opt};
use super::options::{flowdb_options_t, open_into};
use flowdb::engine::Engine;
use flowdb::error::{Error, Result};

/// An open engine. Thread-safe.
#[derive(Debug)]
pub struct flowdb_engine_t {
    engine: RwLock<Option<Engine>>,
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
        put_opt(len, text.len());
        let c =
            CString::new(text).map_err(|_| Error::Internal("metrics text holds a NUL".into()))?;
        put_cstring(out, c, "out")
    })
}
