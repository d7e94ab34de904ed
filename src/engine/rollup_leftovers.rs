//! The rolled buckets a dirty region had before a pass rolls it again
//! (docs/numeric.md, "Late points and deletes"): a scan of the rollup from before
//! the pass's writes, of the first function's points (every bucket has each
//! function's), walked beside the roll. Both go in `(raw key, start)` order, so the
//! walk finds the buckets no raw point is left for, and their deletes go into the
//! same writes as the new points: readers never see the region cleared, and memory
//! stays a bucket or a run of them whatever the region's size.
//!
//! What the deletes cost stays bounded by the shape of what went, not by its
//! buckets, and range tombstones (which every read of the rollup checks) stay few:
//! - a few gone buckets (fewer than `RUN_AS_RANGE` in a row, as late writes and
//!   point deletes leave) go bucket by bucket;
//! - a long run of gone buckets of a key that keeps others (a time-range delete
//!   inside series) is a key × time rectangle, merged with the same run of the
//!   keys that follow (the usual shape: every series lost the same span) as long
//!   as no bucket the pass writes falls inside it;
//! - a stretch of keys with no bucket left (deleting whole series) is one key ×
//!   time range, or bucket by bucket when it holds fewer than `RUN_AS_RANGE`.

use super::rollup_pass::rolled_range;
use super::Engine;
use crate::error::Result;
use crate::range::{Bounds, KeyEnd, ScanRange};
use crate::rollup::{Region, RollupRule};
use crate::wal::Op;
use crate::ScanIterator;

/// The shortest run of gone buckets of one key deleted as a time range.
const RUN_AS_RANGE: usize = 32;

pub(super) struct Leftovers {
    scan: ScanIterator,
    /// The length of the function's prefix on the rolled keys.
    skip: usize,
    next: Option<(Vec<u8>, i64)>,
    /// The region's time span (bucket starts).
    lo: i64,
    hi: i64,
    /// The last key the roll handed out a bucket of.
    rolled: Option<Vec<u8>>,
    /// The keys met since then with no bucket left.
    gone: Option<Stretch>,
    /// Long runs of gone buckets of consecutive keys, with the same span.
    rect: Option<Rect>,
}

/// Keys with no bucket left, in a row: the first and last, and their buckets while
/// they are fewer than `RUN_AS_RANGE`.
struct Stretch {
    first: Vec<u8>,
    last: Vec<u8>,
    buckets: Vec<(Vec<u8>, i64)>,
    many: bool,
}

/// Gone buckets of one key in a row: its key and their starts, or once the run is
/// `RUN_AS_RANGE` long (`long`), its first and last start.
struct Run {
    key: Vec<u8>,
    starts: Vec<i64>,
    long: bool,
}

/// Keys `first..=last` whose buckets starting in `lo..=hi` all went.
struct Rect {
    first: Vec<u8>,
    last: Vec<u8>,
    lo: i64,
    hi: i64,
}

impl Leftovers {
    pub(super) fn open(
        child: &Engine,
        rule: &RollupRule,
        region: &Region,
        lo: i64,
        hi: i64,
    ) -> Result<Self> {
        let f = rule.functions[0];
        let (start, end) = rolled_range(f, region);
        let bounds = Bounds {
            start,
            end: KeyEnd::Excluded(end),
            ..Bounds::all()
        }
        .with_time(lo, hi);
        let mut l = Leftovers {
            scan: child.scan(ScanRange {
                bounds,
                limit: None,
            })?,
            skip: f.name().len() + 1,
            next: None,
            lo,
            hi,
            rolled: None,
            gone: None,
            rect: None,
        };
        l.advance()?;
        Ok(l)
    }

    fn advance(&mut self) -> Result<()> {
        self.next = match self.scan.next() {
            Some(r) => {
                let mut r = r?;
                r.key.drain(..self.skip);
                Some((r.key, r.ts))
            }
            None => None,
        };
        Ok(())
    }

