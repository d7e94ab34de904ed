//! What the tables of an engine share (`TableContext`: the file system, directory,
//! block cache and index budget), what the manifest records of a table (`TableMeta`),
//! and the block plan a cursor follows (`BlockPlan`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use crate::fs::FileSystem;
use crate::sstable::cache::BlockCache;

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

    /// How many blocks the plan visits.
    pub(crate) fn len(&self) -> usize {
        match self {
            BlockPlan::Span(r) => r.len(),
            BlockPlan::List(l) => l.len(),
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

impl TableMeta {
    /// Whether two neighbouring tables were written by one flush or merge (one *run*:
    /// same level and sequence range, disjoint keys, in key order in the table list).
    pub(crate) fn same_run(&self, o: &TableMeta) -> bool {
        self.level == o.level && self.min_seq == o.min_seq && self.max_seq == o.max_seq
    }
}

/// Memory tables hold for their metadata, bounded by `index_memory_budget_mb`: every
/// table's top-level index (one entry per index partition, always held); its bloom
/// filter while it fits; and each index partition after its first read while it fits
/// (so an index that fits the budget is read from disk once and then held, as format
/// 1 held it, but only as far as it is used). Filters and partitions that do not fit
/// are read through the block cache.
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

    pub(crate) fn charge(&self, n: usize) {
        self.used.fetch_add(n, Relaxed);
    }

    pub(crate) fn has_room(&self, n: usize) -> bool {
        self.used.load(Relaxed).saturating_add(n) <= self.limit
    }

    pub(crate) fn try_charge(&self, n: usize) -> bool {
        self.used
            .fetch_update(Relaxed, Relaxed, |u| (u + n <= self.limit).then_some(u + n))
            .is_ok()
    }

    pub(crate) fn release(&self, n: usize) {
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
}
