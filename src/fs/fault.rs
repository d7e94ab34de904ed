//! An in-memory file system for reliability tests: it tracks what was made durable,
//! and it can fail operations or crash.
//!
//! - **Durability model.** A file's contents are durable up to its last `sync`; a name
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

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{FileSystem, FsFile, OpenMode};

/// What survives a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// The process was killed: everything written survives (the kernel has it).
    Kill,
    /// Power loss: only what was synced survives.
    PowerLoss,
    /// Power loss where some unsynced work reached the disk anyway: a random prefix of
    /// the name changes, and of each file's unsynced bytes, of which the last few may
    /// be garbage or zeros. The seed picks.
    PowerLossTorn(u64),
}

/// An injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injected {
    /// EIO.
    Io,
    /// ENOSPC.
    NoSpace,
    /// ENOENT: the file went away (another process deleted it).
    NotFound,
}

impl Injected {
    fn error(self) -> io::Error {
        io::Error::from_raw_os_error(match self {
            Injected::Io => libc::EIO,
            Injected::NoSpace => libc::ENOSPC,
            Injected::NotFound => libc::ENOENT,
        })
    }
}

/// The kinds of operation a fault can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Append,
    SetLen,
    Sync,
    Create,
    Remove,
    Rename,
    SyncDir,
    Read,
}

/// Which operations to fail: those of kind `op` (any when `None`) on a file whose name
/// contains `name` (any when empty), after letting `skip` of them through, `times`
/// times (`u64::MAX`: until cleared).
#[derive(Clone, Debug)]
pub struct Fault {
    pub op: Option<Op>,
    pub name: String,
    pub skip: u64,
    pub times: u64,
    pub error: Injected,
}

#[derive(Clone, Default)]
struct Node {
    data: Vec<u8>,
    /// `data[..synced]` is durable,
    synced: usize,
    /// unless a cut went below it: then the durable contents are these.
    cut_from: Option<Vec<u8>>,
}

#[derive(Clone, Debug)]
enum NameOp {
    Link(PathBuf, usize),
    Unlink(PathBuf),
    /// A directory renamed with everything in it, in one step.
    RenameDir(PathBuf, PathBuf),
}

/// The names of `names` under `from`, moved under `to`.
fn rename_under(names: &mut BTreeMap<PathBuf, usize>, from: &Path, to: &Path) {
    let moved: Vec<PathBuf> = names
        .keys()
        .filter(|p| p.starts_with(from))
        .cloned()
        .collect();
    for p in moved {
        let id = names.remove(&p).expect("listed above");
        let rest = p.strip_prefix(from).expect("filtered above");
        names.insert(to.join(rest), id);
    }
}

#[derive(Default)]
struct State {
    nodes: Vec<Node>,
    names: BTreeMap<PathBuf, usize>,
    durable: BTreeMap<PathBuf, usize>,
    pending: Vec<NameOp>,
    dirs: HashSet<PathBuf>,
    locks: HashSet<PathBuf>,
    steps: u64,
    crash_at: Option<u64>,
    crashed: bool,
    faults: Vec<Fault>,
    capacity: Option<u64>,
}

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

fn crashed() -> io::Error {
    io::Error::other("simulated crash: the process is gone")
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} not found", path.display()),
    )
}

impl State {
    /// Counts a step; fails it when the process has crashed or a fault matches.
    fn step(&mut self, op: Op, path: &Path) -> io::Result<()> {
        if self.crashed {
            return Err(crashed());
        }
        if op != Op::Read {
            if self.crash_at == Some(self.steps) {
                self.crashed = true;
                return Err(crashed());
            }
            self.steps += 1;
        }
        let name = path.to_string_lossy();
        for f in self.faults.iter_mut() {
            if f.op.is_some_and(|o| o != op) || !name.contains(f.name.as_str()) || f.times == 0 {
                continue;
            }
            if f.skip > 0 {
                f.skip -= 1;
                continue;
            }
            f.times = f.times.saturating_sub(u64::from(f.times != u64::MAX));
            return Err(f.error.error());
        }
        Ok(())
    }

    fn used(&self) -> u64 {
        let live: HashSet<usize> = self.names.values().copied().collect();
        live.iter().map(|i| self.nodes[*i].data.len() as u64).sum()
    }

    fn link(&mut self, path: &Path, id: usize) {
        self.names.insert(path.to_path_buf(), id);
        self.pending.push(NameOp::Link(path.to_path_buf(), id));
    }

    fn unlink(&mut self, path: &Path) -> Option<usize> {
        let id = self.names.remove(path)?;
        self.pending.push(NameOp::Unlink(path.to_path_buf()));
        Some(id)
    }
}

