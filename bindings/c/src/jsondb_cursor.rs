//! `flowdb_cursor_t`: JsonDB cursors (IndexedDB's IDBCursor), a lazy walk over a
//! store's documents or an index's entries, in one of the four directions, through its
//! transaction's view (its own writes included). A cursor opened on a transaction
//! (`flowdb_txn_open_*cursor`) shares that transaction's cell (txn.rs): it holds its
//! place, not the transaction, and every call finds the transaction there, or
//! answers `FLOWDB_TRANSACTION_INACTIVE` once it was committed, aborted or freed. One
//! opened on the database (`flowdb_jsondb_open_cursor`) owns a read-only transaction
//! of its own until it is freed.

use std::ffi::c_char;

use parking_lot::Mutex;

use super::doc_getall::json_or_null;
use super::doc_requests::{doc_result, key_result};
use super::error::{
    cstr, flowdb_error_t, flowdb_status_t, guard, json, no_unwind, null, put, put_new,
};
use super::jsondb::{direction_of, flowdb_jsondb_t, flowdb_key_range_t, key_range};
use super::txn::{begin, flowdb_txn_t, in_cell, txn_cell, TxnCell};
use flowdb::error::{Error, Result};
use flowdb::jsondb::{DetachedCursor, RawDoc, Transaction, TransactionMode};

/// A cursor: on one entry (its key, primary key and, unless it is a key cursor, its
/// document) or past its last. Every call on it, reading the entry included, is
/// `FLOWDB_TRANSACTION_INACTIVE` once its transaction was committed, aborted or freed
/// (free the cursor as usual). Several cursors may be open on one transaction. It may
/// move between threads; calls on one cursor from two threads at once wait for each
/// other. Free with `flowdb_cursor_free`.
#[derive(Debug)]
pub struct flowdb_cursor_t {
    state: Mutex<DetachedCursor>,
    cell: TxnCell,
}

/// Opens a cursor in the transaction in `cell`, on its first entry.
#[allow(clippy::too_many_arguments)]
unsafe fn open_in(
    cell: &TxnCell,
    store: *const c_char,
    index: Option<*const c_char>,
    range: *const flowdb_key_range_t,
    direction: i32,
    key_only: bool,
    out: *mut *mut flowdb_cursor_t,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (s, i, r) = unsafe {
        (
            cstr(store, "store")?,
            index.map(|i| cstr(i, "index")).transpose()?,
            key_range(range)?,
        )
    };
    let dir = direction_of(direction)?;
    if out.is_null() {
        return Err(null("out"));
    }
    let state = in_cell(cell, |t| t.open_detached_cursor(s, i, r, dir, key_only))?;
    let c = flowdb_cursor_t {
        state: Mutex::new(state),
        cell: cell.clone(),
    };
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put_new(out, c, "out") }
}

/// A cursor of the transaction `txn`.
unsafe fn open_on_txn(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: Option<*const c_char>,
    range: *const flowdb_key_range_t,
    direction: i32,
    key_only: bool,
    out: *mut *mut flowdb_cursor_t,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        let cell = txn_cell(txn)?;
        open_in(cell, store, index, range, direction, key_only, out)
    }
}

/// A cursor over the documents of `store` whose primary key is in `range`, in
/// `direction` order, on its first document (IndexedDB's `store.openCursor`); in
/// `*out`, to free with `flowdb_cursor_free` (before or after the transaction). Past
/// its end at once when there is none (`flowdb_cursor_key` gives NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_open_cursor(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut flowdb_cursor_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_on_txn(txn, store, None, range, direction, false, out)
    })
}

/// `flowdb_txn_open_cursor` without documents: keys and primary keys only, no
/// document read (IndexedDB's `store.openKeyCursor`); it cannot update or delete.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_open_key_cursor(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut flowdb_cursor_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_on_txn(txn, store, None, range, direction, true, out)
    })
}

/// A cursor over the entries of `index` whose key is in `range`, in `direction` order
/// ((index key, primary key) order; the unique directions keep, per index key, the
/// entry with the lowest primary key), on its first entry (IndexedDB's
/// `index.openCursor`). Its key is the index key. Free with `flowdb_cursor_free`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_open_index_cursor(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut flowdb_cursor_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_on_txn(txn, store, Some(index), range, direction, false, out)
    })
}

