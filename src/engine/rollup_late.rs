//! Which buckets of a rule a late raw batch dirties: one region per key and run of
//! consecutive buckets below the watermark (none in history, before the raw floor),
//! and each range delete's region (docs/numeric.md, "Rollups").

use std::collections::BTreeMap;

use super::points::bucket_of;
use crate::rollup::{Region, RollupRule};
use crate::wal::{Op, WriteBatch as LogBatch};

/// What `batch` changes below `watermark` under the rule's prefix: per key put or
/// deleted, one region per run of consecutive buckets its ts fall in (so that a
/// bucket between two late points is not rolled again: its raw points may have
/// expired), but none for buckets starting before `open_from` (history: a late write
/// there changes nothing rolled); and each range delete's region (`deleted`), cut to
/// the prefix.
pub(super) fn late_regions(
    batch: &LogBatch,
    rule: &RollupRule,
    watermark: i64,
    open_from: i64,
) -> Vec<Region> {
    let prefix = rule.prefix.as_slice();
    let mut keys: BTreeMap<&[u8], Vec<i64>> = BTreeMap::new();
    let late = |key: &[u8], ts: i64| ts < watermark && ts >= open_from && key.starts_with(prefix);
    let mut out = Vec::new();
    for op in &batch.ops {
        let (key, ts) = match op {
            Op::Points(p) => {
                for i in 0..p.len() {
                    let (key, ts) = (p.key(i), p.ts[i]);
                    if late(key, ts) {
                        keys.entry(key).or_default().push(ts);
                    }
                }
                continue;
            }
            Op::Put(r) | Op::Num(r) => (r.key.as_slice(), r.ts),
            Op::Delete { key, ts } => (key.as_slice(), *ts),
            Op::DeleteRange {
                start,
                end,
                ts_lo,
                ts_hi,
            } => {
                // As deleted (not cut at the watermark: a pass rolls again only
                // below its own).
                if *ts_lo < watermark {
                    let region = Region {
                        start: start.clone(),
                        end: (!end.is_empty()).then(|| end.clone()),
                        ts_lo: *ts_lo,
                        ts_hi: *ts_hi,
                        deleted: true,
                    };
                    out.extend(region.within(prefix));
                }
                continue;
            }
        };
        if late(key, ts) {
            keys.entry(key).or_default().push(ts);
        }
    }
    for (key, mut ts) in keys {
        ts.sort_unstable();
        // The runs of consecutive buckets: each its least and greatest ts, and the
        // last ts of its last bucket.
        let mut runs: Vec<(i64, i64, i64)> = Vec::new();
        for t in ts {
            match runs.last_mut() {
                Some((_, hi, end)) if t <= end.saturating_add(rule.step) => {
                    *hi = t;
                    *end = bucket_of(t, rule.step).1;
                }
                _ => runs.push((t, t, bucket_of(t, rule.step).1)),
            }
        }
        match runs.len() {
            // A sparse backfill: one region over all its runs (above the floor the
            // raw data holds what was rolled, so re-rolling the gaps changes
            // nothing), not a mark growing with its points.
            n if n > MAX_RUNS_PER_KEY => {
                out.push(Region::key(key, runs[0].0, runs[n - 1].1));
            }
            _ => out.extend(runs.iter().map(|&(lo, hi, _)| Region::key(key, lo, hi))),
        }
    }
    out
}

