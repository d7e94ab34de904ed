//! The transaction's key-range reads and its writes beyond `put` and `delete`, as it
//! sees its store (its own writes included). The requests are doc_getall.rs's; the
//! same ones on the database, each a transaction of its own, are in jsondb_reads.rs.

use std::ffi::{c_char, c_void};

use super::doc_getall as getall;
use super::doc_getall::Source;
use super::error::{flowdb_error_t, flowdb_status_t, guard};
use super::jsondb::flowdb_key_range_t;
use super::key_visit::{self, flowdb_key_visit_fn};
use super::txn::{flowdb_txn_t, with_txn};

/// Stores `doc` (JSON object text) as a new document in the transaction (IndexedDB's
/// `add`): a document with the same key already there (committed or written by the
/// transaction) is `FLOWDB_CONSTRAINT`, and nothing changes. Its key, as JSON, in
/// `*key_out` (may be NULL; free with `flowdb_string_free`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_add(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| getall::add(t, store, doc, len, key_out))
    })
}

/// Stores `doc` (any JSON value) under `key` (JSON) in a store without a key path
/// (out-of-line keys: made with key path `[]`), replacing a document with that key
/// (IndexedDB's `put(value, key)`); the key, as JSON, in `*key_out` (may be NULL; free
/// with `flowdb_string_free`). On a store with a key path, where the key comes from
/// the document, it is `FLOWDB_DATA`; an invalid key is `FLOWDB_DATA` too.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_put_with_key(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key: *const c_char,
    key_len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| {
            getall::put_with_key(t, false, store, doc, len, key, key_len, key_out)
        })
    })
}

/// `flowdb_txn_put_with_key` that inserts only (IndexedDB's `add(value, key)`): a
/// document under `key` already there (committed or written by the transaction) is `FLOWDB_CONSTRAINT`, and
/// nothing changes.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_add_with_key(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key: *const c_char,
    key_len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| {
            getall::put_with_key(t, true, store, doc, len, key, key_len, key_out)
        })
    })
}

/// Deletes every document whose primary key is in `range`, with its index entries,
/// atomically (IndexedDB's `delete(range)`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_delete_range(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| getall::delete_range(t, store, range))
    })
}

/// Deletes every document of `store` and every entry of its indexes, in time
/// independent of the store's size; the key generator keeps its next key (IndexedDB's
/// `clear`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_clear(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| getall::clear(t, store))
    })
}

/// Documents whose primary key is in `range`, ascending, at most `count` (0: all), as
/// a JSON array in `*out` (IndexedDB's `getAll`; free with `flowdb_string_free`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_all(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    count: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, None, range)?;
        with_txn(txn, |t| getall::get_all(t, src, count, out))
    })
}

/// Primary keys in `range`, ascending, at most `count` (0: all), as a JSON array in
/// `*out`; no document is read (IndexedDB's `getAllKeys`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_all_keys(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    count: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, None, range)?;
        with_txn(txn, |t| getall::get_all_keys(t, src, count, out))
    })
}

/// The primary keys of `store` whose key is in `range`, ascending (with `index` not
/// NULL: of that index's entries whose key is in `range`, in index key then primary key
/// order), at most `count` (0: all), handed to `callback` one at a time, typed and in
/// place (`flowdb_key_view_t`: a number as a `double`, a string as UTF-8), until it
/// returns false; the number of calls in `*handed_out` when it is not NULL. The fastest
/// key-only read: no JSON is written or parsed. As the transaction sees them (its own
/// writes included). See `flowdb_key_visit_fn` for what the callback may do.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn flowdb_txn_get_all_keys_visit(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    count: usize,
    callback: flowdb_key_visit_fn,
    user: *mut c_void,
    handed_out: *mut u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, (!index.is_null()).then_some(index), range)?;
        with_txn(txn, |t| {
            key_visit::get_all_keys_visit(t, src, count, callback, user, handed_out)
        })
    })
}

/// Documents with their keys whose primary key is in `range`, in `direction` order, at
/// most `count` (0: all), as a JSON array of `{"key":…,"primary_key":…,"value":…}` in
/// `*out` (IndexedDB's `getAllRecords`; for a store `key` is the primary key).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_all_records(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    count: usize,
    direction: i32,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, None, range)?;
        with_txn(txn, |t| {
            getall::get_all_records(t, src, count, direction, out)
        })
    })
}

/// The lowest primary key in `range` (JSON) in `*out`, or NULL when there is none
/// (IndexedDB's `getKey`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_key(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, None, range)?;
        with_txn(txn, |t| getall::get_key(t, src, out))
    })
}

/// How many documents have a primary key in `range`, in `*out` (IndexedDB's
/// `count(range)`); counted from keys, no document is read.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_count_range(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    out: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, None, range)?;
        with_txn(txn, |t| getall::count_range(t, src, out))
    })
}

/// Documents of the `index` entries whose key is in `range`, in (index key, primary
/// key) order, at most `count` (0: all), as a JSON array in `*out` (IndexedDB's
/// `index.getAll`); a multi-entry index may list a document once per entry.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_all_by_index(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    count: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, Some(index), range)?;
        with_txn(txn, |t| getall::get_all(t, src, count, out))
    })
}

/// Primary keys of the `index` entries whose key is in `range`, in (index key, primary
/// key) order, at most `count` (0: all), as a JSON array in `*out`; no document is
/// read (IndexedDB's `index.getAllKeys`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_all_keys_by_index(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    count: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, Some(index), range)?;
        with_txn(txn, |t| getall::get_all_keys(t, src, count, out))
    })
}

/// Index keys, primary keys and documents of the `index` entries whose key is in
/// `range`, in `direction` order, at most `count` (0: all), as a JSON array of
/// `{"key":…,"primary_key":…,"value":…}` in `*out` (IndexedDB's
/// `index.getAllRecords`; `key` is the index key).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_all_records_by_index(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    count: usize,
    direction: i32,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, Some(index), range)?;
        with_txn(txn, |t| {
            getall::get_all_records(t, src, count, direction, out)
        })
    })
}

/// The primary key of the first `index` entry whose key is in `range` (JSON) in
/// `*out`, or NULL when there is none (IndexedDB's `index.getKey`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_key_by_index(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let src = Source::new(store, Some(index), range)?;
        with_txn(txn, |t| getall::get_key(t, src, out))
    })
}
