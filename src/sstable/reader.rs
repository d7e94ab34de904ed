//! An open table: its index, bloom filter, range tombstones and time index in memory,
//! data blocks read on demand through the block cache.
//!
//! `get` is bloom, then a binary search of the block index, then one block (itself
//! binary-searched by restart points); never a scan of blocks. A table that compaction
//! replaced is marked obsolete and its file deleted when the last reader lets go.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use crate::config::ReadOptions;
use crate::entry::{cmp_key_ts, Entry};
use crate::error::{Error, IoContext, Result};
use crate::fs::{FileSystem, FsFile, OpenMode};
use crate::range::{Bounds, KeyEnd};
use crate::sstable::cache::BlockCache;
use crate::util::key_order;

use super::block::{Block, BlockIter};
use super::bloom::Bloom;
use super::format::{read_block, Footer};
use super::key_blocks::KeyBlocks;
use super::props::{decode_index, decode_range_dels, BlockMeta, TableProps};
use super::time_index::TimeIndex;

/// The blocks a cursor visits, in order: a whole span, or a pruned list.
pub(crate) enum BlockPlan {
    Span(std::ops::Range<u32>),
    List(Vec<u32>),
}

impl BlockPlan {
    /// The `i`-th block to visit.
    pub(crate) fn get(&self, i: usize) -> Option<u32> {
        match self {
            BlockPlan::Span(r) => r.clone().nth(i),
            BlockPlan::List(l) => l.get(i).copied(),
        }
    }
}

/// What the manifest records of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TableMeta {
    pub id: u64,
    pub level: u32,
    pub min_seq: u64,
    pub max_seq: u64,
    pub size: u64,
}

/// Memory for block indexes and time indexes, bounded by `index_memory_budget_mb`.
/// Block indexes and filters are always held (reads need them); a table's time index
/// is built only while it fits, otherwise time queries on that table filter its block
/// index by min/max ts instead (same results, more comparisons).
pub(crate) struct IndexBudget {
    limit: usize,
    used: AtomicUsize,
}

impl IndexBudget {
    pub(crate) fn new(limit: usize) -> Self {
        IndexBudget {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    fn charge(&self, n: usize) {
        self.used.fetch_add(n, Relaxed);
    }

    fn try_charge(&self, n: usize) -> bool {
        self.used
            .fetch_update(Relaxed, Relaxed, |u| (u + n <= self.limit).then_some(u + n))
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Relaxed);
    }

    pub(crate) fn used(&self) -> usize {
        self.used.load(Relaxed)
    }
}

/// Shared by every table of an engine.
pub(crate) struct TableContext {
    pub fs: Arc<dyn FileSystem>,
    pub dir: PathBuf,
    pub cache: Arc<BlockCache>,
    pub budget: Arc<IndexBudget>,
    pub bucket_width_micros: i64,
}

pub(crate) struct Table {
    pub meta: TableMeta,
    name: Arc<str>,
    path: PathBuf,
    file: Arc<dyn FsFile>,
    pub blocks: Vec<BlockMeta>,
    bloom: Bloom,
    pub range_dels: Vec<(Vec<u8>, Vec<u8>)>,
    pub props: TableProps,
    time_index: Option<TimeIndex>,
    /// Each key's blocks, for series-shaped tables (when the index budget allows).
    key_blocks: Option<KeyBlocks>,
    ctx: Arc<TableContext>,
    charged: usize,
    obsolete: AtomicBool,
}

impl Table {
    pub(crate) fn open(ctx: &Arc<TableContext>, meta: TableMeta) -> Result<Table> {
        let path = super::table_path(&ctx.dir, meta.id);
        let name: Arc<str> = Arc::from(path.display().to_string());
        let file = ctx
            .fs
            .open(&path, OpenMode::Read)
            .ctx(|| format!("opening table {name}"))?;
        let len = file.len().ctx(|| format!("reading size of {name}"))?;
        let footer = Footer::read(file.as_ref(), &name, len)?;
        let meta_block = |h, what: &str| -> Result<Vec<u8>> {
            read_block(file.as_ref(), &name, h, true).map_err(|e| match e {
                Error::Corruption {
                    file,
                    offset,
                    detail,
                } => Error::Corruption {
                    file,
                    offset,
                    detail: format!("{what}: {detail}"),
                },
                e => e,
            })
        };
        let bad = |h: super::format::BlockHandle, what: &str| {
            Error::corruption(&name, h.offset, format!("malformed {what}"))
        };
        let blocks = decode_index(&meta_block(footer.index, "index block")?)
            .ok_or_else(|| bad(footer.index, "index block"))?;
        let bloom = Bloom::new(meta_block(footer.bloom, "bloom block")?);
        let range_dels =
            decode_range_dels(&meta_block(footer.range_dels, "range tombstone block")?)
                .ok_or_else(|| bad(footer.range_dels, "range tombstone block"))?;
        let props = TableProps::decode(&meta_block(footer.props, "properties block")?)
            .ok_or_else(|| bad(footer.props, "properties block"))?;
        let mut charged = blocks.iter().map(BlockMeta::memory).sum::<usize>() + bloom.memory();
        ctx.budget.charge(charged);
        let ti = TimeIndex::build(&blocks, ctx.bucket_width_micros);
        let time_index = if ctx.budget.try_charge(ti.memory()) {
            charged += ti.memory();
            Some(ti)
        } else {
            None
        };
        let key_blocks = KeyBlocks::build(&blocks).filter(|kb| {
            let ok = ctx.budget.try_charge(kb.memory());
            charged += if ok { kb.memory() } else { 0 };
            ok
        });
        Ok(Table {
            meta,
            name,
            path,
            file,
            blocks,
            bloom,
            range_dels,
            props,
            time_index,
            key_blocks,
            ctx: ctx.clone(),
            charged,
            obsolete: AtomicBool::new(false),
        })
    }

