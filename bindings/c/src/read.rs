//! Reads: `flowdb_records_t` (an owned list of records lent out as views),
//! `flowdb_range_t` (what a query or scan covers), gets, queries and `flowdb_iter_t`
//! (a lazy scan over a snapshot).
//!
//! Ranges follow the engine's rules: key and time ranges include both ends, a prefix
//! matches keys starting with it (the empty prefix: everything).

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, null, put, put_opt};
use super::range::{flowdb_range_t, the_range};
use super::records::{flowdb_records_t, RecordList};
use super::series::{flowdb_series_t, page_args, series_out};
use flowdb::error::Result;
use flowdb::record::Record;
use flowdb::ReadOptions;
use flowdb::ScanRange;
use std::ffi::c_void;

pub(crate) unsafe fn list_out(
    out: *mut *mut flowdb_records_t,
    records: impl FnOnce() -> Result<Vec<Record>>,
) -> Result<()> {
    if out.is_null() {
        return Err(null("out"));
    }
    let list = RecordList::boxed(records()?);
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put(out, list, "out") }
}

/// What `flowdb_engine_last_n_visit` and `flowdb_snapshot_last_n_visit` call with
/// each record, newest first: its `ts`, its value (`value_len` bytes at `value`, lent
/// from where it lies and valid only during the call: copy what you keep; `value` must
/// not be read when `value_len` is 0), and the `user` pointer given to the walk.
/// Return true for the next record, false to stop (the callback is not called again).
/// It must not unwind into flowdb (no C++ exception, no longjmp), and must not shut
/// down, close or free the engine or snapshot being walked (the shutdown would wait
/// for the walk); it may call other functions on them (reads, writes), and a
/// shutdown called from another thread meanwhile waits for the walk to end.
pub type flowdb_last_n_visit_fn = Option<
    unsafe extern "C" fn(ts: i64, value: *const u8, value_len: usize, user: *mut c_void) -> bool,
>;

/// A C callback and its `user` pointer, handed records by a lending walk: stops
/// calling `callback` once it returns false (the engine's walk cannot stop early, so
/// it ends without more calls) and counts the calls.
pub(crate) struct Visitor {
    callback: unsafe extern "C" fn(i64, *const u8, usize, *mut c_void) -> bool,
    user: *mut c_void,
    handed: u64,
    going: bool,
}

impl Visitor {
    /// Hands one record to the callback, unless it asked to stop. Called from the
    /// walk's own loop (the walk is generic over its visitor), so it is compiled
    /// into it.
    #[inline(always)]
    pub(crate) fn give(&mut self, ts: i64, value: &[u8]) {
        if self.going {
            self.handed += 1;
            // SAFETY: a function of the callback's type from the C caller (checked
            // not NULL in `visit_out`), given `value.len()` readable bytes at `value`
            // for the call and the caller's own `user` pointer, uninterpreted.
            self.going = unsafe { (self.callback)(ts, value.as_ptr(), value.len(), self.user) };
        }
    }
}

/// Runs a lending walk for a C callback: `walk` hands each record to the visitor's
/// `give`; on success writes the number of calls to `*handed_out` when it is not
/// NULL.
pub(crate) unsafe fn visit_out(
    callback: flowdb_last_n_visit_fn,
    user: *mut c_void,
    handed_out: *mut u64,
    walk: impl FnOnce(&mut Visitor) -> Result<usize>,
) -> Result<()> {
    let callback = callback.ok_or_else(|| null("callback"))?;
    let mut visitor = Visitor {
        callback,
        user,
        handed: 0,
        going: true,
    };
    // The whole walk counts as the callback's (the count is per thread, and only the
    // C entry points the callback may call read it): one count, not one per record
    // (7% of a `last_n(key, 100)` through C).
    super::engine::calling_back(|| walk(&mut visitor))?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid.
    unsafe { put_opt(handed_out, visitor.handed) };
    Ok(())
}

