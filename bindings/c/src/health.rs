//! Background errors and events: `flowdb_engine_background_error`, `_resume`, and an
//! event listener (a function pointer with user data) for engines and document
//! databases.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{error_object, flowdb_error_t, flowdb_status_t, guard, null, put};
use super::jsondb::{flowdb_jsondb_t, with_db};
use flowdb::error::Result;
use flowdb::{Engine, Event};

/// What an event reports (`flowdb_event_t::kind`).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_event_kind_t {
    /// A memtable was flushed: `tables_out` tables of `bytes` bytes.
    FLOWDB_EVENT_FLUSH = 0,
    /// A merge replaced `tables_in` tables by `tables_out` of `bytes` bytes.
    FLOWDB_EVENT_COMPACTION = 1,
    /// A writer waited `duration_us` for a flush.
    FLOWDB_EVENT_STALL = 2,
    /// Background work failed (`message`); `stops_writes`: it became the background
    /// error (writes fail until `flowdb_engine_resume`).
    FLOWDB_EVENT_ERROR = 3,
    /// `flowdb_engine_resume` cleared the background error.
    FLOWDB_EVENT_RESUMED = 4,
}

/// One event, valid for the duration of the listener's call. Fields an event kind
/// does not use are 0 (`message`: NULL).
#[repr(C)]
#[derive(Debug)]
pub struct flowdb_event_t {
    pub kind: flowdb_event_kind_t,
    pub duration_us: u64,
    pub tables_in: u64,
    pub tables_out: u64,
    pub bytes: u64,
    pub stops_writes: bool,
    /// NUL-terminated UTF-8, or NULL.
    pub message: *const c_char,
}

/// An event listener: called on a thread of the library's (not the caller's), one
/// event at a time, in the order they happened. It may call flowdb.
pub type flowdb_event_fn =
    Option<unsafe extern "C" fn(event: *const flowdb_event_t, user: *mut c_void)>;

/// The C listener and its user data, sent to the listener's thread.
struct Listener {
    f: unsafe extern "C" fn(*const flowdb_event_t, *mut c_void),
    user: *mut c_void,
}

// SAFETY: the caller of flowdb_engine_set_event_listener promises (documented) that
// `user` may be used from the library's event thread until the listener is replaced,
// removed, or the engine shut down or freed, all of which wait for its last call.
unsafe impl Send for Listener {}
// SAFETY: as above; the listener is only ever called from one thread at a time.
unsafe impl Sync for Listener {}

impl Listener {
    fn call(&self, e: &Event) {
        let mut ev = flowdb_event_t {
            kind: flowdb_event_kind_t::FLOWDB_EVENT_RESUMED,
            duration_us: 0,
            tables_in: 0,
            tables_out: 0,
            bytes: 0,
            stops_writes: false,
            message: std::ptr::null(),
        };
        let mut message = None;
        match e {
            Event::FlushCompleted {
                tables,
                bytes,
                duration,
            } => {
                ev.kind = flowdb_event_kind_t::FLOWDB_EVENT_FLUSH;
                (ev.tables_out, ev.bytes, ev.duration_us) =
                    (*tables as u64, *bytes, duration.as_micros() as u64);
            }
            Event::CompactionCompleted {
                input_tables,
                output_tables,
                bytes,
                duration,
            } => {
                ev.kind = flowdb_event_kind_t::FLOWDB_EVENT_COMPACTION;
                (ev.tables_in, ev.tables_out) = (*input_tables as u64, *output_tables as u64);
                (ev.bytes, ev.duration_us) = (*bytes, duration.as_micros() as u64);
            }
            Event::WriteStall { duration } => {
                ev.kind = flowdb_event_kind_t::FLOWDB_EVENT_STALL;
                ev.duration_us = duration.as_micros() as u64;
            }
            Event::BackgroundError {
                error,
                stops_writes,
            } => {
                ev.kind = flowdb_event_kind_t::FLOWDB_EVENT_ERROR;
                ev.stops_writes = *stops_writes;
                message = CString::new(error.replace('\0', "\\0")).ok();
            }
            Event::Resumed => {}
            _ => return, // a kind this version of the C API does not know
        }
        if let Some(m) = &message {
            ev.message = m.as_ptr();
        }
        // A callback: its calls into flowdb take the handle's lock recursively, so a
        // shutdown waiting for the lock (and for this call) cannot block them.
        // SAFETY: the listener's contract (above); `ev` and `message` outlive the call.
        crate::engine::calling_back(|| unsafe { (self.f)(&ev, self.user) })
    }
}

fn set_listener(e: &Engine, f: flowdb_event_fn, user: *mut c_void) -> Result<()> {
    let listener = f.map(|f| {
        let l = Listener { f, user };
        Arc::new(move |e: &Event| l.call(e)) as flowdb::EventListener
    });
    e.set_event_listener(listener)
}

/// Sets (or, with `f` NULL, removes) the engine's event listener: `f(event, user)` for
/// each flush, merge, write stall, background error and resume, on a thread of the
/// library's, in order. Replacing or removing the listener, `flowdb_engine_shutdown`
/// and `flowdb_engine_free` return only after its last call, so `user` must stay
/// valid until then.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_set_event_listener(
    engine: *const flowdb_engine_t,
    f: flowdb_event_fn,
    user: *mut c_void,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| set_listener(e, f, user))
    })
}

/// `flowdb_engine_set_event_listener` for a document database's engine; freeing or
/// shutting down the database removes it.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_set_event_listener(
    db: *const flowdb_jsondb_t,
    f: flowdb_event_fn,
    user: *mut c_void,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |d| set_listener(d.engine(), f, user))
    })
}

/// Writes the background error `find` finds to `*out`: a new error object, or NULL.
unsafe fn background_error_out(
    out: *mut *mut flowdb_error_t,
    find: impl FnOnce() -> Result<Option<flowdb::Error>>,
) -> Result<()> {
    if out.is_null() {
        return Err(null("out"));
    }
    let object = find()?.as_ref().map_or(std::ptr::null_mut(), error_object);
    // SAFETY: `out` is non-NULL and writable (the C ABI contract, lib.rs).
    unsafe { put(out, object, "out") }
}

/// The background error that stops writes: `*out` receives a new error object (free
/// it with `flowdb_error_free`) when one stands, NULL otherwise. While one stands,
/// writes fail with an error of the same kind naming it, and reads go on.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_background_error(
    engine: *const flowdb_engine_t,
    out: *mut *mut flowdb_error_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        background_error_out(out, || with_engine(engine, |e| Ok(e.background_error())))
    })
}

/// After a background error, once its cause is fixed (disk space freed): retries the
/// log sync and the flushes and clears the error when they succeed; otherwise returns
/// the new error, which stands. `FLOWDB_OK` at once when no background error stands.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_resume(
    engine: *const flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_engine(engine, |e| e.resume()) })
}

/// `flowdb_engine_background_error` for a document database's engine.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_background_error(
    db: *const flowdb_jsondb_t,
    out: *mut *mut flowdb_error_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        background_error_out(out, || with_db(db, |d| Ok(d.engine().background_error())))
    })
}

/// `flowdb_engine_resume` for a document database's engine.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_resume(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_db(db, |d| d.engine().resume()) })
}
