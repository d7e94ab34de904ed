//! Reads: `flowdb_records_t` (an owned list of records lent out as views),
//! `flowdb_range_t` (what a query or scan covers), gets, queries and `flowdb_iter_t`
//! (a lazy scan over a snapshot).
//!
//! Ranges follow the engine's rules: key and time ranges include both ends, a prefix
//! matches keys starting with it (the empty prefix: everything).

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put, put_new};
use super::records::{flowdb_record_view_t, flowdb_records_t, view, RecordList};
use flowdb::error::{Error, Result};
use flowdb::record::Record;
use flowdb::ReadOptions;
use flowdb::ScanIterator;
use flowdb::ScanRange;

/// What a query or scan covers. Build with a `flowdb_range_*` constructor (they copy
/// their arguments), free with `flowdb_range_free`. Immutable: may be shared by threads.
#[derive(Debug)]
pub struct flowdb_range_t {
    range: ScanRange,
}

fn range(r: ScanRange) -> *mut flowdb_range_t {
    Box::into_raw(Box::new(flowdb_range_t { range: r }))
}

/// Everything.
#[no_mangle]
pub extern "C" fn flowdb_range_all() -> *mut flowdb_range_t {
    range(ScanRange::all())
}

/// Every key, `start <= ts <= end`.
#[no_mangle]
pub extern "C" fn flowdb_range_time(start: i64, end: i64) -> *mut flowdb_range_t {
    range(ScanRange::time_range(start, end))
}

/// Keys beginning with the `len` bytes at `prefix` (NULL allowed when `len` is 0).
/// Returns NULL only when `prefix` is NULL with a non-zero `len`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_range_prefix(prefix: *const u8, len: usize) -> *mut flowdb_range_t {
    no_unwind(std::ptr::null_mut(), || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        match unsafe { bytes(prefix, len, "prefix") } {
            Ok(p) => range(ScanRange::prefix_bytes(p)),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Keys beginning with `prefix`, `start <= ts <= end`. NULL as `flowdb_range_prefix`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_range_prefix_time(
    prefix: *const u8,
    len: usize,
    start: i64,
    end: i64,
) -> *mut flowdb_range_t {
    no_unwind(std::ptr::null_mut(), || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        match unsafe { bytes(prefix, len, "prefix") } {
            Ok(p) => range(ScanRange::prefix_bytes(p).with_time_range(start, end)),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// `start <= key <= end` (both included). NULL when a pointer is NULL with a length.
#[no_mangle]
pub unsafe extern "C" fn flowdb_range_key(
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
) -> *mut flowdb_range_t {
    no_unwind(std::ptr::null_mut(), || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        match unsafe { (bytes(start, start_len, "start"), bytes(end, end_len, "end")) } {
            (Ok(s), Ok(e)) => range(ScanRange::key_range_bytes(s, e)),
            _ => std::ptr::null_mut(),
        }
    })
}

/// `start <= key <= end` and `ts_start <= ts <= ts_end`. NULL as `flowdb_range_key`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_range_key_time(
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    ts_start: i64,
    ts_end: i64,
) -> *mut flowdb_range_t {
    no_unwind(std::ptr::null_mut(), || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        match unsafe { (bytes(start, start_len, "start"), bytes(end, end_len, "end")) } {
            (Ok(s), Ok(e)) => {
                range(ScanRange::key_range_bytes(s, e).with_time_range(ts_start, ts_end))
            }
            _ => std::ptr::null_mut(),
        }
    })
}

/// Frees a range; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_range_free(r: *mut flowdb_range_t) {
    if !r.is_null() {
        // SAFETY: made by a flowdb_range_* constructor, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(r) }));
    }
}

pub(crate) unsafe fn the_range<'a>(r: *const flowdb_range_t) -> Result<&'a ScanRange> {
    // SAFETY: NULL or a live range.
    unsafe { r.as_ref() }
        .map(|r| &r.range)
        .ok_or_else(|| null("range"))
}

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

/// A query through `Engine::query`, as Rust callers make it (timed in its statistics).
fn collect(e: &flowdb::Engine, r: ScanRange) -> Result<Vec<Record>> {
    e.query(r.into())
}

/// Every live record in `range`, in (key, ts) order, as a list in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_query(
    engine: *const flowdb_engine_t,
    r: *const flowdb_range_t,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = the_range(r)?.clone();
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

/// A lazy scan over a snapshot taken at its creation. Use from one thread at a time
/// (it may move between threads); free with `flowdb_iter_free` (also before the
/// end: that releases the snapshot).
#[derive(Debug)]
pub struct flowdb_iter_t {
    it: ScanIterator,
    current: Option<Record>,
}

pub(crate) unsafe fn iter_out(
    out: *mut *mut flowdb_iter_t,
    make: impl FnOnce() -> Result<ScanIterator>,
) -> Result<()> {
    if out.is_null() {
        return Err(null("out"));
    }
    let it = flowdb_iter_t {
        it: make()?,
        current: None,
    };
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put_new(out, it, "out") }
}

