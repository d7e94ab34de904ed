//! Aggregated buckets across the C boundary: `flowdb_buckets_t` (an owned list of
//! buckets lent out as `flowdb_bucket_view_t`, as `flowdb_series_t` lends series),
//! filled by the aggregation calls of points_agg.rs and rollups.rs.

use super::error::{flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put};
use super::points_agg::{aggs, flowdb_group_t, group_of};
use super::range::{flowdb_range_t, the_range};
use flowdb::error::{Error, Result};
use flowdb::{Agg, GroupBy, Query};

/// One bucket lent out by `flowdb_buckets_at`: the series' (or group's) key,
/// `key_len` bytes; the bucket's `start` (it holds the points with `start <= ts <
/// start + step`; a multiple of `step`, clamped to `INT64_MIN` for the lowest bucket);
/// and `n_values` results, `values[i]` that of the `i`-th function asked for. The
/// pointers are valid until the list is freed.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_bucket_view_t {
    pub key: *const u8,
    pub key_len: usize,
    pub start: i64,
    pub values: *const f64,
    pub n_values: usize,
}

/// An owned list of aggregated buckets, in `(key, start)` order (descending for a
/// reverse range). Views from `flowdb_buckets_at` stay valid until
/// `flowdb_buckets_free`, which must be called exactly once. Immutable, so it may be
/// read from several threads.
#[derive(Debug, Default)]
pub struct flowdb_buckets_t {
    /// The buckets' keys one after another, a series' key once for its run of
    /// buckets (three growing buffers for the whole list, not two allocations per
    /// bucket).
    keys: Vec<u8>,
    /// Per bucket: where its key begins in `keys`, its length, its start.
    heads: Vec<(usize, usize, i64)>,
    /// The buckets' values, `n_values` each.
    values: Vec<f64>,
    n_values: usize,
}

impl flowdb_buckets_t {
    /// Appends a bucket lent by the engine.
    fn push(&mut self, key: &[u8], start: i64, values: &[f64]) {
        let at = match self.heads.last() {
            Some(&(at, len, _)) if self.keys[at..at + len] == *key => at,
            _ => {
                self.keys.extend_from_slice(key);
                self.keys.len() - key.len()
            }
        };
        self.heads.push((at, key.len(), start));
        self.values.extend_from_slice(values);
        self.n_values = values.len();
    }
}

/// Fills `*out` with the buckets `run` computes, after checking the arguments: the
/// range (copied), the functions and, with `group`, the grouping.
pub(crate) unsafe fn buckets_out(
    r: *const flowdb_range_t,
    functions: *const i32,
    n_functions: usize,
    group: Option<*const flowdb_group_t>,
    out: *mut *mut flowdb_buckets_t,
    run: impl FnOnce(Query, &[Agg], GroupBy, &mut dyn FnMut(&[u8], i64, &[f64])) -> Result<usize>,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (query, fs, g) = unsafe {
        let query = the_range(r)?.into();
        let fs = aggs(functions, n_functions)?;
        let g = match group {
            Some(g) => group_of(g)?,
            None => GroupBy::Series,
        };
        (query, fs, g)
    };
    if out.is_null() {
        return Err(null("out"));
    }
    let mut list = flowdb_buckets_t::default();
    run(query, &fs, g, &mut |key, start, values| {
        list.push(key, start, values)
    })?;
    let list = Box::into_raw(Box::new(list));
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put(out, list, "out") }
}

/// The number of buckets in a list (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_buckets_len(list: *const flowdb_buckets_t) -> usize {
    no_unwind(0, || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe { list.as_ref() }.map_or(0, |l| l.heads.len())
    })
}

/// A view of bucket `i` (its key, start and values) in `*out`, borrowed from the list
/// (valid until it is freed). `FLOWDB_INVALID_ARGUMENT` when `i` is out of range
/// (`*out` is then not written).
#[no_mangle]
pub unsafe extern "C" fn flowdb_buckets_at(
    list: *const flowdb_buckets_t,
    i: usize,
    out: *mut flowdb_bucket_view_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let l = list.as_ref().ok_or_else(|| null("list"))?;
        let &(at, key_len, start) = l.heads.get(i).ok_or_else(|| {
            Error::invalid(format!(
                "index {i} is past the {} buckets of the list",
                l.heads.len()
            ))
        })?;
        let values = &l.values[i * l.n_values..(i + 1) * l.n_values];
        let v = flowdb_bucket_view_t {
            key: l.keys[at..].as_ptr(),
            key_len,
            start,
            values: values.as_ptr(),
            n_values: values.len(),
        };
        put(out, v, "out")
    })
}

/// Frees a bucket list, once (a second free of the same list is undefined behaviour,
/// as for every `_free`); NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_buckets_free(list: *mut flowdb_buckets_t) {
    if !list.is_null() {
        // SAFETY: made by this library, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(list) }));
    }
}
