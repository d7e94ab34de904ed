//! Retention by time: deleting a key × time region with one range tombstone
//! (`delete_time_range`, `delete_before`, `delete_prefix_before`), dropping the
//! tables such a tombstone wholly covers without rewriting them, and the retention
//! limits of `Tuning` (by age, by size) that background maintenance enforces
//! (docs/design.md, "Deleting by time").

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::Arc;

use super::batch::{prefix_before, range_delete};
use super::{Engine, Inner};
use crate::config::Tuning;
use crate::entry::{RangeTombstone, RangeTombstones};
use crate::error::Result;
use crate::sstable::reader::Table;
use crate::util::now_micros;
use crate::wal::WriteBatch as LogBatch;

impl Engine {
    /// Deletes every record with `start_key <= key < end_key` (half-open, as
    /// `delete_range`) and `ts_start <= ts <= ts_end` (inclusive, as the time ranges
    /// of queries). One range tombstone is written, whatever the number of records
    /// it hides: reads skip them at once, compaction drops them later, and a table
    /// wholly inside the region is deleted without a rewrite. `start_key == end_key`
    /// deletes nothing; `start_key > end_key` or `ts_start > ts_end` is
    /// `InvalidArgument`.
    pub fn delete_time_range(
        &self,
        start_key: &str,
        end_key: &str,
        ts_start: i64,
        ts_end: i64,
    ) -> Result<()> {
        self.delete_time_range_bytes(start_key.as_bytes(), end_key.as_bytes(), ts_start, ts_end)
    }

    /// `delete_time_range` over byte keys.
    pub fn delete_time_range_bytes(
        &self,
        start_key: &[u8],
        end_key: &[u8],
        ts_start: i64,
        ts_end: i64,
    ) -> Result<()> {
        self.delete_region(start_key.to_vec(), Some(end_key.to_vec()), ts_start, ts_end)
    }

    /// Deletes every record of every key with `ts < ts` ("keep nothing older than").
    /// `ts = i64::MIN` deletes nothing.
    pub fn delete_before(&self, ts: i64) -> Result<()> {
        self.delete_prefix_before_bytes(b"", ts)
    }

    /// Deletes every record whose key begins with `prefix` and whose `ts < ts`.
    pub fn delete_prefix_before(&self, prefix: &str, ts: i64) -> Result<()> {
        self.delete_prefix_before_bytes(prefix.as_bytes(), ts)
    }

    /// `delete_prefix_before` for prefixes that are not UTF-8.
    pub fn delete_prefix_before_bytes(&self, prefix: &[u8], ts: i64) -> Result<()> {
        match prefix_before(prefix.to_vec(), ts) {
            Some((start, end, lo, hi)) => self.delete_region(start, end, lo, hi),
            None => Ok(()),
        }
    }

    /// Commits one range delete (`end: None`, no upper key bound), checked.
    pub(super) fn delete_region(
        &self,
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        ts_lo: i64,
        ts_hi: i64,
    ) -> Result<()> {
        match range_delete(start, end, ts_lo, ts_hi)? {
            Some(op) => self.inner.commit(LogBatch { ops: vec![op] }, false),
            None => Ok(()),
        }
    }
}

/// The range tombstones that may delete tables whole: the tables' and the committed
/// ones of the memtables.
pub(super) struct Deleting(Vec<RangeTombstone>);

impl Deleting {
    /// The greatest seq of the tombstones (0 when there are none).
    pub(super) fn newest_seq(&self) -> u64 {
        self.0.iter().map(|t| t.seq).max().unwrap_or(0)
    }

    /// True when `t` can go without a rewrite: a tombstone newer than all of it
    /// covers its whole key and time range, and it has no range tombstones of its
    /// own (those may hide data beyond it).
    pub(super) fn covers_table(&self, t: &Table) -> bool {
        let Some((first, last)) = t.key_range() else {
            return false;
        };
        t.range_dels.is_empty()
            && self.0.iter().any(|d| {
                d.seq > t.meta.max_seq && d.contains(first, last, t.props.min_ts, t.props.max_ts)
            })
    }

