//! Engine configuration: [`Config`] (the seed's sixteen fields, kept exactly, so struct
//! literals keep compiling), [`SyncMode`], [`ReadOptions`], and [`Tuning`] for knobs
//! beyond the seed. Everything is validated at `Engine::open`; a bad value is an
//! `InvalidArgument` error naming the field.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// When the write-ahead log is made durable. As data (serde) it is written as the
/// published crate writes it: `"always"` or `{"intervalms": 1000}` (the Rust variant
/// names are accepted too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// fdatasync before every write call returns (survives power loss). The default.
    #[default]
    #[serde(alias = "Always")]
    Always,
    /// write(2) before every write call returns (survives kill -9); fdatasync every
    /// `n` milliseconds, so power loss may lose at most the last `n` ms.
    #[serde(alias = "IntervalMs", alias = "interval_ms")]
    IntervalMs(u64),
}

/// Engine configuration. Build it with `Config { data_dir, ..Default::default() }`,
/// or load it from a file (TOML, JSON: any serde format); fields missing there take
/// their defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Directory holding the database (default `./data`).
    pub data_dir: PathBuf,
    /// TTL applied to records written without one (default: none).
    pub default_ttl_secs: Option<u64>,
    /// How often background GC purges expired records (default 3600; 0: every
    /// maintenance tick).
    pub gc_interval_secs: u64,
    /// Size at which the active memtable is frozen and flushed (default 64).
    pub memtable_size_mb: usize,
    /// Frozen memtables allowed before writers wait for a flush (default 2).
    pub max_frozen_memtables: usize,
    /// Target uncompressed size of a table block in bytes (default 8192).
    pub block_size: usize,
    /// Period of the background flush check, in milliseconds (default 1000; 0 acts
    /// as 1).
    pub flush_interval_ms: u64,
    /// Width of a compaction time window, in seconds of `ts` (default 3600): tables
    /// are merged within their window, and a window older than the newest is merged
    /// once more and then left alone (docs/design.md, "Compaction"). The published
    /// crate used it for a time index, which tables no longer keep
    /// (docs/compatibility.md).
    pub time_bucket_secs: u64,
    /// Memory allowed for table metadata held outside the block cache: bloom filters
    /// while they fit, beyond which each is read through the block cache (default 256;
    /// 0: none held). Top-level indexes (one entry per 128 blocks) are always held
    /// and counted here (docs/design.md, "Memory").
    pub index_memory_budget_mb: usize,
    /// Block cache capacity; 0 disables the cache (default 128).
    pub block_cache_capacity_mb: usize,
    /// Bloom filter bits per key; 0 disables filters, more than 64 acts as 64
    /// (default 10).
    pub bloom_bits_per_key: usize,
    /// Size at which a write-ahead-log segment is closed and a new one started (default 64).
    pub wal_segment_size_mb: u64,
    /// Runs of tables of one level, within a compaction time window, that trigger a
    /// merge into the next level (default 2; values below 4 act as 4: tiers of two
    /// rewrote each byte log2(flushes) times, docs/compatibility.md).
    pub compaction_threshold: usize,
    /// Create `data_dir` when it does not exist (default true).
    pub create_if_missing: bool,
    /// Durability of acknowledged writes (default `Always`).
    pub wal_sync_mode: SyncMode,
    /// Start the background maintenance thread at open (default true).
    pub auto_background: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            default_ttl_secs: None,
            gc_interval_secs: 3600,
            memtable_size_mb: 64,
            max_frozen_memtables: 2,
            block_size: 8192,
            flush_interval_ms: 1000,
            time_bucket_secs: 3600,
            index_memory_budget_mb: 256,
            block_cache_capacity_mb: 128,
            bloom_bits_per_key: 10,
            wal_segment_size_mb: 64,
            compaction_threshold: 2,
            create_if_missing: true,
            wal_sync_mode: SyncMode::Always,
            auto_background: true,
        }
    }
}

impl Config {
    /// The default configuration on `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }

    /// Checks every field; the error names the first bad one. Every configuration the
    /// published flowdb 0.7 crate accepts is accepted, except values that would
    /// overflow (sizes past what `<< 20` or the table format can hold, times past what
    /// microseconds in an `i64` can hold). Zero is refused where it cannot work:
    /// `memtable_size_mb`, `max_frozen_memtables`, `block_size`, `time_bucket_secs`,
    /// `wal_segment_size_mb`, `compaction_threshold` and `default_ttl_secs = Some(0)`
    /// (every record would be expired when written). Zero is allowed, and means what
    /// the field's doc says, for `bloom_bits_per_key` and `block_cache_capacity_mb`
    /// (off), `gc_interval_secs` and `flush_interval_ms` (every maintenance tick),
    /// `index_memory_budget_mb` (no index kept in memory) and `IntervalMs(0)` (a sync
    /// on every write, as `Always`).
    pub fn validate(&self) -> Result<()> {
        fn range<T: PartialOrd + std::fmt::Display>(name: &str, v: T, lo: T, hi: T) -> Result<()> {
            if v < lo || v > hi {
                return Err(Error::invalid(format!(
                    "Config::{name} = {v} is out of range ({lo} ..= {hi})"
                )));
            }
            Ok(())
        }
        const MAX_MB: usize = usize::MAX >> 20;
        const MAX_SECS: u64 = i64::MAX as u64 / 1_000_000;
        if self.data_dir.as_os_str().is_empty() {
            return Err(Error::invalid("Config::data_dir is empty"));
        }
        if let Some(ttl) = self.default_ttl_secs {
            range("default_ttl_secs", ttl, 1, MAX_SECS)?;
        }
        range("memtable_size_mb", self.memtable_size_mb, 1, MAX_MB)?;
        range(
            "max_frozen_memtables",
            self.max_frozen_memtables,
            1,
            usize::MAX,
        )?;
        // A block's length is stored in 32 bits, and one entry may add a 64 MiB value
        // to a block that is just under the target.
        range("block_size", self.block_size, 1, 1 << 30)?;
        range("time_bucket_secs", self.time_bucket_secs, 1, MAX_SECS)?;
        range(
            "index_memory_budget_mb",
            self.index_memory_budget_mb,
            0,
            MAX_MB,
        )?;
        range(
            "block_cache_capacity_mb",
            self.block_cache_capacity_mb,
            0,
            MAX_MB,
        )?;
        range(
            "wal_segment_size_mb",
            self.wal_segment_size_mb,
            1,
            u64::MAX >> 20,
        )?;
        range(
            "compaction_threshold",
            self.compaction_threshold,
            1,
            usize::MAX,
        )?;
        Ok(())
    }

    /// Bloom filter bits per key as tables are built: more than 64 buys nothing and
    /// is capped there (at 64 a filter let none of 2,000,000 absent keys through; at
    /// 32 about one in 100,000, at 20 one in 3,000).
    pub(crate) fn bloom_bits(&self) -> usize {
        self.bloom_bits_per_key.min(64)
    }

    /// Tables of one level that start a merge: one table alone is not a merge, so a
    /// threshold of 1 acts as 2.
    /// `time_bucket_secs` in microseconds (validated to fit).
    pub(crate) fn time_window_micros(&self) -> i64 {
        (self.time_bucket_secs as i64)
            .saturating_mul(1_000_000)
            .max(1)
    }

    /// The merge fan-in: `compaction_threshold`, at least 4 (docs/design.md,
    /// "Compaction").
    pub(crate) fn merge_threshold(&self) -> usize {
        self.compaction_threshold.max(4)
    }

    pub(crate) fn memtable_bytes(&self) -> usize {
        self.memtable_size_mb << 20
    }
}

/// Options of one read or scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Keep blocks read from disk in the block cache (default true).
    pub fill_cache: bool,
    /// Check the crc32 of every block read from disk (default true).
    pub verify_checksums: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            fill_cache: true,
            verify_checksums: true,
        }
    }
}

/// Knobs beyond [`Config`], for `Engine::open_with`. `Tuning::default()` is what
/// `Engine::open` uses.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tuning {
    /// How data blocks of records are compressed (default `Lz4`; `Zstd` uses
    /// `zstd_level`). Index, filter and other metadata blocks, and blocks of numeric
    /// points, are always zstd. Tables written with one setting stay readable under
    /// any other (docs/design.md, "Decisions").
    pub block_compression: BlockCompression,
    /// zstd level for metadata blocks, blocks of points, and data blocks when
    /// `block_compression` is `Zstd` (default -1; -7..=-1 or 1..=19). The fast (negative)
    /// levels store literals without Huffman coding: blocks decompress faster (point
    /// reads that miss the cache) for somewhat larger files (docs/benchmarks.md).
    pub zstd_level: i32,
    /// Entries between full keys inside a block (default 16).
    pub block_restart_interval: usize,
    /// Data blocks per index partition (default 128, 1 ..= 65536): a table's block
    /// index is cut into partitions of this many entries, read through the block cache;
    /// only one entry per partition stays in memory (docs/design.md, "Memory").
    pub index_partition_blocks: usize,
    /// Size at which flush and compaction start a new output table, in bytes (default
    /// 64 MiB, at least 1): a merge writes several tables of about this size, so no
    /// compaction rewrites one huge file (docs/design.md, "Compaction").
    pub target_table_bytes: u64,
    /// Retention by age (default `None`: keep everything): background maintenance
    /// deletes records whose `ts` is more than this many seconds before now (the
    /// clock of TTLs: `ts` in microseconds since the epoch), as `delete_before` would.
    /// `Some(0)` is `InvalidArgument` (docs/design.md, "Deleting by time").
    pub retention_max_age_secs: Option<u64>,
    /// Retention by size (default `None`): when the table files exceed this many
    /// bytes, background maintenance deletes the oldest data (by `ts`, a
    /// `delete_before` at the newest ts of the oldest tables) until they fit, never
    /// the table with the newest data. `Some(0)` is `InvalidArgument`.
    pub retention_max_bytes: Option<u64>,
    /// Constant labels put on every sample of `metrics_text` (default none), for
    /// telling several databases in one process apart: `[("db", "orders")]` makes
    /// `flowdb_flushes_total{db="orders"} 3`. Names must match
    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not begin with `__` (reserved by Prometheus), not be
    /// `quantile` or `le` (flowdb's own sample labels) and not repeat; values are any
    /// text (escaped as the exposition format requires).
    pub metrics_labels: Vec<(String, String)>,
    /// Downsampling rules (default none): each keeps folds of the raw points per
    /// time bucket in a rollup of its own, `<data_dir>/rollups/<name>/`, maintained
    /// by background work and read with `Engine::rollup` (docs/numeric.md,
    /// "Rollups"). Raw retention (`retention_max_age_secs`, `retention_max_bytes`)
    /// never deletes rolled points; a rule's `keep_secs` does. A bad rule is
    /// `InvalidArgument` naming it (`Tuning::rollups[i]`).
    pub rollups: Vec<crate::rollup::RollupRule>,
    /// Charge the memtables' memory to the block cache (default `false`), as
    /// RocksDB's `WriteBufferManager` with `cost_to_cache` does: while the active and
    /// frozen memtables hold M bytes, the cache holds at most
    /// `block_cache_capacity_mb` less M (never less than an eighth of it), so the two
    /// together stay near one figure instead of adding up (docs/design.md, "Memory").
    pub memtables_in_block_cache: bool,
}