/// `flowdb_txn_open_index_cursor` without documents (IndexedDB's
/// `index.openKeyCursor`); it cannot update or delete.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_open_index_key_cursor(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut flowdb_cursor_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_on_txn(txn, store, Some(index), range, direction, true, out)
    })
}

/// A cursor in a read-only transaction of its own over `store` (or, when `index` is
/// not NULL, over that index of it), in `range` and `direction` order, on its first
/// entry; `key_only`: no documents read. It holds its transaction, and so keeps the
/// database alive (`flowdb_jsondb_shutdown` is `FLOWDB_BUSY`) and holds up read-write
/// transactions over `store` begun after it, until `flowdb_cursor_free`. Reading
/// only: update and delete through it are `FLOWDB_READ_ONLY`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_open_cursor(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    key_only: bool,
    out: *mut *mut flowdb_cursor_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = cstr(store, "store")?;
        let i = (!index.is_null()).then_some(index);
        // Checked before beginning: a transaction would be begun for nothing.
        key_range(range)?;
        direction_of(direction)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let cell = begin(db, &[s], TransactionMode::ReadOnly)?;
        open_in(&cell, store, i, range, direction, key_only, out)
    })
}

/// Runs `f` on the cursor and its transaction, each call locking both (the cursor
/// first); `FLOWDB_TRANSACTION_INACTIVE` once the transaction was committed, aborted
/// or freed.
unsafe fn with_cursor<T>(
    c: *const flowdb_cursor_t,
    f: impl FnOnce(&mut DetachedCursor, &mut Transaction<'static>) -> Result<T>,
) -> Result<T> {
    // SAFETY: NULL or a live cursor (documented).
    let c = unsafe { c.as_ref() }.ok_or_else(|| null("cursor"))?;
    let mut state = c.state.lock();
    in_cell(&c.cell, |t| {
        if !t.is_active() {
            return Err(Error::TransactionInactive(
                "the cursor's transaction has already committed or aborted".into(),
            ));
        }
        f(&mut state, t)
    })
}

/// The key of the entry the cursor is on (JSON; the index key for an index cursor) in
/// `*out`, or NULL past its end. Free with `flowdb_string_free`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_key(
    cursor: *const flowdb_cursor_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_cursor(cursor, |c, _| json_or_null(out, c.key()))
    })
}

/// The primary key of the entry the cursor is on (JSON) in `*out`, or NULL past its
/// end. Free with `flowdb_string_free`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_primary_key(
    cursor: *const flowdb_cursor_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_cursor(cursor, |c, _| json_or_null(out, c.primary_key()))
    })
}

/// The document the cursor is on (its stored JSON text) in `*out`, or NULL past its
/// end and for a key cursor. Free with `flowdb_string_free`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_value(
    cursor: *const flowdb_cursor_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_cursor(cursor, |c, _| {
            if out.is_null() {
                return Err(null("out"));
            }
            // (A `RawDoc` is copied with room for the NUL: one allocation.)
            doc_result(out, c.value_as::<RawDoc>()?)
        })
    })
}

/// The document the cursor is on (its stored JSON text), lent: `*out` points at its
/// `*len` bytes, not NUL-terminated, and stays valid until the next call on the
/// cursor other than `flowdb_cursor_key`, `flowdb_cursor_primary_key`,
/// `flowdb_cursor_value` and this one (a move, an update or delete through it, its
/// free), as SQLite's `sqlite3_column_text` until the next step. NULL and 0 past its
/// end and for a key cursor. Nothing to free: the copy `flowdb_cursor_value` makes
/// is spared (a walk over every document through it was 10-20% faster).
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_value_view(
    cursor: *const flowdb_cursor_t,
    out: *mut *const c_char,
    len: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_cursor(cursor, |c, _| {
            if out.is_null() || len.is_null() {
                return Err(null(if out.is_null() { "out" } else { "len" }));
            }
            let (at, n) = c.raw_value().map_or((std::ptr::null(), 0), |d| {
                (d.as_ptr().cast::<c_char>(), d.len())
            });
            put(out, at, "out")?;
            put(len, n, "len")
        })
    })
}