    pub(crate) fn time_index_buckets(&self) -> usize {
        self.time_index.as_ref().map_or(0, TimeIndex::bucket_count)
    }

    /// Deletes the file once no reader holds this table any more.
    pub(crate) fn mark_obsolete(&self) {
        self.obsolete.store(true, Relaxed);
    }

    pub(crate) fn read_block(&self, i: u32, opts: &ReadOptions) -> Result<Arc<Block>> {
        let m = self
            .blocks
            .get(i as usize)
            .ok_or_else(|| Error::Internal(format!("block {i} out of range in {}", self.name)))?;
        self.ctx
            .cache
            .get_or_load(self.meta.id, i, opts.fill_cache, || {
                let raw = read_block(
                    self.file.as_ref(),
                    &self.name,
                    m.handle,
                    opts.verify_checksums,
                )?;
                Block::parse(raw, self.name.clone(), m.handle.offset)
            })
    }

    /// The first block whose last entry is `>= (key, ts)`, or `None` when
    /// `check_bloom` and the bloom filter rules the key out. A key the key-blocks map
    /// knows is in the table, and the search stays within its blocks: every block
    /// before its first one ends below it, every block after its last starts above.
    fn find_block(&self, key: &[u8], ts: i64, check_bloom: bool) -> Option<usize> {
        let below = |m: &BlockMeta| cmp_key_ts(&m.last_key, m.last_ts, key, ts).is_lt();
        let mapped = self
            .key_blocks
            .as_ref()
            .and_then(|kb| kb.first_at_or_after(key, ts, |b| below(&self.blocks[b])));
        match mapped {
            Some(b) => Some(b),
            None if check_bloom && !self.bloom.may_contain(key) => None,
            None => Some(self.search(key, ts)),
        }
    }

    /// The first block whose last entry is `>= (key, ts)`, over the whole index.
    fn search(&self, key: &[u8], ts: i64) -> usize {
        self.blocks
            .partition_point(|m| cmp_key_ts(&m.last_key, m.last_ts, key, ts).is_lt())
    }

    /// This table's version of `(key, ts)`, with the table's sequence.
    pub(crate) fn get(&self, key: &[u8], ts: i64, opts: &ReadOptions) -> Result<Option<Entry>> {
        let Some(b) = self.find_block(key, ts, true) else {
            return Ok(None);
        };
        let Some(m) = self.blocks.get(b) else {
            return Ok(None);
        };
        if cmp_key_ts(&m.first_key, m.first_ts, key, ts).is_gt() {
            return Ok(None);
        }
        let mut it = BlockIter::new(self.read_block(b as u32, opts)?);
        it.seek(key, ts)?;
        Ok(it
            .next_entry()?
            .filter(|e| e.key == key && e.ts == ts)
            .map(|mut e| {
                e.seq = self.meta.min_seq;
                e
            }))
    }

    /// Blocks whose key range may meet the key bounds.
    fn key_span(&self, b: &Bounds) -> Range<usize> {
        let lo = self.find_block(&b.start, i64::MIN, false).unwrap_or(0);
        let starts_before = |e: &[u8], m: &BlockMeta| key_order::compare(&m.first_key, e);
        let hi = match &b.end {
            KeyEnd::Unbounded => self.blocks.len(),
            KeyEnd::Included(e) => gallop(&self.blocks, lo, |m| starts_before(e, m).is_le()),
            KeyEnd::Excluded(e) => gallop(&self.blocks, lo, |m| starts_before(e, m).is_lt()),
        };
        lo..hi.max(lo)
    }

