//! One roll pass (docs/numeric.md, "Rollups"): for each rule, the buckets that came
//! due since the last pass are folded from a snapshot of the raw data and written to
//! the rule's rollup, the dirty buckets are re-rolled, and then the new watermark is
//! persisted with the dirty marks handled deleted, in one write. Plus the upkeep of
//! the rollups (flush, retention, compaction, GC) in each maintenance round.
//!
//! A crash anywhere in a pass is harmless: the points a pass writes before its
//! watermark are idempotent (re-rolling a bucket writes the same ones), the points at
//! or above the persisted watermark are deleted before the next pass writes there
//! (`unclean`), and a dirty mark is deleted only with the watermark write.

use std::sync::atomic::Ordering;

use parking_lot::MutexGuard;

use super::points::bucket_of;
use super::rollup::{dirty_marks, Rollups, RuleState};
use super::{Engine, Inner, WriteBatch, WriteOptions};
use crate::error::{Error, Result};
use crate::point::{Agg, Point, Summary};
use crate::range::{prefix_successor, Bounds, KeyEnd, Query, ScanRange};
use crate::record::{Record, MAX_KEY_LEN};
use crate::rollup::{Region, RollupRule, FIRST_ROLLED_KEY, RESERVED_TS, WATERMARK_KEY};
use crate::util::now_micros;
use crate::version;
use crate::ScanIterator;

/// Rolled points (and deletes of leftovers) per write to a rollup.
const CHUNK: usize = 4096;

/// The watermark a rule reaches at `now`: the end of the last bucket that ended at
/// or before `now - delay`.
fn due(now: i64, rule: &RollupRule) -> i64 {
    bucket_of(now.saturating_sub(rule.delay), rule.step).0
}

/// What a pass does for one rule, decided under the gate.
struct Work {
    rolled: i64,
    target: i64,
    marks: Vec<(Vec<u8>, Vec<Region>)>,
}

