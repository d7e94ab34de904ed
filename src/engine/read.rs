//! The read API: point gets, `get_latest`, queries (collected) and lazy scans, each a
//! read through a snapshot taken when the call starts (the reads themselves are in
//! `snapshot.rs`); plus stats and metrics.

use super::stats::{self, EngineStats, Gauges};
use super::Engine;
use crate::config::ReadOptions;
use crate::error::Result;
use crate::fs::OpenMode;
use crate::iterator::scan::ScanIterator;
use crate::range::{Query, ScanRange};
use crate::record::Record;

impl Engine {
    /// The live record at exactly `(key, ts)`.
    pub fn get(&self, key: &str, ts: i64) -> Result<Option<Record>> {
        self.get_bytes(key.as_bytes(), ts, &ReadOptions::default())
    }

    /// `get` for keys that are not UTF-8, with read options.
    pub fn get_bytes(&self, key: &[u8], ts: i64, opts: &ReadOptions) -> Result<Option<Record>> {
        self.inner.get_at(&self.inner.snapshot(), key, ts, opts)
    }

    /// `get`, with any error reported as `None` (for callers that treat a failed
    /// read as a miss; prefer `get`).
    pub fn get_sync(&self, key: &str, ts: i64) -> Option<Record> {
        self.get(key, ts).ok().flatten()
    }

    /// The live record of exactly `key` with the greatest `ts`.
    pub fn get_latest(&self, key: &str) -> Result<Option<Record>> {
        self.get_latest_bytes(key.as_bytes())
    }

    /// `get_latest` for keys that are not UTF-8.
    pub fn get_latest_bytes(&self, key: &[u8]) -> Result<Option<Record>> {
        self.inner.latest_at(&self.inner.snapshot(), key)
    }

    /// The `n` live records of `key` with the greatest ts, newest first: "the last
    /// 100 points of this sensor" in one backwards walk from the key's newest
    /// version, reading about `n` records, not the series. Fewer when the key holds
    /// fewer; `n = 0` returns none.
    pub fn last_n(&self, key: &str, n: usize) -> Result<Vec<Record>> {
        self.last_n_bytes(key.as_bytes(), n)
    }

    /// `last_n` for keys that are not UTF-8.
    pub fn last_n_bytes(&self, key: &[u8], n: usize) -> Result<Vec<Record>> {
        self.inner.newest_at(&self.inner.snapshot(), key, n)
    }

    /// `last_n` lending each record instead of returning it: `f(ts, value)` for
    /// the `n` newest live records of `key`, newest first, the value lent from where
    /// it lies (a table's block; a memtable's value is copied once), so no record is
    /// allocated. Returns how many `f` was given. As RocksDB's reverse iterator hands
    /// out slices, for readers that only look at the values (sum, plot, forward).
    #[inline(always)]
    pub fn last_n_with(&self, key: &[u8], n: usize, f: impl FnMut(i64, &[u8])) -> Result<usize> {
        self.inner.newest_with_at(&self.inner.snapshot(), key, n, f)
    }

    /// Every live record the query matches, in `(key, ts)` order (descending for a
    /// `reverse()` query), at most its `limit`.
    pub fn query(&self, query: Query) -> Result<Vec<Record>> {
        self.inner.query_at(&self.inner.snapshot(), query)
    }

    /// Records whose key begins with `key`.
    pub fn query_by_prefix(&self, key: &str) -> Result<Vec<Record>> {
        self.query(Query::prefix(key))
    }

    /// Records with `start <= key <= end`.
    pub fn query_by_key_range(&self, start: &str, end: &str) -> Result<Vec<Record>> {
        self.query(Query::key_range(start, end))
    }

    /// Records of every key with `start <= ts <= end`.
    pub fn query_time_range(&self, start: i64, end: i64) -> Result<Vec<Record>> {
        self.query(Query::time_range(start, end))
    }

    /// Records whose key begins with `key`, with `start <= ts <= end`.
    pub fn query_prefix_time_range(&self, key: &str, start: i64, end: i64) -> Result<Vec<Record>> {
        self.query(Query::prefix_time_range(key, start, end))
    }

    /// Records with `start_key <= key <= end_key` and `start <= ts <= end`.
    pub fn query_key_time_range(
        &self,
        start_key: &str,
        end_key: &str,
        start: i64,
        end: i64,
    ) -> Result<Vec<Record>> {
        self.query(Query::key_time_range(start_key, end_key, start, end))
    }

    /// A lazy scan over a snapshot taken now.
    pub fn scan(&self, range: ScanRange) -> Result<ScanIterator> {
        self.scan_opt(range, &ReadOptions::default())
    }

    /// `scan` with read options.
    pub fn scan_opt(&self, range: ScanRange, opts: &ReadOptions) -> Result<ScanIterator> {
        self.inner.scan_at(&self.inner.snapshot(), range, opts)
    }

    /// A lazy scan of keys beginning with `prefix`.
    pub fn scan_prefix(&self, prefix: &str) -> Result<ScanIterator> {
        self.scan(ScanRange::prefix(prefix))
    }

    /// A lazy scan of keys beginning with `prefix`, with `ts_start <= ts <= ts_end`.
    pub fn scan_prefix_time_range(
        &self,
        prefix: &str,
        ts_start: i64,
        ts_end: i64,
    ) -> Result<ScanIterator> {
        self.scan(ScanRange::prefix_time_range(prefix, ts_start, ts_end))
    }

    fn gauges(&self) -> Gauges {
        let sv = self.inner.current();
        let tables = &sv.version.tables;
        let cache = &self.inner.table_ctx.cache;
        let (hits, misses) = cache.counts();
        let fs = self.inner.fs();
        let dir = &self.inner.dir;
        let wal_bytes = fs
            .list(dir)
            .map(|names| {
                names
                    .iter()
                    .filter(|n| crate::wal::parse_segment_name(n).is_some())
                    .filter_map(|n| fs.open(&dir.join(n), OpenMode::Read).ok()?.len().ok())
                    .sum()
            })
            .unwrap_or(0);
        Gauges {
            memtable_records: sv.memtables().map(|m| m.len()).sum(),
            memtable_bytes: sv.memtables().map(|m| m.approximate_bytes()).sum(),
            frozen_memtable_count: sv.frozen.len(),
            sstable_count: tables.len(),
            sstable_bytes: tables.iter().map(|t| t.meta.size).sum(),
            wal_bytes,
            block_meta_index_entries: tables.iter().map(|t| t.block_count()).sum(),
            // Format 2 tables have no time index: partitions carry their ts ranges.
            time_index_buckets: 0,
            block_cache_hit_rate: cache.hit_rate(),
            block_cache_hits: hits,
            block_cache_misses: misses,
            block_cache_bytes: cache.used_bytes(),
            block_cache_capacity_bytes: cache.capacity(),
            index_memory_bytes: self.inner.table_ctx.budget.used(),
        }
    }

    /// Counters, gauges and latency percentiles (microseconds).
    pub fn stats(&self) -> EngineStats {
        stats::snapshot(&self.inner.stats, &self.gauges())
    }

    /// The same figures in the Prometheus text exposition format.
    pub fn metrics_text(&self) -> String {
        stats::metrics_text(
            &self.inner.stats,
            &self.gauges(),
            &self.inner.metrics_labels,
        )
    }
}
