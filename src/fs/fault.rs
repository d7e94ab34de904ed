//! An in-memory file system for reliability tests: it tracks what was made durable,
//! and it can fail operations or crash.
//!
//! - **Durability model.** A file's contents are durable up to its last `sync` (bytes
//!   overwritten or cut since then may come back as they were before); a name
//!   (created, renamed or removed) is durable after the next `sync_dir`. Name changes
//!   since then are kept in order, so a crash can keep any prefix of them, as a
//!   journaling file system does.
//! - **Steps.** Every operation that changes state (append, set_len, sync, create,
//!   remove, rename, sync_dir) is one numbered step. [`FaultFs::crash_at`] makes step
//!   `n` and everything after it fail, as if the process died there; then
//!   [`FaultFs::restart`] gives the file system a machine would find after a kill or a
//!   power loss ([`CrashMode`]).
//! - **Faults.** [`FaultFs::inject`] fails chosen operations with EIO or ENOSPC (a
//!   failed append writes part of its data first, as a real short write does), and
//!   [`FaultFs::set_capacity`] makes the disk fill up.

mod plan;
mod restart;
mod state;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{FileSystem, FsFile, OpenMode};
use state::{crashed, rename_under, NameOp, Node, State};

pub use plan::{CrashMode, Fault, Injected, Op};

/// The in-memory, fault-injecting file system (see the module docs). Clones share it.
#[derive(Clone, Default)]
pub struct FaultFs {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FaultFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultFs").finish_non_exhaustive()
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} not found", path.display()),
    )
}

impl FaultFs {
    pub fn new() -> Self {
        Self::default()
    }

    /// State-changing operations done so far.
    pub fn steps(&self) -> u64 {
        self.state.lock().steps
    }

    /// Step `n` (counting from 0 since this file system was made) and all later
    /// operations fail, as if the process had died just before it.
    pub fn crash_at(&self, n: u64) {
        self.state.lock().crash_at = Some(n);
    }

    /// Crashes now.
    pub fn crash(&self) {
        self.state.lock().crashed = true;
    }

    pub fn has_crashed(&self) -> bool {
        self.state.lock().crashed
    }

    pub fn inject(&self, fault: Fault) {
        self.state.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// Bytes the live files may hold in all (`None`: unlimited). An append past it
    /// writes what fits and fails with ENOSPC.
    pub fn set_capacity(&self, bytes: Option<u64>) {
        self.state.lock().capacity = bytes;
    }

    /// A file's current contents (for tests that damage files).
    pub fn contents(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.state.lock();
        s.names.get(path).map(|id| s.nodes[*id].data.clone())
    }

    /// Replaces a file's contents, durably (for tests that damage files).
    pub fn set_contents(&self, path: &Path, data: Vec<u8>) {
        let mut s = self.state.lock();
        let id = match s.names.get(path) {
            Some(id) => *id,
            None => {
                s.nodes.push(Node::default());
                let id = s.nodes.len() - 1;
                s.names.insert(path.to_path_buf(), id);
                s.durable.insert(path.to_path_buf(), id);
                id
            }
        };
        s.nodes[id] = Node {
            synced: data.len(),
            data,
            cut_from: None,
            overwritten: false,
        };
    }

    /// The names of the files (for tests).
    pub fn files(&self) -> Vec<PathBuf> {
        self.state.lock().names.keys().cloned().collect()
    }
}

struct FaultFile {
    fs: FaultFs,
    id: usize,
    path: PathBuf,
}

impl FaultFile {
    /// Writes `data` at `at` (the end, for an append), one `Append` step: an injected
    /// fault lands part of it first, as a short write does, and the file grows by at
    /// most what the capacity leaves (a gap before `at` included), then `ENOSPC`.
    fn write(&self, s: &mut State, data: &[u8], at: usize) -> io::Result<()> {
        let grows = (at + data.len()).saturating_sub(s.nodes[self.id].data.len());
        let room = match s.capacity {
            Some(cap) => cap.saturating_sub(s.used()) as usize,
            None => usize::MAX,
        };
        let fits = data.len().saturating_sub(grows.saturating_sub(room));
        let (part, err) = match s.step(Op::Append, &self.path) {
            Err(e) if !s.crashed => ((data.len() / 2).min(fits), Some(e)),
            Err(e) => return Err(e),
            Ok(()) if fits < data.len() => (fits, Some(Injected::NoSpace.error())),
            Ok(()) => (data.len(), None),
        };
        s.nodes[self.id].overwrite(at, &data[..part]);
        err.map_or(Ok(()), Err)
    }
}

impl FsFile for FaultFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut s = self.fs.state.lock();
        s.step(Op::Read, &self.path)?;
        let data = &s.nodes[self.id].data;
        let start = offset as usize;
        match data.get(start..start + buf.len()) {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the file",
            )),
        }
    }

    fn append(&self, data: &[u8]) -> io::Result<()> {
        let mut s = self.fs.state.lock();
        let end = s.nodes[self.id].data.len();
        self.write(&mut s, data, end)
    }

    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let mut s = self.fs.state.lock();
        if data.is_empty() {
            // Writes nothing (the engine asks whether positioned writes work).
            return if s.crashed { Err(crashed()) } else { Ok(()) };
        }
        self.write(&mut s, data, offset as usize)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.fs.state.lock();
        s.step(Op::SetLen, &self.path)?;
        s.nodes[self.id].cut(len as usize);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut s = self.fs.state.lock();
        s.step(Op::Sync, &self.path)?;
        let node = &mut s.nodes[self.id];
        node.synced = node.data.len();
        node.cut_from = None;
        node.overwritten = false;
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        let s = self.fs.state.lock();
        if s.crashed {
            return Err(crashed());
        }
        Ok(s.nodes[self.id].data.len() as u64)
    }
}