    /// True when a newer tombstone covers `t`'s whole key range and the oldest part
    /// of its time range, but not all of it (retention cutting through a window):
    /// rewriting `t` leaves a table whose ts range the tombstone no longer meets, so
    /// one rewrite per cut suffices. Also when it covers all of it but `t` holds
    /// range tombstones of its own (which `covers_table` will not drop unread): the
    /// rewrite keeps only those still hiding something, often none. (It was left
    /// for good: a table per retention step, whose bytes then pushed retention by
    /// size past newer data. Deletes of part of a table's keys, or of the middle of
    /// its time, wait for the next merge that includes it: none comes for a closed
    /// window's final run but `trigger_compaction`, docs/design.md.)
    pub(super) fn trims_table(&self, t: &Table) -> bool {
        let Some((first, last)) = t.key_range() else {
            return false;
        };
        let (lo, hi) = (t.props.min_ts, t.props.max_ts);
        let holds_deletes = !t.range_dels.is_empty();
        t.props.entries > 0
            && self.0.iter().any(|d| {
                d.seq > t.meta.max_seq
                    && d.contains(first, last, lo, lo)
                    && (d.ts_hi < hi || holds_deletes)
            })
    }

    /// The tombstones newer than `seq`, for a merge of tables up to `seq` to apply.
    pub(super) fn newer_than(&self, seq: u64) -> RangeTombstones {
        let mut out = RangeTombstones::default();
        out.extend(self.0.iter().filter(|d| d.seq > seq).cloned());
        out
    }
}

impl Inner {
    /// The tombstones that may drop tables now. A memtable's tombstone is made
    /// durable first (the log synced), so a table is never gone after a crash that
    /// lost the delete that dropped it.
    pub(super) fn deleting_tombstones(&self) -> Result<Deleting> {
        let snap = self.snapshot();
        let mut list = snap.sv.version.range_dels.clone();
        let before = list.len();
        for m in snap.sv.memtables() {
            if m.has_range_tombstones() {
                list.extend(m.range_tombstones(snap.seq));
            }
        }
        if list.len() > before {
            self.sync_wal()?;
        }
        Ok(Deleting(list))
    }
}

/// The retention limits of `Tuning`, and the last cutoff enforced.
pub(super) struct Retention {
    max_age_micros: Option<i64>,
    max_bytes: Option<u64>,
    /// The greatest cutoff written by this engine (a `delete_before` is written only
    /// when the cutoff moves on by a step: see `Inner::enforce_retention`).
    written: AtomicI64,
}

impl Retention {
    pub(super) fn new(t: &Tuning) -> Self {
        Retention {
            max_age_micros: t
                .retention_max_age_secs
                .map(|s| i64::try_from(s.saturating_mul(1_000_000)).unwrap_or(i64::MAX)),
            max_bytes: t.retention_max_bytes,
            written: AtomicI64::new(i64::MIN),
        }
    }
}

impl Inner {
    /// Writes the `delete_before` the retention limits call for, if any (the tables
    /// it covers are dropped by the next compaction step); returns its cutoff. By age,
    /// the cutoff moves in steps of 1/64 of the age (at least a second), so a
    /// maintenance tick does not write a tombstone each time.
    pub(super) fn enforce_retention(&self) -> Result<Option<i64>> {
        let r = &self.retention;
        let sv = self.current();
        let tables = &sv.version.tables;
        let mut cutoff = i64::MIN;
        if let Some(age) = r.max_age_micros {
            cutoff = age_cutoff(now_micros(), age);
        }
        if let Some(max) = r.max_bytes {
            cutoff = cutoff.max(size_cutoff(tables, max));
        }
        if cutoff <= r.written.load(Relaxed) {
            return Ok(None);
        }
        let below = tables
            .iter()
            .any(|t| t.props.entries > 0 && t.props.min_ts < cutoff)
            || sv.memtables().any(|m| !m.is_empty());
        if !below {
            return Ok(None);
        }
        // The rollups keep what they rolled of the data about to go (a late write
        // must not re-roll it from what is left): told first, durably.
        if let Some(rollups) = &self.rollups {
            rollups.raise_floor(cutoff)?;
        }
        let op = range_delete(Vec::new(), None, i64::MIN, cutoff - 1)?.expect("all keys");
        // Not `commit`: retention dirties no rolled bucket (docs/numeric.md).
        self.commit_log(LogBatch { ops: vec![op] }, false)?;
        r.written.fetch_max(cutoff, Relaxed);
        self.stats.retention_deletes.fetch_add(1, Relaxed);
        Ok(Some(cutoff))
    }
}

/// The cutoff for data older than `age` at `now`, in steps of 1/64 of the age (at
/// least a second); `i64::MIN` (nothing) where the step would pass the start of time.
fn age_cutoff(now: i64, age: i64) -> i64 {
    let step = (age / 64).max(1_000_000);
    let c = now.saturating_sub(age);
    c.checked_sub(c.rem_euclid(step)).unwrap_or(i64::MIN)
}

