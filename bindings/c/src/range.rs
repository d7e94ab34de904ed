//! `flowdb_range_t`: what a query or scan covers, and in which order and how much of
//! it is read. Ranges follow the engine's rules: key and time ranges include both ends,
//! a prefix matches keys starting with it (the empty prefix: everything).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null};
use flowdb::error::Result;
use flowdb::ScanRange;

/// What a query or scan covers. Build with a `flowdb_range_*` constructor (they copy
/// their arguments), free with `flowdb_range_free`. By default its records come in
/// ascending `(key, ts)` order, all of them; `flowdb_range_set_reverse` and
/// `flowdb_range_set_limit` change that. Queries and scans copy the range when they
/// start, so it may be freed or changed afterwards without affecting them. Thread-safe:
/// it may be shared by threads (a setter racing a read of the same range gives that
/// read the range either before or after the change).
#[derive(Debug)]
pub struct flowdb_range_t {
    range: ScanRange,
    reverse: AtomicBool,
    /// The limit; `u64::MAX` for none.
    limit: AtomicU64,
}

fn range(r: ScanRange) -> *mut flowdb_range_t {
    Box::into_raw(Box::new(flowdb_range_t {
        range: r,
        reverse: AtomicBool::new(false),
        limit: AtomicU64::new(u64::MAX),
    }))
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

/// Newest first when `reverse` is true: the records come in descending `(key, ts)`
/// order (the greatest key first, each key's points newest first), read backwards from
/// the end of the range as RocksDB's reverse iterator does (not collected and turned
/// round). False (the default) restores ascending order. Applies to the queries and
/// scans started with this range afterwards.
#[no_mangle]
pub unsafe extern "C" fn flowdb_range_set_reverse(
    r: *mut flowdb_range_t,
    reverse: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = r.as_ref().ok_or_else(|| null("range"))?;
        r.reverse.store(reverse, Relaxed);
        Ok(())
    })
}

/// At most `n` records: the first `n` in the read's order (the `n` smallest
/// `(key, ts)`, or with `flowdb_range_set_reverse` the `n` greatest). Reading stops
/// there, so a limited read costs about `n` records, not the whole range. `n = 0`
/// returns none; `UINT64_MAX` (the default) means no limit. A scan's limit counts
/// again from each `flowdb_iter_seek` (a page of at most `n` records per seek).
/// Applies to the queries and scans started with this range afterwards.
#[no_mangle]
pub unsafe extern "C" fn flowdb_range_set_limit(
    r: *mut flowdb_range_t,
    n: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = r.as_ref().ok_or_else(|| null("range"))?;
        r.limit.store(n, Relaxed);
        Ok(())
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

/// The range a query or scan reads: a copy of `r`'s bounds with its order and limit.
pub(crate) unsafe fn the_range(r: *const flowdb_range_t) -> Result<ScanRange> {
    // SAFETY: NULL or a live range.
    let r = unsafe { r.as_ref() }.ok_or_else(|| null("range"))?;
    let mut s = r.range.clone();
    if r.reverse.load(Relaxed) {
        s = s.reverse();
    }
    match r.limit.load(Relaxed) {
        u64::MAX => {}
        n => s = s.limit(usize::try_from(n).unwrap_or(usize::MAX)),
    }
    Ok(s)
}
