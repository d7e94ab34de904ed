//! The block cache: decompressed data blocks and decoded index partitions shared by
//! all readers, bounded together by `block_cache_capacity_mb` (0 disables it), with
//! hit/miss counts for stats.
//!
//! Both kinds share one budget, as RocksDB's `cache_index_and_filter_blocks` puts
//! index blocks in the block cache: what a table's index costs in memory is then
//! bounded by configuration, not by the size of the data.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::block::Block;
use super::bloom::Bloom;
use super::index::IndexPart;
use super::props::BlockMeta;
use crate::error::{Error, Result};

/// A cached item: a data block, one partition of a table's block index, or a table's
/// bloom filter (when the index budget does not hold it).
#[derive(Clone)]
enum Cached {
    Block(Arc<Block>),
    Index(Arc<IndexPart>),
    Filter(Arc<Bloom>),
}

/// Index partitions are keyed by their number with this bit set, data blocks by
/// their number (tables stay below 2^31 blocks: `TableBuilder` checks), and a table's
/// filter by `FILTER_KEY` (no partition number reaches it).
pub(crate) const INDEX_KEY_BIT: u32 = 1 << 31;
const FILTER_KEY: u32 = u32::MAX;

#[derive(Clone)]
struct Weight;

impl Weighter<(u64, u32), Cached> for Weight {
    fn weight(&self, _key: &(u64, u32), item: &Cached) -> u64 {
        (match item {
            Cached::Block(b) => b.memory(),
            Cached::Index(p) => p.memory(),
            Cached::Filter(f) => f.memory() + 64,
        }) as u64
    }
}

pub(crate) struct BlockCache {
    cache: Option<Cache<(u64, u32), Cached, Weight>>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// The capacity configured; the cache holds less while memory held elsewhere is
    /// charged to it (`charge`).
    capacity: u64,
    /// The bytes charged to the cache, as last applied to its capacity.
    charged: AtomicU64,
}

/// Charges move the cache's capacity in steps of at least this many bytes (each
/// move locks every shard of the cache).
const CHARGE_STEP: u64 = 1 << 20;

