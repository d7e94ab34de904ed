//! Counters and latency histograms of an engine, the public [`EngineStats`]
//! snapshot of them, and the Prometheus text exposition (`metrics_text`).

use crate::iterator::scan::ReadCounter;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use crate::util::histogram::Histogram;

/// A snapshot of an engine's counters and gauges. Latencies are in microseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineStats {
    pub total_records_written: u64,
    pub total_bytes_written: u64,
    pub total_records_read: u64,
    pub total_records_expired: u64,
    pub total_flushes: u64,
    pub total_gc_runs: u64,
    pub total_compaction_runs: u64,
    pub records_purged_by_gc: u64,
    pub memtable_records: usize,
    pub memtable_bytes: usize,
    pub frozen_memtable_count: usize,
    pub sstable_count: usize,
    pub sstable_bytes: u64,
    pub wal_bytes: u64,
    pub block_meta_index_entries: usize,
    pub time_index_buckets: usize,
    pub block_cache_hit_rate: f64,
    pub compression_ratio: f64,
    pub write_latency_p50_us: u64,
    pub write_latency_p90_us: u64,
    pub write_latency_p99_us: u64,
    pub query_latency_p50_us: u64,
    pub query_latency_p90_us: u64,
    pub query_latency_p99_us: u64,
    pub flush_latency_p50_us: u64,
    pub flush_latency_p90_us: u64,
    pub flush_latency_p99_us: u64,
    pub uptime_secs: u64,
}

/// The live counters behind [`EngineStats`].
pub(crate) struct Stats {
    pub started: Instant,
    pub records_written: AtomicU64,
    pub bytes_written: AtomicU64,
    /// Shared with every live scan, which adds what it returned when dropped.
    pub records_read: ReadCounter,
    /// Expired records dropped by flush, compaction and GC.
    pub records_expired: AtomicU64,
    pub flushes: AtomicU64,
    pub gc_runs: AtomicU64,
    pub compactions: AtomicU64,
    pub purged_by_gc: AtomicU64,
    /// Raw (uncompressed) bytes of entries written to tables, and table bytes.
    pub table_raw_bytes: AtomicU64,
    pub table_file_bytes: AtomicU64,
    pub wal_syncs: AtomicU64,
    pub wal_torn_bytes_dropped: AtomicU64,
    pub background_errors: AtomicU64,
    pub write_stalls: AtomicU64,
    pub write_latency: Histogram,
    pub query_latency: Histogram,
    pub flush_latency: Histogram,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            started: Instant::now(),
            records_written: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            records_read: ReadCounter::default(),
            records_expired: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            gc_runs: AtomicU64::new(0),
            compactions: AtomicU64::new(0),
            purged_by_gc: AtomicU64::new(0),
            table_raw_bytes: AtomicU64::new(0),
            table_file_bytes: AtomicU64::new(0),
            wal_syncs: AtomicU64::new(0),
            wal_torn_bytes_dropped: AtomicU64::new(0),
            background_errors: AtomicU64::new(0),
            write_stalls: AtomicU64::new(0),
            write_latency: Histogram::default(),
            query_latency: Histogram::default(),
            flush_latency: Histogram::default(),
        }
    }
}

impl Stats {
    pub(crate) fn add_records_read(&self, n: u64) {
        if n > 0 {
            self.records_read.fetch_add(n, Relaxed);
        }
    }

    pub(crate) fn time_query(&self, since: Instant) {
        self.query_latency
            .record(since.elapsed().as_micros() as u64);
    }
}

/// The gauges that come from the engine's structure rather than counters.
pub(crate) struct Gauges {
    pub memtable_records: usize,
    pub memtable_bytes: usize,
    pub frozen_memtable_count: usize,
    pub sstable_count: usize,
    pub sstable_bytes: u64,
    pub wal_bytes: u64,
    pub block_meta_index_entries: usize,
    pub time_index_buckets: usize,
    pub block_cache_hit_rate: f64,
    pub block_cache_hits: u64,
    pub block_cache_misses: u64,
    pub block_cache_bytes: u64,
    pub index_memory_bytes: usize,
}

pub(crate) fn snapshot(s: &Stats, g: &Gauges) -> EngineStats {
    let raw = s.table_raw_bytes.load(Relaxed);
    let file = s.table_file_bytes.load(Relaxed);
    EngineStats {
        total_records_written: s.records_written.load(Relaxed),
        total_bytes_written: s.bytes_written.load(Relaxed),
        total_records_read: s.records_read.load(Relaxed),
        total_records_expired: s.records_expired.load(Relaxed),
        total_flushes: s.flushes.load(Relaxed),
        total_gc_runs: s.gc_runs.load(Relaxed),
        total_compaction_runs: s.compactions.load(Relaxed),
        records_purged_by_gc: s.purged_by_gc.load(Relaxed),
        memtable_records: g.memtable_records,
        memtable_bytes: g.memtable_bytes,
        frozen_memtable_count: g.frozen_memtable_count,
        sstable_count: g.sstable_count,
        sstable_bytes: g.sstable_bytes,
        wal_bytes: g.wal_bytes,
        block_meta_index_entries: g.block_meta_index_entries,
        time_index_buckets: g.time_index_buckets,
        block_cache_hit_rate: g.block_cache_hit_rate,
        compression_ratio: if file == 0 {
            0.0
        } else {
            raw as f64 / file as f64
        },
        write_latency_p50_us: s.write_latency.percentile(0.5),
        write_latency_p90_us: s.write_latency.percentile(0.9),
        write_latency_p99_us: s.write_latency.percentile(0.99),
        query_latency_p50_us: s.query_latency.percentile(0.5),
        query_latency_p90_us: s.query_latency.percentile(0.9),
        query_latency_p99_us: s.query_latency.percentile(0.99),
        flush_latency_p50_us: s.flush_latency.percentile(0.5),
        flush_latency_p90_us: s.flush_latency.percentile(0.9),
        flush_latency_p99_us: s.flush_latency.percentile(0.99),
        uptime_secs: s.started.elapsed().as_secs(),
    }
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

fn summary(out: &mut String, name: &str, help: &str, h: &Histogram) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
    for q in [0.5, 0.9, 0.99] {
        let _ = writeln!(
            out,
            "{name}{{quantile=\"{q}\"}} {}",
            h.percentile(q) as f64 / 1e6
        );
    }
    let _ = writeln!(out, "{name}_sum {}", h.sum() as f64 / 1e6);
    let _ = writeln!(out, "{name}_count {}", h.count());
}