/// The most regions one key of a late batch gets in a dirty mark (one per run of
/// consecutive buckets it touches); past it, one over them all.
const MAX_RUNS_PER_KEY: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::Agg;
    use crate::record::Record;

    /// The rule of these tests: buckets of 10 under `cpu.`.
    fn rule() -> RollupRule {
        RollupRule::new("r", 10, &[Agg::Max]).prefix("cpu.")
    }

    /// `write_points`' columns are checked point by point, as `Num` records are.
    #[test]
    fn late_points_in_columns_make_regions() {
        let mut p = crate::wal::Points::with_capacity(4, 20);
        p.push(b"cpu.a", 5, i64::MAX, 1.0);
        p.push(b"cpu.a", 2, i64::MAX, 1.0);
        p.push(b"cpu.b", 50, i64::MAX, 1.0); // not late
        p.push(b"mem.a", 1, i64::MAX, 1.0); // not under the prefix
        let batch = LogBatch {
            ops: vec![Op::Points(p)],
        };
        assert_eq!(
            late_regions(&batch, &rule(), 10, i64::MIN),
            vec![Region::key(b"cpu.a", 2, 5)]
        );
    }

    #[test]
    fn late_writes_make_regions() {
        let mut batch = LogBatch::default();
        batch.ops.push(Op::Put(Record::new("cpu.a", 5, vec![])));
        batch.ops.push(Op::Put(Record::new("cpu.a", 1, vec![])));
        batch.ops.push(Op::Put(Record::new("cpu.b", 50, vec![]))); // not late
        batch.ops.push(Op::Put(Record::new("mem.a", 1, vec![]))); // not under prefix
        batch.ops.push(Op::Delete {
            key: b"cpu.c".to_vec(),
            ts: 9,
        });
        batch.ops.push(Op::DeleteRange {
            start: Vec::new(),
            end: Vec::new(),
            ts_lo: 0,
            ts_hi: 100,
        });
        batch.ops.push(Op::DeleteRange {
            start: b"a".to_vec(),
            end: b"b".to_vec(),
            ts_lo: 0,
            ts_hi: 100,
        });
        let r = late_regions(&batch, &rule(), 10, i64::MIN);
        assert_eq!(
            r,
            vec![
                Region {
                    start: b"cpu.".to_vec(),
                    end: Some(b"cpu/".to_vec()),
                    ts_lo: 0,
                    ts_hi: 100, // a pass rolls again below its own watermark
                    deleted: true,
                },
                Region::key(b"cpu.a", 1, 5),
                Region::key(b"cpu.c", 9, 9),
            ]
        );
        assert!(late_regions(&batch, &rule(), 0, i64::MIN).is_empty());
    }

    /// A sparse backfill (more runs of buckets than `MAX_RUNS_PER_KEY`) makes one
    /// region over them all: a mark does not grow with the batch's points (a
    /// region each overflowed the 64 MiB value limit at ~2 million points).
    #[test]
    fn a_sparse_backfill_makes_one_region_per_key() {
        let n = MAX_RUNS_PER_KEY as i64 + 1;
        let mut p = crate::wal::Points::with_capacity(n as usize, 6 * n as usize);
        for i in 0..n {
            p.push(b"cpu.a", i * 20, i64::MAX, 1.0); // every other bucket
        }
        let batch = LogBatch {
            ops: vec![Op::Points(p)],
        };
        let r = late_regions(&batch, &rule(), i64::MAX, i64::MIN);
        assert_eq!(r, vec![Region::key(b"cpu.a", 0, (n - 1) * 20)]);
    }

    /// A key's late points make one region per run of consecutive buckets (the
    /// buckets between runs are not rolled again); none in history (before
    /// `open_from`), where range deletes still make theirs.
    #[test]
    fn late_points_make_a_region_per_run_of_buckets() {
        let mut p = crate::wal::Points::with_capacity(8, 40);
        for ts in [3, 14, 27, 29, 61, 95, 48] {
            p.push(b"cpu.a", ts, i64::MAX, 1.0);
        }
        p.push(b"cpu.b", -1, i64::MAX, 1.0);
        let mut batch = LogBatch {
            ops: vec![Op::Points(p)],
        };
        let r = late_regions(&batch, &rule(), 100, i64::MIN);
        assert_eq!(
            r,
            vec![
                Region::key(b"cpu.a", 3, 29), // buckets 0, 10, 20
                Region::key(b"cpu.a", 48, 48),
                Region::key(b"cpu.a", 61, 61),
                Region::key(b"cpu.a", 95, 95),
                Region::key(b"cpu.b", -1, -1),
            ]
        );
        batch.ops.push(Op::DeleteRange {
            start: b"cpu.a".to_vec(),
            end: b"cpu.b".to_vec(),
            ts_lo: 0,
            ts_hi: 5,
        });
        let r = late_regions(&batch, &rule(), 100, 40);
        assert_eq!(
            r,
            vec![
                Region {
                    start: b"cpu.a".to_vec(),
                    end: Some(b"cpu.b".to_vec()),
                    ts_lo: 0,
                    ts_hi: 5,
                    deleted: true,
                },
                Region::key(b"cpu.a", 48, 48),
                Region::key(b"cpu.a", 61, 61),
                Region::key(b"cpu.a", 95, 95),
            ]
        );
    }
}