/// A scan over `range` with default read options, in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_scan(
    engine: *const flowdb_engine_t,
    r: *const flowdb_range_t,
    out: *mut *mut flowdb_iter_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { flowdb_engine_scan_opt(engine, r, true, true, out, err) }
}

/// A scan with read options: `fill_cache` keeps read blocks cached; `verify_checksums`
/// checks every block read (a mismatch is `FLOWDB_CORRUPTION` from `flowdb_iter_next`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_scan_opt(
    engine: *const flowdb_engine_t,
    r: *const flowdb_range_t,
    fill_cache: bool,
    verify_checksums: bool,
    out: *mut *mut flowdb_iter_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = the_range(r)?.clone();
        let opts = ReadOptions {
            fill_cache,
            verify_checksums,
        };
        iter_out(out, || with_engine(engine, |e| e.scan_opt(r, &opts)))
    })
}

/// A scan of keys beginning with `prefix`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_scan_prefix(
    engine: *const flowdb_engine_t,
    prefix: *const u8,
    len: usize,
    out: *mut *mut flowdb_iter_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let p = bytes(prefix, len, "prefix")?;
        iter_out(out, || {
            with_engine(engine, |e| e.scan(ScanRange::prefix_bytes(p)))
        })
    })
}

/// A scan of keys beginning with `prefix`, with `ts_start <= ts <= ts_end`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_scan_prefix_time_range(
    engine: *const flowdb_engine_t,
    prefix: *const u8,
    len: usize,
    ts_start: i64,
    ts_end: i64,
    out: *mut *mut flowdb_iter_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let p = bytes(prefix, len, "prefix")?;
        iter_out(out, || {
            with_engine(engine, |e| {
                e.scan(ScanRange::prefix_bytes(p).with_time_range(ts_start, ts_end))
            })
        })
    })
}

/// Moves to the next record: `*has_record` is true while there is one (then read it
/// with `flowdb_iter_record`), false at the end. An error ends the scan.
#[no_mangle]
pub unsafe extern "C" fn flowdb_iter_next(
    it: *mut flowdb_iter_t,
    has_record: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let i = it.as_mut().ok_or_else(|| null("iterator"))?;
        if has_record.is_null() {
            return Err(null("has_record"));
        }
        i.current = i.it.next().transpose()?;
        *has_record = i.current.is_some();
        Ok(())
    })
}

/// The current record as a view, borrowed until the next call on this iterator or
/// its free. `FLOWDB_INVALID_ARGUMENT` before the first `flowdb_iter_next` or at the end.
#[no_mangle]
pub unsafe extern "C" fn flowdb_iter_record(
    it: *const flowdb_iter_t,
    out: *mut flowdb_record_view_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let i = it.as_ref().ok_or_else(|| null("iterator"))?;
        let r = i
            .current
            .as_ref()
            .ok_or_else(|| Error::invalid("the iterator has no current record"))?;
        put(out, view(r), "out")
    })
}

/// Frees an iterator (at any point of the scan); NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_iter_free(it: *mut flowdb_iter_t) {
    if !it.is_null() {
        // SAFETY: made by a flowdb_engine_scan* function, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(it) }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{
        flowdb_engine_free, flowdb_engine_metrics_text, flowdb_engine_open, flowdb_engine_shutdown,
    };
    use crate::error::{flowdb_status_t::FLOWDB_OK, flowdb_string_free};
    use crate::options::{flowdb_options_free, flowdb_options_new, flowdb_options_set_data_dir};
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