impl FileSystem for FaultFs {
    fn is_dir(&self, path: &Path) -> Option<bool> {
        let s = self.state.lock();
        if s.dirs.contains(path) {
            Some(true)
        } else if s.names.contains_key(path) {
            Some(false)
        } else {
            None
        }
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.step(Op::Create, dir)?;
        s.dirs.insert(dir.to_path_buf());
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut s = self.state.lock();
        s.step(Op::Read, dir)?;
        Ok(s.names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect())
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn FsFile>> {
        let mut s = self.state.lock();
        let id = match mode {
            OpenMode::Read | OpenMode::Write => {
                s.step(Op::Read, path)?;
                *s.names.get(path).ok_or_else(|| not_found(path))?
            }
            OpenMode::CreateNew | OpenMode::Truncate => {
                s.step(Op::Create, path)?;
                if mode == OpenMode::CreateNew && s.names.contains_key(path) {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} exists", path.display()),
                    ));
                }
                s.nodes.push(Node::default());
                let id = s.nodes.len() - 1;
                s.link(path, id);
                id
            }
        };
        Ok(Arc::new(FaultFile {
            fs: self.clone(),
            id,
            path: path.to_path_buf(),
        }))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.step(Op::Remove, path)?;
        s.unlink(path).map(|_| ()).ok_or_else(|| not_found(path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.step(Op::Rename, from)?;
        if s.dirs.remove(from) {
            s.dirs.insert(to.to_path_buf());
            rename_under(&mut s.names, from, to);
            s.pending
                .push(NameOp::RenameDir(from.to_path_buf(), to.to_path_buf()));
            return Ok(());
        }
        let id = s.unlink(from).ok_or_else(|| not_found(from))?;
        s.link(to, id);
        Ok(())
    }

    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.step(Op::Create, to)?;
        let id = *s.names.get(from).ok_or_else(|| not_found(from))?;
        if s.names.contains_key(to) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists", to.display()),
            ));
        }
        s.link(to, id);
        Ok(())
    }

    fn remove_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.step(Op::Remove, dir)?;
        if s.names.keys().any(|p| p.parent() == Some(dir)) {
            return Err(io::Error::other(format!("{} is not empty", dir.display())));
        }
        s.dirs
            .remove(dir)
            .then_some(())
            .ok_or_else(|| not_found(dir))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state.lock();
        s.step(Op::SyncDir, dir)?;
        s.durable = s.names.clone();
        s.pending.clear();
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Option<Box<dyn Send + Sync>>> {
        let mut s = self.state.lock();
        s.step(Op::Read, path)?;
        if !s.locks.insert(path.to_path_buf()) {
            return Ok(None);
        }
        Ok(Some(Box::new(LockGuard {
            fs: self.clone(),
            path: path.to_path_buf(),
        })))
    }
}

struct LockGuard {
    fs: FaultFs,
    path: PathBuf,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.fs.state.lock().locks.remove(&self.path);
    }
}