/// How data blocks of records are compressed (`Tuning::block_compression`): the
/// trade between disk bytes and the time a read that misses the block cache spends
/// decompressing (docs/design.md, "Compression").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BlockCompression {
    /// Stored as they are: the most disk, no decompression.
    None,
    /// zstd at `Tuning::zstd_level`: the smallest files (LZ4's are about a fifth
    /// larger on the benchmark's records); a read that misses the cache is slower.
    Zstd,
    /// LZ4 (the default): blocks decompress about three times faster than zstd's.
    #[default]
    Lz4,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            block_compression: BlockCompression::Lz4,
            zstd_level: -1,
            block_restart_interval: 16,
            index_partition_blocks: 128,
            target_table_bytes: 64 << 20,
            retention_max_age_secs: None,
            retention_max_bytes: None,
            metrics_labels: Vec::new(),
            rollups: Vec::new(),
            memtables_in_block_cache: false,
        }
    }
}

/// Label names flowdb's own samples use (summaries' `quantile`; `le` for histograms).
const RESERVED_LABELS: [&str; 2] = ["quantile", "le"];

/// Checks `Tuning::metrics_labels`: valid Prometheus label names, none reserved,
/// none twice.
fn validate_metrics_labels(labels: &[(String, String)]) -> Result<()> {
    for (i, (name, _)) in labels.iter().enumerate() {
        let what = format!("Tuning::metrics_labels[{i}]: label name {name:?}");
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::invalid(format!(
                "{what} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
            )));
        }
        if name.starts_with("__") {
            return Err(Error::invalid(format!(
                "{what} begins with \"__\", which Prometheus reserves"
            )));
        }
        if RESERVED_LABELS.contains(&name.as_str()) {
            return Err(Error::invalid(format!(
                "{what} is a label flowdb's own samples use"
            )));
        }
        if labels[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::invalid(format!("{what} is given twice")));
        }
    }
    Ok(())
}

impl Tuning {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(-7..=19).contains(&self.zstd_level) || self.zstd_level == 0 {
            return Err(Error::invalid(format!(
                "Tuning::zstd_level = {} is out of range (-7 ..= -1 or 1 ..= 19)",
                self.zstd_level
            )));
        }
        if !(1..=65536).contains(&self.index_partition_blocks) {
            return Err(Error::invalid(format!(
                "Tuning::index_partition_blocks = {} is out of range (1 ..= 65536)",
                self.index_partition_blocks
            )));
        }
        if self.target_table_bytes == 0 {
            return Err(Error::invalid(
                "Tuning::target_table_bytes = 0 is out of range (1 ..= u64::MAX)",
            ));
        }
        for (name, v) in [
            ("retention_max_age_secs", self.retention_max_age_secs),
            ("retention_max_bytes", self.retention_max_bytes),
        ] {
            if v == Some(0) {
                return Err(Error::invalid(format!(
                    "Tuning::{name} = Some(0) would delete everything; use None for no limit"
                )));
            }
        }
        if !(1..=1024).contains(&self.block_restart_interval) {
            return Err(Error::invalid(format!(
                "Tuning::block_restart_interval = {} is out of range (1 ..= 1024)",
                self.block_restart_interval
            )));
        }
        validate_metrics_labels(&self.metrics_labels)?;
        crate::rollup::validate_rules(&self.rollups)
    }
}

#[cfg(test)]
mod tests;
