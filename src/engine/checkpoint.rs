//! Online checkpoints and backups: a consistent copy of the database as of one moment,
//! taken while writers keep writing (docs/design.md, "Checkpoints").
//!
//! 1. **Capture**, holding the log lock: the log moves on to a new segment (as when
//!    a segment fills up: the old one is synced and never written again), then the
//!    super-version (its tables stay on disk while it is held), the first log
//!    segment the memtables need, the sequence and the next file number are taken.
//!    Writers wait for that rotation: about one group commit. Flushes leave the
//!    segments alone until the copy is done (`Inner::wal_pins`).
//! 2. **Copy** into `<dest>.tmp`: tables and log segments hard-linked (neither
//!    changes once written and rotated), or copied when linking fails (another file
//!    system) or for a backup; every file synced; then a manifest naming those
//!    tables.
//! 3. **Commit**: `<dest>.tmp` renamed to `<dest>`, the parent directory synced. A
//!    crash before the rename leaves no `<dest>` (a stale `<dest>.tmp` is cleared by
//!    the next checkpoint to `<dest>`); after it, a complete checkpoint.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::flush::log_number;
use super::{Engine, Inner};
use crate::error::{Error, IoContext, Result};
use crate::fs::{FileSystem, FsFile, OpenMode};
use crate::lock::{DirLock, LOCK_FILE};
use crate::manifest::ManifestState;
use crate::sstable::table_path;
use crate::version::SuperVersion;
use crate::wal::{parse_segment_name, segment_path};

/// How files reach the copy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Files {
    /// Hard links where the file system allows them, copies otherwise.
    Link,
    /// Always copies (a backup on another disk).
    Copy,
}

/// What the copy is made of, taken in one moment.
struct Capture {
    /// Holds the tables (their files outlive compaction while it is held).
    sv: Arc<SuperVersion>,
    log_number: u64,
    /// The segment the log went on in: the capture holds the ones before it.
    current: u64,
    next_file: u64,
    last_seq: u64,
}

/// Keeps flushes from deleting log segments while a copy needs them.
struct WalPin<'a>(&'a Inner);

