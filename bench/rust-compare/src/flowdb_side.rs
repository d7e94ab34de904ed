//! flowdb through its Rust API, set up as flowdb-compare's C backend (bench/ts_flowdb.c)
//! and flowdb-bench: `SyncMode::IntervalMs(1000)`, a 128 MiB block cache, everything
//! else `Config::default()`.

use std::path::Path;

use flowdb::{Config, Engine, Record, ScanRange, SyncMode};

use crate::workloads::{Store, Tally, BATCH};

pub const CACHE_MB: usize = 128;

pub struct Flowdb {
    engine: Engine,
    batch: Vec<Record>,
}

fn drain(engine: &Engine, range: ScanRange, t: &mut Tally) {
    for r in engine.scan(range).expect("flowdb: scan") {
        t.value(&r.expect("flowdb: scan").value);
    }
}

impl Store for Flowdb {
    fn open(dir: &Path) -> Self {
        // For experiments: FLOWDB_BLOCK_SIZE (Config::block_size),
        // FLOWDB_TARGET_TABLE_BYTES, FLOWDB_ZSTD_LEVEL and FLOWDB_BLOCK_COMPRESSION
        // (none, zstd or lz4) (Tuning).
        let env = |name: &str| std::env::var(name).ok();
        let config = Config {
            data_dir: dir.to_path_buf(),
            wal_sync_mode: SyncMode::IntervalMs(1000),
            block_cache_capacity_mb: CACHE_MB,
            block_size: env("FLOWDB_BLOCK_SIZE").and_then(|v| v.parse().ok()).unwrap_or(8192),
            ..Config::default()
        };
        let mut tuning = flowdb::Tuning::default();
        if let Some(v) = env("FLOWDB_TARGET_TABLE_BYTES").and_then(|v| v.parse().ok()) {
            tuning.target_table_bytes = v;
        }
        match env("FLOWDB_BLOCK_COMPRESSION").as_deref() {
            Some("none") => tuning.block_compression = flowdb::BlockCompression::None,
            Some("zstd") => tuning.block_compression = flowdb::BlockCompression::Zstd,
            Some("lz4") => tuning.block_compression = flowdb::BlockCompression::Lz4,
            Some(other) => panic!("FLOWDB_BLOCK_COMPRESSION={other}: none, zstd or lz4"),
            None => {}
        }
        if let Some(v) = env("FLOWDB_ZSTD_LEVEL").and_then(|v| v.parse().ok()) {
            tuning.zstd_level = v;
        }
        Flowdb {
            engine: Engine::open_with(config, tuning).expect("flowdb: open"),
            batch: Vec::with_capacity(BATCH),
        }
    }

    fn close(self) {
        self.engine.shutdown().expect("flowdb: shutdown");
    }

    fn put(&mut self, key: &str, ts: i64, value: Vec<u8>) {
        self.batch.push(Record::new(key, ts, value));
    }

    fn commit(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.engine
            .write_batch_owned(batch)
            .expect("flowdb: write_batch_owned");
    }

    fn write_amplification(&mut self) -> f64 {
        self.engine.flush().expect("flowdb: flush");
        self.engine
            .run_compactions()
            .expect("flowdb: run_compactions");
        self.engine.stats().write_amplification
    }

    fn settle(&mut self) {
        self.engine.flush().expect("flowdb: flush");
        self.engine
            .trigger_compaction()
            .expect("flowdb: trigger_compaction");
    }

    fn get(&self, key: &str, ts: i64, t: &mut Tally) {
        if let Some(r) = self.engine.get(key, ts).expect("flowdb: get") {
            t.value(&r.value);
        }
    }

    fn latest(&self, key: &str, t: &mut Tally) {
        if let Some(r) = self.engine.get_latest(key).expect("flowdb: get_latest") {
            t.latest(r.ts);
        }
    }

    fn series(&self, prefix: &str, t: &mut Tally) {
        for _ in self.engine.series(prefix).expect("flowdb: series") {
            t.latest(0);
        }
    }

    fn delete_before(&mut self, _keys: &[String], cutoff: i64) {
        self.engine
            .delete_before(cutoff)
            .expect("flowdb: delete_before");
    }

    fn last_n(&self, key: &str, n: usize, t: &mut Tally) {
        for r in self.engine.last_n(key, n).expect("flowdb: last_n") {
            t.value(&r.value);
        }
    }

    fn last_n_lent(&self, key: &str, n: usize, t: &mut Tally) {
        self.engine
            .last_n_with(key.as_bytes(), n, |_, v| t.value(v))
            .expect("flowdb: last_n_with");
    }

    fn window(&self, key: &str, lo: i64, hi: i64, t: &mut Tally) {
        drain(&self.engine, ScanRange::key_time_range(key, key, lo, hi), t);
    }

    fn all_window(&self, lo: i64, hi: i64, t: &mut Tally) {
        drain(&self.engine, ScanRange::time_range(lo, hi), t);
    }

    fn full_scan(&self, t: &mut Tally) {
        drain(&self.engine, ScanRange::all(), t);
    }
}
