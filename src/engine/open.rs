//! Opening an engine: validate the configuration, lock the directory, load the
//! manifest and its tables, delete leftovers of interrupted work, and replay the log
//! segments the manifest still needs into a memtable. New writes go to a new segment,
//! never after a torn tail.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};

use super::stats::Stats;
use super::write::CommitQueue;
use super::{Inner, WalState};
use crate::config::{Config, Tuning};
use crate::error::{Error, IoContext, Result};
use crate::fs::FileSystem;
use crate::lock::DirLock;
use crate::manifest::ManifestState;
use crate::memtable::Memtable;
use crate::sstable::builder::TableOptions;
use crate::sstable::cache::BlockCache;
use crate::sstable::reader::{IndexBudget, Table, TableContext};
use crate::sstable::{parse_table_name, table_path};
use crate::version::{SuperVersion, Version};
use crate::wal::{parse_segment_name, replay_segment, segment_path, WalWriter};

fn prepare_dir(fs: &dyn FileSystem, config: &Config) -> Result<()> {
    let dir = &config.data_dir;
    match fs.is_dir(dir) {
        Some(true) => return Ok(()),
        Some(false) => {
            return Err(Error::invalid(format!(
                "Config::data_dir {} is not a directory",
                dir.display()
            )))
        }
        None => {}
    }
    if !config.create_if_missing {
        return Err(Error::NotFound(format!(
            "data directory {} does not exist and Config::create_if_missing is false",
            dir.display()
        )));
    }
    fs.create_dir_all(dir)
        .ctx(|| format!("creating data directory {}", dir.display()))
}

/// Segment and table numbers found in the directory.
fn list_files(fs: &dyn FileSystem, dir: &Path) -> Result<(Vec<u64>, Vec<u64>)> {
    let mut segments = Vec::new();
    let mut tables = Vec::new();
    for name in fs.list(dir).ctx(|| format!("listing {}", dir.display()))? {
        if let Some(n) = parse_segment_name(&name) {
            segments.push(n);
        } else if let Some(n) = parse_table_name(&name) {
            tables.push(n);
        }
    }
    segments.sort_unstable();
    Ok((segments, tables))
}

pub(super) fn open(fs: Arc<dyn FileSystem>, config: Config, tuning: Tuning) -> Result<Inner> {
    config.validate()?;
    tuning.validate()?;
    prepare_dir(fs.as_ref(), &config)?;
    let dir = config.data_dir.clone();
    let lock = DirLock::acquire(fs.as_ref(), &dir)?;
    let stored = ManifestState::load(fs.as_ref(), &dir)?;
    let fresh = stored.is_none();
    let state = stored.unwrap_or(ManifestState {
        next_file: 1,
        ..ManifestState::default()
    });
    let stats = Arc::new(Stats::default());
    let ctx = Arc::new(TableContext {
        fs: fs.clone(),
        dir: dir.clone(),
        cache: Arc::new(BlockCache::new(config.block_cache_capacity_mb << 20)),
        budget: Arc::new(IndexBudget::new(config.index_memory_budget_mb << 20)),
        bucket_width_micros: (config.time_bucket_secs as i64).saturating_mul(1_000_000),
    });
    let mut tables = Vec::with_capacity(state.tables.len());
    for meta in &state.tables {
        tables.push(Arc::new(Table::open(&ctx, *meta)?));
    }

    // Leftovers: tables no manifest names (an interrupted flush or compaction) and
    // segments already flushed (a crash between the manifest write and their removal).
    let (segments, files) = list_files(fs.as_ref(), &dir)?;
    let live: std::collections::HashSet<u64> = state.tables.iter().map(|t| t.id).collect();
    for id in files.iter().filter(|id| !live.contains(id)) {
        let p = table_path(&dir, *id);
        fs.remove(&p)
            .ctx(|| format!("removing orphan table {}", p.display()))?;
    }
    let _ = fs.remove(&dir.join("MANIFEST.tmp"));
    let mut max_file = state.next_file;
    for n in segments.iter().chain(files.iter()) {
        max_file = max_file.max(n + 1);
    }
    let (old, replay): (Vec<u64>, Vec<u64>) = segments.iter().partition(|n| **n < state.log_number);
    for n in old {
        let p = segment_path(&dir, n);
        fs.remove(&p)
            .ctx(|| format!("removing flushed WAL segment {}", p.display()))?;
    }

    let first_segment = replay.first().copied().unwrap_or(max_file);
    let mem = Memtable::new(first_segment);
    let mut last_seq = state.last_seq;
    for (i, n) in replay.iter().enumerate() {
        let replayed = replay_segment(fs.as_ref(), &segment_path(&dir, *n), i + 1 == replay.len())?;
        stats
            .wal_torn_bytes_dropped
            .fetch_add(replayed.torn_bytes, std::sync::atomic::Ordering::Relaxed);
        for (first_seq, batch) in replayed.batches {
            let n_ops = batch.len() as u64;
            if n_ops == 0 {
                continue;
            }
            let (entries, range_dels) = batch.into_entries(first_seq);
            mem.insert(entries, range_dels);
            last_seq = last_seq.max(first_seq + n_ops - 1);
        }
    }

    let segment = max_file;
    let writer = WalWriter::create(&fs, &dir, segment, true)?;
    let next_file = segment + 1;
    let active = if mem.is_empty() {
        // Nothing to recover: the replayed segments (empty ones left by earlier
        // opens, or ones holding only a torn tail) hold nothing live. Remove them, or
        // every open would add one more for every later open to read. Losing this
        // removal in a crash is harmless: they would replay as nothing again.
        for n in &replay {
            let p = segment_path(&dir, *n);
            fs.remove(&p)
                .ctx(|| format!("removing empty WAL segment {}", p.display()))?;
        }
        Memtable::new(segment)
    } else {
        mem
    };
    // A new database gets its manifest now. An existing one needs no rewrite: file
    // numbers are recovered from the directory, and the segments it names are still
    // the ones to replay (the new, empty segment is past them).
    if fresh {
        ManifestState {
            next_file,
            log_number: active.first_segment,
            last_seq,
            tables: Vec::new(),
        }
        .store(fs.as_ref(), &dir)?;
    }

    let table_opts = TableOptions {
        block_size: config.block_size,
        restart_interval: tuning.block_restart_interval,
        bloom_bits_per_key: config.bloom_bits(),
        zstd_level: tuning.zstd_level,
    };
    Ok(Inner {
        dir,
        _lock: lock,
        table_ctx: ctx,
        table_opts,
        sv: RwLock::new(Arc::new(SuperVersion {
            active: Arc::new(active),
            frozen: Vec::new(),
            version: Arc::new(Version::new(tables)),
        })),
        visible_seq: AtomicU64::new(last_seq),
        next_file: AtomicU64::new(next_file),
        wal: Mutex::new(WalState {
            writer,
            synced: (segment, 0),
            last_sync: Instant::now(),
        }),
        queue: CommitQueue::default(),
        install: Mutex::new(()),
        flush_lock: Mutex::new(()),
        compaction_lock: Mutex::new(()),
        patch_lock: Mutex::new(()),
        stats,
        closed: AtomicBool::new(false),
        background_running: AtomicBool::new(false),
        signals: Mutex::new(Vec::new()),
        config,
    })
}
