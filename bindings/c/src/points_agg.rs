//! Aggregation of numeric series across the C boundary (docs/numeric.md):
//! `flowdb_agg_t` (the functions, their numbers and names), `flowdb_group_t` (how
//! series are grouped), and the aggregation calls on engines and snapshots
//! (`flowdb_engine_aggregate`, `_aggregate_by`, and the same on a snapshot). The
//! buckets they return are points_buckets.rs's.
//!
//! Enum values come from C as `int32_t` (a function parameter, a struct field or an
//! array element): a number that is no enumerator is `FLOWDB_INVALID_ARGUMENT` naming
//! it, never undefined behaviour.

use std::ffi::c_char;

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{cstr, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put};
use super::points_buckets::{buckets_out, flowdb_buckets_t};
use super::range::flowdb_range_t;
use super::snapshot::{flowdb_snapshot_t, with_snapshot};
use flowdb::error::{Error, Result};
use flowdb::{Agg, GroupBy};

/// An aggregate function of `flowdb_engine_aggregate`, over the points of one series
/// (or group) in one time bucket. Arrays of them are passed as `int32_t` (the size of
/// a C enum is the compiler's choice); docs/numeric.md has each one's rules, NaN
/// included.
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_agg_t {
    /// How many points.
    FLOWDB_AGG_COUNT = 0,
    FLOWDB_AGG_SUM = 1,
    /// The smallest (NaN skipped).
    FLOWDB_AGG_MIN = 2,
    /// The largest (NaN skipped).
    FLOWDB_AGG_MAX = 3,
    /// `sum / count`.
    FLOWDB_AGG_AVG = 4,
    /// The value of the point with the lowest ts.
    FLOWDB_AGG_FIRST = 5,
    /// The value of the point with the highest ts.
    FLOWDB_AGG_LAST = 6,
    /// Counter growth over the bucket, resets counted (Prometheus's rule, no
    /// extrapolation); 0 for one point.
    FLOWDB_AGG_INCREASE = 7,
    /// `increase` per second between the bucket's first and last point; NaN for one
    /// point.
    FLOWDB_AGG_RATE = 8,
}

/// How `flowdb_engine_aggregate_by` groups series (the `kind` of a `flowdb_group_t`).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_group_kind_t {
    /// Each series alone (what `flowdb_engine_aggregate` does).
    FLOWDB_GROUP_SERIES = 0,
    /// Every series together: one group per bucket, its key empty.
    FLOWDB_GROUP_ALL = 1,
    /// Series whose keys begin with the same `prefix_len` bytes; the group's key is
    /// those bytes (a shorter key is a group of its own).
    FLOWDB_GROUP_PREFIX = 2,
    /// Series whose keys agree up to and including their last `byte`: with `'.'`,
    /// `cpu.host1.user` and `cpu.host1.system` are the group `cpu.host1.`. A key
    /// without the byte is a group of its own.
    FLOWDB_GROUP_UP_TO_LAST = 3,
}

/// A grouping of series for `flowdb_engine_aggregate_by`: `kind` is a
/// `flowdb_group_kind_t` (as `int32_t`; another number is `FLOWDB_INVALID_ARGUMENT`),
/// `prefix_len` is read for `FLOWDB_GROUP_PREFIX` only and `byte` for
/// `FLOWDB_GROUP_UP_TO_LAST` only. A zero-initialised group is `FLOWDB_GROUP_SERIES`.
/// Across series, `first`/`last` are the earliest/latest point of any of them (a tie
/// goes to the lowest key), and `increase` and `rate` are the sums of each series' own.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_group_t {
    pub kind: i32,
    pub prefix_len: usize,
    pub byte: u8,
}

/// The function a C `flowdb_agg_t` number names; `what` names it in the error.
fn agg_of(n: i32, what: &str) -> Result<Agg> {
    Ok(match n {
        0 => Agg::Count,
        1 => Agg::Sum,
        2 => Agg::Min,
        3 => Agg::Max,
        4 => Agg::Avg,
        5 => Agg::First,
        6 => Agg::Last,
        7 => Agg::Increase,
        8 => Agg::Rate,
        other => {
            return Err(Error::invalid(format!(
            "{what} is {other}, not a flowdb_agg_t (FLOWDB_AGG_COUNT = 0 .. FLOWDB_AGG_RATE = 8)"
        )))
        }
    })
}

