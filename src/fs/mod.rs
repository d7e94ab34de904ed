//! The file system, as the engine sees it: one narrow trait that every file operation
//! of the engine goes through. [`OsFs`] is the real one. `FaultFs` (with the cargo
//! feature `fault-injection`, which the tests and fuzzers enable; release builds leave
//! it out) keeps files in memory, remembers what was made durable, and can fail an
//! operation or simulate a crash or power loss at any step; the reliability tests use
//! it.
//!
//! The engine keeps one data directory, so paths are always `dir/name`. Files are
//! written at their end: tables and the manifest's temporary file by appends, log
//! segments by positioned writes at the records' end ([`FsFile::write_at`]), which
//! under `SyncMode::Always` land over zeros written ahead of them; a file is read
//! with positioned reads or whole.

#[cfg(feature = "fault-injection")]
mod fault;
mod os;

use std::io;
use std::path::Path;
use std::sync::Arc;

#[cfg(feature = "fault-injection")]
pub use fault::{CrashMode, Fault, FaultFs, Injected, Op};
pub use os::OsFs;

/// How [`FileSystem::open`] opens a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// An existing file, for reading.
    Read,
    /// An existing file, for reading, appending and `set_len`.
    Write,
    /// A new file for appending and positioned writes; fails when it exists.
    CreateNew,
    /// A file for appending, created or emptied.
    Truncate,
}

/// An open file.
pub trait FsFile: Send + Sync {
    /// Fills all of `buf` from `offset`, or fails; a short file is an
    /// `UnexpectedEof` error. `buf` may hold bytes of an earlier read (readers reuse
    /// their buffers): returning `Ok` with any of it unfilled hands those bytes on as
    /// this read's.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Appends all of `data` at the end of the file.
    fn append(&self, data: &[u8]) -> io::Result<()>;
    /// Writes all of `data` at `offset` (a positioned write; past the end, the gap
    /// reads as zeros). The engine uses it only on files opened with
    /// [`OpenMode::CreateNew`], and only when a write of no bytes at offset 0
    /// succeeds: file systems without positioned writes keep this default, which
    /// refuses, and the engine appends instead.
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let _ = (data, offset);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this file system has no positioned writes",
        ))
    }
    /// Cuts (or extends with zeros) the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// Makes the file's contents durable (fdatasync). Its name is durable only after
    /// [`FileSystem::sync_dir`].
    fn sync(&self) -> io::Result<()>;
    /// The file's size in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file holds no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// Everything the engine asks of a file system.
pub trait FileSystem: Send + Sync {
    /// Whether `path` is a directory (`None`: it does not exist).
    fn is_dir(&self, path: &Path) -> Option<bool>;
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the files in `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn FsFile>>;
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the names created, renamed and removed in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// A second name `to` for the file `from` (a hard link; durable after `sync_dir`).
    /// File systems without links say `Unsupported`; a checkpoint then copies.
    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        let _ = (from, to);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this file system has no hard links",
        ))
    }
    /// Removes the empty directory `dir`.
    fn remove_dir(&self, dir: &Path) -> io::Result<()> {
        let _ = dir;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this file system cannot remove directories",
        ))
    }
    /// Takes the exclusive lock `path`: `Ok(None)` when another owner holds it. The lock
    /// is held until the returned guard is dropped (or the process dies).
    fn lock(&self, path: &Path) -> io::Result<Option<Box<dyn Send + Sync>>>;

    /// The whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let f = self.open(path, OpenMode::Read)?;
        let mut buf = vec![0u8; f.len()? as usize];
        f.read_exact_at(&mut buf, 0)?;
        Ok(buf)
    }
}

/// Creates `dir` and any missing ancestors, and makes each new directory's entry
/// durable in its parent, so that files synced inside it do not vanish with it at a
/// power loss. The parents' syncs are best effort: a parent the process may write in
/// but not open for reading must not make the call fail.
pub(crate) fn create_dir_all_synced(fs: &dyn FileSystem, dir: &Path) -> io::Result<()> {
    // The directories this creates, deepest first.
    let created: Vec<&Path> = dir
        .ancestors()
        .filter(|d| !d.as_os_str().is_empty())
        .take_while(|d| fs.is_dir(d).is_none())
        .collect();
    fs.create_dir_all(dir)?;
    for d in created {
        let parent = match d.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let _ = fs.sync_dir(parent);
    }
    Ok(())
}

/// `std::io::Write` over a file's appends (for buffered writers).
pub(crate) struct Appender(pub Arc<dyn FsFile>);

impl io::Write for Appender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.append(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The file system the engine uses unless told otherwise.
pub fn os() -> Arc<dyn FileSystem> {
    Arc::new(OsFs)
}
