//! Writing the tables of a flush or merge: deciding what of each newest version is
//! kept ([`retain`]) and cutting the output into tables of about
//! `Tuning::target_table_bytes`, which together form one run (docs/design.md,
//! "Compaction").

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::Inner;
use crate::entry::{EntryRef, Kind, RangeTombstones};
use crate::error::Result;
use crate::sstable::builder::TableBuilder;
use crate::sstable::reader::{Table, TableMeta};
use crate::sstable::table_path;
use crate::util::now_micros;

/// What to write for a `(key, ts)`'s newest version, given the tables older than the
/// data being written. A tombstone is kept only while an older table may still hold
/// the key; an expired record is dropped, or turned into a tombstone when an older
/// version could otherwise reappear. `expired` counts the expired records dropped.
pub(crate) fn retain<'a>(
    e: EntryRef<'a>,
    now: i64,
    older: &[Arc<Table>],
    expired: &mut u64,
) -> Option<EntryRef<'a>> {
    let shadows = |e: &EntryRef<'_>| older.iter().any(|t| t.may_hold(e.key, e.ts));
    match e.kind {
        Kind::Delete => shadows(&e).then_some(e),
        Kind::Put | Kind::Num if e.expire_at <= now => {
            *expired += 1;
            shadows(&e).then_some(EntryRef {
                kind: Kind::Delete,
                expire_at: i64::MAX,
                value: &[],
                ..e
            })
        }
        Kind::Put | Kind::Num => Some(e),
    }
}

/// What every table a flush or merge writes shares: its level and sequence range.
pub(crate) struct OutputRun {
    pub level: u32,
    pub min_seq: u64,
    pub max_seq: u64,
}

/// The tables of a run being written.
struct Outputs<'a> {
    inner: &'a Inner,
    run: OutputRun,
    done: Vec<Arc<Table>>,
    current: Option<(u64, TableBuilder)>,
    /// Range tombstones for the first table (kept while older tables remain).
    range_dels: Option<RangeTombstones>,
    /// The key last added, to cut between keys.
    last_key: Vec<u8>,
}

impl Outputs<'_> {
    /// The builder an entry of `key` goes to: the current one, or a new table once
    /// the current one is full (at a new key; at any entry past twice the target).
    fn builder_for(&mut self, key: &[u8]) -> Result<&mut TableBuilder> {
        let target = self.inner.target_table_bytes;
        let new_key = self.last_key != key;
        if let Some((_, b)) = &self.current {
            let size = b.written();
            if size >= target.saturating_mul(2) || (size >= target && new_key) {
                self.finish_current()?;
            }
        }
        if self.current.is_none() {
            self.start_table()?;
        }
        if new_key {
            self.last_key.clear();
            self.last_key.extend_from_slice(key);
        }
        Ok(&mut self.current.as_mut().expect("set above").1)
    }

    /// Starts the next table; the first gets the range tombstones.
    fn start_table(&mut self) -> Result<()> {
        let (id, mut b) = self.inner.new_output()?;
        for t in self
            .range_dels
            .take()
            .map(RangeTombstones::into_vec)
            .unwrap_or_default()
        {
            b.add_range_del(t);
        }
        self.current = Some((id, b));
        Ok(())
    }

    fn finish_current(&mut self) -> Result<()> {
        if let Some((id, b)) = self.current.take() {
            let r = &self.run;
            let t = self
                .inner
                .finish_output(id, b, r.level, r.min_seq, r.max_seq)?;
            self.done.extend(t);
        }
        Ok(())
    }

    /// The run's tables; a run of only range tombstones still gets its one table.
    fn finish(mut self) -> Result<Vec<Arc<Table>>> {
        if self.current.is_none() && self.range_dels.is_some() {
            self.start_table()?;
        }
        self.finish_current()?;
        Ok(std::mem::take(&mut self.done))
    }
}

impl Drop for Outputs<'_> {
    /// An abandoned run (an error midway) leaves no files: the finished tables are
    /// deleted when dropped, the unfinished one at once.
    fn drop(&mut self) {
        if let Some((_, b)) = self.current.take() {
            b.abandon();
        }
        for t in &self.done {
            t.mark_obsolete();
        }
    }
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
    fn finish_output(
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

    /// Writes a run of tables from newest versions in order, which `each` hands to
    /// the sink it is given, lent (no entry built): what `range_dels` (the inputs'
    /// own range tombstones) or `newer` (newer ones, applied but not written) hide is
    /// skipped, the rest goes through [`retain`], and `range_dels` are kept (in the
    /// run's first table) while older tables remain. A new table starts once the
    /// current one reaches `target_table_bytes`. Returns the tables (none when
    /// nothing was left) and the expired records dropped; after an error no output
    /// is left behind.
    pub(crate) fn write_output(
        &self,
        each: impl FnOnce(&mut dyn FnMut(EntryRef<'_>) -> Result<()>) -> Result<()>,
        range_dels: RangeTombstones,
        newer: &RangeTombstones,
        older: &[Arc<Table>],
        run: OutputRun,
    ) -> Result<(Vec<Arc<Table>>, u64)> {
        let now = now_micros();
        let mut out = Outputs {
            inner: self,
            run,
            done: Vec::new(),
            current: None,
            range_dels: (!older.is_empty() && !range_dels.is_empty()).then(|| range_dels.clone()),
            last_key: Vec::new(),
        };
        let mut expired = 0;
        each(&mut |e: EntryRef<'_>| {
            if range_dels.hides(e.key, e.ts, e.seq) || newer.hides(e.key, e.ts, e.seq) {
                return Ok(());
            }
            if let Some(e) = retain(e, now, older, &mut expired) {
                out.builder_for(e.key)?.add_ref(e)?;
            }
            Ok(())
        })?;
        Ok((out.finish()?, expired))
    }
}
