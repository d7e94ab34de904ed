//! `flowdb_snapshot_t`: a consistent, read-only view of an engine at one moment
//! (`Engine::snapshot`). Reads through it see the writes that returned before it was
//! taken and none after, whatever flushes and compactions happen meanwhile.
//!
//! A snapshot may be read from several threads at once. It keeps the engine's data of
//! that moment alive until `flowdb_snapshot_free`; it may outlive its engine handle
//! (reads then fail with `FLOWDB_CLOSED`), and it must still be freed.

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put_new};
use super::iter::{flowdb_iter_t, iter_out};
use super::range::{flowdb_range_t, the_range};
use super::read::{flowdb_last_n_visit_fn, list_out, visit_out};
use super::records::flowdb_records_t;
use super::series::{flowdb_series_t, page_args, series_out};
use flowdb::engine::Snapshot;
use flowdb::error::Result;
use flowdb::ReadOptions;
use std::ffi::c_void;

/// A read-only view of an engine at one moment. Thread-safe; free with
/// `flowdb_snapshot_free`.
#[derive(Debug)]
pub struct flowdb_snapshot_t {
    snap: Snapshot,
}

pub(crate) unsafe fn with_snapshot<'a>(s: *const flowdb_snapshot_t) -> Result<&'a Snapshot> {
    // SAFETY: NULL or a live snapshot from flowdb_engine_snapshot (documented).
    unsafe { s.as_ref() }
        .map(|s| &s.snap)
        .ok_or_else(|| null("snapshot"))
}

/// Takes a snapshot of the engine as of now into `*out` (free with
/// `flowdb_snapshot_free`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_snapshot(
    engine: *const flowdb_engine_t,
    out: *mut *mut flowdb_snapshot_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let snap = with_engine(engine, |e| Ok(e.snapshot()))?;
        put_new(out, flowdb_snapshot_t { snap }, "out")
    })
}

/// The live record at exactly `(key, ts)` as of the snapshot: a list of 0 or 1
/// records in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_get(
    snap: *const flowdb_snapshot_t,
    key: *const u8,
    key_len: usize,
    ts: i64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        let k = bytes(key, key_len, "key")?;
        list_out(out, || {
            Ok(s.get_bytes(k, ts, &ReadOptions::default())?
                .into_iter()
                .collect())
        })
    })
}

/// The live record of exactly `key` with the greatest ts as of the snapshot: a list
/// of 0 or 1 records in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_get_latest(
    snap: *const flowdb_snapshot_t,
    key: *const u8,
    key_len: usize,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        let k = bytes(key, key_len, "key")?;
        list_out(out, || Ok(s.get_latest_bytes(k)?.into_iter().collect()))
    })
}

/// `flowdb_engine_last_n` as of the snapshot.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_last_n(
    snap: *const flowdb_snapshot_t,
    key: *const u8,
    key_len: usize,
    n: u64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        let k = bytes(key, key_len, "key")?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        list_out(out, || s.last_n_bytes(k, n))
    })
}

/// `flowdb_engine_last_n_visit` as of the snapshot (the callback must not free it).
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_last_n_visit(
    snap: *const flowdb_snapshot_t,
    key: *const u8,
    key_len: usize,
    n: u64,
    callback: flowdb_last_n_visit_fn,
    user: *mut c_void,
    handed_out: *mut u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        let k = bytes(key, key_len, "key")?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        visit_out(callback, user, handed_out, |v| {
            s.last_n_with(k, n, |ts, val| v.give(ts, val))
        })
    })
}

/// Every live record in `range` as of the snapshot, in (key, ts) order (descending
/// when the range is reverse), at most the range's limit, as a list in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_query(
    snap: *const flowdb_snapshot_t,
    r: *const flowdb_range_t,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        let r = the_range(r)?;
        list_out(out, || s.scan(r)?.collect())
    })
}

/// A lazy scan over `range` as of the snapshot (in the range's order, at most its
/// limit; `flowdb_iter_seek` moves it), in `*out` (free with `flowdb_iter_free`; it
/// may outlive the snapshot).
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_scan(
    snap: *const flowdb_snapshot_t,
    r: *const flowdb_range_t,
    out: *mut *mut flowdb_iter_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        let r = the_range(r)?;
        iter_out(out, || s.scan(r))
    })
}

/// `flowdb_engine_series` as of the snapshot: the series under `prefix` after `after`,
/// at most `limit` (`UINT64_MAX`: all), in key order, as a list in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_series(
    snap: *const flowdb_snapshot_t,
    prefix: *const u8,
    prefix_len: usize,
    after: *const u8,
    after_len: usize,
    limit: u64,
    out: *mut *mut flowdb_series_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        let (p, a, n) = page_args(prefix, prefix_len, after, after_len, limit)?;
        series_out(out, || s.series_page(p, a, n))
    })
}

/// Frees the snapshot (the data it held may then be reclaimed). NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_free(snap: *mut flowdb_snapshot_t) {
    if !snap.is_null() {
        // SAFETY: made by flowdb_engine_snapshot, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(snap) }));
    }
}
