//! Compaction and GC: running merges.
//!
//! Tables form a list, newest first, and a merge always takes a contiguous stretch of
//! it, so the list stays ordered by age (which lets table entries go without sequence
//! numbers; see docs/design.md). Which stretch background compaction merges is the
//! time-window policy's choice (`policy`). A merge drops overwritten versions,
//! applies range tombstones, drops tombstones and expired records that hide nothing
//! older, writes a run of tables cut by size (`output`), and keeps its inputs until
//! the manifest names the outputs. GC rewrites tables holding expired records and
//! deletes tables whose records have all expired without rewriting them.

use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::output::OutputRun;
use super::policy::FINAL;
use super::retention::Deleting;
use super::{Engine, Inner};
use crate::config::ReadOptions;
use crate::entry::{EntryRef, RangeTombstones};
use crate::error::Result;
use crate::iterator::lent_merge::each_newest;
use crate::iterator::merge::Source;
use crate::range::Bounds;
use crate::sstable::cursor::TableCursor;
use crate::sstable::reader::Table;
use crate::util::now_micros;
use crate::version::SuperVersion;

/// A table that can go without a rewrite: every record expired, no tombstones, and
/// no older table whose data it could be hiding.
fn wholly_expired(tables: &[Arc<Table>], i: usize, now: i64) -> bool {
    let t = &tables[i];
    let p = &t.props;
    if p.entries == 0 || p.deletes > 0 || !t.range_dels.is_empty() || p.max_expire > now {
        return false;
    }
    let Some((first, last)) = t.key_range() else {
        return false;
    };
    !tables[i + 1..].iter().any(|o| {
        let Some((of, ol)) = o.key_range() else {
            return false;
        };
        of <= last && ol >= first && o.props.min_ts <= p.max_ts && o.props.max_ts >= p.min_ts
    })
}