/// The live record at exactly `(key, ts)`: `*out` receives a list of 0 or 1 records
/// (free with `flowdb_records_free`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_get(
    engine: *const flowdb_engine_t,
    key: *const u8,
    key_len: usize,
    ts: i64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let k = bytes(key, key_len, "key")?;
        list_out(out, || {
            with_engine(engine, |e| {
                Ok(e.get_bytes(k, ts, &ReadOptions::default())?
                    .into_iter()
                    .collect())
            })
        })
    })
}

/// `flowdb_engine_get` that reports any failure as "not found": returns the list of
/// 0 or 1 records, or NULL on error.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_get_sync(
    engine: *const flowdb_engine_t,
    key: *const u8,
    key_len: usize,
    ts: i64,
) -> *mut flowdb_records_t {
    let mut out = std::ptr::null_mut();
    let status =
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe { flowdb_engine_get(engine, key, key_len, ts, &mut out, std::ptr::null_mut()) };
    if status == flowdb_status_t::FLOWDB_OK {
        out
    } else {
        std::ptr::null_mut()
    }
}

/// The live record of exactly `key` with the greatest ts: a list of 0 or 1 records.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_get_latest(
    engine: *const flowdb_engine_t,
    key: *const u8,
    key_len: usize,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let k = bytes(key, key_len, "key")?;
        list_out(out, || {
            with_engine(engine, |e| Ok(e.get_latest_bytes(k)?.into_iter().collect()))
        })
    })
}

/// The `n` live records of exactly `key` with the greatest ts, newest first, as a
/// list in `*out` (fewer when the key holds fewer; none for `n = 0`): one backwards
/// walk from the key's newest version.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_last_n(
    engine: *const flowdb_engine_t,
    key: *const u8,
    key_len: usize,
    n: u64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let k = bytes(key, key_len, "key")?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        list_out(out, || with_engine(engine, |e| e.last_n_bytes(k, n)))
    })
}

/// `flowdb_engine_last_n` lending each record instead of copying it into a list:
/// `callback(ts, value, value_len, user)` for the `n` newest live records of exactly
/// `key`, newest first, the value lent from where it lies (a table's block; a
/// memtable's value is copied once), so no record is allocated: for readers that only
/// look at the values (sum, plot, forward), as RocksDB's reverse iterator hands out
/// slices. A callback returning false is not called again, but the walk still reads
/// up to `n` records: choose `n` as the most wanted. `*handed_out` (NULL: not
/// reported) receives how many calls were made, the one that returned false
/// included. A NULL `callback` is `FLOWDB_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_last_n_visit(
    engine: *const flowdb_engine_t,
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
        let k = bytes(key, key_len, "key")?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        visit_out(callback, user, handed_out, |v| {
            with_engine(engine, |e| e.last_n_with(k, n, |ts, val| v.give(ts, val)))
        })
    })
}

/// The series (distinct keys) whose key begins with `prefix` (the empty prefix: all),
/// in ascending key order, as a list in `*out` (free with `flowdb_series_free`), from
/// metadata: no point is read, so each series' point count is an estimate (see
/// `flowdb_series_view_t`). Paged: at most `limit` series (`UINT64_MAX`: all; 0: none),
/// only those whose key is greater than the `after_len` bytes at `after` (empty: from
/// the first). The next page is the call with `after` = the last key of this one; a
/// page shorter than `limit` is the last. No series under `prefix` gives an empty list.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_series(
    engine: *const flowdb_engine_t,
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
        let (p, a, n) = page_args(prefix, prefix_len, after, after_len, limit)?;
        series_out(out, || with_engine(engine, |e| e.series_page(p, a, n)))
    })
}

/// A query through `Engine::query`, as Rust callers make it (timed in its statistics).
fn collect(e: &flowdb::Engine, r: ScanRange) -> Result<Vec<Record>> {
    e.query(r.into())
}

/// Every live record in `range`, in (key, ts) order (descending when the range is
/// reverse, `flowdb_range_set_reverse`), at most the range's limit
/// (`flowdb_range_set_limit`: the first records in that order), as a list in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_query(
    engine: *const flowdb_engine_t,
    r: *const flowdb_range_t,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = the_range(r)?;
        list_out(out, || with_engine(engine, |e| collect(e, r)))
    })
}