/// The Prometheus text exposition format (version 0.0.4).
pub(crate) fn metrics_text(s: &Stats, g: &Gauges) -> String {
    let mut o = String::with_capacity(4096);
    let c = |a: &AtomicU64| a.load(Relaxed);
    metric(
        &mut o,
        "flowdb_records_written_total",
        "counter",
        "Records written (puts and deletes).",
        c(&s.records_written),
    );
    metric(
        &mut o,
        "flowdb_written_bytes_total",
        "counter",
        "Key and value bytes written.",
        c(&s.bytes_written),
    );
    metric(
        &mut o,
        "flowdb_records_read_total",
        "counter",
        "Records returned by reads and scans.",
        c(&s.records_read),
    );
    metric(
        &mut o,
        "flowdb_records_expired_total",
        "counter",
        "Expired records dropped by flush, compaction and GC.",
        c(&s.records_expired),
    );
    metric(
        &mut o,
        "flowdb_flushes_total",
        "counter",
        "Memtables flushed to tables.",
        c(&s.flushes),
    );
    metric(
        &mut o,
        "flowdb_gc_runs_total",
        "counter",
        "GC runs.",
        c(&s.gc_runs),
    );
    metric(
        &mut o,
        "flowdb_compactions_total",
        "counter",
        "Compaction runs.",
        c(&s.compactions),
    );
    metric(
        &mut o,
        "flowdb_gc_purged_records_total",
        "counter",
        "Expired records purged by GC.",
        c(&s.purged_by_gc),
    );
    metric(
        &mut o,
        "flowdb_wal_syncs_total",
        "counter",
        "fdatasync calls on the write-ahead log.",
        c(&s.wal_syncs),
    );
    metric(
        &mut o,
        "flowdb_wal_torn_tail_bytes_total",
        "counter",
        "Bytes of torn log tails dropped at open.",
        c(&s.wal_torn_bytes_dropped),
    );
    metric(
        &mut o,
        "flowdb_background_errors_total",
        "counter",
        "Errors in background maintenance.",
        c(&s.background_errors),
    );
    metric(
        &mut o,
        "flowdb_write_stalls_total",
        "counter",
        "Times a writer waited for a flush.",
        c(&s.write_stalls),
    );
    metric(
        &mut o,
        "flowdb_block_cache_hits_total",
        "counter",
        "Block cache hits.",
        g.block_cache_hits,
    );
    metric(
        &mut o,
        "flowdb_block_cache_misses_total",
        "counter",
        "Block cache misses.",
        g.block_cache_misses,
    );
    metric(
        &mut o,
        "flowdb_memtable_records",
        "gauge",
        "Entries in memtables.",
        g.memtable_records,
    );
    metric(
        &mut o,
        "flowdb_memtable_bytes",
        "gauge",
        "Approximate bytes in memtables.",
        g.memtable_bytes,
    );
    metric(
        &mut o,
        "flowdb_frozen_memtables",
        "gauge",
        "Memtables waiting to be flushed.",
        g.frozen_memtable_count,
    );
    metric(
        &mut o,
        "flowdb_sstables",
        "gauge",
        "Live table files.",
        g.sstable_count,
    );
    metric(
        &mut o,
        "flowdb_sstable_bytes",
        "gauge",
        "Bytes of live table files.",
        g.sstable_bytes,
    );
    metric(
        &mut o,
        "flowdb_wal_bytes",
        "gauge",
        "Bytes of write-ahead-log segments.",
        g.wal_bytes,
    );
    metric(
        &mut o,
        "flowdb_block_index_entries",
        "gauge",
        "Block index entries held in memory.",
        g.block_meta_index_entries,
    );
    metric(
        &mut o,
        "flowdb_time_index_buckets",
        "gauge",
        "Time-index buckets held in memory.",
        g.time_index_buckets,
    );
    metric(
        &mut o,
        "flowdb_index_memory_bytes",
        "gauge",
        "Memory held by block indexes, filters and time indexes.",
        g.index_memory_bytes,
    );
    metric(
        &mut o,
        "flowdb_block_cache_bytes",
        "gauge",
        "Bytes held by the block cache.",
        g.block_cache_bytes,
    );
    metric(
        &mut o,
        "flowdb_block_cache_hit_ratio",
        "gauge",
        "Block cache hits over lookups.",
        g.block_cache_hit_rate,
    );
    metric(
        &mut o,
        "flowdb_uptime_seconds",
        "gauge",
        "Seconds since the engine was opened.",
        s.started.elapsed().as_secs(),
    );
    summary(
        &mut o,
        "flowdb_write_latency_seconds",
        "Latency of write calls.",
        &s.write_latency,
    );
    summary(
        &mut o,
        "flowdb_query_latency_seconds",
        "Latency of reads and queries.",
        &s.query_latency,
    );
    summary(
        &mut o,
        "flowdb_flush_latency_seconds",
        "Latency of memtable flushes.",
        &s.flush_latency,
    );
    o
}
