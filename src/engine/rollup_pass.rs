//! One roll pass (docs/numeric.md, "Rollups"): for each rule, the buckets that came
//! due since the last pass are folded from a snapshot of the raw data and written to
//! the rule's rollup, the dirty buckets are re-rolled, and then the new watermark is
//! persisted with the dirty marks handled deleted, in one write. Plus the upkeep of
//! the rollups (flush, retention, compaction, GC) in each maintenance round.
//!
//! A pass syncs the raw log before it writes: the points it rolls are durable before
//! their buckets. A crash anywhere in a pass is harmless: the points a pass writes
//! before its watermark are idempotent (re-rolling a bucket writes the same ones), the
//! points at or above the persisted watermark are deleted before the next pass writes
//! there (`unclean`), and a dirty mark is deleted only with the watermark write.
//!
//! Rolled buckets before the raw floor are history (docs/numeric.md, "History"):
//! some of their raw points may be gone by retention or TTL, so a pass never rolls
//! them again; only a range delete covering one whole deletes it. Retention hands
//! each cutoff to the rollups before it deletes anything (`Rollups::raise_floor`).

use std::sync::atomic::Ordering;

use parking_lot::MutexGuard;

use super::batch::points_log;
use super::points::bucket_of;
use super::rollup::{dirty_marks, first_start_from, floor_value, Rollups, RuleState};
use super::rollup_leftovers::Leftovers;
use super::{Engine, Inner, WriteBatch, WriteOptions};
use crate::error::{Error, Result};
use crate::point::{Agg, Point, Summary};
use crate::range::{prefix_successor, Bounds, KeyEnd, Query};
use crate::record::{Record, MAX_KEY_LEN};
use crate::rollup::{Region, RollupRule, FIRST_ROLLED_KEY, FLOOR_KEY, RESERVED_TS, WATERMARK_KEY};
use crate::util::now_micros;
use crate::version;
use crate::wal::{Op, WriteBatch as LogBatch};

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
    /// The pass's clock (the TTL's part of the raw floor).
    now: i64,
}

impl Rollups {
    /// A pass over every rule, under `rolling` (the guard proves it is held).
    pub(super) fn roll(&self, inner: &Inner, _rolling: &MutexGuard<'_, ()>) -> Result<()> {
        // After a failed log sync, acknowledged raw points live in memory only until
        // `resume` writes them to a table: no pass may roll them before that.
        inner.refuse_after_log_cut("a rollup pass")?;
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
                    now,
                });
            }
            (inner.snapshot(), work)
        };
        // The raw points the pass reads are made durable before anything rolled from
        // them is written: the rollup's log is synced on its own clock (under
        // `IntervalMs`), maybe before the raw log, and a power loss between the two
        // would keep buckets of raw points it lost. (Under `Always` nothing is left.)
        inner.sync_wal()?;
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

/// Writes the rolled points of one rule to its rollup, in chunks: the points in
/// columns (as `write_points`), with the deletes of leftovers in the same writes.
struct Out<'a> {
    child: &'a Engine,
    rule: &'a RollupRule,
    points: Vec<Point>,
    /// Deletes of buckets no raw point is left for (logged before the points).
    deletes: Vec<Op>,
    failed: Option<Error>,
    /// While a dirty region is rolled again: its rolled buckets as they were, to
    /// delete those not rolled again.
    leftovers: Option<Leftovers>,
}

