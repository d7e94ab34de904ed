//! Flushing: a frozen memtable becomes a level-0 run of tables (written by
//! `output`), installed with a manifest write; log segments no memtable needs any
//! more are then deleted. Also installing a new super-version, which flush and
//! compaction share.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use super::events::Event;
use super::output::OutputRun;
use super::Inner;
use crate::entry::RangeTombstones;
use crate::error::{IoContext, Result};
use crate::manifest::ManifestState;
use crate::memtable::MemCursor;
use crate::range::Bounds;
use crate::version::SuperVersion;
use crate::wal::{parse_segment_name, segment_path};

/// The first log segment a memtable of `sv` still needs.
pub(super) fn log_number(sv: &SuperVersion) -> u64 {
    sv.memtables().map(|m| m.first_segment).min().unwrap_or(0)
}

impl Inner {
    /// Replaces the super-version; writes the manifest first when the tables or the
    /// needed log segments change, so what readers see is always what a restart finds.
    pub(crate) fn install_super_version(
        &self,
        edit: impl FnOnce(&SuperVersion) -> SuperVersion,
    ) -> Result<()> {
        let _g = self.install.lock();
        let cur = self.current();
        let new = edit(&cur);
        if !Arc::ptr_eq(&cur.version, &new.version) || log_number(&cur) != log_number(&new) {
            ManifestState {
                next_file: self.next_file.load(std::sync::atomic::Ordering::SeqCst),
                log_number: log_number(&new),
                last_seq: self.visible_seq.load(std::sync::atomic::Ordering::Acquire),
                tables: new.version.tables.iter().map(|t| t.meta).collect(),
            }
            .store(self.fs().as_ref(), &self.dir)?;
        }
        self.charge_memtables(&new);
        *self.sv.write() = Arc::new(new);
        Ok(())
    }

    /// Charges the memtables of `sv` to the block cache, when
    /// `Tuning::memtables_in_block_cache` says so: at each write group (as they grow)
    /// and each new super-version (a memtable frozen, or flushed and gone).
    pub(super) fn charge_memtables(&self, sv: &SuperVersion) {
        if self.memtables_in_cache {
            let bytes: usize = sv.memtables().map(|m| m.approximate_bytes()).sum();
            self.table_ctx.cache.charge(bytes as u64);
        }
    }

    /// Flushes the oldest frozen memtable; false when there is none.
    pub(crate) fn flush_oldest(&self) -> Result<bool> {
        let _f = self.flush_lock.lock();
        self.check_not_torn()?;
        let sv = self.current();
        let Some(mem) = sv.frozen.last().cloned() else {
            return Ok(false);
        };
        let started = Instant::now();
        let older = &sv.version.tables;
        let mut range_dels = RangeTombstones::default();
        range_dels.extend(mem.range_tombstones(u64::MAX));
        // Streamed through a cursor (a chunk of versions copied at a time, lent from
        // there): a flush used to copy the whole memtable first, holding it twice.
        let mut entries = MemCursor::new(mem.clone(), Arc::new(Bounds::all()), u64::MAX);
        let (min_seq, max_seq) = mem.seq_range();
        let run = OutputRun {
            level: 0,
            min_seq,
            max_seq,
        };
        let (tables, expired) = self.write_output(
            |sink| {
                while entries.next_lent() {
                    sink(entries.lent().expect("a version after next_lent"))?;
                }
                Ok(())
            },
            range_dels,
            &RangeTombstones::default(),
            older,
            run,
        )?;
        self.install_super_version(|cur| SuperVersion {
            active: cur.active.clone(),
            frozen: cur
                .frozen
                .iter()
                .filter(|m| !Arc::ptr_eq(m, &mem))
                .cloned()
                .collect(),
            version: match tables.is_empty() {
                false => Arc::new(
                    self.policy.version(
                        tables
                            .iter()
                            .chain(cur.version.tables.iter())
                            .cloned()
                            .collect(),
                    ),
                ),
                true => cur.version.clone(),
            },
        })?;
        self.delete_flushed_segments()?;
        self.emit(|| Event::FlushCompleted {
            tables: tables.len(),
            bytes: tables.iter().map(|t| t.meta.size).sum(),
            duration: started.elapsed(),
        });
        self.stats.flushes.fetch_add(1, Relaxed);
        self.stats.records_expired.fetch_add(expired, Relaxed);
        self.stats
            .flush_latency
            .record(started.elapsed().as_micros() as u64);
        Ok(true)
    }

    /// Freezes the active memtable (when it holds anything) and flushes every frozen one.
    pub(crate) fn flush_all(&self) -> Result<()> {
        {
            let mut wal = self.wal.lock();
            if !self.current().active.is_empty() {
                self.freeze(&mut wal)?;
            }
        }
        while self.flush_oldest()? {}
        Ok(())
    }

    fn delete_flushed_segments(&self) -> Result<()> {
        if self.wal_pins.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            return Ok(()); // a checkpoint is copying them; the next flush deletes them
        }
        let needed = log_number(&self.current());
        let names = self
            .fs()
            .list(&self.dir)
            .ctx(|| format!("listing {}", self.dir.display()))?;
        for name in names {
            if let Some(n) = parse_segment_name(&name) {
                if n < needed {
                    let p = segment_path(&self.dir, n);
                    self.fs()
                        .remove(&p)
                        .ctx(|| format!("removing WAL segment {}", p.display()))?;
                }
            }
        }
        Ok(())
    }
}
