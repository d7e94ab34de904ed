//! The exclusive lock on a data directory: one open engine per directory, in this
//! process or any other. With the real file system it is `flock` on `LOCK` (held by an
//! open file description, so a second open in the same process conflicts too, and a
//! killed owner's lock is released by the kernel).

use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::fs::FileSystem;

/// The lock file's name in a data directory.
pub(crate) const LOCK_FILE: &str = "LOCK";

pub(crate) struct DirLock {
    _guard: Box<dyn Send + Sync>,
}

impl DirLock {
    pub(crate) fn acquire(fs: &dyn FileSystem, dir: &Path) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        match fs
            .lock(&path)
            .ctx(|| format!("locking {}", path.display()))?
        {
            Some(guard) => Ok(DirLock { _guard: guard }),
            None => Err(Error::Locked(format!(
                "{} is in use by another open engine",
                dir.display()
            ))),
        }
    }
}
