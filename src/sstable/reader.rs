//! An open table: its top-level index, bloom filter (within the index budget), range
//! tombstones and properties in memory; index partitions and data blocks read on
//! demand through the block cache.
//!
//! `get` is bloom, then a binary search of the top-level index, one index partition
//! and one block (each binary-searched); never a scan of blocks. Its I/O is bounded:
//! at most a filter, a partition and a data block, each a cache hit or one read. A table that compaction
//! replaced is marked obsolete and its file deleted when the last reader lets go.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use crate::config::ReadOptions;
use crate::entry::{cmp_key_ts, Entry, RangeTombstone};
use crate::error::{Error, IoContext, Result};
use crate::fs::{FsFile, OpenMode};

pub(crate) use super::context::{BlockPlan, IndexBudget, TableContext, TableMeta};

use super::block::{Block, BlockIter};
use super::bloom::Bloom;
use super::format::{block_end, check_framed, payload, read_block, BlockHandle, Footer, Payload};
use super::index::{ts_partition_point, BlockIndex, IndexPart};
use super::props::{
    decode_index, decode_key_map, decode_range_dels, BlockMeta, FenceKey, TableProps,
};
use super::readahead::ReadAhead;

/// The room a streaming walk wants in the cache before it caches a block it
/// unpacked (an unpacked block of points takes up to `block_size`, 8 KiB by
/// default, and a little more).
const ROOM_FOR_BLOCK: u64 = 64 << 10;

/// A data block from [`Table::read_block_or_packed`]: a standard block (cached), or
/// a packed block's payload and its offset in the file.
pub(crate) enum Fetched {
    Block(Arc<Block>),
    Packed(Vec<u8>, u64),
}

pub(crate) struct Table {
    pub meta: TableMeta,
    name: Arc<str>,
    path: PathBuf,
    file: Arc<dyn FsFile>,
    pub(super) index: BlockIndex,
    /// Index partitions kept after their first read, while the index budget has room
    /// (format 2; what they charged is added to `pinned_bytes`).
    pinned: Vec<std::sync::OnceLock<Arc<IndexPart>>>,
    pinned_bytes: AtomicUsize,
    /// The key map (series-shaped format 2 tables): read at the first lookup, kept
    /// while the index budget has room (`None`: no map, or no room for it).
    key_map: std::sync::OnceLock<Option<KeyMap>>,
    bloom: Filter,
    /// Its range tombstones, numbered with the table's smallest sequence.
    pub range_dels: Vec<RangeTombstone>,
    pub props: TableProps,
    ctx: Arc<TableContext>,
    charged: usize,
    obsolete: AtomicBool,
}

/// A table's bloom filter: held by the table while the index budget allows, otherwise
/// read through the block cache when a lookup needs it.
enum Filter {
    Pinned(Bloom),
    Paged(super::format::BlockHandle),
}

/// Each fence key's first and last block.
type KeyMap = std::collections::HashMap<FenceKey, (u32, u32), ahash::RandomState>;

/// A loaded index partition: `metas[0]` is block number `base` (format 1's whole
/// index has base 0 and holds every block).
pub(crate) struct Part {
    metas: Arc<IndexPart>,
    base: usize,
}

impl Part {
    /// The entries of blocks `lo..hi` (all within this partition).
    pub(super) fn blocks(&self, lo: usize, hi: usize) -> &[BlockMeta] {
        &self.metas[lo - self.base..hi - self.base]
    }

    /// The last timestamps of blocks `lo..hi` (all within this partition).
    fn last_ts(&self, lo: usize, hi: usize) -> &[i64] {
        self.metas.last_ts(lo - self.base, hi - self.base)
    }

    fn holds(&self, b: usize) -> bool {
        b >= self.base && b - self.base < self.metas.len()
    }

    fn meta(&self, b: usize) -> &BlockMeta {
        &self.metas[b - self.base]
    }
}

/// The index partition a reader used last: kept by cursors and walks (and within one
/// lookup), so that the next block of the same partition needs no cache lookup.
pub(crate) type PartSlot = Option<Part>;

