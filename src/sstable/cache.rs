//! The block cache: decompressed data blocks shared by all readers, bounded by
//! `block_cache_capacity_mb` (0 disables it), with hit/miss counts for stats.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use super::block::Block;
use crate::error::Result;

#[derive(Clone)]
struct BlockWeight;

impl Weighter<(u64, u32), Arc<Block>> for BlockWeight {
    fn weight(&self, _key: &(u64, u32), block: &Arc<Block>) -> u64 {
        block.memory() as u64
    }
}

pub(crate) struct BlockCache {
    cache: Option<Cache<(u64, u32), Arc<Block>, BlockWeight>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl BlockCache {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        let cache = (capacity_bytes > 0).then(|| {
            let items = (capacity_bytes / 4096).max(16);
            Cache::with_weighter(items, capacity_bytes as u64, BlockWeight)
        });
        BlockCache {
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached block `(table, block)`, or `load()`'s, kept when `fill`.
    pub(crate) fn get_or_load(
        &self,
        table: u64,
        block: u32,
        fill: bool,
        load: impl FnOnce() -> Result<Block>,
    ) -> Result<Arc<Block>> {
        if let Some(c) = &self.cache {
            if let Some(b) = c.get(&(table, block)) {
                self.hits.fetch_add(1, Relaxed);
                return Ok(b);
            }
        }
        self.misses.fetch_add(1, Relaxed);
        let b = Arc::new(load()?);
        if fill {
            if let Some(c) = &self.cache {
                c.insert((table, block), b.clone());
            }
        }
        Ok(b)
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
