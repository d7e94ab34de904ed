//! Downsampling rollups across the C boundary (docs/numeric.md, "Rollups"): a rule
//! added to the options (`flowdb_rollup_rule_t`, `flowdb_options_add_rollup`),
//! rolling on demand (`flowdb_engine_run_rollups`), and the reads of a rollup by its
//! rule's name: its watermark, its records (`flowdb_engine_rollup_query`) and
//! aggregation (`flowdb_engine_rollup_aggregate`, `_aggregate_by`).

use std::ffi::c_char;

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, cstr, flowdb_error_t, flowdb_status_t, guard, null, put};
use super::options::{flowdb_options_t, with_options};
use super::points_agg::{aggs, flowdb_group_t};
use super::points_buckets::{buckets_out, flowdb_buckets_t};
use super::range::{flowdb_range_t, the_range};
use super::read::list_out;
use super::records::flowdb_records_t;
use flowdb::error::Result;
use flowdb::{Engine, Rollup, RollupRule};

/// A downsampling rule as C passes it in (copied by `flowdb_options_add_rollup`):
/// every `step` microseconds of time, the points of each series whose key begins with
/// the `prefix_len` bytes at `prefix` (0: every series) are folded by each of the
/// `n_functions` `flowdb_agg_t` at `functions` (`COUNT`, `SUM`, `MIN`, `MAX`, `FIRST`,
/// `LAST`: those that compose), and kept as points keyed `<function>:<raw key>`
/// in `<data dir>/rollups/<name>/`. `keep_secs`: the rollup's own retention by age
/// (0: forever). `delay`: a bucket is rolled this many microseconds after its end;
/// a negative value means the default, one `step`. Zero-initialised fields other
/// than `name`, `step` and the functions take their defaults, except `delay` (0:
/// rolled as soon as it ends).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_rollup_rule_t {
    /// NUL-terminated: 1 to 64 of `[A-Za-z0-9_-]`, unique among the rules.
    pub name: *const c_char,
    pub prefix: *const u8,
    pub prefix_len: usize,
    pub step: i64,
    pub functions: *const i32,
    pub n_functions: usize,
    pub keep_secs: u64,
    pub delay: i64,
}

/// Adds a downsampling rule (copied) to the options: the engine opened with them
/// maintains its rollup. The rule is checked at open, where a bad one is
/// `FLOWDB_INVALID_ARGUMENT` naming it and the field; a number in `functions` that
/// is no `flowdb_agg_t` is refused here.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_add_rollup(
    opts: *mut flowdb_options_t,
    rule: *const flowdb_rollup_rule_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            let r = rule.as_ref().ok_or_else(|| null("rule"))?;
            let name = cstr(r.name, "rule->name")?;
            let prefix = bytes(r.prefix, r.prefix_len, "rule->prefix")?;
            let functions = aggs(r.functions, r.n_functions)?;
            let mut rule = RollupRule::new(name, r.step, &functions).prefix(prefix);
            if r.keep_secs != 0 {
                rule = rule.keep_secs(r.keep_secs);
            }
            if r.delay >= 0 {
                rule = rule.delay(r.delay);
            }
            o.tuning.rollups.push(rule);
            Ok(())
        })
    }
}

/// Removes every rule added with `flowdb_options_add_rollup`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_clear_rollups(
    opts: *mut flowdb_options_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.rollups.clear();
            Ok(())
        })
    }
}

/// Rolls every rule's due buckets and re-rolls the dirty ones now (background
/// maintenance does it every round): for engines opened without it. Does nothing
/// without rules; `FLOWDB_READ_ONLY` on a read-only instance.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_run_rollups(
    engine: *const flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_engine(engine, Engine::run_rollups) })
}

/// The rollup of the rule named by the NUL-terminated `name`.
unsafe fn rollup_of(e: &Engine, name: *const c_char) -> Result<Rollup> {
    // SAFETY: NULL or a NUL-terminated string (documented).
    e.rollup(unsafe { cstr(name, "name") }?)
}

/// The rollup `name`'s watermark in `*out`: every bucket ending at or before it is
/// rolled (`INT64_MIN`: none yet). `FLOWDB_NOT_FOUND` when no rule has that name.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_rollup_watermark(
    engine: *const flowdb_engine_t,
    name: *const c_char,
    out: *mut i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let wm = with_engine(engine, |e| rollup_of(e, name)?.watermark())?;
        put(out, wm, "out")
    })
}

/// The rolled points of the rollup `name` in the range (as `flowdb_engine_query`:
/// its order and limit apply), as records whose values are doubles
/// (`flowdb_record_as_f64`), keyed `<function>:<raw key>`, at each bucket's start.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_rollup_query(
    engine: *const flowdb_engine_t,
    name: *const c_char,
    r: *const flowdb_range_t,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = the_range(r)?;
        list_out(out, || {
            with_engine(engine, |e| rollup_of(e, name)?.query(r.into()))
        })
    })
}

/// `flowdb_engine_aggregate` on the rollup `name`: with the range prefix `max:cpu.`,
/// a step of an hour and `FLOWDB_AGG_MAX`, the maximum per hour from the rolled
/// maxima.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_rollup_aggregate(
    engine: *const flowdb_engine_t,
    name: *const c_char,
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
            with_engine(engine, |e| {
                rollup_of(e, name)?.aggregate_with(q, step, fs, f)
            })
        })
    })
}

/// `flowdb_engine_aggregate_by` on the rollup `name`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_rollup_aggregate_by(
    engine: *const flowdb_engine_t,
    name: *const c_char,
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
            |q, fs, g, f| {
                let r =
                    |e: &flowdb::Engine| rollup_of(e, name)?.aggregate_by_with(q, step, fs, g, f);
                with_engine(engine, r)
            },
        )
    })
}