    /// The blocks a scan over `b` must read, ascending: the key span, pruned by time
    /// through the time index (wide spans) or the block min/max ts (narrow ones).
    /// When every ts of the table is inside the window, the span is kept whole.
    pub(crate) fn plan(&self, b: &Bounds) -> BlockPlan {
        if b.is_empty() || b.ts_lo > self.props.max_ts || b.ts_hi < self.props.min_ts {
            return BlockPlan::Span(0..0);
        }
        let span = self.key_span(b);
        let whole_table_in_window = b.ts_lo <= self.props.min_ts && self.props.max_ts <= b.ts_hi;
        if !b.time_restricted() || whole_table_in_window {
            return BlockPlan::Span(span.start as u32..span.end as u32);
        }
        let overlaps = |i: &u32| self.blocks[*i as usize].overlaps_time(b.ts_lo, b.ts_hi);
        BlockPlan::List(match &self.time_index {
            Some(ti) if span.len() > 64 => ti
                .candidates(b.ts_lo, b.ts_hi)
                .into_iter()
                .filter(|i| span.contains(&(*i as usize)) && overlaps(i))
                .collect(),
            _ => (span.start as u32..span.end as u32)
                .filter(overlaps)
                .collect(),
        })
    }

    /// The entries of `key` in block `b` when it holds any, plus whether earlier
    /// blocks may hold more (for walking one key backwards).
    pub(crate) fn key_entries_in_block(
        &self,
        key: &[u8],
        b: usize,
        opts: &ReadOptions,
    ) -> Result<(Vec<Entry>, bool)> {
        let m = &self.blocks[b];
        if m.first_key.as_slice() > key || m.last_key.as_slice() < key {
            return Ok((Vec::new(), false));
        }
        let mut it = BlockIter::new(self.read_block(b as u32, opts)?);
        let mut es = it.collect_key(key)?;
        for e in es.iter_mut() {
            e.seq = self.meta.min_seq;
        }
        Ok((es, b > 0 && m.first_key.as_slice() == key))
    }

    /// The entry of `key` with the greatest ts in block `b`, with the table's sequence.
    pub(crate) fn last_of_key_in_block(
        &self,
        key: &[u8],
        b: usize,
        opts: &ReadOptions,
    ) -> Result<Option<Entry>> {
        let mut it = BlockIter::new(self.read_block(b as u32, opts)?);
        Ok(it.last_of_key(key)?.map(|mut e| {
            e.seq = self.meta.min_seq;
            e
        }))
    }

    /// The last block that can hold `key`, if any: where a reverse walk starts.
    pub(crate) fn last_block_of_key(&self, key: &[u8]) -> Option<usize> {
        if let Some((_, hi)) = self.key_blocks.as_ref().and_then(|kb| kb.get(key)) {
            return Some(hi);
        }
        // Not mapped: the bloom filter, then the whole-index search (find_block would
        // look the key up in the map a second time).
        if !self.bloom.may_contain(key) {
            return None;
        }
        let b = self
            .search(key, i64::MAX)
            .min(self.blocks.len().checked_sub(1)?);
        let m = &self.blocks[b];
        if m.first_key.as_slice() <= key {
            Some(b)
        } else {
            b.checked_sub(1)
                .filter(|p| self.blocks[*p].last_key.as_slice() == key)
        }
    }

    /// True when this table may hold a version of `(key, ts)` (used to decide
    /// whether dropping a newer tombstone or expired record would uncover it).
    pub(crate) fn may_hold(&self, key: &[u8], ts: i64) -> bool {
        self.props.entries > 0
            && self.props.min_ts <= ts
            && ts <= self.props.max_ts
            && self.bloom.may_contain(key)
            && self
                .blocks
                .first()
                .is_some_and(|m| m.first_key.as_slice() <= key)
            && self
                .blocks
                .last()
                .is_some_and(|m| m.last_key.as_slice() >= key)
    }
}

/// The partition point of `pred` (true on a prefix of `v`) at or after `from`, found
/// by galloping forward from `from`: a short scan ends a few blocks after it starts,
/// so this reads a few index entries instead of a whole binary search. `from` when
/// `pred` fails there.
fn gallop<T>(v: &[T], from: usize, pred: impl Fn(&T) -> bool) -> usize {
    let n = v.len();
    // v[from..lo] satisfy pred; v[hi] does not (or hi == n).
    let (mut lo, mut step) = (from.min(n), 1usize);
    let hi = loop {
        let probe = lo.saturating_add(step - 1);
        if probe >= n {
            break n;
        }
        if !pred(&v[probe]) {
            break probe;
        }
        lo = probe + 1;
        step = step.saturating_mul(2);
    };
    lo + v[lo..hi].partition_point(pred)
}

impl Drop for Table {
    fn drop(&mut self) {
        self.ctx.budget.release(self.charged);
        if self.obsolete.load(Relaxed) {
            let _ = self.ctx.fs.remove(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gallop;

    #[test]
    fn gallop_finds_the_partition_point_from_any_start() {
        for n in 0..40usize {
            for cut in 0..=n {
                let v: Vec<usize> = (0..n).collect();
                for from in 0..=n {
                    let want = cut.max(from);
                    assert_eq!(
                        gallop(&v, from, |x| *x < cut),
                        want,
                        "n {n} cut {cut} from {from}"
                    );
                }
            }
        }
    }
}
