//! Numeric series across the C boundary (docs/numeric.md): `flowdb_point_t` (a point
//! as C passes it in), writing points (`flowdb_engine_write_points`,
//! `flowdb_write_batch_put_point`), reading a record's value as a number
//! (`flowdb_record_as_f64`), and aggregation: `flowdb_agg_t` (the functions),
//! `flowdb_group_t` (how series are grouped) and `flowdb_buckets_t` (an owned list of
//! buckets lent out as `flowdb_bucket_view_t`, as `flowdb_series_t` lends series), on
//! engines and snapshots.
//!
//! Enum values come from C as `int32_t` (a function parameter, a struct field or an
//! array element): a number that is no enumerator is `FLOWDB_INVALID_ARGUMENT` naming
//! it, never undefined behaviour.

use std::ffi::c_char;

use super::batch::{flowdb_write_batch_t, with_batch};
use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, cstr, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put};
use super::range::{flowdb_range_t, the_range};
use super::records::{flowdb_record_view_t, write_expiry};
use super::snapshot::{flowdb_snapshot_t, with_snapshot};
use flowdb::error::{Error, Result};
use flowdb::{Agg, GroupBy, Point, Query};

/// A numeric point as C passes it in: the key is a `(pointer, length)` byte string,
/// `ts` and `expire_at` are microseconds since the Unix epoch, `value` is stored as
/// its 8 bytes (little-endian) and read back bit for bit (NaN payloads, -0.0,
/// infinities and subnormals included). As for `flowdb_record_view_t`, `expire_at` 0
/// or `FLOWDB_NEVER_EXPIRES` means "no expiry of its own" (the default TTL, if any,
/// applies), so a zero-initialised point never expires.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_point_t {
    pub key: *const u8,
    pub key_len: usize,
    pub ts: i64,
    pub expire_at: i64,
    pub value: f64,
}

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
unsafe fn group_of(group: *const flowdb_group_t) -> Result<GroupBy> {
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

/// The point a C point describes, copied; `what[i]` names it in errors.
unsafe fn point_of(p: &flowdb_point_t, what: &str, i: usize) -> Result<Point> {
    if p.key.is_null() && p.key_len > 0 {
        return Err(null(&format!("{what}[{i}].key")));
    }
    // SAFETY: checked above; the caller passes `key_len` readable bytes (documented).
    let key = unsafe { bytes(p.key, p.key_len, "") }?;
    Ok(Point {
        key: key.to_vec(),
        ts: p.ts,
        expire_at: write_expiry(p.expire_at),
        value: p.value,
    })
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

/// Writes `n` numeric points atomically (all or none, also across a crash), as
/// `flowdb_engine_write_batch` writes records; each keeps its own `expire_at` (0 or
/// `FLOWDB_NEVER_EXPIRES`: the default TTL, if any). Every read returns a point as a
/// record whose value is the double's 8 bytes, little-endian (`flowdb_record_as_f64`
/// reads it back). A point overwrites a record at the same `(key, ts)` and the other
/// way round. `points` may be NULL when `n` is 0.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_points(
    engine: *const flowdb_engine_t,
    points: *const flowdb_point_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let ps = if n == 0 {
            Vec::new()
        } else {
            if points.is_null() {
                return Err(null("points"));
            }
            std::slice::from_raw_parts(points, n)
                .iter()
                .enumerate()
                .map(|(i, p)| point_of(p, "points", i))
                .collect::<Result<Vec<_>>>()?
        };
        with_engine(engine, |e| e.write_points(&ps))
    })
}

/// Adds a put of the numeric point `*point` (copied) to the batch. Its `expire_at` is
/// kept; 0 or `FLOWDB_NEVER_EXPIRES` means "no expiry of its own" (the default TTL
/// applies).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_put_point(
    batch: *mut flowdb_write_batch_t,
    point: *const flowdb_point_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            // SAFETY: NULL or a readable point (documented).
            let p = point.as_ref().ok_or_else(|| null("point"))?;
            b.put_point(point_of(p, "point", 0)?);
            Ok(())
        })
    }
}

/// Adds a put of the numeric point `*point` expiring `ttl_secs` seconds after its
/// `ts` (its own `expire_at` is not read).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_put_point_ttl(
    batch: *mut flowdb_write_batch_t,
    point: *const flowdb_point_t,
    ttl_secs: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            // SAFETY: NULL or a readable point (documented).
            let p = point.as_ref().ok_or_else(|| null("point"))?;
            b.put_point_ttl(point_of(p, "point", 0)?, ttl_secs);
            Ok(())
        })
    }
}

/// The number a numeric point's record holds, in `*out`: its value read as a double
/// (8 bytes, little-endian, whatever the machine's byte order), bit for bit.
/// `FLOWDB_INVALID_ARGUMENT` when the value is not 8 bytes long. Whether the record
/// was written as a point is not checked: an 8-byte value of bytes reads as some
/// number too.
#[no_mangle]
pub unsafe extern "C" fn flowdb_record_as_f64(
    rec: *const flowdb_record_view_t,
    out: *mut f64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = rec.as_ref().ok_or_else(|| null("rec"))?;
        let v = bytes(r.value, r.value_len, "rec.value")?;
        let b: [u8; 8] = v.try_into().map_err(|_| {
            Error::invalid(format!(
                "rec.value is {} bytes, not the 8 of a number",
                v.len()
            ))
        })?;
        put(out, f64::from_le_bytes(b), "out")
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
