//! `flowdb_jsondb_t`: the JSON document layer. JSON crosses the boundary as UTF-8 text
//! `(pointer, length)`; documents, keys and lists come back as NUL-terminated JSON
//! strings freed with `flowdb_string_free`. Thread-safe, like the Rust `JsonDB`.
//!
//! Transactions (`flowdb_txn_t`, in txn.rs) and cursors opened on the database
//! (jsondb_cursor.rs) keep the database alive; shutting it down while they exist is
//! `FLOWDB_BUSY`.

use std::ffi::c_char;
use std::sync::Arc;

use parking_lot::RwLock;

use super::doc_requests as docs;
use super::engine::{flowdb_engine_t, refuse_in_callback};
use super::error::{
    cstr, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put, put_new, put_string,
};
use super::options::{flowdb_options_t, open_into};
use flowdb::error::{Error, Result};
use flowdb::jsondb::JsonDB;

pub(crate) use super::key_range::{direction_of, flowdb_key_range_t, key_range};

/// An open document database. Thread-safe.
#[derive(Debug)]
pub struct flowdb_jsondb_t {
    pub(crate) db: RwLock<Option<Arc<JsonDB>>>,
}

pub(crate) unsafe fn with_db<T>(
    h: *const flowdb_jsondb_t,
    f: impl FnOnce(&Arc<JsonDB>) -> Result<T>,
) -> Result<T> {
    // SAFETY: NULL or a live handle.
    let h = unsafe { h.as_ref() }.ok_or_else(|| null("db"))?;
    // Recursive only from a C callback, as `engine::with_engine` (an upgrade's).
    let g = match super::engine::in_callback() {
        true => h.db.read_recursive(),
        false => h.db.read(),
    };
    let db = g
        .as_ref()
        .ok_or_else(|| Error::Closed("the database was shut down".into()))?;
    f(db)
}

pub(crate) fn handle(db: JsonDB) -> flowdb_jsondb_t {
    flowdb_jsondb_t {
        db: RwLock::new(Some(Arc::new(db))),
    }
}

/// Opens the engine on `opts` and the document layer on it, into `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_open(
    opts: *const flowdb_options_t,
    out: *mut *mut flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_into(opts, out, |o| {
            Ok(handle(JsonDB::from_engine(o.open_engine()?)?))
        })
    })
}

/// The document layer on an open engine. The engine moves into it: the engine handle
/// answers `FLOWDB_CLOSED` afterwards (free it as usual). The engine's event
/// listener, if one was set, is removed (its last call has returned when this
/// returns: its `user` may be freed with the engine handle); set one on the database
/// with `flowdb_jsondb_set_event_listener`. When this fails (`FLOWDB_CORRUPTION`: a
/// damaged schema) the engine stays in its handle, open, its listener kept.
/// Errors: `FLOWDB_BUSY` from inside a flowdb callback (it would wait for that
/// callback), `FLOWDB_CLOSED`, `FLOWDB_CORRUPTION`, `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_from_engine(
    engine: *const flowdb_engine_t,
    out: *mut *mut flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let db = super::engine::move_engine(engine, JsonDB::try_from_engine)?;
        // The listener's `user` belongs with the engine handle (freed after it).
        db.engine().set_event_listener(None)?;
        put_new(out, handle(db), "out")
    })
}

/// Flushes the underlying engine's memtables and syncs its log (Rust's
/// `JsonDB::close`); the database stays open and usable. Errors: `FLOWDB_CLOSED`
/// after shutdown, `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_sync(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_db(db, |d| d.close()) })
}

/// Deprecated name of `flowdb_jsondb_sync` (kept for the 0.7 ABI): despite the name
/// it does not close anything; the database stays open. To close, use
/// `flowdb_jsondb_shutdown` then `flowdb_jsondb_free`.
#[deprecated(note = "use flowdb_jsondb_sync (same call; the database stays open)")]
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_close(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { flowdb_jsondb_sync(db, err) }
}

/// Shuts the database down (sync, stop background work, release the directory
/// lock); the handle then answers `FLOWDB_CLOSED` until `flowdb_jsondb_free`, which
/// must still be called. `FLOWDB_BUSY` while transactions are open, or cursors from
/// `flowdb_jsondb_open_cursor`, or an upgrade runs (nothing is shut down then).
/// Subscriptions do not hold it: they end (`flowdb_subscription_next`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_shutdown(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let h = db.as_ref().ok_or_else(|| null("db"))?;
        refuse_in_callback("a shutdown")?;
        let d = {
            let mut g = h.db.write();
            let arc = g
                .take()
                .ok_or_else(|| Error::Closed("the database was already shut down".into()))?;
            match Arc::try_unwrap(arc) {
                Ok(d) => d,
                Err(arc) => {
                    *g = Some(arc);
                    return Err(Error::Busy(
                        "transactions are still open: free them before shutdown".into(),
                    ));
                }
            }
        };
        // Without the handle's lock: the shutdown waits for the event listener's
        // last call, which may call flowdb with this handle (it gets CLOSED).
        d.shutdown()
    })
}