impl BlockCache {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        let cache = (capacity_bytes > 0).then(|| {
            let items = (capacity_bytes / 4096).max(16);
            Cache::with_weighter(items, capacity_bytes as u64, Weight)
        });
        BlockCache {
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            capacity: capacity_bytes as u64,
            charged: AtomicU64::new(0),
        }
    }

    /// Charges `bytes` held elsewhere (the memtables, `Tuning::memtables_in_block_cache`)
    /// to the cache: its capacity becomes the configured one less `bytes`, never below
    /// an eighth of it (reads keep a working set), evicting blocks to fit. Moves of
    /// less than a MiB are left for a later charge, except a return to nothing.
    pub(crate) fn charge(&self, bytes: u64) {
        let Some(c) = &self.cache else { return };
        let last = self.charged.load(Relaxed);
        if bytes.abs_diff(last) < CHARGE_STEP && (bytes != 0 || last == 0) {
            return;
        }
        // Of two threads charging at once, one applies its figure; the other's is
        // at most a step stale until the next charge.
        if self
            .charged
            .compare_exchange(last, bytes, Relaxed, Relaxed)
            .is_ok()
        {
            c.set_capacity(self.capacity.saturating_sub(bytes).max(self.capacity / 8));
        }
    }

    /// The cache's capacity now: the configured one less what is charged to it.
    pub(crate) fn capacity(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| c.capacity())
    }

    fn get_or_load_item(
        &self,
        key: (u64, u32),
        fill: bool,
        load: impl FnOnce() -> Result<Cached>,
    ) -> Result<Cached> {
        if let Some(c) = &self.cache {
            if let Some(item) = c.get(&key) {
                self.hits.fetch_add(1, Relaxed);
                return Ok(item);
            }
        }
        self.misses.fetch_add(1, Relaxed);
        let item = load()?;
        if fill {
            if let Some(c) = &self.cache {
                c.insert(key, item.clone());
            }
        }
        Ok(item)
    }

    /// The cached block `(table, block)`, or `load()`'s, kept when `fill`.
    pub(crate) fn get_or_load(
        &self,
        table: u64,
        block: u32,
        fill: bool,
        load: impl FnOnce() -> Result<Block>,
    ) -> Result<Arc<Block>> {
        match self.get_or_load_item((table, block), fill, || {
            Ok(Cached::Block(Arc::new(load()?)))
        })? {
            Cached::Block(b) => Ok(b),
            _ => Err(Error::Internal(format!(
                "block cache: block {block} of table {table} is not a data block"
            ))),
        }
    }

    /// The cached block `(table, block)`, if it is cached (counted as a hit or a
    /// miss).
    pub(crate) fn get(&self, table: u64, block: u32) -> Option<Arc<Block>> {
        let found = self.get_ahead(table, block);
        match found {
            Some(_) => self.count_hit(),
            None => drop(self.misses.fetch_add(1, Relaxed)),
        }
        found
    }

    /// [`get`](Self::get) for a block asked for ahead of its read, counted as
    /// nothing: the reader counts the hit ([`count_hit`](Self::count_hit)) if it
    /// reads the block, and a read that does not find it counts the miss.
    pub(crate) fn get_ahead(&self, table: u64, block: u32) -> Option<Arc<Block>> {
        match self.cache.as_ref().and_then(|c| c.get(&(table, block))) {
            Some(Cached::Block(b)) => Some(b),
            _ => None,
        }
    }

    /// Counts a hit for a block found by [`get_ahead`](Self::get_ahead) and read.
    pub(crate) fn count_hit(&self) {
        self.hits.fetch_add(1, Relaxed);
    }

    /// True when `bytes` more fit in the cache with an eighth of it to spare, so
    /// nothing is evicted for them (a long aggregation fills a cache that has room
    /// and leaves a full one alone: readahead.rs).
    pub(crate) fn has_room(&self, bytes: u64) -> bool {
        self.cache
            .as_ref()
            .is_some_and(|c| c.weight() + bytes <= c.capacity() / 8 * 7)
    }

    /// Keeps `b` as block `(table, block)`.
    pub(crate) fn insert(&self, table: u64, block: u32, b: &Arc<Block>) {
        if let Some(c) = &self.cache {
            c.insert((table, block), Cached::Block(b.clone()));
        }
    }

    /// Keeps `part` as index partition `(table, partition)`.
    pub(crate) fn insert_index(&self, table: u64, partition: u32, part: &Arc<IndexPart>) {
        if let Some(c) = &self.cache {
            c.insert(
                (table, INDEX_KEY_BIT | partition),
                Cached::Index(part.clone()),
            );
        }
    }

    /// The cached index partition `(table, partition)`, or `load()`'s, kept when
    /// `fill`.
    pub(crate) fn get_or_load_index(
        &self,
        table: u64,
        partition: u32,
        fill: bool,
        load: impl FnOnce() -> Result<Vec<BlockMeta>>,
    ) -> Result<Arc<IndexPart>> {
        match self.get_or_load_item((table, INDEX_KEY_BIT | partition), fill, || {
            Ok(Cached::Index(Arc::new(IndexPart::new(load()?))))
        })? {
            Cached::Index(p) => Ok(p),
            _ => Err(Error::Internal(format!(
                "block cache: partition {partition} of table {table} is not an index partition"
            ))),
        }
    }

    /// The cached bloom filter of `table`, or `load()`'s (always kept).
    pub(crate) fn get_or_load_filter(
        &self,
        table: u64,
        load: impl FnOnce() -> Result<Bloom>,
    ) -> Result<Arc<Bloom>> {
        match self.get_or_load_item((table, FILTER_KEY), true, || {
            Ok(Cached::Filter(Arc::new(load()?)))
        })? {
            Cached::Filter(f) => Ok(f),
            _ => Err(Error::Internal(format!(
                "block cache: the filter of table {table} is not a filter"
            ))),
        }
    }

    /// Hits over lookups since open (0 before any lookup).
    pub(crate) fn hit_rate(&self) -> f64 {
        let (h, m) = (self.hits.load(Relaxed), self.misses.load(Relaxed));
        if h + m == 0 {
            0.0
        } else {
            h as f64 / (h + m) as f64
        }
    }

    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }

    pub(crate) fn used_bytes(&self) -> u64 {
        self.cache.as_ref().map_or(0, |c| c.weight())
    }
}
