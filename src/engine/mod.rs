//! The engine: ties the write-ahead log, memtables, tables, manifest and background
//! maintenance into the public [`Engine`].
//!
//! `Engine` is `Send + Sync`; every method takes `&self` except `shutdown`. The pieces:
//! `open` (recovery), `write` (group commit), `read` (gets, queries, scans), `flush`,
//! `output` (writing a run of tables), `policy` (which merge is due), `compaction`
//! (running merges, full compaction and GC), `maintenance` (the background
//! thread) and `stats`.

mod batch;
mod checkpoint;
mod compaction;
mod events;
mod flush;
mod health;
mod layout;
mod maintenance;
mod open;
mod output;
mod points;
mod points_api;
mod policy;
mod read;
mod read_only;
mod retention;
mod rollup;
mod rollup_late;
mod rollup_leftovers;
mod rollup_pass;
mod rollup_read;
mod series;
mod snapshot;
pub(crate) mod stats;
mod wal_sync;
mod write;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

/// Also here, at the published crate's path `flowdb::engine::ScanIterator`.
pub use crate::iterator::scan::ScanIterator;
pub use crate::sstable::series::SeriesInfo;
pub use batch::{WriteBatch, WriteOptions};
pub use events::{Event, EventListener};
pub use layout::TableInfo;
pub use maintenance::MaintenanceHandle;
pub use rollup_read::Rollup;
pub use snapshot::Snapshot;
pub use stats::{EngineStats, StatField, StatValue};

use crate::config::{Config, Tuning};
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::lock::DirLock;
use crate::sstable::builder::TableOptions;
use crate::sstable::reader::TableContext;
use crate::version::{self, SuperVersion};
use crate::wal::WalWriter;

use maintenance::Worker;
use stats::Stats;
use write::CommitQueue;

/// The log writer and what of it is known durable.
pub(crate) struct WalState {
    writer: WalWriter,
    /// `(segment, size)` last made durable by fdatasync.
    synced: (u64, u64),
    /// `(segment, size)` the last sync mark in the log states synced (wal/marker.rs).
    marked: (u64, u64),
    last_sync: Instant,
}

impl WalState {
    /// How much of the current segment is synced (0 when the last sync was of an
    /// earlier one).
    fn synced_len(&self) -> u64 {
        self.in_current(self.synced)
    }

    /// The synced length of the current segment a group should state at its front (a
    /// sync mark) because no mark states it yet.
    fn mark_due(&self) -> Option<u64> {
        Some(self.synced_len()).filter(|&s| s > self.in_current(self.marked))
    }

    /// The length of a `(segment, length)` pair in the current segment (0 when it is
    /// of an earlier one).
    fn in_current(&self, (segment, len): (u64, u64)) -> u64 {
        match segment == self.writer.number() {
            true => len,
            false => 0,
        }
    }
}

pub(crate) struct Inner {
    config: Config,
    dir: PathBuf,
    /// A read-only instance (`Engine::open_read_only`): writes nothing, ever.
    read_only: bool,
    table_ctx: Arc<TableContext>,
    table_opts: TableOptions,
    /// Where flush and compaction cut their outputs (`Tuning::target_table_bytes`).
    target_table_bytes: u64,
    /// What background compaction merges (windows and fan-in).
    policy: policy::Policy,
    /// Whether the memtables' bytes are charged to the block cache
    /// (`Tuning::memtables_in_block_cache`).
    memtables_in_cache: bool,
    /// The retention limits background maintenance enforces.
    retention: retention::Retention,
    /// The constant labels of every metrics sample (`Tuning::metrics_labels`),
    /// rendered: `name="value",...` or empty.
    metrics_labels: String,
    sv: RwLock<Arc<SuperVersion>>,
    /// Writes numbered up to here are visible to new readers.
    visible_seq: AtomicU64,
    next_file: AtomicU64,
    wal: Mutex<WalState>,
    queue: CommitQueue,
    /// Serializes changes of the super-version and manifest writes.
    install: Mutex<()>,
    flush_lock: Mutex<()>,
    /// Checkpoints copying log segments: while nonzero, flushes delete none.
    wal_pins: std::sync::atomic::AtomicUsize,
    /// The background error that stops writes, if any.
    health: health::Health,
    /// The event listener's queue and thread, when one is set.
    events: events::Events,
    compaction_lock: Mutex<()>,
    /// The newest range tombstone (by seq) a full compaction has applied
    /// (`compact_all`): a newer one makes another worth running.
    compacted_tombstones: std::sync::atomic::AtomicU64,
    patch_lock: Mutex<()>,
    stats: Arc<Stats>,
    closed: AtomicBool,
    background_running: AtomicBool,
    /// Every maintenance thread started, weakly: to wake, stop and join them.
    workers: Mutex<Vec<Weak<Worker>>>,
    /// The downsampling rollups of `Tuning::rollups`; `None` without rules.
    rollups: Option<rollup::Rollups>,
    /// The directory lock; `None` for a read-only instance, which takes none. Last,
    /// so that it is released after every other field is dropped (the log writer's
    /// drop cuts its zeros: no other opener may have the directory before).
    _lock: Option<DirLock>,
}

