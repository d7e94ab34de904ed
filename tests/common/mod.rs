//! Helpers shared by the integration tests: small-engine configs and a seeded RNG
//! whose seed is printed so any failure can be replayed (`FLOWDB_SEED=n`).
#![allow(dead_code)]

use flowdb::{Config, SyncMode};
use std::path::Path;

/// A config that makes flushes, multi-block tables and compactions happen on little data,
/// with 10-second compaction windows so that timestamps a minute apart span several.
pub fn small_config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        memtable_size_mb: 1,
        block_size: 256,
        compaction_threshold: 2,
        wal_segment_size_mb: 1,
        auto_background: false,
        wal_sync_mode: SyncMode::IntervalMs(50),
        block_cache_capacity_mb: 1,
        time_bucket_secs: 10,
        ..Config::default()
    }
}

/// Tuning with index partitions of two blocks and 4 KiB output tables, so that the
/// reliability tests run the partitioned index's every path (many partitions, lookups
/// across their edges) and flushes and merges that write several tables.
#[allow(dead_code)]
pub fn tiny_partitions() -> flowdb::Tuning {
    let mut t = flowdb::Tuning::default();
    t.index_partition_blocks = 2;
    t.target_table_bytes = 4 << 10;
    t
}

/// A seeded RNG; the seed comes from `FLOWDB_SEED` or the clock and is printed.
pub fn rng(test: &str) -> fastrand::Rng {
    let seed = std::env::var("FLOWDB_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| flowdb::now_micros() as u64);
    println!("{test}: seed {seed} (replay with FLOWDB_SEED={seed})");
    fastrand::Rng::with_seed(seed)
}

/// One hour ago, in microseconds: timestamps near "now" so TTLs are meaningful.
pub fn base_ts() -> i64 {
    flowdb::now_micros() - 3_600_000_000
}
pub mod docs;
pub mod hook_fs;
pub mod ops;
pub mod points;
pub mod rollups;

/// Opens `config` on the real file system with `tiny_partitions`.
#[allow(dead_code)]
pub fn open_tiny(config: flowdb::Config) -> flowdb::Engine {
    flowdb::Engine::open_on(
        std::sync::Arc::new(flowdb::fs::OsFs),
        config,
        tiny_partitions(),
    )
    .unwrap()
}

/// Every live record as `(key, ts) -> value`, from a scan of everything: what the
/// tests that keep such a model compare it with.
#[allow(dead_code)]
pub fn scanned(e: &flowdb::Engine) -> std::collections::BTreeMap<(Vec<u8>, i64), Vec<u8>> {
    e.scan(flowdb::ScanRange::all())
        .unwrap()
        .map(|r| r.unwrap())
        .map(|r| ((r.key, r.ts), r.value))
        .collect()
}
