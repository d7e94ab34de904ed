//! `flowdb_range_t`: what a query or scan covers. Ranges follow the engine's rules:
//! key and time ranges include both ends, a prefix matches keys starting with it (the
//! empty prefix: everything).

use super::error::{bytes, no_unwind, null};
use flowdb::error::Result;
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