/// An open flowdb database: the time-series LSM engine.
pub struct Engine {
    inner: Arc<Inner>,
    auto_background: Mutex<Option<MaintenanceHandle>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data_dir", &self.inner.dir)
            .field(
                "visible_seq",
                &self.inner.visible_seq.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn current(&self) -> Arc<SuperVersion> {
        self.sv.read().clone()
    }

    /// A consistent view: the super-version first, then the sequence (see
    /// docs/design.md, "Snapshots").
    pub(crate) fn snapshot(&self) -> version::Snapshot {
        let sv = self.current();
        let seq = self.visible_seq.load(Ordering::Acquire);
        version::Snapshot::new(sv, seq)
    }

    pub(crate) fn fs(&self) -> &Arc<dyn FileSystem> {
        &self.table_ctx.fs
    }

    pub(crate) fn new_file_number(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::SeqCst)
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed(format!(
                "the engine on {} was shut down",
                self.dir.display()
            )));
        }
        Ok(())
    }

    /// `check_open`, and the engine owns its directory: not a read-only instance
    /// (for everything that writes files).
    pub(crate) fn check_owner(&self) -> Result<()> {
        self.check_open()?;
        if self.read_only {
            return Err(Error::ReadOnly(format!(
                "the engine on {} was opened read-only (Engine::open_read_only): it \
                 never writes",
                self.dir.display()
            )));
        }
        Ok(())
    }
}

impl Engine {
    /// Opens (or creates) the database in `config.data_dir`, replaying its log.
    pub fn open(config: Config) -> Result<Self> {
        Self::open_with(config, Tuning::default())
    }

    /// Like [`Engine::open`], with tuning beyond `Config`.
    pub fn open_with(config: Config, tuning: Tuning) -> Result<Self> {
        Self::open_on(crate::fs::os(), config, tuning)
    }

    /// Like [`Engine::open_with`], on the file system `fs` (see [`crate::fs`]; the
    /// reliability tests use `flowdb::fs::FaultFs`, with the `fault-injection` feature).
    pub fn open_on(fs: Arc<dyn FileSystem>, config: Config, tuning: Tuning) -> Result<Self> {
        let inner = Arc::new(open::open(fs, config, tuning)?);
        let engine = Engine {
            inner,
            auto_background: Mutex::new(None),
        };
        if engine.inner.config.auto_background {
            *engine.auto_background.lock() = maintenance::spawn(&engine.inner);
        }
        Ok(engine)
    }

    /// Flushes memtables to tables and syncs the log; the engine stays usable.
    pub fn close(&self) -> Result<()> {
        self.inner.check_open()?;
        if self.inner.read_only {
            return Ok(()); // a read-only instance wrote nothing
        }
        self.inner.flush_all()?;
        self.inner.sync_wal()?;
        match &self.inner.rollups {
            Some(r) => r.close(),
            None => Ok(()),
        }
    }

    /// `close`, then stops background maintenance and releases the directory lock.
    pub fn shutdown(self) -> Result<()> {
        let result = self.close();
        self.inner.closed.store(true, Ordering::Release);
        self.end_maintenance();
        // The rollups close once no pass runs; their locks go with this engine.
        let result = match &self.inner.rollups {
            Some(r) => result.and(r.shutdown()),
            None => result,
        };
        self.wait_for_snapshot_reads();
        self.inner.stop_events();
        result
    }

    /// Waits, bounded, until this is the only holder of the engine. The threads are
    /// joined by now; what else can hold it is a read through a [`Snapshot`] under way
    /// on a caller's thread (a snapshot holds the engine weakly and upgrades it for
    /// each read), where there is nothing to join. Reads that begin after `closed`
    /// was set let go at once (`check_open`), so this only waits out those already
    /// under way, usually none; but `Snapshot::visit` runs the caller's function
    /// while it holds the engine, so the wait is bounded: past it, shutdown returns
    /// and the lock is released when that read ends and drops the engine.
    fn wait_for_snapshot_reads(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Arc::strong_count(&self.inner) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.dir
    }

    /// The configuration the engine was opened with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

impl Engine {
    /// Stops every maintenance thread and waits for it: a thread holds the engine
    /// (and so its directory lock) while it works, so they are joined, the threads
    /// of handles the caller still holds included, for the lock to be released when
    /// `shutdown` or the drop returns.
    fn end_maintenance(&self) {
        if let Some(h) = self.auto_background.lock().take() {
            h.stop();
        }
        self.inner.stop_all_maintenance();
        self.inner.join_all_maintenance();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.end_maintenance();
        self.inner.stop_events();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_all_maintenance();
    }
}