/// A tiny deterministic generator (xorshift64*), so a crash replays from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
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

    /// The file system as a machine finds it after the crash: durable state per
    /// `mode`, no locks held, no faults. This file system stays crashed.
    pub fn restart(&self, mode: CrashMode) -> FaultFs {
        let mut s = self.state.lock();
        s.crashed = true;
        let mut rng = Rng(match mode {
            CrashMode::PowerLossTorn(seed) => seed.wrapping_mul(2).wrapping_add(1),
            _ => 1,
        });
        let names = match mode {
            CrashMode::Kill => s.names.clone(),
            CrashMode::PowerLoss => s.durable.clone(),
            CrashMode::PowerLossTorn(_) => {
                let mut names = s.durable.clone();
                let keep = rng.below(s.pending.len() + 1);
                for op in &s.pending[..keep] {
                    match op {
                        NameOp::Link(p, id) => drop(names.insert(p.clone(), *id)),
                        NameOp::Unlink(p) => drop(names.remove(p)),
                        NameOp::RenameDir(from, to) => rename_under(&mut names, from, to),
                    };
                }
                names
            }
        };
        // Directories renamed by a step the crash lost are back under their old names.
        let kept = match mode {
            CrashMode::Kill => s.pending.len(),
            _ => 0,
        };
        let mut dirs = s.dirs.clone();
        for op in s.pending[kept..].iter().rev() {
            if let NameOp::RenameDir(from, to) = op {
                if !names.keys().any(|p| p.starts_with(to)) {
                    dirs.remove(to);
                    dirs.insert(from.clone());
                }
            }
        }
        let mut next = State {
            dirs,
            ..State::default()
        };
        let mut ids = BTreeMap::new();
        for (path, id) in names {
            let new_id = *ids.entry(id).or_insert_with(|| {
                let node = &s.nodes[id];
                let data = match mode {
                    CrashMode::Kill => node.data.clone(),
                    CrashMode::PowerLoss => durable_data(node),
                    CrashMode::PowerLossTorn(_) => torn_data(node, &mut rng),
                };
                next.nodes.push(Node {
                    synced: data.len(),
                    data,
                    cut_from: None,
                });
                next.nodes.len() - 1
            });
            next.names.insert(path, new_id);
        }
        next.durable = next.names.clone();
        FaultFs {
            state: Arc::new(Mutex::new(next)),
        }
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
        };
    }

    /// The names of the files (for tests).
    pub fn files(&self) -> Vec<PathBuf> {
        self.state.lock().names.keys().cloned().collect()
    }
}

fn durable_data(node: &Node) -> Vec<u8> {
    match &node.cut_from {
        Some(old) => old.clone(),
        None => node.data[..node.synced].to_vec(),
    }
}

fn torn_data(node: &Node, rng: &mut Rng) -> Vec<u8> {
    if node.cut_from.is_some() {
        // The cut, or the contents from before it.
        return if rng.below(2) == 0 {
            durable_data(node)
        } else {
            node.data.clone()
        };
    }
    let extra = node.data.len() - node.synced;
    let keep = node.synced + rng.below(extra + 1);
    let mut data = node.data[..keep].to_vec();
    if keep > node.synced && rng.below(3) == 0 {
        // The last sector or so of what reached the disk is not what was written.
        let bad = 1 + rng.below((keep - node.synced).min(512));
        let zeros = rng.below(2) == 0;
        for b in &mut data[keep - bad..] {
            *b = if zeros { 0 } else { rng.below(256) as u8 };
        }
    }
    data
}

struct FaultFile {
    fs: FaultFs,
    id: usize,
    path: PathBuf,
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
        let room = match s.capacity {
            Some(cap) => cap.saturating_sub(s.used()) as usize,
            None => usize::MAX,
        };
        if let Err(e) = s.step(Op::Append, &self.path) {
            if !s.crashed {
                // A short write: part of the data lands before the error.
                let part = (data.len() / 2).min(room);
                s.nodes[self.id].data.extend_from_slice(&data[..part]);
            }
            return Err(e);
        }
        if data.len() > room {
            s.nodes[self.id].data.extend_from_slice(&data[..room]);
            return Err(Injected::NoSpace.error());
        }
        s.nodes[self.id].data.extend_from_slice(data);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.fs.state.lock();
        s.step(Op::SetLen, &self.path)?;
        let node = &mut s.nodes[self.id];
        let len = len as usize;
        if len < node.synced && node.cut_from.is_none() {
            node.cut_from = Some(node.data[..node.synced].to_vec());
            node.synced = len;
        }
        node.data.resize(len, 0);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut s = self.fs.state.lock();
        s.step(Op::Sync, &self.path)?;
        let node = &mut s.nodes[self.id];
        node.synced = node.data.len();
        node.cut_from = None;
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