/// The C number of a function.
fn agg_number(a: Agg) -> i32 {
    match a {
        Agg::Count => 0,
        Agg::Sum => 1,
        Agg::Min => 2,
        Agg::Max => 3,
        Agg::Avg => 4,
        Agg::First => 5,
        Agg::Last => 6,
        Agg::Increase => 7,
        Agg::Rate => 8,
    }
}

/// The `n` functions at `functions` (NULL allowed when `n` is 0; the engine then
/// reports that none was given).
pub(crate) unsafe fn aggs(functions: *const i32, n: usize) -> Result<Vec<Agg>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if functions.is_null() {
        return Err(null("functions"));
    }
    // SAFETY: `n` readable int32_t at `functions` (documented), not NULL.
    let fs = unsafe { std::slice::from_raw_parts(functions, n) };
    fs.iter()
        .enumerate()
        .map(|(i, &f)| agg_of(f, &format!("functions[{i}]")))
        .collect()
}

/// The grouping `*group` describes.
pub(crate) unsafe fn group_of(group: *const flowdb_group_t) -> Result<GroupBy> {
    // SAFETY: NULL or a readable group (documented).
    let g = unsafe { group.as_ref() }.ok_or_else(|| null("group"))?;
    Ok(match g.kind {
        0 => GroupBy::Series,
        1 => GroupBy::All,
        2 => GroupBy::Prefix(g.prefix_len),
        3 => GroupBy::UpToLast(g.byte),
        other => {
            return Err(Error::invalid(format!(
                "group kind {other} is not a flowdb_group_kind_t"
            )))
        }
    })
}

/// The numeric points in `range` (its key range, prefix and time range; its order and
/// limit), aggregated per series (key) and per time bucket of `step` microseconds:
/// `*out` receives one bucket per series and bucket that holds a point, in `(key,
/// start)` order (descending for a reverse range), at most the range's limit of
/// buckets (free the list with `flowdb_buckets_free`). Each bucket's `values[i]` is
/// `functions[i]`, a `flowdb_agg_t` of the `n_functions` at `functions`. Buckets are
/// aligned to ts 0. Records of bytes are left out, even 8-byte ones. `step <= 0`, no
/// function, and a number that is no `flowdb_agg_t` are `FLOWDB_INVALID_ARGUMENT`
/// (the message names the argument).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_aggregate(
    engine: *const flowdb_engine_t,
    r: *const flowdb_range_t,
    step: i64,
    functions: *const i32,
    n_functions: usize,
    out: *mut *mut flowdb_buckets_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        buckets_out(r, functions, n_functions, None, out, |q, fs, _, f| {
            with_engine(engine, |e| e.aggregate_with(q, step, fs, f))
        })
    })
}

/// `flowdb_engine_aggregate` with the series grouped as `*group` says: one bucket per
/// group and time bucket, keyed by the group's key (the empty key for
/// `FLOWDB_GROUP_ALL`), in `(group key, start)` order. Groups are gathered in memory
/// before the first is returned (memory grows with groups x buckets, not points).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_aggregate_by(
    engine: *const flowdb_engine_t,
    r: *const flowdb_range_t,
    step: i64,
    functions: *const i32,
    n_functions: usize,
    group: *const flowdb_group_t,
    out: *mut *mut flowdb_buckets_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        buckets_out(
            r,
            functions,
            n_functions,
            Some(group),
            out,
            |q, fs, g, f| with_engine(engine, |e| e.aggregate_by_with(q, step, fs, g, f)),
        )
    })
}

/// `flowdb_engine_aggregate` as of the snapshot.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_aggregate(
    snap: *const flowdb_snapshot_t,
    r: *const flowdb_range_t,
    step: i64,
    functions: *const i32,
    n_functions: usize,
    out: *mut *mut flowdb_buckets_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        buckets_out(r, functions, n_functions, None, out, |q, fs, _, f| {
            s.aggregate_with(q, step, fs, f)
        })
    })
}

/// `flowdb_engine_aggregate_by` as of the snapshot.
#[no_mangle]
pub unsafe extern "C" fn flowdb_snapshot_aggregate_by(
    snap: *const flowdb_snapshot_t,
    r: *const flowdb_range_t,
    step: i64,
    functions: *const i32,
    n_functions: usize,
    group: *const flowdb_group_t,
    out: *mut *mut flowdb_buckets_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_snapshot(snap)?;
        buckets_out(
            r,
            functions,
            n_functions,
            Some(group),
            out,
            |q, fs, g, f| s.aggregate_by_with(q, step, fs, g, f),
        )
    })
}

