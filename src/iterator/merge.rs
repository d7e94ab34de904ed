//! Merges several ordered sources into one stream holding, for each `(key, ts)`, only
//! its newest version (highest sequence), in ascending or (reverse) descending order,
//! as owned entries: under `ScanIterator`, backward reads and reads under a range
//! tombstone. Tombstones and expired entries are passed through for the reader to
//! filter. (Forward lending reads, flush and compaction use `lent_merge`.)

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::entry::{cmp_key_ts, Entry};
use crate::error::Result;
use crate::memtable::MemCursor;
use crate::sstable::cursor::TableCursor;
use crate::sstable::reader::Table;

// A read holds a few sources for its duration; boxing table cursors to even out
// the variants would cost an allocation per table per read.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Source {
    Mem(MemCursor),
    Table(TableCursor),
    /// The tables of one run (disjoint keys), in key order, read one after another:
    /// a run cut into many tables costs a merge one source, not one per table.
    Run(VecDeque<TableCursor>),
}

impl Source {
    fn next_entry(&mut self) -> Result<Option<Entry>> {
        match self {
            Source::Mem(c) => Ok(c.next_entry()),
            Source::Table(c) => c.next_entry(),
            Source::Run(run) => {
                while let Some(c) = run.front_mut() {
                    if let Some(e) = c.next_entry()? {
                        return Ok(Some(e));
                    }
                    run.pop_front();
                }
                Ok(None)
            }
        }
    }

    /// One source per run of `tables` (newest first), each of the cursors `cursor`
    /// makes, left out when it has nothing in bounds; a run's tables are read in key
    /// order, or from the last when `reverse`.
    pub(crate) fn tables(
        tables: &[Arc<Table>],
        reverse: bool,
        cursor: impl Fn(&Arc<Table>) -> TableCursor,
    ) -> Vec<Source> {
        crate::version::run_ranges(tables)
            .into_iter()
            .filter_map(|r| Source::run(&tables[r], reverse, &cursor))
            .collect()
    }

    /// The source of one run's tables (see [`tables`](Self::tables)), or `None`
    /// when none of them has anything in bounds.
    pub(crate) fn run(
        run: &[Arc<Table>],
        reverse: bool,
        cursor: impl Fn(&Arc<Table>) -> TableCursor,
    ) -> Option<Source> {
        let mut run: VecDeque<TableCursor> =
            run.iter().map(cursor).filter(|c| !c.is_empty()).collect();
        if reverse {
            run.make_contiguous().reverse();
        }
        match run.len() {
            0 => None,
            1 => run.pop_front().map(Source::Table),
            _ => Some(Source::Run(run)),
        }
    }
}

struct Head {
    entry: Entry,
    source: usize,
    /// The merge runs backwards: the greatest `(key, ts)` comes first.
    reverse: bool,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    /// The max-heap pops the smallest `(key, ts)` (the greatest when the merge runs
    /// backwards), and of equal ones the newest version.
    fn cmp(&self, o: &Self) -> Ordering {
        let order = cmp_key_ts(&o.entry.key, o.entry.ts, &self.entry.key, self.entry.ts);
        let order = if self.reverse { order.reverse() } else { order };
        order.then(self.entry.seq.cmp(&o.entry.seq))
    }
}

pub(crate) struct MergeIter {
    sources: Vec<Source>,
    heap: BinaryHeap<Head>,
    started: bool,
    /// Descending `(key, ts)` order (every source yields it so).
    reverse: bool,
    /// What the read owes the merge for reads, by the records it reads (`None`: it
    /// merges fewer than two runs of it).
    pub(crate) charge: Option<ReadCharge>,
}

/// What a range read over two or more runs of a merge for reads owes for its
/// records (docs/design.md, "Merges for reads"), beyond the charge its start made:
/// `extra` (the runs it merges, less one) for every `per` of `records`, added to the
/// version's charges (a plain shared counter) when it is dropped.
pub(crate) struct ReadCharge {
    charges: Arc<AtomicU64>,
    extra: u64,
    per: u64,
    /// The records the read has read so far.
    pub records: u64,
}

impl ReadCharge {
    /// A charge of `extra` a `per` records, into `charges`.
    pub(crate) fn new(charges: Arc<AtomicU64>, extra: u64, per: u64) -> Self {
        ReadCharge {
            charges,
            extra,
            per: per.max(1),
            records: 0,
        }
    }
}

impl Drop for ReadCharge {
    fn drop(&mut self) {
        let owed = self.extra * (self.records / self.per);
        if owed > 0 {
            self.charges.fetch_add(owed, Relaxed);
        }
    }
}

impl MergeIter {
    /// A merge of sources that each yield ascending `(key, ts)`, or descending ones
    /// when `reverse`.
    pub(crate) fn new(sources: Vec<Source>, reverse: bool) -> Self {
        MergeIter {
            heap: BinaryHeap::with_capacity(sources.len()),
            sources,
            started: false,
            reverse,
            charge: None,
        }
    }

    /// The memtable cursor, when it is the only source (and nothing was read yet).
    pub(crate) fn into_sole_memtable(self) -> std::result::Result<MemCursor, MergeIter> {
        if self.started || self.sources.len() != 1 || !matches!(self.sources[0], Source::Mem(_)) {
            return Err(self);
        }
        match self.sources.into_iter().next() {
            Some(Source::Mem(c)) => Ok(c),
            _ => unreachable!("checked above"),
        }
    }

    /// The sources, when nothing was read yet (for the lending merge).
    pub(crate) fn into_sources(
        self,
    ) -> std::result::Result<(Vec<Source>, Option<ReadCharge>), MergeIter> {
        if self.started {
            return Err(self);
        }
        Ok((self.sources, self.charge))
    }

    fn pull(&mut self, source: usize) -> Result<()> {
        if let Some(entry) = self.sources[source].next_entry()? {
            self.heap.push(Head {
                entry,
                source,
                reverse: self.reverse,
            });
        }
        Ok(())
    }

    /// The next `(key, ts)`'s newest version.
    pub(crate) fn next_newest(&mut self) -> Result<Option<Entry>> {
        if self.sources.len() == 1 {
            return self.sources[0].next_entry();
        }
        if !self.started {
            self.started = true;
            for s in 0..self.sources.len() {
                self.pull(s)?;
            }
        }
        let Some(top) = self.heap.pop() else {
            return Ok(None);
        };
        self.pull(top.source)?;
        while let Some(next) = self.heap.peek() {
            if next.entry.key != top.entry.key || next.entry.ts != top.entry.ts {
                break;
            }
            let source = next.source;
            self.heap.pop();
            self.pull(source)?;
        }
        if let Some(c) = &mut self.charge {
            c.records += 1;
        }
        Ok(Some(top.entry))
    }
}
