//! Flushing: a frozen memtable becomes a level-0 table, installed with a manifest
//! write; log segments no memtable needs any more are then deleted. Also the pieces
//! flush and compaction share: creating an output table and deciding what of a newest
//! version must be kept ([`retain`]).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use super::Inner;
use crate::entry::{Entry, Kind, RangeTombstones};
use crate::error::{IoContext, Result};
use crate::manifest::ManifestState;
use crate::memtable::MemCursor;
use crate::range::Bounds;
use crate::sstable::builder::TableBuilder;
use crate::sstable::reader::{Table, TableMeta};
use crate::sstable::table_path;
use crate::util::now_micros;
use crate::version::{SuperVersion, Version};
use crate::wal::{parse_segment_name, segment_path};

/// What to write for a `(key, ts)`'s newest version, given the tables older than the
/// data being written. A tombstone is kept only while an older table may still hold
/// the key; an expired record is dropped, or turned into a tombstone when an older
/// version could otherwise reappear. `expired` counts the expired records dropped.
pub(crate) fn retain(e: Entry, now: i64, older: &[Arc<Table>], expired: &mut u64) -> Option<Entry> {
    let shadows = |e: &Entry| older.iter().any(|t| t.may_hold(&e.key, e.ts));
    match e.kind {
        Kind::Delete => shadows(&e).then_some(e),
        Kind::Put if e.expire_at <= now => {
            *expired += 1;
            shadows(&e).then(|| Entry {
                kind: Kind::Delete,
                expire_at: i64::MAX,
                value: Vec::new(),
                ..e
            })
        }
        Kind::Put => Some(e),
    }
}

fn log_number(sv: &SuperVersion) -> u64 {
    sv.memtables().map(|m| m.first_segment).min().unwrap_or(0)
}

impl Inner {
    pub(crate) fn new_output(&self) -> Result<(u64, TableBuilder)> {
        let id = self.new_file_number();
        let b = TableBuilder::create(
            self.fs(),
            table_path(&self.dir, id),
            self.table_opts.clone(),
        )?;
        Ok((id, b))
    }

    /// Finishes an output table and opens it; `None` when it holds nothing.
    pub(crate) fn finish_output(
        &self,
        id: u64,
        b: TableBuilder,
        level: u32,
        min_seq: u64,
        max_seq: u64,
    ) -> Result<Option<Arc<Table>>> {
        if b.is_empty() {
            b.abandon();
            return Ok(None);
        }
        let built = b.finish()?;
        self.stats
            .table_raw_bytes
            .fetch_add(built.raw_bytes, Relaxed);
        self.stats.table_file_bytes.fetch_add(built.size, Relaxed);
        let meta = TableMeta {
            id,
            level,
            min_seq,
            max_seq,
            size: built.size,
        };
        match Table::open(&self.table_ctx, meta) {
            Ok(t) => Ok(Some(Arc::new(t))),
            Err(e) => {
                let _ = self.fs().remove(&table_path(&self.dir, id));
                Err(e)
            }
        }
    }

    /// Writes one output table from newest versions in order: what `range_dels` hides
    /// is skipped, the rest goes through [`retain`], and the range tombstones are kept
    /// while older tables remain. Returns the table (`None` when nothing was left) and
    /// the expired records dropped.
    pub(crate) fn write_output(
        &self,
        mut next: impl FnMut() -> Result<Option<Entry>>,
        range_dels: RangeTombstones,
        older: &[Arc<Table>],
        level: u32,
        min_seq: u64,
        max_seq: u64,
    ) -> Result<(Option<Arc<Table>>, u64)> {
        let now = now_micros();
        let (id, mut b) = self.new_output()?;
        let mut expired = 0;
        let mut write = || -> Result<()> {
            while let Some(e) = next()? {
                if range_dels.hides(&e.key, e.seq) {
                    continue;
                }
                if let Some(e) = retain(e, now, older, &mut expired) {
                    b.add(&e)?;
                }
            }
            Ok(())
        };
        if let Err(e) = write() {
            b.abandon();
            return Err(e);
        }
        if !older.is_empty() {
            for t in range_dels.into_vec() {
                b.add_range_del(t.start, t.end);
            }
        }
        Ok((self.finish_output(id, b, level, min_seq, max_seq)?, expired))
    }

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
        *self.sv.write() = Arc::new(new);
        Ok(())
    }

    /// Flushes the oldest frozen memtable; false when there is none.
    pub(crate) fn flush_oldest(&self) -> Result<bool> {
        let _f = self.flush_lock.lock();
        let sv = self.current();
        let Some(mem) = sv.frozen.last().cloned() else {
            return Ok(false);
        };
        let started = Instant::now();
        let older = &sv.version.tables;
        let mut range_dels = RangeTombstones::default();
        range_dels.extend(mem.range_tombstones(u64::MAX));
        // Streamed through a cursor (a few entries copied at a time): a flush used to
        // copy the whole memtable first, holding it twice in memory.
        let mut entries = MemCursor::new(mem.clone(), Arc::new(Bounds::all()), u64::MAX);
        let (min_seq, max_seq) = mem.seq_range();
        let (table, expired) = self.write_output(
            || Ok(entries.next_entry()),
            range_dels,
            older,
            0,
            min_seq,
            max_seq,
        )?;
        self.install_super_version(|cur| SuperVersion {
            active: cur.active.clone(),
            frozen: cur
                .frozen
                .iter()
                .filter(|m| !Arc::ptr_eq(m, &mem))
                .cloned()
                .collect(),
            version: match &table {
                Some(t) => Arc::new(Version::new(
                    std::iter::once(t.clone())
                        .chain(cur.version.tables.iter().cloned())
                        .collect(),
                )),
                None => cur.version.clone(),
            },
        })?;
        self.delete_flushed_segments()?;
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