impl Rollups {
    /// A pass over every rule, under `rolling` (the guard proves it is held).
    pub(super) fn roll(&self, inner: &Inner, _rolling: &MutexGuard<'_, ()>) -> Result<()> {
        let now = now_micros();
        let (snap, work) = {
            let _exclusive = self.gate.write();
            let mut work = Vec::with_capacity(self.rules.len());
            for r in &self.rules {
                let rolled = r.rolled.load(Ordering::Acquire);
                let target = due(now, &r.rule)
                    .max(rolled)
                    .max(r.watermark.load(Ordering::Acquire));
                let marks = dirty_marks(&r.child)?;
                r.watermark.fetch_max(target, Ordering::AcqRel);
                work.push(Work {
                    rolled,
                    target,
                    marks,
                });
            }
            (inner.snapshot(), work)
        };
        let mut result = Ok(());
        for (r, w) in self.rules.iter().zip(work) {
            if let Err(e) = r.roll(inner, &snap, w) {
                r.unclean.store(true, Ordering::Release);
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }

    /// A maintenance round's share: a pass (unless a checkpoint or `run_rollups`
    /// holds `rolling`: the next round does it), then each rollup's upkeep.
    pub(super) fn maintain(&self, inner: &Inner, gc: bool) -> Result<()> {
        if let Some(g) = self.rolling.try_lock() {
            self.roll(inner, &g)?;
        }
        for r in &self.rules {
            r.child.inner.upkeep(gc)?;
        }
        Ok(())
    }
}

/// Writes the rolled points of one rule to its rollup, in chunks.
struct Out<'a> {
    child: &'a Engine,
    rule: &'a RollupRule,
    batch: WriteBatch,
    pending: usize,
    failed: Option<Error>,
    /// While a dirty region is rolled again: its rolled buckets as they were, to
    /// delete those not rolled again.
    leftovers: Option<Leftovers>,
}

/// A dirty region's rolled buckets `(raw key, start)` as they were before it is
/// rolled again, in order (a scan of the rollup from before the pass's writes, of
/// the first function's points: every bucket has each function's). The roll hands
/// out its buckets in the same order, so a walk beside it finds those no raw point
/// is left for, and they are deleted in the same writes as the new points: readers
/// never see the region cleared, and memory stays one bucket whatever its size.
/// Keys with no bucket left are deleted by one key × time range per stretch of them
/// (a delete of whole series leaves a few range tombstones, not one per bucket);
/// buckets gone from a key that keeps others, one by one (late writes leave no range
/// tombstones behind).
struct Leftovers {
    scan: ScanIterator,
    /// The length of the function's prefix on the rolled keys.
    skip: usize,
    next: Option<(Vec<u8>, i64)>,
    /// The region's time span (bucket starts).
    lo: i64,
    hi: i64,
    /// The last key the roll handed out a bucket of.
    rolled: Option<Vec<u8>>,
    /// The first and last of the keys met since then with no bucket left.
    gone: Option<(Vec<u8>, Vec<u8>)>,
}

impl Leftovers {
    fn open(child: &Engine, rule: &RollupRule, region: &Region, lo: i64, hi: i64) -> Result<Self> {
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
    /// roll ended), deleting (in `out`) the buckets before it; returns the deletes.
    fn up_to(
        &mut self,
        upto: Option<(&[u8], i64)>,
        rule: &RollupRule,
        out: &mut WriteBatch,
    ) -> Result<usize> {
        let mut deleted = 0;
        while let Some((k, t)) = self.next.take() {
            let at = (k.as_slice(), t);
            match upto {
                Some(u) if at > u => {
                    self.next = Some((k, t));
                    break;
                }
                Some(u) if at == u => {}
                _ if self.rolled.as_ref() == Some(&k) || upto.is_some_and(|u| u.0 == k) => {
                    for &f in &rule.functions {
                        out.delete(RollupRule::rolled_key(f, &k), t);
                    }
                    deleted += rule.functions.len();
                }
                _ => match &mut self.gone {
                    Some((_, last)) => *last = k,
                    None => self.gone = Some((k.clone(), k)),
                },
            }
            self.advance()?;
        }
        // Past the stretch of gone keys: at a new rolled key, or at the end.
        let next_key = upto.map(|u| u.0);
        if next_key.is_none() || next_key != self.rolled.as_deref() {
            deleted += self.close_gone(rule, out);
            self.rolled = next_key.map(<[u8]>::to_vec);
        }
        Ok(deleted)
    }

    /// Deletes the stretch of keys with no bucket left: a key × time range a function.
    fn close_gone(&mut self, rule: &RollupRule, out: &mut WriteBatch) -> usize {
        let Some((first, last)) = self.gone.take() else {
            return 0;
        };
        let past_last = [&last[..], &[0]].concat();
        for &f in &rule.functions {
            out.delete_time_range(
                RollupRule::rolled_key(f, &first),
                RollupRule::rolled_key(f, &past_last),
                self.lo,
                self.hi,
            );
        }
        rule.functions.len()
    }
}

impl Out<'_> {
    /// Adds the rolled points of `key`'s bucket at `start`; false (stop) after a
    /// failed write. A raw key too long to prefix with a function name is left out.
    fn push(&mut self, key: &[u8], start: i64, s: &Summary) -> bool {
        if key.len() + "count:".len() > MAX_KEY_LEN {
            return true;
        }
        if let Some(l) = &mut self.leftovers {
            match l.up_to(Some((key, start)), self.rule, &mut self.batch) {
                Ok(n) => self.pending += n,
                Err(e) => {
                    self.failed = Some(e);
                    return false;
                }
            }
        }
        for &f in &self.rule.functions {
            let k = RollupRule::rolled_key(f, key);
            self.batch.put_point(Point::new(k, start, s.get(f)));
        }
        self.pending += self.rule.functions.len();
        if self.pending >= CHUNK {
            if let Err(e) = self.flush() {
                self.failed = Some(e);
                return false;
            }
        }
        true
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        self.pending = 0;
        let batch = std::mem::take(&mut self.batch);
        self.child.write_owned(batch, &WriteOptions::default())
    }

