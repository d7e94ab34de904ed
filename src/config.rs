//! Engine configuration: [`Config`] (the seed's sixteen fields, kept exactly, so struct
//! literals keep compiling), [`SyncMode`], [`ReadOptions`], and [`Tuning`] for knobs
//! beyond the seed. Everything is validated at `Engine::open`; a bad value is an
//! `InvalidArgument` error naming the field.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// When the write-ahead log is made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// fdatasync before every write call returns (survives power loss).
    Always,
    /// write(2) before every write call returns (survives kill -9); fdatasync every
    /// `n` milliseconds, so power loss may lose at most the last `n` ms.
    IntervalMs(u64),
}

/// Engine configuration. Build it with `Config { data_dir, ..Default::default() }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Directory holding the database (default `./data`).
    pub data_dir: PathBuf,
    /// TTL applied to records written without one (default: none).
    pub default_ttl_secs: Option<u64>,
    /// How often background GC purges expired records (default 3600).
    pub gc_interval_secs: u64,
    /// Size at which the active memtable is frozen and flushed (default 64).
    pub memtable_size_mb: usize,
    /// Frozen memtables allowed before writers wait for a flush (default 2).
    pub max_frozen_memtables: usize,
    /// Target uncompressed size of a table block in bytes (default 8192).
    pub block_size: usize,
    /// Period of the background flush check, in milliseconds (default 1000).
    pub flush_interval_ms: u64,
    /// Width of a time-index bucket, in seconds (default 3600).
    pub time_bucket_secs: u64,
    /// Memory allowed for block metadata and time indexes (default 256).
    pub index_memory_budget_mb: usize,
    /// Block cache capacity; 0 disables the cache (default 128).
    pub block_cache_capacity_mb: usize,
    /// Bloom filter bits per key; 0 disables filters (default 10).
    pub bloom_bits_per_key: usize,
    /// Size at which a write-ahead-log segment is closed and a new one started (default 64).
    pub wal_segment_size_mb: u64,
    /// Tables of one level that trigger a merge into the next level (default 2).
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

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        fn range<T: PartialOrd + std::fmt::Display>(name: &str, v: T, lo: T, hi: T) -> Result<()> {
            if v < lo || v > hi {
                return Err(Error::invalid(format!(
                    "Config::{name} = {v} is out of range ({lo} ..= {hi})"
                )));
            }
            Ok(())
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(Error::invalid("Config::data_dir is empty"));
        }
        if let Some(ttl) = self.default_ttl_secs {
            range("default_ttl_secs", ttl, 1, i64::MAX as u64 / 1_000_000)?;
        }
        range("gc_interval_secs", self.gc_interval_secs, 1, 365 * 86_400)?;
        range("memtable_size_mb", self.memtable_size_mb, 1, 64 * 1024)?;
        range("max_frozen_memtables", self.max_frozen_memtables, 1, 64)?;
        range("block_size", self.block_size, 256, 16 << 20)?;
        range("flush_interval_ms", self.flush_interval_ms, 1, 86_400_000)?;
        range(
            "time_bucket_secs",
            self.time_bucket_secs,
            1,
            100 * 365 * 86_400,
        )?;
        range(
            "index_memory_budget_mb",
            self.index_memory_budget_mb,
            1,
            1 << 20,
        )?;
        range(
            "block_cache_capacity_mb",
            self.block_cache_capacity_mb,
            0,
            1 << 20,
        )?;
        range("bloom_bits_per_key", self.bloom_bits_per_key, 0, 64)?;
        range(
            "wal_segment_size_mb",
            self.wal_segment_size_mb,
            1,
            64 * 1024,
        )?;
        range("compaction_threshold", self.compaction_threshold, 2, 64)?;
        if let SyncMode::IntervalMs(ms) = self.wal_sync_mode {
            range("wal_sync_mode (IntervalMs)", ms, 1, 3_600_000)?;
        }
        Ok(())
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
    /// zstd level for table blocks (default -1; -7..=-1 or 1..=19). The fast (negative)
    /// levels store literals without Huffman coding: blocks decompress faster (point
    /// reads that miss the cache) for somewhat larger files (docs/benchmarks.md).
    pub zstd_level: i32,
    /// Entries between full keys inside a block (default 16).
    pub block_restart_interval: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            zstd_level: -1,
            block_restart_interval: 16,
        }
    }
}

impl Tuning {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(-7..=19).contains(&self.zstd_level) || self.zstd_level == 0 {
            return Err(Error::invalid(format!(
                "Tuning::zstd_level = {} is out of range (-7 ..= -1 or 1 ..= 19)",
                self.zstd_level
            )));
        }
        if !(1..=1024).contains(&self.block_restart_interval) {
            return Err(Error::invalid(format!(
                "Tuning::block_restart_interval = {} is out of range (1 ..= 1024)",
                self.block_restart_interval
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.memtable_size_mb, 64);
        assert_eq!(c.wal_sync_mode, SyncMode::Always);
        assert!(c.validate().is_ok());
        assert!(Tuning::default().validate().is_ok());
    }

    #[test]
    fn bad_fields_are_named() {
        let c = Config {
            block_size: 1,
            ..Config::default()
        };
        let msg = c.validate().unwrap_err().to_string();
        assert!(msg.contains("block_size"), "{msg}");
        let c = Config {
            wal_sync_mode: SyncMode::IntervalMs(0),
            ..Config::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("IntervalMs"));
        let c = Config {
            compaction_threshold: 1,
            ..Config::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("compaction_threshold"));
    }
}
