//! The read API: point gets, `get_latest`, queries (collected) and lazy scans, all
//! over a snapshot taken when the call starts; plus stats and metrics.

use std::sync::Arc;
use std::time::Instant;

use super::stats::{self, EngineStats, Gauges};
use super::Engine;
use crate::config::ReadOptions;
use crate::error::Result;
use crate::fs::OpenMode;
use crate::iterator::merge::{MergeIter, Source};
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
        self.inner.check_open()?;
        let started = Instant::now();
        let r = self
            .inner
            .snapshot()
            .get(key, ts, opts)?
            .map(|e| e.into_record());
        self.inner.stats.add_records_read(r.is_some() as u64);
        self.inner.stats.time_query(started);
        Ok(r)
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
        self.inner.check_open()?;
        let started = Instant::now();
        let r = self
            .inner
            .snapshot()
            .latest(key, &ReadOptions::default())?
            .map(|e| e.into_record());
        self.inner.stats.add_records_read(r.is_some() as u64);
        self.inner.stats.time_query(started);
        Ok(r)
    }

    /// Every live record the query matches, in `(key, ts)` order.
    pub fn query(&self, query: Query) -> Result<Vec<Record>> {
        let started = Instant::now();
        let out = self.scan(query.into())?.collect::<Result<Vec<_>>>();
        self.inner.stats.time_query(started);
        out
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
        self.inner.check_open()?;
        let stats = self.inner.stats.clone();
        if range.bounds.is_empty() {
            return Ok(ScanIterator::empty(stats));
        }
        let snap = self.inner.snapshot();
        let bounds = Arc::new(range.bounds);
        let merge = snap.merge(&bounds, opts);
        Ok(ScanIterator::new(
            merge,
            snap.range_tombstones(),
            snap.now(),
            stats,
        ))
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

    /// A snapshot of the whole engine (JsonDB transactions read through one).
    pub(crate) fn snapshot(&self) -> crate::version::Snapshot {
        self.inner.snapshot()
    }

    /// Hands each live record within `bounds` at `snap` to `f`, as borrowed `(key,
    /// ts, value)` in `(key, ts)` order, until `f` returns false. When one memtable is
    /// the only source and no range tombstone exists, records are lent from a reused
    /// buffer (`MemCursor::visit`, which `expect`, the records the caller expects to
    /// take, sizes); otherwise they come from a `ScanIterator`.
    pub(crate) fn visit_snapshot(
        &self,
        snap: &crate::version::Snapshot,
        bounds: crate::range::Bounds,
        expect: usize,
        f: &mut dyn FnMut(&[u8], i64, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let bounds = Arc::new(bounds);
        let merge = snap.merge(&bounds, &ReadOptions::default());
        let tombstones = snap.range_tombstones();
        let merge = match merge.into_sole_memtable() {
            Ok(cursor) if tombstones.is_empty() => {
                let handed = cursor.visit(&|| snap.now(), expect, f)?;
                self.inner.stats.add_records_read(handed);
                return Ok(());
            }
            Ok(cursor) => MergeIter::new(vec![Source::Mem(cursor)]),
            Err(merge) => merge,
        };
        let scan = ScanIterator::new(merge, tombstones, snap.now(), self.inner.stats.clone());
        for r in scan {
            let r = r?;
            if !f(&r.key, r.ts, &r.value)? {
                break;
            }
        }
        Ok(())
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
            block_meta_index_entries: tables.iter().map(|t| t.blocks.len()).sum(),
            time_index_buckets: tables.iter().map(|t| t.time_index_buckets()).sum(),
            block_cache_hit_rate: cache.hit_rate(),
            block_cache_hits: hits,
            block_cache_misses: misses,
            block_cache_bytes: cache.used_bytes(),
            index_memory_bytes: self.inner.table_ctx.budget.used(),
        }
    }

    /// Counters, gauges and latency percentiles (microseconds).
    pub fn stats(&self) -> EngineStats {
        stats::snapshot(&self.inner.stats, &self.gauges())
    }

    /// The same figures in the Prometheus text exposition format.
    pub fn metrics_text(&self) -> String {
        stats::metrics_text(&self.inner.stats, &self.gauges())
    }
}
