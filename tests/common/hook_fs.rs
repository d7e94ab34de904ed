//! A file system over `FaultFs` that calls a test's hooks with a file's path: before
//! each file `sync` (to panic there, or to hold a background round at a known point)
//! and after each whole-file `read` (to change the database under a reader).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flowdb::fs::{FaultFs, FileSystem, FsFile, OpenMode};

/// What runs before a file's `sync` (it may panic or block).
pub type SyncHook = Arc<dyn Fn(&Path) + Send + Sync>;

pub struct HookFs {
    pub inner: FaultFs,
    pub on_sync: SyncHook,
    /// Called after `FileSystem::read` of a file has read it.
    pub on_read: SyncHook,
}

impl HookFs {
    /// Hooks before each `sync` only.
    pub fn on_sync(inner: &FaultFs, on_sync: SyncHook) -> HookFs {
        HookFs {
            inner: inner.clone(),
            on_sync,
            on_read: Arc::new(|_| {}),
        }
    }

    /// Hooks after each whole-file `read` only.
    pub fn on_read(inner: &FaultFs, on_read: SyncHook) -> HookFs {
        HookFs {
            inner: inner.clone(),
            on_sync: Arc::new(|_| {}),
            on_read,
        }
    }
}

struct HookFile {
    inner: Arc<dyn FsFile>,
    path: PathBuf,
    on_sync: SyncHook,
}

impl FsFile for HookFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.inner.read_exact_at(buf, offset)
    }
    fn append(&self, data: &[u8]) -> io::Result<()> {
        self.inner.append(data)
    }
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.inner.write_at(data, offset)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.inner.set_len(len)
    }
    fn sync(&self) -> io::Result<()> {
        (self.on_sync)(&self.path);
        self.inner.sync()
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
}

impl FileSystem for HookFs {
    fn is_dir(&self, path: &Path) -> Option<bool> {
        self.inner.is_dir(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn FsFile>> {
        Ok(Arc::new(HookFile {
            inner: self.inner.open(path, mode)?,
            path: path.to_path_buf(),
            on_sync: self.on_sync.clone(),
        }))
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        self.inner.remove(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Option<Box<dyn Send + Sync>>> {
        self.inner.lock(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let data = self.inner.read(path)?;
        (self.on_read)(path);
        Ok(data)
    }
}

/// Whether `path` names a log segment.
pub fn is_log(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "log")
}
