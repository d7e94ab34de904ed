//! The file system's in-memory state: file contents with their durable part, the
//! names and their changes since the last `sync_dir`, and the step counter that
//! crashes and injected faults hook into.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use super::plan::{Fault, Op};

#[derive(Clone, Default)]
pub(super) struct Node {
    pub(super) data: Vec<u8>,
    /// `data[..synced]` is durable,
    pub(super) synced: usize,
    /// unless a cut or an overwrite went below it: then the durable contents are these,
    pub(super) cut_from: Option<Vec<u8>>,
    /// and whether bytes were overwritten (a power loss may keep any prefix of them).
    pub(super) overwritten: bool,
}

impl Node {
    /// Keeps the durable contents before a change at `at` that goes below `synced`;
    /// `data[..synced]` stays what they hold there.
    fn unsync_from(&mut self, at: usize) {
        if at < self.synced {
            if self.cut_from.is_none() {
                self.cut_from = Some(self.data[..self.synced].to_vec());
            }
            self.synced = at;
        }
    }

    /// Cuts (or extends with zeros) the contents to `len` bytes.
    pub(super) fn cut(&mut self, len: usize) {
        self.unsync_from(len);
        self.data.resize(len, 0);
    }

    /// Writes `bytes` at `at` (a gap past the end reads as zeros).
    pub(super) fn overwrite(&mut self, at: usize, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if at < self.data.len() {
            self.unsync_from(at);
            self.overwritten |= self.cut_from.is_some();
        }
        let end = at + bytes.len();
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        self.data[at..end].copy_from_slice(bytes);
    }
}

#[derive(Clone, Debug)]
pub(super) enum NameOp {
    Link(PathBuf, usize),
    Unlink(PathBuf),
    /// A directory renamed with everything in it, in one step.
    RenameDir(PathBuf, PathBuf),
}

/// The names of `names` under `from`, moved under `to`.
pub(super) fn rename_under(names: &mut BTreeMap<PathBuf, usize>, from: &Path, to: &Path) {
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
pub(super) struct State {
    pub(super) nodes: Vec<Node>,
    pub(super) names: BTreeMap<PathBuf, usize>,
    pub(super) durable: BTreeMap<PathBuf, usize>,
    pub(super) pending: Vec<NameOp>,
    pub(super) dirs: HashSet<PathBuf>,
    pub(super) locks: HashSet<PathBuf>,
    pub(super) steps: u64,
    pub(super) crash_at: Option<u64>,
    pub(super) crashed: bool,
    pub(super) faults: Vec<Fault>,
    pub(super) capacity: Option<u64>,
}

pub(super) fn crashed() -> io::Error {
    io::Error::other("simulated crash: the process is gone")
}

impl State {
    /// Counts a step; fails it when the process has crashed or a fault matches.
    pub(super) fn step(&mut self, op: Op, path: &Path) -> io::Result<()> {
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

    pub(super) fn used(&self) -> u64 {
        let live: HashSet<usize> = self.names.values().copied().collect();
        live.iter().map(|i| self.nodes[*i].data.len() as u64).sum()
    }

    pub(super) fn link(&mut self, path: &Path, id: usize) {
        self.names.insert(path.to_path_buf(), id);
        self.pending.push(NameOp::Link(path.to_path_buf(), id));
    }

    pub(super) fn unlink(&mut self, path: &Path) -> Option<usize> {
        let id = self.names.remove(path)?;
        self.pending.push(NameOp::Unlink(path.to_path_buf()));
        Some(id)
    }
}