/// Runs a move of the cursor and writes in `*has_entry` whether it is on an entry
/// after it (false: past its last). `has_entry` is checked before the move.
unsafe fn step(
    cursor: *mut flowdb_cursor_t,
    has_entry: *mut bool,
    f: impl FnOnce(&mut DetachedCursor, &Transaction<'static>) -> Result<bool>,
) -> Result<()> {
    if has_entry.is_null() {
        return Err(null("has_entry"));
    }
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        let on = with_cursor(cursor, |c, t| f(c, t))?;
        put(has_entry, on, "has_entry")
    }
}

/// Moves the cursor to its next entry (IndexedDB's `continue()`); `*has_entry` is
/// false once it is past its last. A cursor past its end stays there (`*has_entry`
/// false again, even after its transaction wrote beyond where it stopped; Rust's
/// `continue_` calls this an error, as IndexedDB does).
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_continue(
    cursor: *mut flowdb_cursor_t,
    has_entry: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        step(cursor, has_entry, |c, t| {
            match c.key().is_none() && t.is_active() {
                true => Ok(false),
                false => c.continue_in(t),
            }
        })
    })
}

/// Moves the cursor to the first entry whose key is `key` (JSON) or past it in its
/// direction (IndexedDB's `continue(key)`); `*has_entry` as for
/// `flowdb_cursor_continue`. A key not past the current one in the cursor's direction
/// is `FLOWDB_DATA`; a cursor past its end, `FLOWDB_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_continue_to(
    cursor: *mut flowdb_cursor_t,
    key: *const c_char,
    len: usize,
    has_entry: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let k = json(key, len, "key")?;
        step(cursor, has_entry, |c, t| c.continue_to_in(t, &k))
    })
}

/// Index cursors in `FLOWDB_NEXT` or `FLOWDB_PREV` order only: moves to the entry
/// (`key`, `primary_key`) (both JSON) or the first past it (IndexedDB's
/// `continuePrimaryKey`); `*has_entry` as for `flowdb_cursor_continue`. On a store
/// cursor or in a unique direction `FLOWDB_INVALID_ARGUMENT`; a position not past the
/// current one, `FLOWDB_DATA`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_continue_primary_key(
    cursor: *mut flowdb_cursor_t,
    key: *const c_char,
    key_len: usize,
    primary_key: *const c_char,
    primary_key_len: usize,
    has_entry: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let k = json(key, key_len, "key")?;
        let pk = json(primary_key, primary_key_len, "primary_key")?;
        step(cursor, has_entry, |c, t| {
            c.continue_primary_key_in(t, &k, &pk)
        })
    })
}

/// Moves the cursor `n` entries on (IndexedDB's `advance(n)`); `*has_entry` as for
/// `flowdb_cursor_continue`. `n` of 0, or a cursor past its end, is
/// `FLOWDB_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_advance(
    cursor: *mut flowdb_cursor_t,
    n: u32,
    has_entry: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        step(cursor, has_entry, |c, t| c.advance_in(t, n))
    })
}

/// Replaces the document the cursor is on with `doc` (JSON object text), whose key
/// must be the cursor's primary key (else `FLOWDB_DATA`); its key, as JSON, in
/// `*key_out` (may be NULL). The cursor stays on its entry (its value is still the
/// one it read); the next move sees the new document. A read-only transaction is
/// `FLOWDB_READ_ONLY`; a key cursor or one past its end, `FLOWDB_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_update(
    cursor: *mut flowdb_cursor_t,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let d = json(doc, len, "doc")?;
        let k = with_cursor(cursor, |c, t| c.update_in(t, d))?;
        key_result(key_out, &k)
    })
}

/// Deletes the document the cursor is on (and its index entries); the cursor stays on
/// its entry until it moves. A read-only transaction is `FLOWDB_READ_ONLY`; a key
/// cursor or one past its end, `FLOWDB_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_delete(
    cursor: *mut flowdb_cursor_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_cursor(cursor, |c, t| c.delete_in(t))
    })
}

/// Frees a cursor (with the transaction of one from `flowdb_jsondb_open_cursor`).
/// NULL does nothing. A transaction's cursors may be freed before or after it.
#[no_mangle]
pub unsafe extern "C" fn flowdb_cursor_free(cursor: *mut flowdb_cursor_t) {
    if !cursor.is_null() {
        // SAFETY: made by a flowdb_*_open_*cursor function, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(cursor) }));
    }
}