    /// Moves past the bucket `(key, start)` the roll hands out next (`None`: the
    /// roll ended), adding the deletes of the buckets before it to `out`.
    pub(super) fn up_to(
        &mut self,
        upto: Option<(&[u8], i64)>,
        rule: &RollupRule,
        out: &mut Vec<Op>,
    ) -> Result<()> {
        let mut run: Option<Run> = None;
        while let Some((k, t)) = self.next.take() {
            let at = (k.as_slice(), t);
            match upto {
                Some(u) if at > u => {
                    self.next = Some((k, t));
                    break;
                }
                Some(u) if at == u => {}
                _ if self.rolled.as_ref() == Some(&k) || upto.is_some_and(|u| u.0 == k) => {
                    match &mut run {
                        Some(r) if r.key == k => {
                            r.starts.push(t);
                            if r.starts.len() >= RUN_AS_RANGE {
                                r.long = true;
                                r.starts.swap_remove(1); // keeps the first and last
                                r.starts.truncate(2);
                            }
                        }
                        _ => {
                            if let Some(r) = run.take() {
                                self.close_run(r, rule, out);
                            }
                            run = Some(Run {
                                key: k,
                                starts: vec![t],
                                long: false,
                            });
                        }
                    }
                }
                _ => {
                    let g = self.gone.get_or_insert_with(|| Stretch {
                        first: k.clone(),
                        last: k.clone(),
                        buckets: Vec::new(),
                        many: false,
                    });
                    if !g.many {
                        g.buckets.push((k.clone(), t));
                        g.many = g.buckets.len() >= RUN_AS_RANGE;
                    }
                    g.last = k;
                }
            }
            self.advance()?;
        }
        if let Some(r) = run {
            self.close_run(r, rule, out);
        }
        // A bucket the pass writes ends a rectangle it would fall in: checked here,
        // after the runs this call closed (the last key's trailing run may have just
        // made or widened the rectangle over `t`), for its range delete, written
        // later, must not reach the keys after, `upto`'s among them, across `t`.
        // (Rectangles are only made from runs of keys up to `upto`'s, whose runs end
        // before `t`: once checked here, no later one covers this bucket.)
        if let (Some(r), Some((_, t))) = (&self.rect, upto) {
            if (r.lo..=r.hi).contains(&t) {
                self.close_rect(rule, out);
            }
        }
        // Past the stretch of gone keys: at a new rolled key, or at the end.
        let next_key = upto.map(|u| u.0);
        if next_key.is_none() || next_key != self.rolled.as_deref() {
            self.close_gone(rule, out);
            self.rolled = next_key.map(<[u8]>::to_vec);
        }
        if upto.is_none() {
            self.close_rect(rule, out);
        }
        Ok(())
    }

    /// Deletes a run of gone buckets of one key: bucket by bucket, or, long, as a
    /// rectangle (merged with the previous key's when it spans the same time).
    fn close_run(&mut self, run: Run, rule: &RollupRule, out: &mut Vec<Op>) {
        if !run.long {
            for &f in &rule.functions {
                let key = RollupRule::rolled_key(f, &run.key);
                out.extend(run.starts.iter().map(|&t| Op::Delete {
                    key: key.clone(),
                    ts: t,
                }));
            }
            return;
        }
        let (lo, hi) = (run.starts[0], run.starts[run.starts.len() - 1]);
        match &mut self.rect {
            Some(r) if (r.lo, r.hi) == (lo, hi) => r.last = run.key,
            _ => {
                self.close_rect(rule, out);
                self.rect = Some(Rect {
                    first: run.key.clone(),
                    last: run.key,
                    lo,
                    hi,
                });
            }
        }
    }

    /// Deletes the rectangle: a key × time range a function.
    fn close_rect(&mut self, rule: &RollupRule, out: &mut Vec<Op>) {
        if let Some(r) = self.rect.take() {
            range_delete(rule, (&r.first, &r.last), (r.lo, r.hi), out);
        }
    }

    /// Deletes the stretch of keys with no bucket left: bucket by bucket when they
    /// are few, else a key × time range a function.
    fn close_gone(&mut self, rule: &RollupRule, out: &mut Vec<Op>) {
        let Some(g) = self.gone.take() else {
            return;
        };
        if g.many {
            return range_delete(rule, (&g.first, &g.last), (self.lo, self.hi), out);
        }
        for &f in &rule.functions {
            out.extend(g.buckets.iter().map(|(k, t)| Op::Delete {
                key: RollupRule::rolled_key(f, k),
                ts: *t,
            }));
        }
    }
}