impl Drop for WalPin<'_> {
    fn drop(&mut self) {
        self.0.wal_pins.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Inner {
    /// The capture (step 1). Lock order as in writing: the log, then installs.
    fn capture(&self) -> Result<(Capture, WalPin<'_>)> {
        let mut wal = self.wal.lock();
        self.rotate(&mut wal)?;
        // Again under the log lock (a cut is noted under it): a sync may have failed
        // since `copy_database` looked.
        self.refuse_after_log_cut("a checkpoint")?;
        let _g = self.install.lock();
        self.wal_pins.fetch_add(1, Ordering::SeqCst);
        let sv = self.current();
        let capture = Capture {
            log_number: log_number(&sv),
            sv,
            current: wal.writer.number(),
            next_file: self.next_file.load(Ordering::SeqCst),
            last_seq: self.visible_seq.load(Ordering::Acquire),
        };
        Ok((capture, WalPin(self)))
    }

    /// After a failed log sync the acknowledged writes past the cut live only in the
    /// memtables until `resume` flushes them: a copy now would miss them. (Other
    /// background errors leave the log whole: a copy then is complete.)
    pub(super) fn refuse_after_log_cut(&self, what: &str) -> Result<()> {
        match self.health.log_cut.load(Ordering::Acquire) {
            true => Err(Error::Busy(format!(
                "a failed log sync left acknowledged writes in memory only: call \
                 resume() (which writes them to a table) before {what}"
            ))),
            false => Ok(()),
        }
    }

    fn copy_database(&self, dest: &Path, how: Files) -> Result<()> {
        self.check_open()?;
        self.refuse_after_log_cut("a checkpoint")?;
        let fs = self.fs().as_ref();
        if fs.is_dir(dest).is_some() {
            return Err(Error::invalid(format!(
                "checkpoint destination {} already exists (it must not: a checkpoint \
                 makes a new directory)",
                dest.display()
            )));
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        crate::fs::create_dir_all_synced(fs, &parent)
            .ctx(|| format!("creating {}", parent.display()))?;
        let tmp = temp_dir(dest);
        fs.create_dir_all(&tmp)
            .ctx(|| format!("creating {}", tmp.display()))?;
        // The lock of the database the copy becomes, taken in `tmp` first: a second
        // checkpoint to `dest` meanwhile must not clear or commit this one's files.
        let _lock = DirLock::acquire(fs, &tmp).map_err(|e| match e {
            Error::Locked(_) => Error::Locked(format!(
                "another checkpoint to {} is being written ({} is locked)",
                dest.display(),
                tmp.display()
            )),
            other => other,
        })?;
        clear_stale(fs, &tmp)?;
        // No roll pass between this copy and the rollups': a late write's dirty
        // mark then reaches the rollups' copy whenever the write reaches this one
        // (docs/numeric.md, "Rollups").
        let rolling = self.rollups.as_ref().map(|r| (r, r.rolling.lock()));
        let copied = match self.read_only {
            false => self.fill(&tmp, how),
            true => self.fill_from_disk(&tmp, how),
        }
        .and_then(|()| match &rolling {
            // (`rollups/`, made in `tmp` after `fill` synced it: synced again.)
            Some((r, _)) => r.copy_into(&tmp, how == Files::Copy).and_then(|()| {
                fs.sync_dir(&tmp)
                    .ctx(|| format!("syncing directory {}", tmp.display()))
            }),
            None => Ok(()),
        });
        drop(rolling);
        if let Err(e) = copied {
            let _ = remove_stale(fs, &tmp);
            return Err(e);
        }
        fs.rename(&tmp, dest)
            .ctx(|| format!("renaming {} to {}", tmp.display(), dest.display()))?;
        fs.sync_dir(&parent)
            .ctx(|| format!("syncing directory {}", parent.display()))
    }

    /// Step 2: the files of one capture, in `tmp`.
    fn fill(&self, tmp: &Path, how: Files) -> Result<()> {
        let fs = self.fs().as_ref();
        let (cap, _pin) = self.capture()?;
        let files = cap.sv.version.tables.iter().map(|t| t.meta.id);
        for id in files {
            place(fs, &table_path(&self.dir, id), &table_path(tmp, id), how)?;
        }
        for n in self.segments_from(cap.log_number, cap.current)? {
            place(fs, &segment_path(&self.dir, n), &segment_path(tmp, n), how)?;
        }
        ManifestState {
            next_file: cap.next_file,
            log_number: cap.log_number,
            last_seq: cap.last_seq,
            tables: cap.sv.version.tables.iter().map(|t| t.meta).collect(),
        }
        .store(fs, tmp)?;
        fs.sync_dir(tmp)
            .ctx(|| format!("syncing directory {}", tmp.display()))
    }

    /// For a read-only instance, whose writer may be another process: a copy of what
    /// the writer has on disk now (at least the instance's view, maybe more), taken
    /// as a read-only load is: the manifest read before and after, and the attempt
    /// taken again when it changed or a file it named went away meanwhile. Tables
    /// are placed as in `fill`, each once over all attempts (a table never changes):
    /// an attempt after a flush or merge of the writer places only the new ones, so
    /// a long copy beside a busy writer converges. Log segments are copied by every
    /// attempt, always copied (the last may be the one the writer appends to: a copy
    /// ends where the writer was, a record it was writing is a torn tail that the
    /// copy's recovery cuts).
    ///
    /// Under `SyncMode::Always` the writer writes groups over zeros written ahead, so
    /// a copy of its live segment can catch a later group but not the one before it
    /// (a read copies page by page): a copy whose log shows damage was caught so, and
    /// the attempt is taken again; damage still there after every attempt is
    /// reported as the `Corruption` it is (when the last attempt found it).
    fn fill_from_disk(&self, tmp: &Path, how: Files) -> Result<()> {
        let fs = self.fs().as_ref();
        let mut placed = HashSet::new();
        let mut damaged = None;
        for _ in 0..super::read_only::ATTEMPTS {
            match self.attempt_from_disk(tmp, how, &mut placed) {
                Ok(Some(state)) => {
                    // Tables of earlier attempts that the writer merged away since.
                    let named: HashSet<u64> = state.tables.iter().map(|t| t.id).collect();
                    for id in placed.difference(&named) {
                        let p = table_path(tmp, *id);
                        fs.remove(&p).ctx(|| format!("removing {}", p.display()))?;
                    }
                    state.store(fs, tmp)?;
                    return fs
                        .sync_dir(tmp)
                        .ctx(|| format!("syncing directory {}", tmp.display()));
                }
                Ok(None) => damaged = None,
                Err(e) if super::read_only::missing(&e) => damaged = None,
                Err(e @ Error::Corruption { .. }) => damaged = Some(e),
                Err(e) => return Err(e),
            }
            // The next attempt copies the log again.
            for name in fs.list(tmp).ctx(|| format!("listing {}", tmp.display()))? {
                if parse_segment_name(&name).is_some() {
                    let p = tmp.join(name);
                    fs.remove(&p).ctx(|| format!("removing {}", p.display()))?;
                }
            }
        }
        Err(damaged.unwrap_or_else(|| {
            Error::Busy(format!(
                "the writer of {} kept changing it while it was copied; try again",
                self.dir.display()
            ))
        }))
    }

    /// One attempt of `fill_from_disk`: the manifest to write, or `None` when the
    /// writer changed the database meanwhile. `placed`: the tables in `tmp` already.
    fn attempt_from_disk(
        &self,
        tmp: &Path,
        how: Files,
        placed: &mut HashSet<u64>,
    ) -> Result<Option<ManifestState>> {
        let fs = self.fs().as_ref();
        let before = super::read_only::manifest(fs, &self.dir)?;
        for t in &before.tables {
            if placed.contains(&t.id) {
                continue;
            }
            let (from, to) = (table_path(&self.dir, t.id), table_path(tmp, t.id));
            if let Err(e) = place(fs, &from, &to, how) {
                let _ = fs.remove(&to); // a part of a copy (the writer deleted it)
                return Err(e);
            }
            placed.insert(t.id);
        }
        let mut next_file = before.next_file;
        let segments = self.segments_from(before.log_number, u64::MAX)?;
        for (i, &n) in segments.iter().enumerate() {
            copy_segment(fs, &segment_path(&self.dir, n), &segment_path(tmp, n), {
                i + 1 == segments.len()
            })?;
            next_file = next_file.max(n + 1);
        }
        if super::read_only::manifest(fs, &self.dir)? != before {
            return Ok(None);
        }
        Ok(Some(ManifestState {
            next_file,
            ..before
        }))
    }

    /// The log segments numbered `first..last` in the directory, in order.
    fn segments_from(&self, first: u64, last: u64) -> Result<Vec<u64>> {
        let names = self
            .fs()
            .list(&self.dir)
            .ctx(|| format!("listing {}", self.dir.display()))?;
        let mut found: Vec<u64> = names
            .iter()
            .filter_map(|n| parse_segment_name(n))
            .filter(|n| (first..last).contains(n))
            .collect();
        found.sort_unstable();
        Ok(found)
    }
}

/// Where a checkpoint to `dest` is built before it is renamed into place.
fn temp_dir(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    dest.with_file_name(name)
}

/// Removes what an interrupted checkpoint left in `tmp` (its files and the
/// directories of its rollups), all but the lock the caller holds there.
fn clear_stale(fs: &dyn FileSystem, tmp: &Path) -> Result<()> {
    for name in fs.list(tmp).ctx(|| format!("listing {}", tmp.display()))? {
        if name != LOCK_FILE {
            remove_tree(fs, &tmp.join(name))?;
        }
    }
    Ok(())
}

/// Removes this checkpoint's `tmp` after a failure: the lock last, so that a second
/// checkpoint to the same destination cannot start in `tmp` while files of this one
/// are still being removed there.
fn remove_stale(fs: &dyn FileSystem, tmp: &Path) -> Result<()> {
    clear_stale(fs, tmp)?;
    let _ = fs.remove(&tmp.join(LOCK_FILE));
    fs.remove_dir(tmp)
        .ctx(|| format!("removing {}", tmp.display()))
}

/// Removes the file or directory tree at `p`. A name that unlinks is removed as it
/// is (a symbolic link is never followed into what it points to).
fn remove_tree(fs: &dyn FileSystem, p: &Path) -> Result<()> {
    if fs.remove(p).is_ok() {
        return Ok(());
    }
    if fs.is_dir(p) != Some(true) {
        return fs.remove(p).ctx(|| format!("removing {}", p.display()));
    }
    for name in fs.list(p).ctx(|| format!("listing {}", p.display()))? {
        remove_tree(fs, &p.join(name))?;
    }
    fs.remove_dir(p).ctx(|| format!("removing {}", p.display()))
}

/// Puts the file `from`, which never changes again, at `to`: a hard link when
/// `how` allows and the file system can, a synced copy otherwise.
fn place(fs: &dyn FileSystem, from: &Path, to: &Path, how: Files) -> Result<()> {
    if how == Files::Link && fs.hard_link(from, to).is_ok() {
        return Ok(());
    }
    copy_file(fs, from, to)
}

/// Copies the log segment `from` (one read: the writer may be writing it, and may
/// cut zeros off its end) to the new file `to`, and syncs it; a `Corruption` error
/// when what was read is not a whole log segment (the last may end torn).
fn copy_segment(fs: &dyn FileSystem, from: &Path, to: &Path, is_last: bool) -> Result<()> {
    let data = fs
        .read(from)
        .ctx(|| format!("reading {}", from.display()))?;
    crate::wal::check_segment(&data, &from.display().to_string(), is_last)?;
    let dst = fs
        .open(to, OpenMode::CreateNew)
        .ctx(|| format!("creating {}", to.display()))?;
    dst.append(&data)
        .and_then(|()| dst.sync())
        .ctx(|| format!("writing {}", to.display()))
}

/// Copies `from` to the new file `to`, and syncs it.
fn copy_file(fs: &dyn FileSystem, from: &Path, to: &Path) -> Result<()> {
    let src = fs
        .open(from, OpenMode::Read)
        .ctx(|| format!("opening {}", from.display()))?;
    copy_from(fs, &*src, from, to)
}

/// Copies the open file `src` (named `from`) to the new file `to`, and syncs it.
fn copy_from(fs: &dyn FileSystem, src: &dyn FsFile, from: &Path, to: &Path) -> Result<()> {
    const CHUNK: u64 = 1 << 20;
    let len = src.len().ctx(|| format!("reading {}", from.display()))?;
    let dst = fs
        .open(to, OpenMode::CreateNew)
        .ctx(|| format!("creating {}", to.display()))?;
    let mut buf = vec![0u8; CHUNK.min(len) as usize];
    let mut at = 0;
    while at < len {
        let n = CHUNK.min(len - at) as usize;
        src.read_exact_at(&mut buf[..n], at)
            .ctx(|| format!("reading {}", from.display()))?;
        dst.append(&buf[..n])
            .ctx(|| format!("writing {}", to.display()))?;
        at += n as u64;
    }
    dst.sync().ctx(|| format!("syncing {}", to.display()))
}

impl Engine {
    /// Writes a consistent copy of the database as of one moment to `dest`, a
    /// directory that must not exist yet; writers go on meanwhile (they wait only for
    /// the moment of the capture: the log moving on to a new segment). Tables and the
    /// log segments the memtables need are hard-linked when `dest` is on the same file
    /// system (so a checkpoint costs little time and space until compaction replaces
    /// them), copied otherwise. The result opens as a normal database. A crash leaves
    /// either no `dest` or a complete one.
    pub fn checkpoint(&self, dest: impl AsRef<Path>) -> Result<()> {
        self.inner.copy_database(dest.as_ref(), Files::Link)
    }

    /// Like [`Engine::checkpoint`], but copies every file (no hard links): for a backup
    /// on another disk, or one that must not share files with the database.
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<()> {
        self.inner.copy_database(dest.as_ref(), Files::Copy)
    }
}
