//! Read-only instances: an engine on a directory another process (or engine) is
//! writing, as RocksDB's secondary instance (docs/design.md, "Read-only instances").
//!
//! It takes no lock and writes nothing: no log segment, no manifest, no torn tail cut,
//! no leftover removed. It sees the database as of its open: the tables the manifest
//! names and the log segments the writer's memtables need, replayed into a memtable
//! of its own (a record the writer is appending right now is left out whole).
//! `catch_up` moves it to the writer's present the same way, keeping the tables it
//! has open. A table the writer's compaction deletes stays readable through the open
//! file (POSIX unlink semantics).
//!
//! The writer changes its files while they are read: a table or segment named a
//! moment ago may be gone. So a load reads the manifest before and after the rest, and
//! starts over when it changed or a file was missing.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;

use super::open::{list_files, new_inner, open_tables, replay_log, table_context, Log};
use super::stats::Stats;
use super::Engine;
use crate::config::{Config, Tuning};
use crate::error::{Error, Result};
use crate::fs::FileSystem;
use crate::manifest::ManifestState;
use crate::memtable::Memtable;
use crate::sstable::reader::{Table, TableContext};
use crate::version::{SuperVersion, Version};
use crate::wal::{TornTail, WalWriter};

/// How many times a load starts over before giving up on a writer that keeps moving.
pub(super) const ATTEMPTS: usize = 50;

/// The database as of one moment, read without writing.
struct Loaded {
    tables: Vec<Arc<Table>>,
    mem: Memtable,
    last_seq: u64,
    next_file: u64,
}

pub(super) fn missing(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

pub(super) fn manifest(fs: &dyn FileSystem, dir: &Path) -> Result<ManifestState> {
    ManifestState::load(fs, dir)?.ok_or_else(|| {
        Error::NotFound(format!(
            "{} holds no flowdb database (no MANIFEST): a read-only instance opens \
             only what a writer created",
            dir.display()
        ))
    })
}

/// One attempt: `None` when the writer changed the database meanwhile.
fn load_once(
    ctx: &Arc<TableContext>,
    dir: &Path,
    known: &HashMap<u64, Arc<Table>>,
    stats: &Stats,
) -> Result<Option<Loaded>> {
    let fs = ctx.fs.as_ref();
    let before = manifest(fs, dir)?;
    let mut fresh = before.clone();
    fresh.tables.retain(|m| !known.contains_key(&m.id));
    let mut opened: HashMap<u64, Arc<Table>> = open_tables(ctx, &fresh)?
        .into_iter()
        .map(|t| (t.meta.id, t))
        .collect();
    let tables = before
        .tables
        .iter()
        .map(|m| match known.get(&m.id) {
            Some(t) => t.clone(),
            None => opened.remove(&m.id).expect("opened above"),
        })
        .collect();
    let (segments, _) = list_files(fs, dir)?;
    let replay: Vec<u64> = segments
        .into_iter()
        .filter(|n| *n >= before.log_number)
        .collect();
    let first = replay.first().copied().unwrap_or(before.next_file);
    let (mem, last_seq) = replay_log(
        fs,
        dir,
        (&replay, first),
        before.last_seq,
        TornTail::Keep,
        stats,
    )?;
    if manifest(fs, dir)? != before {
        return Ok(None);
    }
    Ok(Some(Loaded {
        tables,
        mem,
        last_seq,
        next_file: before.next_file,
    }))
}

fn load(
    ctx: &Arc<TableContext>,
    dir: &Path,
    known: &HashMap<u64, Arc<Table>>,
    stats: &Stats,
) -> Result<Loaded> {
    for _ in 0..ATTEMPTS {
        match load_once(ctx, dir, known, stats) {
            Ok(Some(loaded)) => return Ok(loaded),
            Ok(None) => {}
            Err(e) if missing(&e) => {}
            Err(e) => return Err(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    Err(Error::Busy(format!(
        "the writer changed {} {ATTEMPTS} times while it was being read; try again",
        dir.display()
    )))
}

impl Engine {
    /// Opens `config.data_dir`, which another process (or engine) may be writing,
    /// read-only: no lock taken, nothing ever written. It sees the database as of the
    /// open, memtables included; [`Engine::catch_up`] moves it forward. Writes,
    /// flushes and compactions fail with `ReadOnly`; a checkpoint copies what the
    /// writer has on disk (docs/design.md, "Checkpoints and backups"); `close` does
    /// nothing. `create_if_missing` and `auto_background` are ignored (there is no
    /// background work); the cache sizes apply.
    pub fn open_read_only(config: Config) -> Result<Self> {
        Self::open_read_only_on(crate::fs::os(), config, Tuning::default())
    }

    /// Like [`Engine::open_read_only`], with tuning, on the file system `fs`.
    pub fn open_read_only_on(
        fs: Arc<dyn FileSystem>,
        config: Config,
        tuning: Tuning,
    ) -> Result<Self> {
        config.validate()?;
        tuning.validate()?;
        let dir = config.data_dir.clone();
        if fs.is_dir(&dir) != Some(true) {
            return Err(Error::NotFound(format!(
                "data directory {} does not exist",
                dir.display()
            )));
        }
        let ctx = table_context(&fs, &config);
        let stats = Arc::new(Stats::default());
        let loaded = load(&ctx, &dir, &HashMap::new(), &stats)?;
        let log = Log {
            writer: WalWriter::detached(&fs, &dir),
            segment: 0,
            active: loaded.mem,
            last_seq: loaded.last_seq,
            next_file: loaded.next_file,
        };
        let mut inner = new_inner(config, &tuning, None, ctx, stats, loaded.tables, log);
        inner.rollups = super::rollup::Rollups::open(&fs, &inner.config, &tuning, true)?;
        Ok(Engine {
            inner: Arc::new(inner),
            auto_background: Mutex::new(None),
        })
    }

    /// Whether this is a read-only instance ([`Engine::open_read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// Moves a read-only instance to the writer's present: what the writer has
    /// written since the open (or the last `catch_up`) becomes visible, at once for
    /// new reads; snapshots and scans under way keep their moment. Cost: the
    /// writer's log tail is read again (at most its memtables' worth); tables already
    /// open are kept. On the writer itself it does nothing.
    pub fn catch_up(&self) -> Result<()> {
        let inner = &self.inner;
        inner.check_open()?;
        if !inner.read_only {
            return Ok(());
        }
        let _g = inner.install.lock();
        let known = inner
            .current()
            .version
            .tables
            .iter()
            .map(|t| (t.meta.id, t.clone()))
            .collect();
        let loaded = load(&inner.table_ctx, &inner.dir, &known, &inner.stats)?;
        *inner.sv.write() = Arc::new(SuperVersion {
            active: Arc::new(loaded.mem),
            frozen: Vec::new(),
            version: Arc::new(Version::new(loaded.tables)),
        });
        inner
            .visible_seq
            .fetch_max(loaded.last_seq, Ordering::AcqRel);
        inner
            .next_file
            .fetch_max(loaded.next_file, Ordering::SeqCst);
        match &inner.rollups {
            Some(r) => r.catch_up(),
            None => Ok(()),
        }
    }
}
