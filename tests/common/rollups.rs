//! Rollups for the rollup tests (tests/rollups.rs, tests/rollups_crash.rs): the rule
//! "1m" (count, sum, min, max, first, last per minute of `cpu.*`, rolled as soon as
//! a minute ends), and the check that every rolled bucket is the fold of the raw
//! points below the watermark, with no other rolled point.

use std::collections::BTreeMap;
use std::path::Path;

use flowdb::{Agg, Bucket, Engine, GroupBy, Query, RollupRule, Tuning};

pub const STEP: i64 = 60_000_000;
pub const FUNCTIONS: [Agg; 6] = [
    Agg::Count,
    Agg::Sum,
    Agg::Min,
    Agg::Max,
    Agg::First,
    Agg::Last,
];

pub fn tuning(rules: Vec<RollupRule>) -> Tuning {
    let mut t = super::tiny_partitions();
    t.rollups = rules;
    t
}

pub fn rule() -> RollupRule {
    RollupRule::new("1m", STEP, &FUNCTIONS)
        .prefix("cpu.")
        .delay(0)
}

/// The raw points under `cpu.` as the engine holds them: the model a rollup is
/// checked against when the test's own model is not kept.
pub fn raw_points(e: &Engine) -> Model {
    e.query(Query::prefix("cpu."))
        .unwrap()
        .into_iter()
        .map(|r| ((r.key.clone(), r.ts), r.as_f64().unwrap()))
        .collect()
}

pub fn open(dir: &Path, t: &Tuning) -> Engine {
    Engine::open_with(super::small_config(dir), t.clone()).unwrap()
}

/// Every rolled point of a rollup, as buckets of `FUNCTIONS` per raw key: checks
/// that each bucket has every function's point.
pub fn rolled(e: &Engine, name: &str) -> Vec<Bucket> {
    let recs = e
        .rollup(name)
        .unwrap()
        .query(Query::time_range(i64::MIN, i64::MAX))
        .unwrap();
    let mut by: BTreeMap<(Vec<u8>, i64), BTreeMap<usize, f64>> = BTreeMap::new();
    for r in recs {
        let colon = r.key.iter().position(|&c| c == b':').expect("fn:key");
        let f = Agg::from_name(std::str::from_utf8(&r.key[..colon]).unwrap()).unwrap();
        let i = FUNCTIONS.iter().position(|&g| g == f).unwrap();
        let raw = r.key[colon + 1..].to_vec();
        by.entry((raw, r.ts))
            .or_default()
            .insert(i, r.as_f64().unwrap());
    }
    by.into_iter()
        .map(|((key, start), vs)| {
            assert_eq!(vs.len(), FUNCTIONS.len(), "bucket {key:?} {start}: {vs:?}");
            Bucket {
                key,
                start,
                values: vs.into_values().collect(),
            }
        })
        .collect()
}

/// The model: raw points by (key, ts).
pub type Model = BTreeMap<(Vec<u8>, i64), f64>;

/// Checks the rollup against the model: every bucket ending at or before the
/// watermark is the fold of the model's points under `cpu.`, and there is no other.
pub fn check(e: &Engine, model: &Model, what: &str) {
    let wm = e.rollup("1m").unwrap().watermark().unwrap();
    let pts = model
        .iter()
        .filter(|((k, ts), _)| k.starts_with(b"cpu.") && *ts < wm)
        .map(|((k, ts), v)| (k.as_slice(), *ts, *v));
    let want = super::points::fold(pts, STEP, &FUNCTIONS, GroupBy::Series, false, usize::MAX);
    let got = rolled(e, "1m");
    super::points::assert_buckets(&got, &want, &FUNCTIONS, &format!("{what} (wm {wm})"));
}
