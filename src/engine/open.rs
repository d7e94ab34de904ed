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
use crate::fs::{FileSystem, OpenMode};
use crate::lock::DirLock;
use crate::manifest::ManifestState;
use crate::memtable::Memtable;
use crate::sstable::builder::TableOptions;
use crate::sstable::cache::BlockCache;
use crate::sstable::reader::{IndexBudget, Table, TableContext};
use crate::sstable::{parse_table_name, table_path};
use crate::version::{SuperVersion, Version};
use crate::wal::{parse_segment_name, replay_segment, segment_path, TornTail, WalWriter};

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
    crate::fs::create_dir_all_synced(fs, dir)
        .ctx(|| format!("creating data directory {}", dir.display()))
}

/// Segment and table numbers found in the directory.
pub(super) fn list_files(fs: &dyn FileSystem, dir: &Path) -> Result<(Vec<u64>, Vec<u64>)> {
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

/// Opens the engine in `config.data_dir`: the steps of the module docs, one function
/// each, in order. The directory is locked before anything in it is read or removed.
pub(super) fn open(fs: Arc<dyn FileSystem>, config: Config, tuning: Tuning) -> Result<Inner> {
    config.validate()?;
    tuning.validate()?;
    prepare_dir(fs.as_ref(), &config)?;
    let dir = config.data_dir.clone();
    let lock = DirLock::acquire(fs.as_ref(), &dir)?;
    let (state, fresh) = load_manifest(fs.as_ref(), &dir)?;
    if fresh {
        refuse_lost_manifest(fs.as_ref(), &dir)?;
    }
    let ctx = table_context(&fs, &config);
    let tables = open_tables(&ctx, &state)?;
    let files = remove_leftovers(fs.as_ref(), &dir, &state)?;
    let stats = Arc::new(Stats::default());
    let first = files.replay.first().copied().unwrap_or(files.first_free);
    let (mem, last_seq) = replay_log(
        fs.as_ref(),
        &dir,
        (&files.replay, first),
        state.last_seq,
        TornTail::Cut,
        &stats,
    )?;
    let log = start_log(&fs, &dir, &files, mem, last_seq)?;
    // A new database gets its manifest now. An existing one needs no rewrite: file
    // numbers are recovered from the directory, and the segments it names are still
    // the ones to replay (the new, empty segment is past them).
    if fresh {
        ManifestState {
            next_file: log.next_file,
            log_number: log.active.first_segment,
            last_seq: log.last_seq,
            tables: Vec::new(),
        }
        .store(fs.as_ref(), &dir)?;
    }
    let mut inner = new_inner(config, &tuning, Some(lock), ctx, stats, tables, log);
    inner.rollups = super::rollup::Rollups::open(&fs, &inner.config, &tuning, false)?;
    Ok(inner)
}

/// The manifest's state, and whether there was none (a new database: then the state
/// of an empty one).
fn load_manifest(fs: &dyn FileSystem, dir: &Path) -> Result<(ManifestState, bool)> {
    let stored = ManifestState::load(fs, dir)?;
    let fresh = stored.is_none();
    let state = stored.unwrap_or(ManifestState {
        next_file: 1,
        ..ManifestState::default()
    });
    Ok((state, fresh))
}

/// A database gets its manifest when it is created, before any table or record: a
/// directory without one but with tables or a log holding records lost it (damage
/// or a partial restore). Opening it as new would delete its tables as orphans, so
/// it is refused.
fn refuse_lost_manifest(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    let (segments, tables) = list_files(fs, dir)?;
    let mut written = 0;
    for n in &segments {
        let p = segment_path(dir, *n);
        let len = (fs.open(&p, OpenMode::Read).and_then(|f| f.len()))
            .ctx(|| format!("reading {}", p.display()))?;
        written += usize::from(len > 0);
    }
    if tables.is_empty() && written == 0 {
        return Ok(());
    }
    Err(Error::corruption(
        dir.join("MANIFEST").display(),
        0,
        format!(
            "missing, but the directory holds {} table(s) and {written} log segment(s) \
             with records: refusing to open it as a new database (which would delete \
             them); restore the MANIFEST or the whole directory from a backup",
            tables.len()
        ),
    ))
}

pub(super) fn table_context(fs: &Arc<dyn FileSystem>, config: &Config) -> Arc<TableContext> {
    Arc::new(TableContext {
        fs: fs.clone(),
        dir: config.data_dir.clone(),
        cache: Arc::new(BlockCache::new(config.block_cache_capacity_mb << 20)),
        budget: Arc::new(IndexBudget::new(config.index_memory_budget_mb << 20)),
    })
}

/// Opens every table the manifest names.
pub(super) fn open_tables(
    ctx: &Arc<TableContext>,
    state: &ManifestState,
) -> Result<Vec<Arc<Table>>> {
    let mut tables = Vec::with_capacity(state.tables.len());
    for meta in &state.tables {
        tables.push(Arc::new(Table::open(ctx, *meta)?));
    }
    Ok(tables)
}

/// The files that outlive `remove_leftovers`.
struct LiveFiles {
    /// The log segments the manifest still needs, in order: to be replayed.
    replay: Vec<u64>,
    /// The first file number above every file in the directory and the manifest's
    /// `next_file`: the new log segment's.
    first_free: u64,
}

/// Deletes the leftovers of interrupted work: tables no manifest names (an
/// interrupted flush or compaction), a half-written `MANIFEST.tmp`, and segments
/// already flushed (a crash between the manifest write and their removal).
fn remove_leftovers(fs: &dyn FileSystem, dir: &Path, state: &ManifestState) -> Result<LiveFiles> {
    let (segments, files) = list_files(fs, dir)?;
    let live: std::collections::HashSet<u64> = state.tables.iter().map(|t| t.id).collect();
    for id in files.iter().filter(|id| !live.contains(id)) {
        let p = table_path(dir, *id);
        fs.remove(&p)
            .ctx(|| format!("removing orphan table {}", p.display()))?;
    }
    let _ = fs.remove(&dir.join("MANIFEST.tmp"));
    let mut first_free = state.next_file;
    for n in segments.iter().chain(files.iter()) {
        first_free = first_free.max(n + 1);
    }
    let (old, replay): (Vec<u64>, Vec<u64>) = segments.iter().partition(|n| **n < state.log_number);
    for n in old {
        let p = segment_path(dir, n);
        fs.remove(&p)
            .ctx(|| format!("removing flushed WAL segment {}", p.display()))?;
    }
    Ok(LiveFiles { replay, first_free })
}

/// Replays the segments `replay` into a memtable whose first segment is `first` (only
/// the last may have a torn tail); returns it with the last sequence number
/// recovered (`last_seq` at least).
pub(super) fn replay_log(
    fs: &dyn FileSystem,
    dir: &Path,
    (replay, first): (&[u64], u64),
    mut last_seq: u64,
    tail: TornTail,
    stats: &Stats,
) -> Result<(Memtable, u64)> {
    let mem = Memtable::new(first);
    for (i, n) in replay.iter().enumerate() {
        let last = i + 1 == replay.len();
        let replayed = replay_segment(fs, &segment_path(dir, *n), last, tail)?;
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
    Ok((mem, last_seq))
}

/// The log the engine goes on with: new writes go to a new segment, never after a
/// torn tail.
pub(super) struct Log {
    pub(super) writer: WalWriter,
    pub(super) segment: u64,
    /// The memtable new writes go to: the replayed one, or a new one.
    pub(super) active: Memtable,
    pub(super) last_seq: u64,
    pub(super) next_file: u64,
}

/// Creates the new log segment, and makes the active memtable: the replayed one if
/// it holds anything.
fn start_log(
    fs: &Arc<dyn FileSystem>,
    dir: &Path,
    files: &LiveFiles,
    mem: Memtable,
    last_seq: u64,
) -> Result<Log> {
    let segment = files.first_free;
    let writer = WalWriter::create(fs, dir, segment, true)?;
    let active = if mem.is_empty() {
        // Nothing to recover: the replayed segments (empty ones left by earlier
        // opens, or ones holding only a torn tail) hold nothing live. Remove them, or
        // every open would add one more for every later open to read. Losing this
        // removal in a crash is harmless: they would replay as nothing again.
        for n in &files.replay {
            let p = segment_path(dir, *n);
            fs.remove(&p)
                .ctx(|| format!("removing empty WAL segment {}", p.display()))?;
        }
        Memtable::new(segment)
    } else {
        mem
    };
    Ok(Log {
        writer,
        segment,
        active,
        last_seq,
        next_file: segment + 1,
    })
}

pub(super) fn new_inner(
    config: Config,
    tuning: &Tuning,
    lock: Option<DirLock>,
    ctx: Arc<TableContext>,
    stats: Arc<Stats>,
    tables: Vec<Arc<Table>>,
    log: Log,
) -> Inner {
    let table_opts = TableOptions {
        block_size: config.block_size,
        restart_interval: tuning.block_restart_interval,
        bloom_bits_per_key: config.bloom_bits(),
        zstd_level: tuning.zstd_level,
        compression: tuning.block_compression,
        partition_blocks: tuning.index_partition_blocks,
        format_version: crate::sstable::format::FORMAT_VERSION,
    };
    let policy = super::policy::Policy {
        window: config.time_window_micros(),
        threshold: config.merge_threshold(),
    };
    let read_only = lock.is_none();
    // A read-only instance never merges: its reads charge for nothing (nor do those
    // after a `catch_up`).
    let version = match read_only {
        true => Version::new(tables),
        false => policy.version(tables),
    };
    Inner {
        dir: config.data_dir.clone(),
        read_only,
        _lock: lock,
        table_ctx: ctx,
        table_opts,
        target_table_bytes: tuning.target_table_bytes,
        retention: super::retention::Retention::new(tuning),
        metrics_labels: super::stats::render_labels(&tuning.metrics_labels),
        policy,
        memtables_in_cache: tuning.memtables_in_block_cache,
        sv: RwLock::new(Arc::new(SuperVersion {
            active: Arc::new(log.active),
            frozen: Vec::new(),
            version: Arc::new(version),
        })),
        visible_seq: AtomicU64::new(log.last_seq),
        next_file: AtomicU64::new(log.next_file),
        wal: Mutex::new(WalState {
            writer: {
                let mut w = log.writer;
                w.prefill(config.wal_sync_mode == crate::SyncMode::Always);
                w
            },
            synced: (log.segment, 0),
            marked: (log.segment, 0),
            last_sync: Instant::now(),
        }),
        queue: CommitQueue::default(),
        install: Mutex::new(()),
        flush_lock: Mutex::new(()),
        wal_pins: std::sync::atomic::AtomicUsize::new(0),
        health: Default::default(),
        events: Default::default(),
        compaction_lock: Mutex::new(()),
        compacted_tombstones: std::sync::atomic::AtomicU64::new(0),
        patch_lock: Mutex::new(()),
        stats,
        closed: AtomicBool::new(false),
        background_running: AtomicBool::new(false),
        workers: Mutex::new(Vec::new()),
        rollups: None,
        config,
    }
}