/// The name of the aggregate function `agg` (a `flowdb_agg_t`) as the CLI and every
/// binding spell it (`"count"`, `"sum"`, `"min"`, `"max"`, `"avg"`, `"first"`,
/// `"last"`, `"increase"`, `"rate"`): a static string, or NULL for a number that is
/// no `flowdb_agg_t`.
#[no_mangle]
pub extern "C" fn flowdb_agg_name(agg: i32) -> *const c_char {
    no_unwind(std::ptr::null(), || match agg_of(agg, "agg") {
        Ok(a) => match a {
            Agg::Count => c"count",
            Agg::Sum => c"sum",
            Agg::Min => c"min",
            Agg::Max => c"max",
            Agg::Avg => c"avg",
            Agg::First => c"first",
            Agg::Last => c"last",
            Agg::Increase => c"increase",
            Agg::Rate => c"rate",
        }
        .as_ptr(),
        Err(_) => std::ptr::null(),
    })
}

/// The aggregate function named `name` (NUL-terminated, spelled as
/// `flowdb_agg_name` spells it, lower case), as its `flowdb_agg_t` number in `*out`.
/// An unknown name is `FLOWDB_INVALID_ARGUMENT` naming it.
#[no_mangle]
pub unsafe extern "C" fn flowdb_agg_from_name(
    name: *const c_char,
    out: *mut i32,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let n = cstr(name, "name")?;
        let a = Agg::from_name(n).ok_or_else(|| {
            let names: Vec<&str> = Agg::ALL.iter().map(|a| a.name()).collect();
            Error::invalid(format!(
                "{n:?} is not an aggregate function (one of {})",
                names.join(", ")
            ))
        })?;
        put(out, agg_number(a), "out")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    /// The C numbers, the C names and the Rust functions agree, both ways.
    #[test]
    fn agg_numbers_and_names_match_the_crate() {
        let c = [
            flowdb_agg_t::FLOWDB_AGG_COUNT,
            flowdb_agg_t::FLOWDB_AGG_SUM,
            flowdb_agg_t::FLOWDB_AGG_MIN,
            flowdb_agg_t::FLOWDB_AGG_MAX,
            flowdb_agg_t::FLOWDB_AGG_AVG,
            flowdb_agg_t::FLOWDB_AGG_FIRST,
            flowdb_agg_t::FLOWDB_AGG_LAST,
            flowdb_agg_t::FLOWDB_AGG_INCREASE,
            flowdb_agg_t::FLOWDB_AGG_RATE,
        ];
        assert_eq!(c.len(), Agg::ALL.len());
        for (a, ca) in Agg::ALL.into_iter().zip(c) {
            let n = ca as i32;
            assert_eq!(agg_of(n, "f").unwrap(), a);
            assert_eq!(agg_number(a), n);
            // SAFETY: a static NUL-terminated string for every flowdb_agg_t.
            let name = unsafe { CStr::from_ptr(flowdb_agg_name(n)) };
            assert_eq!(name.to_str().unwrap(), a.name());
            assert!(format!("{ca:?}").ends_with(&a.name().to_uppercase()));
        }
        assert!(flowdb_agg_name(9).is_null() && flowdb_agg_name(-1).is_null());
        assert!(agg_of(9, "functions[1]")
            .unwrap_err()
            .to_string()
            .contains("functions[1] is 9"));
    }

    #[test]
    fn group_kinds_match_the_crate() {
        let g = |kind: i32| flowdb_group_t {
            kind,
            prefix_len: 3,
            byte: b'.',
        };
        // SAFETY: pointers to live groups.
        unsafe {
            assert_eq!(
                group_of(&g(flowdb_group_kind_t::FLOWDB_GROUP_SERIES as i32)).unwrap(),
                GroupBy::Series
            );
            assert_eq!(
                group_of(&g(flowdb_group_kind_t::FLOWDB_GROUP_ALL as i32)).unwrap(),
                GroupBy::All
            );
            assert_eq!(
                group_of(&g(flowdb_group_kind_t::FLOWDB_GROUP_PREFIX as i32)).unwrap(),
                GroupBy::Prefix(3)
            );
            assert_eq!(
                group_of(&g(flowdb_group_kind_t::FLOWDB_GROUP_UP_TO_LAST as i32)).unwrap(),
                GroupBy::UpToLast(b'.')
            );
            assert!(group_of(&g(4)).is_err() && group_of(std::ptr::null()).is_err());
        }
    }
}
