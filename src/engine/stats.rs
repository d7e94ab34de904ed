//! Counters and latency histograms of an engine, the public [`EngineStats`]
//! snapshot of them, and the Prometheus text exposition (`metrics_text`).
//!
//! Each list is written once, as a table below: the live counters (`Stats`, each
//! with its metric), the structural gauges (`Gauges`, each with its metric), the
//! latency summaries, and the fields of `EngineStats` with where each comes from.
//! `EngineStats::fields()` lists the fields at run time; the C ABI's `flowdb_stats_t`
//! and Go's `Stats` are generated from it (bindings/c/src/gen.rs), so adding a
//! counter is a line in a table here.

use crate::iterator::scan::ReadCounter;
use std::cell::Cell;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use crate::util::histogram::Histogram;

/// When the engine was opened.
pub(crate) struct Started(pub Instant);

impl Default for Started {
    fn default() -> Self {
        Started(Instant::now())
    }
}

/// `Stats`: the live counters, each exposed as a Prometheus counter (its doc comment
/// is the metric's help), and the latency histograms, each a summary.
macro_rules! live_stats {
    (
        counters { $( #[doc = $help:literal] $field:ident => $metric:literal; )* }
        summaries { $( #[doc = $shelp:literal] $hist:ident => $smetric:literal; )* }
    ) => {
        /// The live counters behind [`EngineStats`].
        #[derive(Default)]
        pub(crate) struct Stats {
            pub started: Started,
            /// Records returned by reads and scans; shared with every live scan,
            /// which adds what it returned when dropped.
            pub records_read: ReadCounter,
            $( #[doc = $help] pub $field: AtomicU64, )*
            $( #[doc = $shelp] pub $hist: Histogram, )*
        }

        impl Stats {
            fn expose_counters(&self, out: &mut String, labels: &str) {
                metric(out, labels, "flowdb_records_read_total", "counter",
                    "Records returned by reads and scans.", self.records_read.load(Relaxed));
                $( metric(out, labels, $metric, "counter", $help, self.$field.load(Relaxed)); )*
            }

            fn expose_summaries(&self, out: &mut String, labels: &str) {
                $( summary(out, labels, $smetric, $shelp, &self.$hist); )*
            }
        }
    };
}

live_stats! {
    counters {
        /// Records written (puts and deletes).
        records_written => "flowdb_records_written_total";
        /// Key and value bytes written.
        bytes_written => "flowdb_written_bytes_total";
        /// Expired records dropped by flush, compaction and GC.
        records_expired => "flowdb_records_expired_total";
        /// Memtables flushed to tables.
        flushes => "flowdb_flushes_total";
        /// GC runs.
        gc_runs => "flowdb_gc_runs_total";
        /// Compaction runs.
        compactions => "flowdb_compactions_total";
        /// Expired records purged by GC.
        purged_by_gc => "flowdb_gc_purged_records_total";
        /// Raw (uncompressed) bytes of entries written to tables.
        table_raw_bytes => "flowdb_table_raw_bytes_total";
        /// Bytes of table files written (by flush, compaction and GC).
        table_file_bytes => "flowdb_table_file_bytes_total";
        /// Bytes of table files written by compaction and GC.
        compaction_file_bytes => "flowdb_compaction_file_bytes_total";
        /// fdatasync calls on the write-ahead log.
        wal_syncs => "flowdb_wal_syncs_total";
        /// Bytes of torn log tails dropped at open.
        wal_torn_bytes_dropped => "flowdb_wal_torn_tail_bytes_total";
        /// Errors in background maintenance.
        background_errors => "flowdb_background_errors_total";
        /// Times a writer waited for a flush.
        write_stalls => "flowdb_write_stalls_total";
        /// Cutoffs the retention limits wrote (each a delete_before).
        retention_deletes => "flowdb_retention_deletes_total";
        /// Tables dropped without a rewrite because a range delete covered them.
        tables_deleted => "flowdb_tables_deleted_total";
        /// Numeric points aggregated from their blocks' statistics in table indexes, without reading the blocks.
        points_from_index => "flowdb_aggregate_points_from_index_total";
        /// Merges of the newest window's runs that range reads asked for (docs/design.md, "Merges for reads").
        read_merges => "flowdb_read_merges_total";
    }
    summaries {
        /// Latency of write calls.
        write_latency => "flowdb_write_latency_seconds";
        /// Latency of reads and queries.
        query_latency => "flowdb_query_latency_seconds";
        /// Latency of memtable flushes.
        flush_latency => "flowdb_flush_latency_seconds";
    }
}

impl Stats {
    pub(crate) fn add_records_read(&self, n: u64) {
        if n > 0 {
            self.records_read.fetch_add(n, Relaxed);
        }
    }

    /// Starts timing a read: `Some` for the sampled ones, each thread's first read
    /// and every `QUERY_SAMPLE`th after it. Two clock reads were 7% of a
    /// `get_latest` (about 40 ns of 0.6 us); one read in 8 gives the percentiles
    /// enough samples at any rate worth watching.
    #[inline]
    pub(crate) fn query_timer(&self) -> Option<Instant> {
        thread_local! {
            static READS: Cell<u32> = const { Cell::new(0) };
        }
        let n = READS.with(|r| {
            let n = r.get();
            r.set(n.wrapping_add(1));
            n
        });
        (n % QUERY_SAMPLE == 0).then(Instant::now)
    }

    /// Ends a read's timing (`query_timer`): recorded when sampled, else counted.
    #[inline]
    pub(crate) fn time_query(&self, timer: Option<Instant>) {
        match timer {
            Some(since) => self
                .query_latency
                .record(since.elapsed().as_micros() as u64),
            None => self.query_latency.skip(),
        }
    }
}

/// One read in this many per thread is timed (`Stats::query_timer`).
const QUERY_SAMPLE: u32 = 8;

/// `Gauges`: the values that come from the engine's structure rather than
/// counters, each with its metric's name and type (the doc comment is its help).
macro_rules! gauges {
    ( $( #[doc = $help:literal] $field:ident: $ty:ty => $kind:literal $metric:literal; )* ) => {
        /// The gauges that come from the engine's structure rather than counters.
        pub(crate) struct Gauges {
            $( #[doc = $help] pub $field: $ty, )*
        }

        impl Gauges {
            fn expose(&self, out: &mut String, labels: &str) {
                $( metric(out, labels, $metric, $kind, $help, self.$field); )*
            }
        }
    };
}

gauges! {
    /// Block cache hits.
    block_cache_hits: u64 => "counter" "flowdb_block_cache_hits_total";
    /// Block cache misses.
    block_cache_misses: u64 => "counter" "flowdb_block_cache_misses_total";
    /// Entries in memtables.
    memtable_records: usize => "gauge" "flowdb_memtable_records";
    /// Approximate bytes in memtables.
    memtable_bytes: usize => "gauge" "flowdb_memtable_bytes";
    /// Memtables waiting to be flushed.
    frozen_memtable_count: usize => "gauge" "flowdb_frozen_memtables";
    /// Live table files.
    sstable_count: usize => "gauge" "flowdb_sstables";
    /// Bytes of live table files.
    sstable_bytes: u64 => "gauge" "flowdb_sstable_bytes";
    /// Bytes of write-ahead-log segments.
    wal_bytes: u64 => "gauge" "flowdb_wal_bytes";
    /// Block index entries held in memory.
    block_meta_index_entries: usize => "gauge" "flowdb_block_index_entries";
    /// Time-index buckets held in memory.
    time_index_buckets: usize => "gauge" "flowdb_time_index_buckets";
    /// Memory held by block indexes, filters and time indexes.
    index_memory_bytes: usize => "gauge" "flowdb_index_memory_bytes";
    /// Bytes held by the block cache.
    block_cache_bytes: u64 => "gauge" "flowdb_block_cache_bytes";
    /// What the block cache may hold now: its configured capacity, less the memtables when they are charged to it.
    block_cache_capacity_bytes: u64 => "gauge" "flowdb_block_cache_capacity_bytes";
    /// Block cache hits over lookups.
    block_cache_hit_rate: f64 => "gauge" "flowdb_block_cache_hit_ratio";
}

/// A value of an [`EngineStats`] field, as [`EngineStats::fields`] lists it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StatValue {
    /// A count, a size in bytes or a duration in whole units.
    U64(u64),
    /// A ratio.
    F64(f64),
}

impl From<u64> for StatValue {
    fn from(v: u64) -> Self {
        StatValue::U64(v)
    }
}

impl From<usize> for StatValue {
    fn from(v: usize) -> Self {
        StatValue::U64(v as u64)
    }
}

impl From<f64> for StatValue {
    fn from(v: f64) -> Self {
        StatValue::F64(v)
    }
}

/// One field of [`EngineStats`]: its name, what it counts, and its value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatField {
    pub name: &'static str,
    pub doc: &'static str,
    pub value: StatValue,
}

/// `EngineStats`: each field with its doc comment, its type and where its value
/// comes from (`s`: the live `Stats`, `g`: the `Gauges`).
macro_rules! engine_stats {
    ( |$s:ident, $g:ident| { $( #[doc = $doc:literal] $field:ident: $ty:ty = $value:expr; )* } ) => {
        /// A snapshot of an engine's counters and gauges. Latencies are in microseconds.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct EngineStats {
            $( #[doc = $doc] pub $field: $ty, )*
        }

        pub(crate) fn snapshot($s: &Stats, $g: &Gauges) -> EngineStats {
            EngineStats { $( $field: $value, )* }
        }

        impl EngineStats {
            /// Every field in declaration order, with its doc and value: for exporting
            /// them all (the C and Go stats structs are generated from this list).
            pub fn fields(&self) -> Vec<StatField> {
                vec![ $( StatField {
                    name: stringify!($field),
                    doc: $doc,
                    value: StatValue::from(self.$field),
                }, )* ]
            }
        }
    };
}

engine_stats! { |s, g| {
    /// Records written since the engine opened (puts and deletes).
    total_records_written: u64 = s.records_written.load(Relaxed);
    /// Key and value bytes written.
    total_bytes_written: u64 = s.bytes_written.load(Relaxed);
    /// Records returned by reads and scans.
    total_records_read: u64 = s.records_read.load(Relaxed);
    /// Expired records dropped by flush, compaction and GC.
    total_records_expired: u64 = s.records_expired.load(Relaxed);
    /// Memtables flushed to tables.
    total_flushes: u64 = s.flushes.load(Relaxed);
    /// GC runs completed.
    total_gc_runs: u64 = s.gc_runs.load(Relaxed);
    /// Compaction runs completed.
    total_compaction_runs: u64 = s.compactions.load(Relaxed);
    /// Expired records purged by GC.
    records_purged_by_gc: u64 = s.purged_by_gc.load(Relaxed);
    /// Entries in the memtables.
    memtable_records: usize = g.memtable_records;
    /// Approximate bytes in the memtables.
    memtable_bytes: usize = g.memtable_bytes;
    /// Frozen memtables waiting to be flushed.
    frozen_memtable_count: usize = g.frozen_memtable_count;
    /// Live table files.
    sstable_count: usize = g.sstable_count;
    /// Bytes of live table files.
    sstable_bytes: u64 = g.sstable_bytes;
    /// Bytes of write-ahead-log segments.
    wal_bytes: u64 = g.wal_bytes;
    /// Block index entries held in memory.
    block_meta_index_entries: usize = g.block_meta_index_entries;
    /// Time-index buckets held in memory.
    time_index_buckets: usize = g.time_index_buckets;
    /// Block cache hits over lookups (0 before the first lookup).
    block_cache_hit_rate: f64 = g.block_cache_hit_rate;
    /// Raw entry bytes over table file bytes (0 before the first table).
    compression_ratio: f64 = compression_ratio(s);
    /// Bytes of table files written by flush, compaction and GC since the engine opened.
    total_table_bytes_written: u64 = s.table_file_bytes.load(Relaxed);
    /// The part of `total_table_bytes_written` written by compaction and GC.
    total_compaction_bytes_written: u64 = s.compaction_file_bytes.load(Relaxed);
    /// Table bytes written per table byte flushed since the engine opened (0 before the first flush).
    write_amplification: f64 = write_amplification(s);
    /// Write latency, 50th percentile (µs).
    write_latency_p50_us: u64 = s.write_latency.percentile(0.5);
    /// Write latency, 90th percentile (µs).
    write_latency_p90_us: u64 = s.write_latency.percentile(0.9);
    /// Write latency, 99th percentile (µs).
    write_latency_p99_us: u64 = s.write_latency.percentile(0.99);
    /// Query latency, 50th percentile (µs).
    query_latency_p50_us: u64 = s.query_latency.percentile(0.5);
    /// Query latency, 90th percentile (µs).
    query_latency_p90_us: u64 = s.query_latency.percentile(0.9);
    /// Query latency, 99th percentile (µs).
    query_latency_p99_us: u64 = s.query_latency.percentile(0.99);
    /// Flush latency, 50th percentile (µs).
    flush_latency_p50_us: u64 = s.flush_latency.percentile(0.5);
    /// Flush latency, 90th percentile (µs).
    flush_latency_p90_us: u64 = s.flush_latency.percentile(0.9);
    /// Flush latency, 99th percentile (µs).
    flush_latency_p99_us: u64 = s.flush_latency.percentile(0.99);
    /// Seconds since the engine opened.
    uptime_secs: u64 = s.started.0.elapsed().as_secs();
    /// Cutoffs the retention limits wrote (each a delete_before) since the engine opened.
    total_retention_deletes: u64 = s.retention_deletes.load(Relaxed);
    /// Tables dropped without a rewrite because a range delete covered them.
    total_tables_deleted: u64 = s.tables_deleted.load(Relaxed);
    /// Numeric points `aggregate` folded from their blocks' statistics in table indexes, without reading the blocks.
    total_points_aggregated_from_index: u64 = s.points_from_index.load(Relaxed);
    /// Merges that range reads asked for, of runs they read together (part of `total_compaction_runs`).
    total_read_merges: u64 = s.read_merges.load(Relaxed);
}}

fn compression_ratio(s: &Stats) -> f64 {
    let (raw, file) = (
        s.table_raw_bytes.load(Relaxed),
        s.table_file_bytes.load(Relaxed),
    );
    if file == 0 {
        0.0
    } else {
        raw as f64 / file as f64
    }
}

fn write_amplification(s: &Stats) -> f64 {
    let all = s.table_file_bytes.load(Relaxed);
    let flushed = all.saturating_sub(s.compaction_file_bytes.load(Relaxed));
    if flushed == 0 {
        0.0
    } else {
        all as f64 / flushed as f64
    }
}

/// The constant labels of every sample (`Tuning::metrics_labels`, names already
/// validated), rendered once at open: `name="value",...`, each value escaped as the
/// exposition format requires (backslash, double quote, newline); empty for none.
pub(crate) fn render_labels(labels: &[(String, String)]) -> String {
    let mut out = String::new();
    for (name, value) in labels {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

/// One sample: `name value`, or `name{labels,own} value` with the constant labels
/// and the sample's own (a summary's `quantile="0.5"`), either possibly empty.
fn sample(out: &mut String, name: &str, labels: &str, own: &str, value: impl std::fmt::Display) {
    let _ = match (labels.is_empty(), own.is_empty()) {
        (true, true) => writeln!(out, "{name} {value}"),
        (false, false) => writeln!(out, "{name}{{{labels},{own}}} {value}"),
        _ => writeln!(out, "{name}{{{labels}{own}}} {value}"),
    };
}

fn metric(
    out: &mut String,
    labels: &str,
    name: &str,
    kind: &str,
    help: &str,
    value: impl std::fmt::Display,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    sample(out, name, labels, "", value);
}

fn summary(out: &mut String, labels: &str, name: &str, help: &str, h: &Histogram) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
    for q in [0.5, 0.9, 0.99] {
        let own = format!("quantile=\"{q}\"");
        sample(out, name, labels, &own, h.percentile(q) as f64 / 1e6);
    }
    sample(
        out,
        &format!("{name}_sum"),
        labels,
        "",
        h.sum() as f64 / 1e6,
    );
    sample(out, &format!("{name}_count"), labels, "", h.count());
}

/// The Prometheus text exposition format (version 0.0.4), every sample carrying the
/// constant `labels` (from [`render_labels`]).
pub(crate) fn metrics_text(s: &Stats, g: &Gauges, labels: &str) -> String {
    let mut o = String::with_capacity(4096);
    s.expose_counters(&mut o, labels);
    g.expose(&mut o, labels);
    metric(
        &mut o,
        labels,
        "flowdb_uptime_seconds",
        "gauge",
        "Seconds since the engine was opened.",
        s.started.0.elapsed().as_secs(),
    );
    s.expose_summaries(&mut o, labels);
    o
}

#[cfg(test)]
mod tests {
    use super::{Stats, QUERY_SAMPLE};

    /// Each thread times its first read and every `QUERY_SAMPLE`th after it; every
    /// read is counted.
    #[test]
    fn reads_are_timed_by_sample_and_all_counted() {
        let s = Stats::default();
        let n = 2 * QUERY_SAMPLE as u64 + 1;
        std::thread::scope(|t| {
            for _ in 0..2 {
                t.spawn(|| {
                    for _ in 0..n {
                        let timer = s.query_timer();
                        std::thread::sleep(std::time::Duration::from_micros(10));
                        s.time_query(timer);
                    }
                });
            }
        });
        assert_eq!(s.query_latency.count(), 2 * n);
        // Three reads of each thread timed (the 1st, 9th and 17th), each >= 10 us.
        assert_eq!(s.query_latency.recorded(), 6);
        assert!(s.query_latency.percentile(0.5) >= 10);
    }
}