impl Out<'_> {
    /// Adds the rolled points of `key`'s bucket at `start`; false (stop) after a
    /// failed write. A raw key too long to prefix with a function name is left out.
    fn push(&mut self, key: &[u8], start: i64, s: &Summary) -> bool {
        if key.len() + "count:".len() > MAX_KEY_LEN {
            return true;
        }
        if let Some(l) = &mut self.leftovers {
            if let Err(e) = l.up_to(Some((key, start)), self.rule, &mut self.deletes) {
                self.failed = Some(e);
                return false;
            }
        }
        for &f in &self.rule.functions {
            let k = RollupRule::rolled_key(f, key);
            self.points.push(Point::new(k, start, s.get(f)));
        }
        if self.points.len() + self.deletes.len() >= CHUNK {
            if let Err(e) = self.flush() {
                self.failed = Some(e);
                return false;
            }
        }
        true
    }

    fn flush(&mut self) -> Result<()> {
        if self.points.is_empty() && self.deletes.is_empty() {
            return Ok(());
        }
        // Deletes first: none covers a point of the same write (they are of buckets
        // not rolled again), and were one to, the later point would stand.
        let mut log = LogBatch {
            ops: std::mem::take(&mut self.deletes),
        };
        if !self.points.is_empty() {
            let ttl = self.child.inner.config.default_ttl_secs;
            log.ops.extend(points_log(&self.points, ttl)?.ops);
            self.points.clear();
        }
        self.child.inner.commit(log, false)
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
            self.push(key, start, s)
        })?;
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if let Some(mut l) = self.leftovers.take() {
            l.up_to(None, rule, &mut self.deletes)?;
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
            points: Vec::new(),
            deletes: Vec::new(),
            failed: None,
            leftovers: None,
        };
        if self.unclean.load(Ordering::Acquire) {
            clear_from(child, w.rolled)?;
        }
        // The floor as of this pass (retention's cutoffs, the default TTL's): kept
        // with the watermark so that it never goes back (a TTL raised, a clock set
        // back).
        let floor = self.floor_at(w.now);
        let open_from = first_start_from(floor, rule.step);
        // Dirty buckets below the watermark: rolled again from what raw data is
        // left, and those with none left deleted, in the same writes; but history
        // (before `open_from`) only loses the buckets a range delete covers whole.
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
            if lo < open_from && region.deleted {
                let history = (lo, hi.min(open_from - 1));
                delete_whole(child, rule, &region, history, &mut out.deletes)?;
            }
            let lo = lo.max(open_from);
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
        // The deletes of history, when no roll followed them.
        out.flush()?;
        // The buckets that came due.
        if w.target > w.rolled {
            let bounds = Bounds::prefix(&rule.prefix).with_time(w.rolled, w.target - 1);
            out.roll(inner, snap, bounds)?;
        }
        // The new watermark, the retention floor, and the marks handled gone, in one
        // write.
        let floor_rose = floor > self.floor.load(Ordering::Acquire);
        if w.target > w.rolled || !w.marks.is_empty() || floor_rose {
            let mut b = WriteBatch::new();
            b.put_permanent(Record::new(
                WATERMARK_KEY,
                RESERVED_TS,
                w.target.to_le_bytes().to_vec(),
            ));
            b.put_permanent(Record::new(FLOOR_KEY, RESERVED_TS, floor_value(floor)));
            for (key, _) in &w.marks {
                b.delete(key.clone(), RESERVED_TS);
            }
            child.write_owned(b, &WriteOptions::default())?;
            self.floor.fetch_max(floor, Ordering::AcqRel);
        }
        self.rolled.store(w.target, Ordering::Release);
        self.unclean.store(false, Ordering::Release);
        Ok(())
    }
}

/// Deletes the rolled buckets of `region`'s keys starting in `lo..=hi` (history)
/// that the range delete `region` covers whole, when there are any: a range delete
/// a function. Those it covers in part are left as rolled.
fn delete_whole(
    child: &Engine,
    rule: &RollupRule,
    region: &Region,
    (lo, hi): (i64, i64),
    out: &mut Vec<Op>,
) -> Result<()> {
    let first = first_start_from(region.ts_lo, rule.step);
    let (start, end) = bucket_of(region.ts_hi, rule.step);
    let last = match end == region.ts_hi {
        true => start,
        false => match start.checked_sub(rule.step) {
            Some(s) => s,
            None => return Ok(()),
        },
    };
    let (lo, hi) = (first.max(lo), last.min(hi));
    if lo > hi {
        return Ok(());
    }
    let (start, end) = rolled_range(rule.functions[0], region);
    let bounds = Bounds {
        start,
        end: KeyEnd::Excluded(end),
        ..Bounds::all()
    }
    .with_time(lo, hi);
    if !holds_any(child, bounds)? {
        return Ok(());
    }
    for &f in &rule.functions {
        let (start, end) = rolled_range(f, region);
        out.push(Op::DeleteRange {
            start,
            end,
            ts_lo: lo,
            ts_hi: hi,
        });
    }
    Ok(())
}

/// The keys `[start, end)` of `f`'s rolled series of the raw keys of `region`.
pub(super) fn rolled_range(f: Agg, region: &Region) -> (Vec<u8>, Vec<u8>) {
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
    if !holds_any(child, bounds)? {
        return Ok(());
    }
    child.delete_region(FIRST_ROLLED_KEY.to_vec(), None, from, i64::MAX)
}

/// Whether the rollup holds a bucket in `bounds` (one read, stopping at the first).
fn holds_any(child: &Engine, bounds: Bounds) -> Result<bool> {
    let first = child.query(Query {
        bounds,
        limit: Some(1),
    })?;
    Ok(!first.is_empty())
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
