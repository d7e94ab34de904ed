//! Checking a database directory: every checksum of every table the manifest names and
//! every record of the log it still needs, without opening an engine, taking a lock or
//! writing anything (RocksDB's `sst_dump --verify`, `ldb checkconsistency`). So it can
//! check a database another process is writing, or one that no longer opens.
//!
//! Blocks are checked by checksum without being decompressed (index partitions are,
//! for the places of the blocks), each table read front to back in 2 MiB stretches
//! with the next stretch read while one is checked, so the check runs at about the
//! speed of reading the files (docs/benchmarks.md, "verify").

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fs::{FileSystem, OpenMode};
use crate::manifest::ManifestState;
use crate::sstable::cache::BlockCache;
use crate::sstable::reader::{IndexBudget, Table, TableContext};
use crate::sstable::table_path;
use crate::wal::{parse_segment_name, replay_segment, segment_path, TornTail};

/// Damage found by [`verify_dir`]: the file, the byte offset in it, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub file: String,
    pub offset: u64,
    pub detail: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at offset {}: {}",
            self.file, self.offset, self.detail
        )
    }
}

/// What [`verify_dir`] read and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Tables the manifest names, and of them the blocks and bytes checked.
    pub tables: usize,
    pub blocks: u64,
    pub table_bytes: u64,
    /// Log segments the database still needs, and their records and bytes.
    pub log_segments: usize,
    pub log_records: u64,
    pub log_bytes: u64,
    /// Bytes at the end of the last log segment that hold no whole record: a write
    /// a crash interrupted (or one being written now), which recovery drops. Not
    /// damage.
    pub torn_tail_bytes: u64,
    /// Everything damaged, one entry per damaged file (its first damage).
    pub damage: Vec<Damage>,
}

impl VerifyReport {
    /// Whether nothing is damaged.
    pub fn is_sound(&self) -> bool {
        self.damage.is_empty()
    }
}

fn damage(e: Error, file: &Path) -> Damage {
    match e {
        Error::Corruption {
            file,
            offset,
            detail,
        } => Damage {
            file,
            offset,
            detail,
        },
        other => Damage {
            file: file.display().to_string(),
            offset: 0,
            detail: other.to_string(),
        },
    }
}

/// A table's check: its blocks and bytes, or what is wrong.
type Checked = Result<(u64, u64)>;

/// Opens and checks every table of `state`, on as many threads as there are cores,
/// but at least 4 and at most 8 (each mostly waits for its reads, so more than one
/// per core keeps the disk busier; each holds up to three 2 MiB stretches); the
/// results in the manifest's order.
fn check_tables(ctx: &Arc<TableContext>, state: &ManifestState) -> Vec<Checked> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Checked>>> =
        state.tables.iter().map(|_| Default::default()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.clamp(4, 8);
    // Largest first, so that no thread is left with a large table at the end.
    let mut order: Vec<usize> = (0..state.tables.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(state.tables[*i].size));
    std::thread::scope(|s| {
        for _ in 0..threads.min(state.tables.len()) {
            s.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = order.get(n) else {
                    break;
                };
                let meta = &state.tables[i];
                let checked = Table::open(ctx, *meta).and_then(|t| t.verify());
                *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(checked);
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            let r = r.into_inner().unwrap_or_else(|p| p.into_inner());
            r.unwrap_or_else(|| Err(Error::Internal("a table was not checked".into())))
        })
        .collect()
}

/// Checks the database in `dir` on the real file system; see [`verify_dir_on`].
pub fn verify_dir(dir: impl AsRef<Path>) -> Result<VerifyReport> {
    verify_dir_on(crate::fs::os(), dir.as_ref())
}

/// Checks every table the manifest of `dir` names (each block's checksum, and the
/// footer, index, filter and properties as opening a table does) and every record
/// of the log segments it still needs. Damage is reported, not returned as an
/// error; an error means the check itself could not run (no manifest, an
/// unreadable directory).
///
/// A writer may go on meanwhile: a table merged away or a log segment flushed and
/// deleted after the manifest was read is no damage. When a file the manifest named
/// is gone and the manifest has changed since, the check starts again from the new
/// one (up to 5 times; then the report stands as it is).
pub fn verify_dir_on(fs: Arc<dyn FileSystem>, dir: &Path) -> Result<VerifyReport> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (report, used) = verify_once(&fs, dir)?;
        let Some(used) = used.filter(|_| attempts < 5) else {
            return Ok(report);
        };
        let now = ManifestState::load(fs.as_ref(), dir).ok().flatten();
        if now.as_ref().map(Files::of) == Some(used) {
            return Ok(report);
        }
    }
}

/// The files a manifest names: its tables and the first log segment it needs.
#[derive(PartialEq)]
struct Files(Vec<u64>, u64);

impl Files {
    fn of(state: &ManifestState) -> Files {
        Files(
            state.tables.iter().map(|t| t.id).collect(),
            state.log_number,
        )
    }
}

/// Whether `e` says a file is not there.
fn vanished(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// One check of `dir` (`verify_dir_on`), with the files of the manifest it used
/// when a file it named was gone (`None` otherwise: the report stands).
fn verify_once(fs: &Arc<dyn FileSystem>, dir: &Path) -> Result<(VerifyReport, Option<Files>)> {
    let manifest_path = dir.join(crate::manifest::FILE);
    let mut gone = false;
    let state = match ManifestState::load(fs.as_ref(), dir) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(Error::NotFound(format!(
                "{} holds no flowdb database (no MANIFEST)",
                dir.display()
            )));
        }
        Err(e @ Error::Corruption { .. }) => {
            let mut report = VerifyReport::default();
            report.damage.push(damage(e, &manifest_path));
            return Ok((report, None));
        }
        Err(e) => return Err(e),
    };
    let ctx = Arc::new(TableContext {
        fs: Arc::clone(fs),
        dir: dir.to_path_buf(),
        cache: Arc::new(BlockCache::new(0)),
        budget: Arc::new(IndexBudget::new(usize::MAX)),
    });
    let mut report = VerifyReport::default();
    for (meta, checked) in state.tables.iter().zip(check_tables(&ctx, &state)) {
        report.tables += 1;
        match checked {
            Ok((blocks, bytes)) => {
                report.blocks += blocks;
                report.table_bytes += bytes;
            }
            Err(e) => {
                gone |= vanished(&e);
                report.damage.push(damage(e, &table_path(dir, meta.id)))
            }
        }
    }
    let mut segments: Vec<u64> = fs
        .list(dir)
        .map_err(|e| Error::Io {
            context: format!("listing {}", dir.display()),
            source: e,
        })?
        .iter()
        .filter_map(|n| parse_segment_name(n))
        .filter(|n| *n >= state.log_number)
        .collect();
    segments.sort_unstable();
    for (i, n) in segments.iter().enumerate() {
        let path = segment_path(dir, *n);
        report.log_segments += 1;
        let last = i + 1 == segments.len();
        match replay_segment(fs.as_ref(), &path, last, TornTail::Keep) {
            Ok(r) => {
                report.log_records += r.batches.len() as u64;
                report.torn_tail_bytes += r.torn_bytes;
                report.log_bytes += fs
                    .open(&path, OpenMode::Read)
                    .and_then(|f| f.len())
                    .unwrap_or(0);
            }
            Err(e) => {
                gone |= vanished(&e);
                report.damage.push(damage(e, &path))
            }
        }
    }
    Ok((report, gone.then(|| Files::of(&state))))
}
