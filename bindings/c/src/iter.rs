//! `flowdb_iter_t`: a lazy scan over a snapshot, and the functions that start one.

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put, put_new};
use super::range::{flowdb_range_t, the_range};
use super::records::{flowdb_record_view_t, view};
use flowdb::error::{Error, Result};
use flowdb::record::Record;
use flowdb::ReadOptions;
use flowdb::ScanIterator;
use flowdb::ScanRange;

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

/// A scan over `range` with default read options, in `*out`: its records in
/// `(key, ts)` order, or descending with `flowdb_range_set_reverse`, at most the
/// range's limit (`flowdb_range_set_limit`). `flowdb_iter_seek` moves it.
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
        let r = the_range(r)?;
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
/// with `flowdb_iter_record`), false at the end. An error ends the scan, and there is
/// no current record after it.
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
        // Cleared first: after a failed step there is no current record (the one
        // before it stayed current, readable as if the step had not been taken).
        i.current = None;
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

/// Whether the current record (the one `flowdb_iter_next` moved to last) was written
/// as a numeric point (`flowdb_engine_write_points`, `flowdb_write_batch_put_point`),
/// in `*out`: its value is then a double's 8 bytes, little-endian
/// (`flowdb_record_as_f64` reads it; docs/numeric.md). An 8-byte value written as bytes
/// is no point. False when there is no current record: before the first
/// `flowdb_iter_next`, at the end, and after a seek until the next `flowdb_iter_next`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_iter_is_point(
    it: *const flowdb_iter_t,
    out: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let i = it.as_ref().ok_or_else(|| null("iterator"))?;
        put(out, i.current.is_some() && i.it.is_point(), "out")
    })
}

/// Moves the scan to `(key, ts)` within its range, as RocksDB's `Seek` and (for a
/// scan whose range was made reverse with `flowdb_range_set_reverse`) `SeekForPrev`:
/// - forwards, the next `flowdb_iter_next` gives the first record at or after
///   `(key, ts)` in `(key, ts)` order;
/// - reverse, the first record at or before `(key, ts)`, and reading goes on backwards.
///
/// A position before the range (in the scan's direction: below its start forwards,
/// above its end in reverse) restarts the scan from the range's beginning; one beyond
/// the range ends it (`flowdb_iter_next` then reports no record). The range's limit
/// counts again from each seek: a page of at most that many records per seek. The scan
/// still reads the snapshot it was created on (later writes stay invisible). A seek
/// also revives a scan that had ended (or failed), and drops the current record: call
/// `flowdb_iter_next` before `flowdb_iter_record` (views of the record before the seek
/// are invalid). Seeking a scan of an empty range (or a limit of 0) leaves it empty.
/// `key` is `key_len` bytes (NULL allowed when `key_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn flowdb_iter_seek(
    it: *mut flowdb_iter_t,
    key: *const u8,
    key_len: usize,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let i = it.as_mut().ok_or_else(|| null("iterator"))?;
        let k = bytes(key, key_len, "key")?;
        i.current = None;
        i.it.seek(k, ts);
        Ok(())
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