impl Table {
    /// Opens a table: reads its footer, top-level index (or whole format 1 index),
    /// bloom filter, range tombstones and properties. Index partitions are read later,
    /// when a lookup needs them.
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
            read_block(file.as_ref(), &name, h, true).map_err(|e| in_block(e, what))
        };
        let bad = |h: super::format::BlockHandle, what: &str| {
            Error::corruption(&name, h.offset, format!("malformed {what}"))
        };
        let entries = decode_index(&meta_block(footer.index, "index block")?)
            .ok_or_else(|| bad(footer.index, "index block"))?;
        let index = if footer.version >= 2 {
            BlockIndex::partitioned(entries).ok_or_else(|| bad(footer.index, "index block"))?
        } else {
            BlockIndex::whole(entries)
        };
        let range_dels = decode_range_dels(
            &meta_block(footer.range_dels, "range tombstone block")?,
            meta.min_seq,
        )
        .ok_or_else(|| bad(footer.range_dels, "range tombstone block"))?;
        let props = TableProps::decode(&meta_block(footer.props, "properties block")?)
            .ok_or_else(|| bad(footer.props, "properties block"))?;
        let bloom_bytes = footer.bloom.len as usize;
        let bloom = if ctx.budget.try_charge(bloom_bytes) {
            match meta_block(footer.bloom, "bloom block") {
                Ok(b) => Filter::Pinned(Bloom::new(b)),
                Err(e) => {
                    ctx.budget.release(bloom_bytes);
                    return Err(e);
                }
            }
        } else {
            Filter::Paged(footer.bloom)
        };
        // The top level is always held (it is what bounds every lookup); the bloom
        // filter was charged above when held.
        let index_bytes = index.memory();
        ctx.budget.charge(index_bytes);
        let held_bloom = if matches!(bloom, Filter::Pinned(_)) {
            bloom_bytes
        } else {
            0
        };
        let charged = index_bytes + held_bloom;
        let pinned = (0..index.paged_partitions())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        Ok(Table {
            meta,
            name,
            path,
            file,
            index,
            pinned,
            pinned_bytes: AtomicUsize::new(0),
            key_map: std::sync::OnceLock::new(),
            bloom,
            range_dels,
            props,
            ctx: ctx.clone(),
            charged,
            obsolete: AtomicBool::new(false),
        })
    }

    /// The number of data blocks.
    pub(crate) fn block_count(&self) -> usize {
        self.index.len()
    }

    /// The table's first and last keys (`None` when it holds no entries).
    pub(crate) fn key_range(&self) -> Option<(&[u8], &[u8])> {
        self.index
            .key_range()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
    }

    /// The file's name, as errors give it.
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The table's per-key summaries (`series`), read from disk; `None` for tables
    /// written before the series block existed or holding no puts.
    pub(crate) fn series(&self) -> Result<Option<super::series::SeriesIter>> {
        let Some(h) = self.props.series else {
            return Ok(None);
        };
        let raw = read_block(self.file.as_ref(), &self.name, h, true)
            .map_err(|e| in_block(e, "series block"))?;
        super::series::SeriesIter::new(raw)
            .map(Some)
            .ok_or_else(|| Error::corruption(&self.name, h.offset, "malformed series block"))
    }

    /// Deletes the file once no reader holds this table any more.
    pub(crate) fn mark_obsolete(&self) {
        self.obsolete.store(true, Relaxed);
    }

    /// Whether the bloom filter allows `key`. A filter that cannot be read allows
    /// every key (the lookup then reads the index and blocks, which report errors).
    fn may_contain(&self, key: &[u8]) -> bool {
        match &self.bloom {
            Filter::Pinned(b) => b.may_contain(key),
            Filter::Paged(h) => self
                .ctx
                .cache
                .get_or_load_filter(self.meta.id, || {
                    read_block(self.file.as_ref(), &self.name, *h, true)
                        .map(Bloom::new)
                        .map_err(|e| in_block(e, "bloom block"))
                })
                .map_or(true, |b| b.may_contain(key)),
        }
    }

    /// The first and last block holding `key` when the key map knows it (a known key
    /// is in the table: no bloom check needed).
    pub(super) fn mapped(&self, key: &[u8]) -> Result<Option<(usize, usize)>> {
        let Some(h) = self.props.key_map else {
            return Ok(None);
        };
        if self.key_map.get().is_none() {
            let raw = read_block(self.file.as_ref(), &self.name, h, true)
                .map_err(|e| in_block(e, "key map"))?;
            let spans = decode_key_map(&raw)
                .filter(|s| {
                    s.iter()
                        .all(|(_, _, last)| (*last as usize) < self.index.len())
                })
                .ok_or_else(|| Error::corruption(&self.name, h.offset, "malformed key map"))?;
            let bytes = spans.len() * (std::mem::size_of::<(FenceKey, (u32, u32))>() + 8);
            let map = self.ctx.budget.try_charge(bytes).then(|| {
                self.pinned_bytes.fetch_add(bytes, Relaxed);
                spans
                    .into_iter()
                    .map(|(k, a, b)| (k, (a, b)))
                    .collect::<KeyMap>()
            });
            if let Err(Some(_)) = self.key_map.set(map) {
                // Another reader set it first.
                self.ctx.budget.release(bytes);
                self.pinned_bytes.fetch_sub(bytes, Relaxed);
            }
        }
        Ok(self
            .key_map
            .get()
            .and_then(Option::as_ref)
            .and_then(|m| m.get(key))
            .map(|&(a, b)| (a as usize, b as usize)))
    }

    /// Index partition `p`: pinned (format 1), or through the block cache.
    pub(super) fn partition(&self, p: usize, opts: &ReadOptions) -> Result<Part> {
        if let Some(whole) = self.index.whole_index() {
            return Ok(Part {
                metas: whole.clone(),
                base: 0,
            });
        }
        if let Some(metas) = self.pinned.get(p).and_then(|c| c.get()) {
            return Ok(Part {
                metas: metas.clone(),
                base: self.index.start(p),
            });
        }
        let top = self.index.top().get(p).ok_or_else(|| {
            Error::Internal(format!("index partition {p} out of range in {}", self.name))
        })?;
        // A partition the table will keep skips the cache (it would be held twice).
        let estimate = IndexPart::estimate(top.entries as usize);
        let pin = self.ctx.budget.has_room(estimate);
        let mut loaded = false;
        let metas = self.ctx.cache.get_or_load_index(
            self.meta.id,
            p as u32,
            opts.fill_cache && !pin,
            || {
                loaded = true;
                let raw = read_block(self.file.as_ref(), &self.name, top.handle, true)
                    .map_err(|e| in_block(e, "index partition"))?;
                decode_index(&raw)
                    .filter(|metas| metas.len() == top.entries as usize)
                    .ok_or_else(|| {
                        Error::corruption(
                            &self.name,
                            top.handle.offset,
                            "malformed index partition",
                        )
                    })
            },
        )?;
        // Kept by the table from now on when the budget has room: later lookups then
        // skip the cache. Beyond the budget, partitions live in the cache only.
        let bytes = metas.memory();
        if self.ctx.budget.try_charge(bytes) {
            if self.pinned[p].set(metas.clone()).is_ok() {
                self.pinned_bytes.fetch_add(bytes, Relaxed);
            } else {
                self.ctx.budget.release(bytes);
            }
        } else if loaded && pin && opts.fill_cache {
            // The estimate fit, the partition did not (statistics and long keys are
            // beyond the estimate): cached after all, or it would be read from disk
            // at every lookup, neither pinned nor cached. (Only when read from disk:
            // a cached one is there already.)
            self.ctx.cache.insert_index(self.meta.id, p as u32, &metas);
        }
        Ok(Part {
            metas,
            base: self.index.start(p),
        })
    }

    /// Block `b`'s index entry, through `slot` (loading its partition when the slot
    /// holds another).
    pub(crate) fn block_meta<'s>(
        &self,
        b: usize,
        slot: &'s mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<&'s BlockMeta> {
        if b >= self.index.len() {
            return Err(Error::Internal(format!(
                "block {b} out of range in {}",
                self.name
            )));
        }
        Ok(self
            .part_holding(b, self.index.partition_of(b), slot, opts)?
            .meta(b))
    }

    /// Partition `p` (the one holding block `b`), from `slot` when it is there,
    /// otherwise loaded into it.
    fn part_holding<'s>(
        &self,
        b: usize,
        p: usize,
        slot: &'s mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<&'s Part> {
        if !slot.as_ref().is_some_and(|s| s.holds(b)) {
            *slot = None;
        }
        match slot {
            Some(part) => Ok(part),
            None => Ok(slot.insert(self.partition(p, opts)?)),
        }
    }

    /// Checks the checksum of every block the table's index and properties name
    /// (data blocks, index partitions, key map, series block; the footer, top-level
    /// index, filter, range tombstones and properties were checked at open), without
    /// decompressing data blocks; returns the blocks and bytes checked.
    pub(crate) fn verify(&self) -> Result<(u64, u64)> {
        self.verify_in(super::check::Stretches::DEFAULT)
    }

    /// [`Table::verify`], reading a partitioned table in stretches cut by `cut`.
    pub(super) fn verify_in(&self, cut: super::check::Stretches) -> Result<(u64, u64)> {
        let others: Vec<_> = [self.props.key_map, self.props.series]
            .into_iter()
            .flatten()
            .collect();
        let Some(whole) = self.index.whole_index() else {
            let top = self.index.top();
            return super::check::check_partitioned(
                self.file.as_ref(),
                &self.name,
                top,
                &others,
                cut,
            );
        };
        let mut handles: Vec<_> = whole.iter().map(|m| m.handle).chain(others).collect();
        handles.sort_by_key(|h| h.offset);
        let bytes = super::format::check_blocks(self.file.as_ref(), &self.name, &handles)?;
        Ok((handles.len() as u64, bytes))
    }

    /// Whether blocks `a` and `b` are in one index partition (finding one's index
    /// entry after the other's loads no partition).
    pub(crate) fn same_partition(&self, a: u32, b: u32) -> bool {
        let part = |b: u32| self.index.partition_of(b as usize);
        (a.max(b) as usize) < self.index.len() && part(a) == part(b)
    }

    /// Data block `i` when the cache holds it, asked for ahead of its read: counted
    /// as a hit once read ([`counted_read`](Self::counted_read)).
    pub(crate) fn cached_ahead(&self, i: u32) -> Option<Arc<Block>> {
        self.ctx.cache.get_ahead(self.meta.id, i)
    }

    /// Notes that a block found by [`cached_ahead`](Self::cached_ahead) was read.
    pub(crate) fn counted_read(&self) {
        self.ctx.cache.count_hit();
    }

    /// Data block `i`, its index entry found through `slot`.
    pub(crate) fn read_block(
        &self,
        i: u32,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<Arc<Block>> {
        let handle = self.block_meta(i as usize, slot, opts)?.handle;
        self.read_block_at(i, handle, opts)
    }

    /// Block `i` for a walk that may stream (`ahead`, readahead.rs): as the cache
    /// holds it; when it is not cached and the walk streams, as read ahead from the
    /// file, and then a packed block, while the cache has room, unpacked and cached,
    /// and once it is full, as its payload, neither unpacked nor cached (aggregation
    /// decodes its runs into columns); otherwise as `read_block` reads it (and
    /// caches it).
    pub(crate) fn read_block_or_packed(
        &self,
        i: u32,
        slot: &mut PartSlot,
        opts: &ReadOptions,
        ahead: &mut ReadAhead,
    ) -> Result<Fetched> {
        if !ahead.streaming(i) {
            return Ok(Fetched::Block(self.read_block(i, slot, opts)?));
        }
        if let Some(b) = self.ctx.cache.get(self.meta.id, i) {
            return Ok(Fetched::Block(b));
        }
        let h = self.block_meta(i as usize, slot, opts)?.handle;
        let extent = |limit| self.extent(i as usize, h, limit, slot, opts);
        let framed = ahead.framed(self.file.as_ref(), &self.name, h, extent)?;
        if opts.verify_checksums {
            check_framed(framed, &self.name, h.offset)?;
        }
        // A cache with room takes the block, so the next walk finds it.
        let cache = &self.ctx.cache;
        let keep = opts.fill_cache && cache.has_room(ROOM_FOR_BLOCK);
        let raw = match payload(framed.to_vec(), &self.name, h.offset)? {
            Payload::Packed(p) if !keep => return Ok(Fetched::Packed(p, h.offset)),
            other => other.unpacked(&self.name, h.offset)?,
        };
        let b = Arc::new(Block::parse(raw, self.name.clone(), h.offset)?);
        if keep {
            cache.insert(self.meta.id, i, &b);
        }
        Ok(Fetched::Block(b))
    }

    /// The end of the last block from `i` (at `h`) on, in `i`'s index partition,
    /// that ends within `limit` bytes of `h.offset`.
    fn extent(
        &self,
        i: usize,
        h: BlockHandle,
        limit: u64,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<u64> {
        let last = self.index.start(self.index.partition_of(i) + 1);
        let mut end = block_end(&h);
        for j in i + 1..last {
            let e = block_end(&self.block_meta(j, slot, opts)?.handle);
            // Blocks out of order (a damaged index) end the stretch too.
            if e < end || e - h.offset > limit {
                break;
            }
            end = e;
        }
        Ok(end)
    }

    fn read_block_at(
        &self,
        i: u32,
        handle: super::format::BlockHandle,
        opts: &ReadOptions,
    ) -> Result<Arc<Block>> {
        self.ctx
            .cache
            .get_or_load(self.meta.id, i, opts.fill_cache, || {
                let raw = read_block(
                    self.file.as_ref(),
                    &self.name,
                    handle,
                    opts.verify_checksums,
                )?;
                Block::parse(raw, self.name.clone(), handle.offset)
            })
    }

    /// The first block whose last entry is `>= (key, ts)` (`block_count()` when none
    /// is): the top level, then one partition, left in `slot`.
    pub(super) fn search(
        &self,
        key: &[u8],
        ts: i64,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<usize> {
        let p = self.index.partition_at_or_after(key, ts);
        if p == self.index.top().len() {
            return Ok(self.index.len());
        }
        let (lo, hi) = (self.index.start(p), self.index.start(p + 1));
        let part = self.part_holding(lo, p, slot, opts)?;
        // (The part holding block `lo` is partition `p`, so its base is `lo`.)
        Ok((part.base + part.metas.search(key, ts)).clamp(lo, hi))
    }

    /// `search` for a key the key map places in blocks `lo..=hi`: every block of the
    /// key but its last ends with the key itself (it goes on into the next), so only
    /// their last ts need comparing; the last is compared in full. The top level
    /// picks the one partition to search (a partition before `hi`'s ends with such a
    /// block), and its column of last timestamps is searched, not its entries.
    pub(super) fn search_mapped(
        &self,
        key: &[u8],
        ts: i64,
        (lo, hi): (usize, usize),
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<usize> {
        let (pa, pb) = (self.index.partition_of(lo), self.index.partition_of(hi));
        let p = pa + ts_partition_point(self.index.top_last_ts(pa, pb), ts);
        let first = lo.max(self.index.start(p));
        // Blocks `first..by_ts` are compared by ts alone: up to `hi` (excluded) in
        // `hi`'s partition, the whole rest of the partition in an earlier one.
        let by_ts = hi.min(self.index.start(p + 1));
        let part = self.part_holding(first, p, slot, opts)?;
        let a = first + ts_partition_point(part.last_ts(first, by_ts), ts);
        // (`hi` is in the part unless a damaged top level chose a partition too early.)
        if a == hi && part.holds(hi) {
            let m = part.meta(hi);
            if cmp_key_ts(&m.last_key, m.last_ts, key, ts).is_lt() {
                return Ok(hi + 1);
            }
        }
        Ok(a)
    }

    /// This table's version of `(key, ts)`, with the table's sequence.
    pub(crate) fn get(&self, key: &[u8], ts: i64, opts: &ReadOptions) -> Result<Option<Entry>> {
        // Outside the table's ts or key range: nothing to read (a time-windowed
        // database has many tables, and most miss a given ts).
        if !self.covers(key, ts) {
            return Ok(None);
        }
        let mut slot = None;
        // A mapped key's blocks after its first start with the key itself.
        let (b, starts_with_key) = match self.mapped(key)? {
            Some((lo, hi)) => {
                let b = self.search_mapped(key, ts, (lo, hi), &mut slot, opts)?;
                if b > hi {
                    // Past the key's last entry here (its next block starts with a
                    // greater key: no need to read its partition to learn so).
                    return Ok(None);
                }
                (b, lo < b)
            }
            None if !self.may_contain(key) => return Ok(None),
            None => (self.search(key, ts, &mut slot, opts)?, false),
        };
        if b >= self.index.len() {
            return Ok(None);
        }
        let m = self.block_meta(b, &mut slot, opts)?;
        // (Comparing the ts alone spares reading the block's first key, a cache miss
        // once the index outgrows the CPU caches.)
        let after = match starts_with_key {
            true => m.first_ts > ts,
            false => m.starts_after(key, ts),
        };
        if after {
            return Ok(None);
        }
        let handle = m.handle;
        let mut it = BlockIter::new(self.read_block_at(b as u32, handle, opts)?);
        it.seek(key, ts)?;
        Ok(it
            .next_entry()?
            .filter(|e| e.key == key && e.ts == ts)
            .map(|mut e| {
                e.seq = self.meta.min_seq;
                e
            }))
    }

    /// Block `b` when it may hold `key`, and whether earlier blocks may hold more of
    /// it (the block starts with `key`): for walking one key backwards.
    pub(crate) fn key_block(
        &self,
        key: &[u8],
        b: usize,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<Option<(Arc<Block>, bool)>> {
        let m = self.block_meta(b, slot, opts)?;
        if m.first_key.as_slice() > key || m.last_key.as_slice() < key {
            return Ok(None);
        }
        let (handle, more) = (m.handle, b > 0 && m.first_key.as_slice() == key);
        Ok(Some((self.read_block_at(b as u32, handle, opts)?, more)))
    }

    /// The last block that can hold `key`, if any: where a reverse walk starts.
    pub(crate) fn last_block_of_key(
        &self,
        key: &[u8],
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<Option<usize>> {
        if let Some((_, hi)) = self.mapped(key)? {
            return Ok(Some(hi));
        }
        if !self.may_contain(key) {
            return Ok(None);
        }
        // The first block ending after every entry of `key`, or the last block.
        let Some(last) = self.index.len().checked_sub(1) else {
            return Ok(None);
        };
        let b = self.search(key, i64::MAX, slot, opts)?.min(last);
        if self.block_meta(b, slot, opts)?.first_key.as_slice() <= key {
            return Ok(Some(b));
        }
        match b.checked_sub(1) {
            Some(p) if self.block_meta(p, slot, opts)?.last_key.as_slice() == key => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    /// True when this table may hold a version of `(key, ts)` (used to decide
    /// whether dropping a newer tombstone or expired record would uncover it).
    pub(crate) fn may_hold(&self, key: &[u8], ts: i64) -> bool {
        self.covers(key, ts) && self.may_contain(key)
    }

    /// Whether `(key, ts)` lies within the table's key and ts ranges (no I/O).
    fn covers(&self, key: &[u8], ts: i64) -> bool {
        self.props.entries > 0
            && self.props.min_ts <= ts
            && ts <= self.props.max_ts
            && self
                .key_range()
                .is_some_and(|(first, last)| first <= key && key <= last)
    }
}

/// Names the metadata block a corruption was found in.
fn in_block(e: Error, what: &str) -> Error {
    match e {
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
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        self.ctx
            .budget
            .release(self.charged + self.pinned_bytes.load(Relaxed));
        if self.obsolete.load(Relaxed) {
            let _ = self.ctx.fs.remove(&self.path);
        }
    }
}