/// The cutoff that brings `tables` within `max` bytes by deleting the oldest data
/// (by `ts`) first, never the newest ts; `i64::MIN` when they fit. A table holding
/// a record at ts `i64::MAX` is left out (no cutoff covers it, and a cutoff of
/// `i64::MAX` would delete all else and end retention), though its bytes count.
///
/// What a cutoff frees is estimated over every table it reaches: a table wholly
/// below it counts whole, one it cuts through by the share of its ts range below
/// it (its data taken as spread evenly). The cutoff is the smallest candidate whose
/// estimate makes up the excess: a table's greatest ts + 1 (time windows then go as
/// files, without a rewrite) or a point of a grid of 1/64 of the data's ts span
/// (so a merged run spanning all of time is trimmed in a few rewrites, not one per
/// tick); at most the newest ts. (Crediting whole tables alone let a cutoff pass
/// the data of every table spanning that time: one byte over the limit could
/// delete nearly everything.)
fn size_cutoff(tables: &[Arc<Table>], max: u64) -> i64 {
    let total: u64 = tables.iter().map(|t| t.meta.size).sum();
    if total <= max {
        return i64::MIN;
    }
    let excess = (total - max) as f64;
    let live: Vec<&Arc<Table>> = tables
        .iter()
        .filter(|t| t.props.entries > 0 && t.props.max_ts < i64::MAX)
        .collect();
    let Some(newest) = live.iter().map(|t| t.props.max_ts).max() else {
        return i64::MIN;
    };
    let oldest = live.iter().map(|t| t.props.min_ts).min().unwrap_or(newest);
    let below = |c: i64| -> f64 {
        live.iter()
            .map(|t| {
                let (lo, hi) = (t.props.min_ts as i128, t.props.max_ts as i128);
                let share = ((c as i128 - lo) as f64 / (hi - lo + 1) as f64).clamp(0.0, 1.0);
                share * t.meta.size as f64
            })
            .sum()
    };
    let span = newest as i128 - oldest as i128;
    let step = (span / 64).max(1);
    let mut candidates: Vec<i64> = (1..=span.div_euclid(step) + 1)
        .map(|k| (oldest as i128 + k * step).min(newest as i128) as i64)
        .chain(
            live.iter()
                .map(|t| t.props.max_ts)
                .filter(|&m| m < newest)
                .map(|m| m + 1),
        )
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    // The estimate grows with the cutoff: the first candidate that makes up the
    // excess (the newest ts when none does).
    let first = candidates.partition_point(|&c| below(c) < excess);
    candidates.get(first).copied().unwrap_or(newest)
}

impl Engine {
    /// Enforces the retention limits of `Tuning` now (background maintenance does it
    /// every tick): writes the `delete_before` they call for and drops the tables it
    /// wholly covers. Returns the cutoff written (records with `ts` below it are
    /// gone), or `None` when nothing was due. For programs that open with
    /// `auto_background = false`.
    pub fn enforce_retention(&self) -> Result<Option<i64>> {
        self.inner.check_owner()?;
        let cutoff = self.inner.enforce_retention()?;
        if cutoff.is_some() {
            // Under the compaction lock, as every change of the table list but a
            // flush's (a merge chooses its tables under it: compaction.rs).
            let _c = self.inner.compaction_lock.lock();
            let deleting = self.inner.deleting_tombstones()?;
            self.inner.drop_dead_tables(&deleting)?;
        }
        Ok(cutoff)
    }
}

#[cfg(test)]
mod tests {
    use super::age_cutoff;

    #[test]
    fn age_cutoffs_step_and_stop_at_the_start_of_time() {
        let (hour, sec) = (3_600_000_000, 1_000_000);
        // Steps of 1/64 of the age, at least a second.
        assert_eq!(age_cutoff(10 * hour, hour), 9 * hour);
        assert_eq!(age_cutoff(10 * hour + 1, hour), 9 * hour);
        assert_eq!(age_cutoff(100 * sec + 5, 10 * sec), 90 * sec);
        // The largest age (u64::MAX seconds, clamped) at a clock near 1970, or before:
        // no overflow, and nothing deleted.
        for now in [0, 62, -5, i64::MIN, i64::MIN + 1] {
            assert_eq!(age_cutoff(now, i64::MAX), i64::MIN, "now {now}");
        }
        assert!(age_cutoff(i64::MAX, i64::MAX) < 64);
    }
}
