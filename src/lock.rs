//! The exclusive lock on a data directory: one open engine per directory, in this
//! process or any other. `flock` on `LOCK` (held by an open file description, so a
//! second open in the same process conflicts too, and a killed owner's lock is
//! released by the kernel).

use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::Path;

use crate::error::{Error, IoContext, Result};

pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .ctx(|| format!("opening lock file {}", path.display()))?;
        // SAFETY: flock on a valid, owned file descriptor.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(Error::Locked(format!(
                    "{} is in use by another open engine",
                    dir.display()
                )));
            }
            return Err(err).ctx(|| format!("locking {}", path.display()));
        }
        Ok(DirLock { _file: file })
    }
}
