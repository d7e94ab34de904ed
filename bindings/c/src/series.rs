//! Series listings across the C boundary: `flowdb_series_t` (an owned list of series,
//! lent out as `flowdb_series_view_t`), as `flowdb_records_t` lends out records. The
//! engine and snapshot functions that fill one are `flowdb_engine_series` (read.rs)
//! and `flowdb_snapshot_series` (snapshot.rs).

use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put};
use flowdb::error::{Error, Result};
use flowdb::SeriesInfo;

/// One series (a distinct key) as the engine's metadata describes it, lent out by
/// `flowdb_series_at`: `key` is `key_len` bytes, valid until the list is freed.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_series_view_t {
    pub key: *const u8,
    pub key_len: usize,
    /// The number of points: an estimate, from metadata (no point is read). It counts
    /// the stored versions not yet merged away: a point overwritten counts once per
    /// version, a deleted (or expired) one until compaction drops it. Without
    /// overwrites, deletes or expiry it is exact.
    pub points: u64,
    /// The first (least) ts stored for the key: exact unless points were deleted since
    /// (deletes leave it as it was until compaction, except a time-range delete
    /// covering a whole table's part of the key).
    pub first_ts: i64,
    /// The last (greatest) ts stored for the key, exact as `first_ts` is.
    pub last_ts: i64,
}

/// An owned list of series, in ascending key order. Views from `flowdb_series_at`
/// stay valid until `flowdb_series_free`. Immutable, so it may be read from several
/// threads.
#[derive(Debug)]
pub struct flowdb_series_t {
    series: Vec<SeriesInfo>,
}

/// Fills `*out` with the series `list` gives; NULL `out` fails before listing.
pub(crate) unsafe fn series_out(
    out: *mut *mut flowdb_series_t,
    list: impl FnOnce() -> Result<Vec<SeriesInfo>>,
) -> Result<()> {
    if out.is_null() {
        return Err(null("out"));
    }
    let l = Box::into_raw(Box::new(flowdb_series_t { series: list()? }));
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put(out, l, "out") }
}

/// The arguments of a series listing: the prefix, the key to list after (empty: from
/// the first) and the limit (`UINT64_MAX`: all).
pub(crate) unsafe fn page_args<'a>(
    prefix: *const u8,
    prefix_len: usize,
    after: *const u8,
    after_len: usize,
    limit: u64,
) -> Result<(&'a [u8], &'a [u8], usize)> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (p, a) = unsafe {
        (
            bytes(prefix, prefix_len, "prefix")?,
            bytes(after, after_len, "after")?,
        )
    };
    Ok((p, a, usize::try_from(limit).unwrap_or(usize::MAX)))
}

/// The number of series in a list (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_series_len(list: *const flowdb_series_t) -> usize {
    no_unwind(0, || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe { list.as_ref() }.map_or(0, |l| l.series.len())
    })
}

/// A view of series `i` (its key, point count estimate, first and last ts) in `*out`,
/// borrowed from the list (valid until it is freed). `FLOWDB_INVALID_ARGUMENT` when `i`
/// is out of range.
#[no_mangle]
pub unsafe extern "C" fn flowdb_series_at(
    list: *const flowdb_series_t,
    i: usize,
    out: *mut flowdb_series_view_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let l = list.as_ref().ok_or_else(|| null("list"))?;
        let s = l.series.get(i).ok_or_else(|| {
            Error::invalid(format!(
                "index {i} is past the {} series of the list",
                l.series.len()
            ))
        })?;
        let v = flowdb_series_view_t {
            key: s.key.as_ptr(),
            key_len: s.key.len(),
            points: s.points,
            first_ts: s.first_ts,
            last_ts: s.last_ts,
        };
        put(out, v, "out")
    })
}

/// Frees a series list; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_series_free(list: *mut flowdb_series_t) {
    if !list.is_null() {
        // SAFETY: made by this library, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(list) }));
    }
}
