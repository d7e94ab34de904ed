//! Numeric points for the model and crash tests: values whose sums are exact in any
//! order (so a bucket's sum does not depend on the order it was added up in), with
//! the special values mixed in, and the aggregation folded over a model.

use std::collections::BTreeMap;

use flowdb::{Agg, Bucket, GroupBy};

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

/// The buckets a lending `aggregate_with` form gives, collected; its returned
/// count must be theirs.
#[allow(dead_code)]
pub fn lent(
    read: impl FnOnce(&mut dyn FnMut(&[u8], i64, &[f64])) -> flowdb::Result<usize>,
) -> Vec<Bucket> {
    let mut out = Vec::new();
    let n = read(&mut |key, start, values| {
        out.push(Bucket {
            key: key.to_vec(),
            start,
            values: values.to_vec(),
        })
    })
    .unwrap();
    assert_eq!(n, out.len(), "the count aggregate_with returns");
    out
}

/// The bucket of `step` holding `ts` (what the engine documents).
pub fn bucket_start(ts: i64, step: i64) -> i64 {
    let s = (ts as i128).div_euclid(step as i128) * step as i128;
    s.max(i64::MIN as i128) as i64
}

/// The key of `key`'s group (what `GroupBy` documents).
pub fn group_of(group: GroupBy, key: &[u8]) -> Vec<u8> {
    match group {
        GroupBy::Series => key.to_vec(),
        GroupBy::All => Vec::new(),
        GroupBy::Prefix(n) => key[..n.min(key.len())].to_vec(),
        GroupBy::UpToLast(b) => match key.iter().rposition(|&c| c == b) {
            Some(i) => key[..=i].to_vec(),
            None => key.to_vec(),
        },
    }
}

/// `aggregate_by` folded over `points` `(key, ts, value)`: every group's bucket
/// from its points, in `(group, start)` order (descending when `reverse`), at most
/// `limit` buckets.
pub fn fold<'a>(
    points: impl Iterator<Item = (&'a [u8], i64, f64)>,
    step: i64,
    functions: &[Agg],
    group: GroupBy,
    reverse: bool,
    limit: usize,
) -> Vec<Bucket> {
    type Pts = Vec<(Vec<u8>, i64, f64)>;
    let mut groups: BTreeMap<(Vec<u8>, i64), Pts> = BTreeMap::new();
    for (k, ts, v) in points {
        let at = (group_of(group, k), bucket_start(ts, step));
        groups.entry(at).or_default().push((k.to_vec(), ts, v));
    }
    let mut out: Vec<Bucket> = groups
        .into_iter()
        .map(|((key, start), mut pts)| {
            pts.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            let mut series: BTreeMap<&[u8], Vec<(i64, f64)>> = BTreeMap::new();
            for (k, ts, v) in &pts {
                series.entry(k).or_default().push((*ts, *v));
            }
            let sum: f64 = pts.iter().map(|p| p.2).sum();
            let n = pts.len() as f64;
            let pick = |f: fn(f64, f64) -> f64| pts.iter().map(|p| p.2).fold(f64::NAN, f);
            // Earliest (latest) ts; a tie goes to the lowest key.
            let first = pts.iter().min_by_key(|p| (p.1, &p.0)).unwrap().2;
            let last = pts
                .iter()
                .min_by_key(|p| (std::cmp::Reverse(p.1), &p.0))
                .unwrap()
                .2;
            let rates: Vec<f64> = series
                .values()
                .filter(|vs| vs.len() > 1)
                .map(|vs| {
                    let span = (vs[vs.len() - 1].0 as i128 - vs[0].0 as i128) as f64 / 1e6;
                    increase(vs) / span
                })
                .collect();
            let values = functions
                .iter()
                .map(|f| match f {
                    Agg::Count => n,
                    Agg::Sum => sum,
                    Agg::Min => pick(f64::min),
                    Agg::Max => pick(f64::max),
                    Agg::Avg => sum / n,
                    Agg::First => first,
                    Agg::Last => last,
                    Agg::Increase => series.values().map(|vs| increase(vs)).sum(),
                    Agg::Rate if rates.is_empty() => f64::NAN,
                    Agg::Rate => rates.iter().sum(),
                })
                .collect();
            Bucket { key, start, values }
        })
        .collect();
    if reverse {
        out.reverse();
    }
    out.truncate(limit);
    out
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

/// Whether `a` and `b` agree as results of `f`: first and last bit for bit; rates
/// (divisions, added up across series in another order) to 1e-9; the others as
/// numbers (a NaN equal to any NaN; min and max may pick either zero).
fn same(f: Agg, a: f64, b: f64) -> bool {
    match f {
        Agg::First | Agg::Last => a.to_bits() == b.to_bits(),
        _ if a == b || (a.is_nan() && b.is_nan()) => true,
        Agg::Rate => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
        _ => false,
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