impl Inner {
    /// Replaces `tables[run]` by their merge at `level`, applying the newer of
    /// `deleting`; returns the expired records dropped. `tables` is the list the run
    /// was chosen from, read under the compaction lock: since then only flushes can
    /// have changed the current list (every other change of it, dropping tables
    /// included, holds that lock), and they add tables at its front, so the run's
    /// tables are still a contiguous stretch with the same older tables after it.
    /// (Positions in a list read again here would shift with each such flush, and a
    /// merge of the shifted stretch could cut a run apart from its tombstones.)
    fn rewrite_run(
        &self,
        tables: &[Arc<Table>],
        run: Range<usize>,
        level: u32,
        deleting: &Deleting,
    ) -> Result<u64> {
        let started = std::time::Instant::now();
        let inputs: Vec<Arc<Table>> = tables[run.clone()].to_vec();
        let older = &tables[run.end..];
        let opts = ReadOptions {
            fill_cache: false,
            verify_checksums: true,
        };
        let bounds = Arc::new(Bounds::all());
        let sources = Source::tables(&inputs, false, |t| {
            TableCursor::new(t.clone(), bounds.clone(), opts)
        });
        let mut range_dels = RangeTombstones::default();
        for t in &inputs {
            range_dels.extend(t.range_dels.iter().cloned());
        }
        let min_seq = inputs.iter().map(|t| t.meta.min_seq).min().unwrap_or(0);
        let max_seq = inputs.iter().map(|t| t.meta.max_seq).max().unwrap_or(0);
        let run = OutputRun {
            level,
            min_seq,
            max_seq,
        };
        // Newer range tombstones (of newer tables and the memtables) drop what they
        // hide from the inputs now, not only when a merge reaches them.
        let newer = deleting.newer_than(max_seq);
        // Lent from the inputs' blocks to the builder: no entry built per record.
        let each = |sink: &mut dyn FnMut(EntryRef<'_>) -> Result<()>| each_newest(sources, sink);
        let (outputs, expired) = self.write_output(each, range_dels, &newer, older, run)?;
        let written: u64 = outputs.iter().map(|t| t.meta.size).sum();
        self.replace_tables(&inputs, &outputs)?;
        self.emit(|| super::events::Event::CompactionCompleted {
            input_tables: inputs.len(),
            output_tables: outputs.len(),
            bytes: written,
            duration: started.elapsed(),
        });
        self.stats.compactions.fetch_add(1, Relaxed);
        self.stats.compaction_file_bytes.fetch_add(written, Relaxed);
        self.stats.records_expired.fetch_add(expired, Relaxed);
        Ok(expired)
    }

    /// Installs a version where the contiguous stretch `inputs` is replaced by
    /// `outputs`, then lets the inputs' files go.
    fn replace_tables(&self, inputs: &[Arc<Table>], outputs: &[Arc<Table>]) -> Result<()> {
        self.install_super_version(|cur| {
            let mut tables = Vec::with_capacity(cur.version.tables.len());
            let mut placed = false;
            for t in &cur.version.tables {
                if inputs.iter().any(|i| Arc::ptr_eq(i, t)) {
                    if !placed {
                        tables.extend(outputs.iter().cloned());
                        placed = true;
                    }
                } else {
                    tables.push(t.clone());
                }
            }
            SuperVersion {
                active: cur.active.clone(),
                frozen: cur.frozen.clone(),
                version: Arc::new(self.policy.version(tables)),
            }
        })?;
        for t in inputs {
            t.mark_obsolete();
        }
        Ok(())
    }

    /// Deletes, without rewriting them, every table whose records have all expired
    /// and every table a range tombstone wholly covers (`retention`); returns their
    /// records. The caller holds the compaction lock.
    pub(super) fn drop_dead_tables(&self, covered: &Deleting) -> Result<u64> {
        let now = now_micros();
        let tables = self.current().version.tables.clone();
        let mut doomed = Vec::new();
        let (mut expired, mut deleted, mut deleted_tables) = (0, 0, 0);
        for (i, t) in tables.iter().enumerate() {
            if wholly_expired(&tables, i, now) {
                expired += t.props.entries;
            } else if covered.covers_table(t) {
                deleted += t.props.entries;
                deleted_tables += 1;
            } else {
                continue;
            }
            doomed.push(t.clone());
        }
        if !doomed.is_empty() {
            self.replace_tables(&doomed, &[])?;
        }
        self.stats.tables_deleted.fetch_add(deleted_tables, Relaxed);
        self.stats.records_expired.fetch_add(expired, Relaxed);
        Ok(expired + deleted)
    }

    /// One background compaction step; false when nothing needed doing.
    pub(crate) fn maybe_compact(&self) -> Result<bool> {
        let _c = self.compaction_lock.lock();
        // Read once per step (a snapshot, and the log synced when a memtable holds
        // range tombstones): dropping and rewriting tables leaves them as they are.
        let deleting = self.deleting_tombstones()?;
        if self.drop_dead_tables(&deleting)? > 0 {
            return Ok(true);
        }
        let version = self.current().version.clone();
        let tables = version.tables.clone();
        let runs = self.policy.runs(&version);
        // A run whose oldest part a newer delete cuts off (retention) is rewritten
        // without it, so its space comes back.
        if let Some(r) = runs.iter().find(|r| {
            tables[r.tables.clone()]
                .iter()
                .any(|t| deleting.trims_table(t))
        }) {
            self.rewrite_run(&tables, r.tables.clone(), r.level, &deleting)?;
            return Ok(true);
        }
        if let Some((run, level)) = self.policy.pick(&runs) {
            self.rewrite_run(&tables, run, level, &deleting)?;
            return Ok(true);
        }
        // Range reads that merged runs of the newest window have paid for merging
        // them (docs/design.md, "Merges for reads").
        match version.read_merge_due() {
            Some(m) => {
                // Like every merge's, its output is not read into the cache
                // (tried for this one: the inputs' blocks stay cached until
                // evicted, and both raised the peak RSS of 100,000 documents by a
                // tenth; docs/benchmarks.md).
                self.rewrite_run(&tables, m.tables.clone(), m.level, &deleting)?;
                self.stats.read_merges.fetch_add(1, Relaxed);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Merges every table into one final run (a full compaction).
    pub(crate) fn compact_all(&self) -> Result<bool> {
        let _c = self.compaction_lock.lock();
        let deleting = self.deleting_tombstones()?;
        self.drop_dead_tables(&deleting)?;
        let version = self.current().version.clone();
        let tables = &version.tables;
        let droppable = |t: &Arc<Table>| t.props.deletes > 0 || !t.range_dels.is_empty();
        // One final run already (what this leaves, cut into tables by size):
        // rewritten again only to drop the tombstones it still holds, or what a
        // range tombstone written since the last full compaction may hide (one
        // still in a memtable is in no table, so it is counted once). (Counting
        // tables instead, a database over `target_table_bytes` was rewritten whole
        // at every call.) Records that expired since are GC's (`trigger_gc`): with
        // expiries spread over time, some expire during every rewrite, and
        // `while trigger_compaction()? {}` rewrote the database until the last one
        // had.
        let tombstones = deleting.newest_seq();
        let fresh = tombstones > self.compacted_tombstones.load(Relaxed);
        let worth_it = match version.runs() {
            [] => false,
            [r] => {
                tables[r.start].meta.level != FINAL
                    || fresh
                    || tables[r.clone()].iter().any(droppable)
            }
            _ => true,
        };
        if !worth_it {
            return Ok(false);
        }
        self.rewrite_run(tables, 0..tables.len(), FINAL, &deleting)?;
        self.compacted_tombstones.fetch_max(tombstones, Relaxed);
        Ok(true)
    }

    /// Purges expired records from tables; returns how many.
    pub(crate) fn gc(&self) -> Result<u64> {
        let _c = self.compaction_lock.lock();
        let deleting = self.deleting_tombstones()?;
        let mut purged = self.drop_dead_tables(&deleting)?;
        let now = now_micros();
        let candidates: Vec<Arc<Table>> = self
            .current()
            .version
            .tables
            .iter()
            .filter(|t| t.props.min_expire <= now)
            .cloned()
            .collect();
        for t in candidates {
            let tables = self.current().version.tables.clone();
            if let Some(i) = tables.iter().position(|x| Arc::ptr_eq(x, &t)) {
                purged += self.rewrite_run(&tables, i..i + 1, t.meta.level, &deleting)?;
            }
        }
        self.stats.gc_runs.fetch_add(1, Relaxed);
        self.stats.purged_by_gc.fetch_add(purged, Relaxed);
        Ok(purged)
    }
}

impl Engine {
    /// Runs the merges background maintenance would run, until none is due (the
    /// time-window policy of docs/design.md, "Compaction"), after deleting tables
    /// whose records have all expired; returns how many steps did something. For
    /// applications that open with `auto_background = false` and schedule
    /// maintenance themselves.
    pub fn run_compactions(&self) -> Result<u64> {
        self.inner.check_owner()?;
        let mut steps = 0;
        while self.inner.maybe_compact()? {
            steps += 1;
        }
        Ok(steps)
    }

    /// Merges every table into one run (cut into tables of about
    /// `Tuning::target_table_bytes`), dropping overwritten versions, tombstones that
    /// hide nothing and expired records. Returns whether anything was rewritten:
    /// false when the tables are one run already with no tombstones to drop, so
    /// `while engine.trigger_compaction()? {}` ends. Records that expired in a
    /// database that is one run already are left to `trigger_gc` (and background
    /// GC), which rewrites just the tables holding them; a table whose records
    /// have all expired is deleted either way. Background compaction leaves the
    /// result alone; see docs/design.md.
    pub fn trigger_compaction(&self) -> Result<bool> {
        self.inner.check_owner()?;
        self.inner.compact_all()
    }

    /// Physically removes expired records from tables now; returns how many. (Expired
    /// records are invisible to reads at once either way; memtable ones go at flush.)
    pub fn trigger_gc(&self) -> Result<u64> {
        self.inner.check_owner()?;
        self.inner.gc()
    }

    /// Flushes every memtable to tables.
    pub fn flush(&self) -> Result<()> {
        self.inner.check_owner()?;
        self.inner.flush_all()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::FINAL;
    use crate::config::ReadOptions;
    use crate::entry::{Entry, Kind};
    use crate::iterator::lent_merge::each_newest;
    use crate::iterator::merge::{MergeIter, Source};
    use crate::memtable::MemCursor;
    use crate::range::Bounds;
    use crate::sstable::cursor::TableCursor;
    use crate::version::SuperVersion;
    use crate::{Config, Engine, Point, Record, Tuning, WriteBatch, WriteOptions};

    /// An engine without background work, with 1 KiB blocks and tables cut at 1 KiB.
    fn small_tables(dir: &std::path::Path) -> Engine {
        let config = Config {
            auto_background: false,
            block_size: 1024,
            ..Config::new(dir)
        };
        let tuning = Tuning {
            target_table_bytes: 1024,
            ..Tuning::default()
        };
        Engine::open_with(config, tuning).unwrap()
    }

    /// Every newest version of `sv`'s sources, from `each_newest` (lending), after
    /// checking that the owning merge yields the same, version for version.
    fn newest(sv: &SuperVersion) -> Vec<Entry> {
        let sources = || {
            let bounds = Arc::new(Bounds::all());
            let opts = ReadOptions::default();
            let mut s: Vec<Source> = sv
                .memtables()
                .map(|m| Source::Mem(MemCursor::new(m.clone(), bounds.clone(), u64::MAX)))
                .collect();
            s.extend(Source::tables(&sv.version.tables, false, |t| {
                TableCursor::new(t.clone(), bounds.clone(), opts)
            }));
            s
        };
        let mut owned = MergeIter::new(sources(), false);
        let mut want = Vec::new();
        while let Some(x) = owned.next_newest().unwrap() {
            want.push(x);
        }
        let mut got = Vec::new();
        each_newest(sources(), |x| {
            got.push(x.to_entry());
            Ok(())
        })
        .unwrap();
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "version {i}");
        }
        got
    }

    /// What a compaction writes from (`each_newest`, lending) is what the owning
    /// merge yields, version for version: over a run of small tables, tables above
    /// it and two memtables, with the same `(key, ts)` in several sources, deletes,
    /// expired records (kept: the merge's writer decides) and numeric points; then
    /// over the one run a full compaction leaves (one source, read without
    /// comparing), which holds exactly the live records it was given. Seed printed.
    #[test]
    fn each_newest_is_the_owning_merge() {
        let mut rng = crate::util::test_rng("each_newest_is_the_owning_merge");
        let dir = tempfile::tempdir().unwrap();
        let e = small_tables(dir.path());
        let base = crate::util::now_micros();
        for round in 0..7u8 {
            let mut b = WriteBatch::new();
            let from = rng.usize(0..300);
            for i in from..from + rng.usize(50..200) {
                let (key, ts) = (format!("k{i:04}"), base + rng.i64(0..3));
                match rng.u8(0..8) {
                    0 => b.delete(key, ts),
                    1 => b.put(Record::new(key, ts, vec![round]).with_expire_at(base - 1)),
                    _ => b.put_permanent(Record::new(key, ts, vec![round; rng.usize(0..40)])),
                };
            }
            e.write(&b, &WriteOptions::default()).unwrap();
            let points: Vec<Point> = (0..rng.i64(0..100))
                .map(|i| Point::new(format!("n{}", rng.u8(0..3)), base + i, rng.f64()))
                .collect();
            e.write_points(&points).unwrap();
            match round {
                0..=3 => e.flush().unwrap(),
                5 => e.inner.freeze(&mut e.inner.wal.lock()).unwrap(),
                _ => {}
            }
            if round == 2 {
                e.trigger_compaction().unwrap();
            }
        }
        let sv = e.inner.current();
        let sizes: Vec<u64> = sv.version.tables.iter().map(|t| t.meta.size).collect();
        assert!(sizes.len() >= 3, "a run and tables above it: {sizes:?}");
        let before = newest(&sv);
        assert!(before.iter().any(|x| x.kind == Kind::Delete));
        assert!(before.iter().any(|x| x.kind == Kind::Num));
        e.flush().unwrap();
        e.trigger_compaction().unwrap();
        let sv = e.inner.current();
        assert!(sv.memtables().all(|m| m.is_empty()));
        assert!(sv.version.tables.len() > 1, "a run of several tables");
        let live = |v: Vec<Entry>| -> Vec<(Vec<u8>, i64, Kind, Vec<u8>)> {
            v.into_iter()
                .filter(|x| x.is_live(base))
                .map(|x| (x.key, x.ts, x.kind, x.value))
                .collect()
        };
        assert_eq!(live(newest(&sv)), live(before));
    }

    /// A flush between choosing a merge and running it (a writer flushing for room,
    /// or `Engine::flush` on another thread) adds a table at the front of the list:
    /// the merge still takes the tables it chose, whole runs with their tombstones.
    /// Here a full compaction's run of several tables, a table with a range
    /// tombstone over part of it, then a flush after the choice: nothing deleted
    /// comes back, nothing else is lost, before and after reopening. (Positions
    /// read again after the flush merged the flushed table, the tombstone's table
    /// and the run but its last table, whose records the tombstone then no longer
    /// hid.)
    #[test]
    fn a_flush_after_the_choice_does_not_shift_the_merge() {
        let dir = tempfile::tempdir().unwrap();
        let open = || small_tables(dir.path());
        let e = open();
        let records: Vec<Record> = (0..400)
            .map(|i: u64| {
                // Values that do not compress, so the run is cut into several tables.
                let v = (0..40u64)
                    .map(|j| ((i * 40 + j).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8);
                Record::new(format!("k{i:04}"), 50, v.collect::<Vec<u8>>())
            })
            .collect();
        e.write_batch(&records).unwrap();
        e.flush().unwrap();
        e.trigger_compaction().unwrap();
        let run = e.inner.current().version.tables.len();
        assert!(run >= 4, "a run of several tables: {run}");
        // The tombstone hides the run's last keys (in its last tables).
        e.delete_time_range("k0300", "k0400", 0, 100).unwrap();
        e.flush().unwrap();
        let tables = e.inner.current().version.tables.clone();
        let deleting = e.inner.deleting_tombstones().unwrap();
        e.write_batch(&[Record::new("z", 1, vec![1])]).unwrap();
        e.flush().unwrap();
        e.inner
            .rewrite_run(&tables, 0..tables.len(), FINAL, &deleting)
            .unwrap();
        let check = |e: &Engine| {
            for i in [0, 150, 299] {
                assert!(e.get(&format!("k{i:04}"), 50).unwrap().is_some(), "k{i:04}");
            }
            for i in [300, 350, 399] {
                assert!(e.get(&format!("k{i:04}"), 50).unwrap().is_none(), "k{i:04}");
            }
            assert!(e.get("z", 1).unwrap().is_some());
            assert_eq!(e.scan(crate::ScanRange::all()).unwrap().count(), 301);
        };
        check(&e);
        drop(e);
        check(&open());
    }
}