/// Records whose key begins with the `len` bytes at `prefix`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_query_by_prefix(
    engine: *const flowdb_engine_t,
    prefix: *const u8,
    len: usize,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let p = bytes(prefix, len, "prefix")?;
        list_out(out, || {
            with_engine(engine, |e| collect(e, ScanRange::prefix_bytes(p)))
        })
    })
}

/// Records with `start <= key <= end`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_query_by_key_range(
    engine: *const flowdb_engine_t,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, e2) = (
            bytes(start, start_len, "start")?,
            bytes(end, end_len, "end")?,
        );
        list_out(out, || {
            with_engine(engine, |e| collect(e, ScanRange::key_range_bytes(s, e2)))
        })
    })
}

/// Records of every key with `start <= ts <= end`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_query_time_range(
    engine: *const flowdb_engine_t,
    start: i64,
    end: i64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        list_out(out, || {
            with_engine(engine, |e| collect(e, ScanRange::time_range(start, end)))
        })
    })
}

/// Records whose key begins with `prefix`, with `start <= ts <= end`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_query_prefix_time_range(
    engine: *const flowdb_engine_t,
    prefix: *const u8,
    len: usize,
    start: i64,
    end: i64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let p = bytes(prefix, len, "prefix")?;
        list_out(out, || {
            with_engine(engine, |e| {
                collect(e, ScanRange::prefix_bytes(p).with_time_range(start, end))
            })
        })
    })
}

/// Records with `start_key <= key <= end_key` and `start <= ts <= end`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_query_key_time_range(
    engine: *const flowdb_engine_t,
    start_key: *const u8,
    start_key_len: usize,
    end_key: *const u8,
    end_key_len: usize,
    start: i64,
    end: i64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, e2) = (
            bytes(start_key, start_key_len, "start_key")?,
            bytes(end_key, end_key_len, "end_key")?,
        );
        list_out(out, || {
            with_engine(engine, |e| {
                collect(
                    e,
                    ScanRange::key_range_bytes(s, e2).with_time_range(start, end),
                )
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{
        flowdb_engine_free, flowdb_engine_metrics_text, flowdb_engine_open, flowdb_engine_shutdown,
    };
    use crate::error::{flowdb_status_t::FLOWDB_OK, flowdb_string_free};
    use crate::options::{flowdb_options_free, flowdb_options_new, flowdb_options_set_data_dir};
    use crate::range::{flowdb_range_all, flowdb_range_free};
    use crate::records::flowdb_records_free;

    /// The number after `name ` in the metrics text.
    fn metric(text: &str, name: &str) -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from the metrics"))
    }

    /// A query from C goes through `Engine::query`, so it is counted and timed in the
    /// engine's statistics like a Rust caller's.
    #[test]
    fn c_queries_count_in_the_query_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::ffi::CString::new(dir.path().to_str().unwrap()).unwrap();
        let null = std::ptr::null_mut();
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe {
            let o = flowdb_options_new();
            assert_eq!(
                flowdb_options_set_data_dir(o, path.as_ptr(), null),
                FLOWDB_OK
            );
            let mut e = std::ptr::null_mut();
            assert_eq!(flowdb_engine_open(o, &mut e, null), FLOWDB_OK);
            flowdb_options_free(o);
            let count = || {
                let mut text = std::ptr::null_mut();
                assert_eq!(
                    flowdb_engine_metrics_text(e, &mut text, std::ptr::null_mut(), null),
                    FLOWDB_OK
                );
                let t = std::ffi::CStr::from_ptr(text).to_str().unwrap().to_string();
                flowdb_string_free(text);
                metric(&t, "flowdb_query_latency_seconds_count")
            };
            let before = count();
            for _ in 0..3 {
                let r = flowdb_range_all();
                let mut list = std::ptr::null_mut();
                assert_eq!(flowdb_engine_query(e, r, &mut list, null), FLOWDB_OK);
                flowdb_records_free(list);
                flowdb_range_free(r);
            }
            assert_eq!(count(), before + 3);
            assert_eq!(flowdb_engine_shutdown(e, null), FLOWDB_OK);
            flowdb_engine_free(e);
        }
    }
}
