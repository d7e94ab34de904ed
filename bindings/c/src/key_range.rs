//! `flowdb_key_range_t` (IndexedDB's IDBKeyRange over JSON keys) and
//! `flowdb_direction_t` (cursor directions), used by JsonDB and transaction queries.

use std::ffi::c_char;

use super::error::{flowdb_error_t, flowdb_status_t, guard, json, no_unwind, null, put_new};
use flowdb::error::{Error, Result};
use flowdb::jsondb::{Direction, KeyRange};

/// A key range (IndexedDB's IDBKeyRange): build with a `flowdb_key_range_*`
/// function, free with `flowdb_key_range_free`. Immutable: may be shared by threads.
#[derive(Debug)]
pub struct flowdb_key_range_t {
    pub(crate) range: KeyRange,
}

/// Iteration order (IndexedDB's cursor directions).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_direction_t {
    FLOWDB_NEXT = 0,
    FLOWDB_PREV = 1,
    FLOWDB_NEXT_UNIQUE = 2,
    FLOWDB_PREV_UNIQUE = 3,
}

pub(crate) fn direction_of(d: i32) -> Result<Direction> {
    Ok(match d {
        0 => Direction::Next,
        1 => Direction::Prev,
        2 => Direction::NextUnique,
        3 => Direction::PrevUnique,
        other => {
            return Err(Error::invalid(format!(
                "direction {other} is not a flowdb_direction_t"
            )))
        }
    })
}

unsafe fn range_out(out: *mut *mut flowdb_key_range_t, r: Result<KeyRange>) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put_new(out, flowdb_key_range_t { range: r? }, "out") }
}

/// Every key.
#[no_mangle]
pub extern "C" fn flowdb_key_range_all() -> *mut flowdb_key_range_t {
    Box::into_raw(Box::new(flowdb_key_range_t {
        range: KeyRange::all(),
    }))
}

/// Exactly `key` (JSON). An invalid key is `FLOWDB_DATA`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_key_range_only(
    key: *const c_char,
    len: usize,
    out: *mut *mut flowdb_key_range_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        range_out(out, json(key, len, "key").and_then(|k| KeyRange::only(&k)))
    })
}

/// Keys above `key` (`open`: excluding it).
#[no_mangle]
pub unsafe extern "C" fn flowdb_key_range_lower_bound(
    key: *const c_char,
    len: usize,
    open: bool,
    out: *mut *mut flowdb_key_range_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        range_out(
            out,
            json(key, len, "key").and_then(|k| KeyRange::lower_bound(&k, open)),
        )
    })
}

/// Keys below `key` (`open`: excluding it).
#[no_mangle]
pub unsafe extern "C" fn flowdb_key_range_upper_bound(
    key: *const c_char,
    len: usize,
    open: bool,
    out: *mut *mut flowdb_key_range_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        range_out(
            out,
            json(key, len, "key").and_then(|k| KeyRange::upper_bound(&k, open)),
        )
    })
}

/// Keys between `lower` and `upper`; `lower > upper` is `FLOWDB_DATA`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_key_range_bound(
    lower: *const c_char,
    lower_len: usize,
    upper: *const c_char,
    upper_len: usize,
    lower_open: bool,
    upper_open: bool,
    out: *mut *mut flowdb_key_range_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (l, u) = (
            json(lower, lower_len, "lower")?,
            json(upper, upper_len, "upper")?,
        );
        range_out(out, KeyRange::bound(&l, &u, lower_open, upper_open))
    })
}

/// Frees a key range; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_key_range_free(r: *mut flowdb_key_range_t) {
    if !r.is_null() {
        // SAFETY: made by a flowdb_key_range_* function, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(r) }));
    }
}

pub(crate) unsafe fn key_range<'a>(r: *const flowdb_key_range_t) -> Result<&'a KeyRange> {
    // SAFETY: NULL or a live range.
    unsafe { r.as_ref() }
        .map(|r| &r.range)
        .ok_or_else(|| null("range"))
}