    /// Rolls the raw points of `bounds` (from bucket boundaries) out of `snap`, and
    /// deletes the leftovers it did not roll again.
    fn roll(&mut self, inner: &Inner, snap: &version::Snapshot, bounds: Bounds) -> Result<()> {
        let q = Query {
            bounds,
            limit: None,
        };
        let rule = self.rule;
        inner.series_buckets(snap, q, rule.step, &rule.functions, &mut |key, start, s| {
            self.push(key, start, &s)
        })?;
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if let Some(mut l) = self.leftovers.take() {
            self.pending += l.up_to(None, rule, &mut self.batch)?;
        }
        self.flush()
    }
}

impl RuleState {
    fn roll(&self, inner: &Inner, snap: &version::Snapshot, w: Work) -> Result<()> {
        let child = &*self.child;
        let rule = &self.rule;
        let mut out = Out {
            child,
            rule,
            batch: WriteBatch::new(),
            pending: 0,
            failed: None,
            leftovers: None,
        };
        if self.unclean.load(Ordering::Acquire) {
            clear_from(child, w.rolled)?;
        }
        // Dirty buckets below the watermark: rolled again from what raw data is
        // left, and those with none left deleted, in the same writes.
        for region in w.marks.iter().flat_map(|(_, rs)| rs) {
            let Some(region) = region.within(&rule.prefix) else {
                continue;
            };
            if w.rolled == i64::MIN {
                break;
            }
            let lo = bucket_of(region.ts_lo, rule.step).0;
            let hi = bucket_of(region.ts_hi, rule.step).1.min(w.rolled - 1);
            if lo > hi {
                continue;
            }
            let bounds = Bounds {
                start: region.start.clone(),
                end: region
                    .end
                    .clone()
                    .map_or(KeyEnd::Unbounded, KeyEnd::Excluded),
                ..Bounds::all()
            }
            .with_time(lo, hi);
            out.leftovers = Some(Leftovers::open(child, rule, &region, lo, hi)?);
            out.roll(inner, snap, bounds)?;
        }
        // The buckets that came due.
        if w.target > w.rolled {
            let bounds = Bounds::prefix(&rule.prefix).with_time(w.rolled, w.target - 1);
            out.roll(inner, snap, bounds)?;
        }
        // The new watermark, and the marks handled gone, in one write.
        if w.target > w.rolled || !w.marks.is_empty() {
            let mut b = WriteBatch::new();
            b.put_permanent(Record::new(
                WATERMARK_KEY,
                RESERVED_TS,
                w.target.to_le_bytes().to_vec(),
            ));
            for (key, _) in &w.marks {
                b.delete(key.clone(), RESERVED_TS);
            }
            child.write_owned(b, &WriteOptions::default())?;
        }
        self.rolled.store(w.target, Ordering::Release);
        self.unclean.store(false, Ordering::Release);
        Ok(())
    }
}

/// The keys `[start, end)` of `f`'s rolled series of the raw keys of `region`.
fn rolled_range(f: Agg, region: &Region) -> (Vec<u8>, Vec<u8>) {
    let start = RollupRule::rolled_key(f, &region.start);
    let end = match &region.end {
        Some(e) => RollupRule::rolled_key(f, e),
        None => prefix_successor(&RollupRule::rolled_key(f, b""))
            .expect("a function name is not all 0xff"),
    };
    (start, end)
}

/// Deletes the rolled points at or above `from` (left by a pass that did not
/// finish), when there are any.
fn clear_from(child: &Engine, from: i64) -> Result<()> {
    let bounds = Bounds {
        start: FIRST_ROLLED_KEY.to_vec(),
        ..Bounds::all()
    }
    .with_time(from, i64::MAX);
    let any = child.query(Query {
        bounds,
        limit: Some(1),
    })?;
    if any.is_empty() {
        return Ok(());
    }
    child.delete_region(FIRST_ROLLED_KEY.to_vec(), None, from, i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::Agg;

    #[test]
    fn a_bucket_is_due_once_its_end_plus_delay_has_passed() {
        let r = RollupRule::new("a", 10, &[Agg::Max]);
        assert_eq!(due(100, &r), 90); // [90, 100) ends at 100 > 100 - 10
        assert_eq!(due(109, &r), 90);
        assert_eq!(due(110, &r), 100);
        assert_eq!(due(5, &r.clone().delay(0)), 0);
        assert_eq!(due(-5, &r.clone().delay(0)), -10);
        assert_eq!(due(i64::MIN, &r), i64::MIN);
    }
}
