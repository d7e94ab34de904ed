//! Numeric points for the model and crash tests: values whose sums are exact in any
//! order (so a bucket's sum does not depend on the order it was added up in), with
//! the special values mixed in, and the aggregation folded over a model.

use flowdb::{Agg, Bucket};

/// A value: mostly small integers and halves (sums exact in any order), sometimes
/// ±0, ±inf or a NaN with a random payload. (Not subnormals: added to an integer
/// they round away, so the sum would depend on the order; tests/numeric.rs reads
/// them back.)
pub fn value(rng: &mut fastrand::Rng) -> f64 {
    match rng.u8(..20) {
        0 => f64::from_bits(0x7ff0_0000_0000_0001 | rng.u64(..1 << 51) | (rng.u64(..2) << 63)),
        1 => [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY][rng.usize(..4)],
        _ => rng.i32(-2000..2000) as f64 / 2.0,
    }
}

/// The bucket of `step` holding `ts` (what the engine documents).
pub fn bucket_start(ts: i64, step: i64) -> i64 {
    let s = (ts as i128).div_euclid(step as i128) * step as i128;
    s.max(i64::MIN as i128) as i64
}

/// `aggregate` folded over `points` `(key, ts, value)` given in the order the query
/// reads them, at most `limit` buckets.
pub fn fold<'a>(
    points: impl Iterator<Item = (&'a [u8], i64, f64)>,
    step: i64,
    functions: &[Agg],
    limit: usize,
) -> Vec<Bucket> {
    let mut groups: Vec<(Vec<u8>, i64, Vec<(i64, f64)>)> = Vec::new();
    for (k, ts, v) in points {
        let start = bucket_start(ts, step);
        match groups.last_mut() {
            Some((gk, gs, vs)) if gk.as_slice() == k && *gs == start => vs.push((ts, v)),
            _ => groups.push((k.to_vec(), start, vec![(ts, v)])),
        }
    }
    groups.truncate(limit);
    groups
        .into_iter()
        .map(|(key, start, mut vs)| {
            vs.sort_by_key(|p| p.0);
            let sum: f64 = vs.iter().map(|p| p.1).sum();
            let n = vs.len() as f64;
            let pick = |f: fn(f64, f64) -> f64| vs.iter().map(|p| p.1).fold(f64::NAN, f);
            let values = functions
                .iter()
                .map(|f| match f {
                    Agg::Count => n,
                    Agg::Sum => sum,
                    Agg::Min => pick(f64::min),
                    Agg::Max => pick(f64::max),
                    Agg::Avg => sum / n,
                    Agg::First => vs[0].1,
                    Agg::Last => vs[vs.len() - 1].1,
                    Agg::Increase => increase(&vs),
                    Agg::Rate => {
                        let span = (vs[vs.len() - 1].0 as i128 - vs[0].0 as i128) as f64 / 1e6;
                        increase(&vs) / span
                    }
                })
                .collect();
            Bucket { key, start, values }
        })
        .collect()
}

/// A counter's increase over `vs` in ts order (resets counted, as `Agg::Increase`).
fn increase(vs: &[(i64, f64)]) -> f64 {
    vs.windows(2)
        .map(|w| match (w[0].1, w[1].1) {
            (a, b) if a.is_nan() || b.is_nan() => f64::NAN,
            (a, b) if b < a => b,
            (a, b) => b - a,
        })
        .sum()
}

/// Whether `a` and `b` agree as results of `f`: first and last bit for bit; the
/// others as numbers (a NaN equal to any NaN; min and max may pick either zero).
fn same(f: Agg, a: f64, b: f64) -> bool {
    match f {
        Agg::First | Agg::Last => a.to_bits() == b.to_bits(),
        _ => a == b || (a.is_nan() && b.is_nan()),
    }
}

/// Asserts `got` is `want`, naming `what` and the first difference.
pub fn assert_buckets(got: &[Bucket], want: &[Bucket], functions: &[Agg], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: bucket count");
    for (g, w) in got.iter().zip(want) {
        let ok = g.key == w.key
            && g.start == w.start
            && g.values.len() == functions.len()
            && functions
                .iter()
                .zip(g.values.iter().zip(&w.values))
                .all(|(f, (a, b))| same(*f, *a, *b));
        assert!(ok, "{what}: got {g:?}, want {w:?} ({functions:?})");
    }
}

/// A random non-empty list of functions.
pub fn functions(rng: &mut fastrand::Rng) -> Vec<Agg> {
    let mut fs: Vec<Agg> = Agg::ALL.into_iter().filter(|_| rng.bool()).collect();
    if fs.is_empty() {
        fs.push(Agg::ALL[rng.usize(..Agg::ALL.len())]);
    }
    rng.shuffle(&mut fs);
    fs
}