/// Frees the handle (open transactions keep the database alive until they are
/// freed; subscriptions do not, and end). NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_free(db: *mut flowdb_jsondb_t) {
    if !db.is_null() {
        // SAFETY: made by flowdb_jsondb_open/_from_engine, freed once.
        let h = unsafe { Box::from_raw(db) };
        no_unwind((), || {
            // Transactions may keep the database alive past this; its listener's
            // user data need not: no call of it after this returns.
            if let Some(d) = h.db.read().as_ref() {
                let _ = d.engine().set_event_listener(None);
            }
            drop(h)
        });
    }
}

/// Flushes the underlying engine's memtables to tables (the C form of
/// `JsonDB::engine().flush()`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_engine_flush(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_db(db, |d| d.engine().flush()) })
}

/// The underlying engine's stats (the C form of `JsonDB::engine().stats()`); set
/// `out->struct_size` as for `flowdb_engine_stats`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_engine_stats(
    db: *const flowdb_jsondb_t,
    out: *mut super::engine::flowdb_stats_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_db(db, |d| Ok(d.engine().stats()))?;
        super::engine::write_stats(out, &s)
    })
}

/// The underlying engine's metrics in the Prometheus text format, in `*out` (free with
/// `flowdb_string_free`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_engine_metrics_text(
    db: *const flowdb_jsondb_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let text = with_db(db, |d| Ok(d.engine().metrics_text()))?;
        put_string(out, text, "out")
    })
}

/// Sets how long a transaction waits for overlapping ones before `FLOWDB_BUSY`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_set_transaction_timeout_ms(
    db: *const flowdb_jsondb_t,
    ms: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |d| {
            d.set_transaction_timeout(std::time::Duration::from_millis(ms));
            Ok(())
        })
    })
}

/// Stores a document (JSON object text); its key, as JSON, in `*key_out` (may be NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_put(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::put_doc(&mut &**x, false, store, doc, len, key_out)
        })
    })
}

/// Stores a document under a newly generated key (the store needs a key generator).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_put_auto(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::put_doc(&mut &**x, true, store, doc, len, key_out)
        })
    })
}

/// The document with `key` (JSON) in `*out`, or NULL when there is none.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_get(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    key: *const c_char,
    len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::get_doc(&mut &**x, store, key, len, out))
    })
}

/// Deletes the document with `key` (absent: nothing happens).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_delete(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    key: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::delete_doc(&mut &**x, store, key, len))
    })
}

/// The number of documents in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_count(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    out: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::count(&mut &**x, store, out))
    })
}

/// Every document, in primary-key order, as a JSON array in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_scan(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::scan(&mut &**x, store, out))
    })
}

/// Documents whose index key equals `value` (JSON), as a JSON array in `*out`. On a
/// compound index a key with fewer components (`"NYC"` or `["NYC"]`) matches every
/// entry that starts with it. Keys may be `null`, `false` and `true` too.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_get_by_index(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    value: *const c_char,
    len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::get_by_index(&mut &**x, store, index, value, len, out)
        })
    })
}

/// Documents with `start <= index key < end` (JSON keys; half-open, so `[30, 30)` and
/// `start > end` are empty), as a JSON array. On a compound index a scalar bound
/// stands for the one-component array.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_range_by_index(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    start: *const c_char,
    start_len: usize,
    end: *const c_char,
    end_len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::range_by_index(&mut &**x, store, index, start, start_len, end, end_len, out)
        })
    })
}

/// Documents whose primary key is in `range`, in `direction` order (JSON array).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_get_range(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, r, d) = (
            cstr(store, "store")?,
            key_range(range)?,
            direction_of(direction)?,
        );
        let docs = with_db(db, |x| docs::Docs::get_range(&mut &**x, s, r, d))?;
        docs::docs_out(out, docs)
    })
}

/// Documents whose `index` key is in `range`, in `direction` order (JSON array).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_index_query(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::index_query(&mut &**x, store, index, range, direction, out)
        })
    })
}

/// How many entries of `index` have a key in `range`, in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_count_by_index(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    out: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, i, r) = (
            cstr(store, "store")?,
            cstr(index, "index")?,
            key_range(range)?,
        );
        let n = with_db(db, |x| x.count_by_index(s, i, r))?;
        put(out, n, "out")
    })
}