/// The rolled points of raw keys `first..=last`, `lo <= start <= hi`, deleted: a
/// range delete a function.
fn range_delete(
    rule: &RollupRule,
    (first, last): (&[u8], &[u8]),
    (lo, hi): (i64, i64),
    out: &mut Vec<Op>,
) {
    let past_last = [last, &[0]].concat();
    for &f in &rule.functions {
        out.push(Op::DeleteRange {
            start: RollupRule::rolled_key(f, first),
            end: RollupRule::rolled_key(f, &past_last),
            ts_lo: lo,
            ts_hi: hi,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Agg, Config, Point};

    const STEP: i64 = 60_000_000;
    const FUNCTIONS: [Agg; 2] = [Agg::Max, Agg::Min];

    /// A rollup of 50 keys with buckets 0..100 of each function.
    fn child(dir: &std::path::Path) -> Engine {
        child_with(dir, |_| 0..100)
    }

    /// A rollup of 50 keys `cpu.k000`.., key `k` with the buckets `minutes(k)`.
    fn child_with(
        dir: &std::path::Path,
        minutes: impl Fn(usize) -> std::ops::Range<i64>,
    ) -> Engine {
        let e = Engine::open(Config::new(dir)).unwrap();
        let mut pts = Vec::new();
        for k in 0..50 {
            for f in FUNCTIONS {
                let key = RollupRule::rolled_key(f, format!("cpu.k{k:03}").as_bytes());
                pts.extend(minutes(k).map(|m| Point::new(key.clone(), m * STEP, 1.0)));
            }
        }
        e.write_points(&pts).unwrap();
        e
    }

    /// The deletes of a walk over `region` (buckets `lo..=hi`) beside a roll that
    /// hands out `kept` (in order).
    fn walk(e: &Engine, region: &Region, (lo, hi): (i64, i64), kept: &[(Vec<u8>, i64)]) -> Vec<Op> {
        let rule = RollupRule::new("1m", STEP, &FUNCTIONS);
        let mut l = Leftovers::open(e, &rule, region, lo, hi).unwrap();
        let mut out = Vec::new();
        for (k, t) in kept {
            l.up_to(Some((k, *t)), &rule, &mut out).unwrap();
        }
        l.up_to(None, &rule, &mut out).unwrap();
        out
    }

    fn ranges(ops: &[Op]) -> Vec<(Vec<u8>, Vec<u8>, i64, i64)> {
        let range = |o: &Op| match o {
            Op::DeleteRange {
                start,
                end,
                ts_lo,
                ts_hi,
            } => Some((start.clone(), end.clone(), *ts_lo, *ts_hi)),
            _ => None,
        };
        ops.iter().filter_map(range).collect()
    }

    /// Every series lost the same span (a time-range delete inside them): one
    /// rectangle a function, not one range a key; a bucket the pass writes inside
    /// the span splits it, and no range covers a written bucket.
    #[test]
    fn the_same_run_of_consecutive_keys_is_one_rectangle() {
        let dir = tempfile::tempdir().unwrap();
        let e = child(dir.path());
        let region = Region {
            start: b"cpu.".to_vec(),
            end: Some(b"cpu/".to_vec()),
            ts_lo: 10 * STEP + 5,
            ts_hi: 89 * STEP + 5,
            deleted: true,
        };
        let span = (10 * STEP, 89 * STEP);
        let key = |k: usize| format!("cpu.k{k:03}").into_bytes();
        // The partial end buckets of each key are rolled again.
        let kept: Vec<(Vec<u8>, i64)> = (0..50)
            .flat_map(|k| [(key(k), 10 * STEP), (key(k), 89 * STEP)])
            .collect();
        let ops = walk(&e, &region, span, &kept);
        assert_eq!(ops.len(), FUNCTIONS.len(), "{ops:?}");
        assert!(ranges(&ops)
            .iter()
            .all(|r| (r.2, r.3) == (11 * STEP, 88 * STEP)));
        // k025 keeps a bucket inside the span: the rectangle splits around it.
        let mut kept = kept;
        let at = kept.iter().position(|(k, _)| *k == key(25)).unwrap();
        kept.insert(at + 1, (key(25), 50 * STEP));
        let ops = walk(&e, &region, span, &kept);
        let rs = ranges(&ops);
        assert_eq!(rs.len(), 4 * FUNCTIONS.len(), "{rs:?}");
        covers_none(&rs, &kept);
        // k025 keeps every bucket (no run of its own): the rectangle of the keys
        // before it must not reach over it to the keys after.
        let kept: Vec<(Vec<u8>, i64)> = (0..50)
            .flat_map(|k| match k {
                25 => (10..90).map(|m| (key(k), m * STEP)).collect::<Vec<_>>(),
                _ => vec![(key(k), 10 * STEP), (key(k), 89 * STEP)],
            })
            .collect();
        let rs = ranges(&walk(&e, &region, span, &kept));
        assert_eq!(rs.len(), 2 * FUNCTIONS.len(), "{rs:?}");
        covers_none(&rs, &kept);
    }

    /// A key's trailing run of gone buckets, consumed as the next key's bucket is
    /// handed out, makes a rectangle over that bucket's start (and the keys after
    /// lost the same span: it would grow over the bucket). The rectangle is closed
    /// before the bucket is written; none covers it.
    #[test]
    fn a_rectangle_made_past_a_written_bucket_does_not_grow_over_it() {
        let dir = tempfile::tempdir().unwrap();
        // k001 has one rolled bucket, 89, which it keeps; every other key keeps
        // bucket 10 and loses 11..=89.
        let e = child_with(dir.path(), |k| if k == 1 { 89..90 } else { 0..100 });
        let region = Region {
            start: b"cpu.".to_vec(),
            end: Some(b"cpu/".to_vec()),
            ts_lo: 10 * STEP,
            ts_hi: 89 * STEP,
            deleted: true,
        };
        let key = |k: usize| format!("cpu.k{k:03}").into_bytes();
        let kept: Vec<(Vec<u8>, i64)> = (0..50)
            .map(|k| (key(k), if k == 1 { 89 * STEP } else { 10 * STEP }))
            .collect();
        let rs = ranges(&walk(&e, &region, (10 * STEP, 89 * STEP), &kept));
        covers_none(&rs, &kept);
        // k000's rectangle, closed at k001's bucket, and one of k002..=k049.
        assert_eq!(rs.len(), 2 * FUNCTIONS.len(), "{rs:?}");
    }

    /// Checks that no range of `rs` covers a bucket of `kept`.
    fn covers_none(rs: &[(Vec<u8>, Vec<u8>, i64, i64)], kept: &[(Vec<u8>, i64)]) {
        for (start, end, lo, hi) in rs {
            for (k, t) in kept {
                let rolled = RollupRule::rolled_key(Agg::Max, k);
                let inside = rolled >= *start && rolled < *end && (lo..=hi).contains(&t);
                assert!(
                    !inside,
                    "{start:?}..{end:?} @ {lo}..={hi} covers {k:?} @ {t}"
                );
            }
        }
    }

    /// A few gone buckets (a point delete emptying a bucket, a short run) go one by
    /// one: no range tombstone for every read to check.
    #[test]
    fn a_few_gone_buckets_go_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let e = child(dir.path());
        let region = Region::key(b"cpu.k007", 50 * STEP, 50 * STEP);
        let ops = walk(&e, &region, (50 * STEP, 50 * STEP), &[]);
        assert!(ranges(&ops).is_empty(), "{ops:?}");
        assert_eq!(ops.len(), FUNCTIONS.len());
        // A run of 31 inside a kept key: point deletes too.
        let region = Region::key(b"cpu.k007", 10 * STEP, 41 * STEP);
        let k = b"cpu.k007".to_vec();
        let ops = walk(&e, &region, (10 * STEP, 41 * STEP), &[(k, 10 * STEP)]);
        assert!(ranges(&ops).is_empty(), "{ops:?}");
        assert_eq!(ops.len(), 31 * FUNCTIONS.len());
    }
}
