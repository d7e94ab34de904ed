//! Appends log records to the current segment and syncs it.
//!
//! ## Format (one log record)
//! `crc32: u32 LE` over the next two fields, `len: u32 LE`, `payload: len bytes`
//! (a [`WriteBatch`](super::WriteBatch)). Several batches of one commit group are
//! several records written by one write(2) call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{IoContext, Result};
use crate::fs::{FileSystem, FsFile, OpenMode};
use crate::util::checksum::crc32_two;

pub(crate) const RECORD_HEADER: usize = 8;

/// Appends one log record to `out` whose payload `write` appends: the payload is
/// written in place after room for the header, which is filled in afterwards (no
/// copy of the payload from a buffer of its own).
pub(crate) fn frame_record(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0; RECORD_HEADER]);
    write(out);
    let len = ((out.len() - at - RECORD_HEADER) as u32).to_le_bytes();
    let crc = crc32_two(&len, &out[at + RECORD_HEADER..]).to_le_bytes();
    out[at..at + 4].copy_from_slice(&crc);
    out[at + 4..at + RECORD_HEADER].copy_from_slice(&len);
}

pub(crate) struct WalWriter {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    file: Arc<dyn FsFile>,
    number: u64,
    size: u64,
    /// A failed append may have left a partial record; the next write starts a new segment.
    broken: bool,
}

impl WalWriter {
    /// Creates segment `number` (and, when `durable`, syncs the directory entry).
    pub(crate) fn create(
        fs: &Arc<dyn FileSystem>,
        dir: &Path,
        number: u64,
        durable: bool,
    ) -> Result<Self> {
        let path = super::segment_path(dir, number);
        let file = fs
            .open(&path, OpenMode::CreateNew)
            .ctx(|| format!("creating WAL segment {}", path.display()))?;
        if durable {
            sync_dir(fs.as_ref(), dir)?;
        }
        Ok(WalWriter {
            fs: fs.clone(),
            dir: dir.to_path_buf(),
            file,
            number,
            size: 0,
            broken: false,
        })
    }

    /// A writer with no segment, for a read-only instance (which never writes: its
    /// every write is refused before it gets here; this one fails them too).
    pub(crate) fn detached(fs: &Arc<dyn FileSystem>, dir: &Path) -> Self {
        WalWriter {
            fs: fs.clone(),
            dir: dir.to_path_buf(),
            file: Arc::new(NoFile),
            number: 0,
            size: 0,
            broken: false,
        }
    }

    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// After a failed sync: the bytes past `synced_len` may never reach the disk
    /// whole (the kernel may drop the dirty pages), so they are cut off, and the next
    /// write starts a new segment. Left in place, they could come back torn after a
    /// power loss in a segment that is no longer the last, which recovery must call
    /// corruption. The cut is retried at the rotation if it fails here.
    pub(crate) fn abandon_unsynced(&mut self, synced_len: u64) {
        self.broken = true;
        self.size = synced_len.min(self.size);
        let _ = self.cut();
    }

    fn cut(&self) -> Result<()> {
        self.file
            .set_len(self.size)
            .and_then(|()| self.file.sync())
            .ctx(|| format!("cutting WAL segment {} back", self.path().display()))
    }

    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Appends framed records with one write(2); on failure the segment is cut back
    /// to its last whole record (best effort) and marked broken.
    pub(crate) fn append(&mut self, framed: &[u8]) -> Result<()> {
        if let Err(e) = self.file.append(framed) {
            self.broken = true;
            let _ = self.file.set_len(self.size);
            return Err(e).ctx(|| format!("appending to WAL segment {}", self.path().display()));
        }
        self.size += framed.len() as u64;
        Ok(())
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        self.file
            .sync()
            .ctx(|| format!("syncing WAL segment {}", self.path().display()))
    }

    /// A second handle on the segment, for syncing without holding the writer.
    pub(crate) fn sync_handle(&self) -> Arc<dyn FsFile> {
        self.file.clone()
    }

    /// Continues in a new segment numbered `next`; the caller has synced this one
    /// (`Inner::rotate`, which handles a failure as any failed sync). A broken
    /// segment is first cut back to its last whole (or, after a failed sync, synced)
    /// record; if that fails, so does the rotation, and the write that needed it.
    pub(crate) fn rotate(&mut self, next: u64, durable: bool) -> Result<()> {
        if self.broken {
            self.cut()?;
        }
        *self = WalWriter::create(&self.fs.clone(), &self.dir.clone(), next, durable)?;
        Ok(())
    }

    fn path(&self) -> PathBuf {
        super::segment_path(&self.dir, self.number)
    }
}

/// The file of a detached writer: refuses every write.
struct NoFile;

impl NoFile {
    fn refused() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "a read-only instance has no log to write",
        )
    }
}

impl FsFile for NoFile {
    fn read_exact_at(&self, _: &mut [u8], _: u64) -> std::io::Result<()> {
        Err(Self::refused())
    }
    fn append(&self, _: &[u8]) -> std::io::Result<()> {
        Err(Self::refused())
    }
    fn set_len(&self, _: u64) -> std::io::Result<()> {
        Err(Self::refused())
    }
    fn sync(&self) -> std::io::Result<()> {
        Err(Self::refused())
    }
    fn len(&self) -> std::io::Result<u64> {
        Ok(0)
    }
}

/// fsyncs a directory so that created, renamed and deleted entries are durable.
pub(crate) fn sync_dir(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    fs.sync_dir(dir)
        .ctx(|| format!("syncing directory {}", dir.display()))
}
