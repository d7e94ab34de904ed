//! Appends log records to the current segment and syncs it.
//!
//! ## Format (one log record)
//! `crc32: u32 LE` over the next two fields, `len: u32 LE`, `payload: len bytes`
//! (a [`WriteBatch`](super::WriteBatch)). Several batches of one commit group are
//! several records written by one pwrite(2) call (under `SyncMode::Always`, over
//! zeros written ahead: see [`WalWriter::prefill`]).

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

/// Zeros written ahead of the records when prefilling (see [`WalWriter::prefill`]).
const PREFILL: u64 = 1 << 20;

pub(crate) struct WalWriter {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    file: Arc<dyn FsFile>,
    number: u64,
    /// Where the records end (the next one starts here).
    size: u64,
    /// Where the file ends: past `size` when zeros were written ahead.
    filled: u64,
    /// Whether to write zeros ahead of the records in this segment (see
    /// [`WalWriter::prefill`]): off for the rest of it after zeros failed to fit,
    prefill: bool,
    /// and whether the next segment is to.
    prefill_wanted: bool,
    /// Whether the file takes positioned writes (one pwrite(2) a group, where an
    /// append at the end would ask for the file's length first).
    positioned: bool,
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
            filled: 0,
            prefill: false,
            prefill_wanted: false,
            positioned: false,
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
            filled: 0,
            prefill: false,
            prefill_wanted: false,
            positioned: false,
            broken: false,
        }
    }

    /// Whether to write zeros ahead of the records, [`PREFILL`] bytes at a time, so
    /// that each record overwrites blocks the file already has (for the engine under
    /// `SyncMode::Always`, which syncs after every group). An fdatasync after an
    /// append must also commit the file's new size through the file system's journal;
    /// after an overwrite it writes the data alone: on ext4 here a group of 16–40 KB
    /// synced in 115–165 µs against 185–300 µs appended (docs/benchmarks.md). SQLite's
    /// WAL gains the same by reusing its file, RocksDB's by recycling log files.
    /// Recovery stops at the zeros (reader.rs); the segment is cut back to its records
    /// when the log moves on, when the writer is dropped, and at the next open. A file
    /// system without positioned writes ([`FsFile::write_at`]) appends instead.
    pub(crate) fn prefill(&mut self, on: bool) {
        self.prefill_wanted = on;
        self.positioned = self.file.write_at(&[], self.size).is_ok();
        self.prefill = on && self.positioned;
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

    fn cut(&mut self) -> Result<()> {
        self.file
            .set_len(self.size)
            .and_then(|()| self.file.sync())
            .ctx(|| format!("cutting WAL segment {} back", self.path().display()))?;
        self.filled = self.size;
        Ok(())
    }

    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Writes framed records at the records' end with one pwrite(2) (after zeros, when
    /// they are due); on failure the segment is cut back to its last whole record
    /// (best effort) and marked broken.
    pub(crate) fn append(&mut self, framed: &[u8]) -> Result<()> {
        let written = self.zeros_ahead(framed.len() as u64).and_then(|()| {
            if self.positioned {
                self.file.write_at(framed, self.size)
            } else {
                self.file.append(framed)
            }
        });
        if let Err(e) = written {
            self.broken = true;
            if self.file.set_len(self.size).is_ok() {
                self.filled = self.size;
            }
            return Err(e).ctx(|| format!("appending to WAL segment {}", self.path().display()));
        }
        self.size += framed.len() as u64;
        self.filled = self.filled.max(self.size);
        Ok(())
    }

    /// When prefilling and a group of `len` bytes would reach past the zeros written
    /// so far: writes [`PREFILL`] more zeros past where it will end. When they do not
    /// fit (a nearly full disk), they are cut off again and this segment goes on
    /// without them.
    fn zeros_ahead(&mut self, len: u64) -> std::io::Result<()> {
        let end = self.size + len;
        // A group of a quarter of the zeros or more is written past them as is: its
        // sync's commit of the new size costs little beside its data, and zeros
        // written for every such group would double what its sync writes.
        if !self.prefill || end <= self.filled || len >= PREFILL / 4 {
            return Ok(());
        }
        match self.write_zeros(end, end + PREFILL) {
            Ok(()) => self.filled = end + PREFILL,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
                self.file.set_len(self.size)?;
                self.filled = self.size;
                self.prefill = false;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn write_zeros(&self, mut at: u64, to: u64) -> std::io::Result<()> {
        static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
        while at < to {
            let n = (to - at).min(ZEROS.len() as u64);
            self.file.write_at(&ZEROS[..n as usize], at)?;
            at += n;
        }
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
    ///
    /// Zeros written ahead are cut off first (and the cut synced), so that only the
    /// last segment can end in zeros; if that fails the segment counts as broken, and
    /// the next write tries the rotation again.
    pub(crate) fn rotate(&mut self, next: u64, durable: bool) -> Result<()> {
        if self.broken || self.filled > self.size {
            if let Err(e) = self.cut() {
                self.broken = true;
                return Err(e);
            }
        }
        // A failure leaves this segment broken: no group may follow a new segment's
        // file (the next rotation tries again, past it).
        let mut fresh = WalWriter::create(&self.fs.clone(), &self.dir.clone(), next, durable)
            .inspect_err(|_| self.broken = true)?;
        fresh.prefill(self.prefill_wanted);
        *self = fresh;
        Ok(())
    }

    fn path(&self) -> PathBuf {
        super::segment_path(&self.dir, self.number)
    }
}

impl Drop for WalWriter {
    /// Cuts off zeros written ahead, so that a closed database's log ends at its last
    /// record (not synced: left in place by a crash, they are cut at the next open).
    fn drop(&mut self) {
        if self.filled > self.size {
            let _ = self.file.set_len(self.size);
        }
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

#[cfg(test)]
mod tests {
    use super::super::{replay_segment, segment_path, Op, TornTail, WriteBatch};
    use super::*;
    use crate::fs::OsFs;
    use crate::Record;

    fn record(seq: u64) -> Vec<u8> {
        let b = WriteBatch {
            ops: vec![Op::Put(Record::new("k", seq as i64, vec![7; 100]))],
        };
        let mut out = Vec::new();
        frame_record(&mut out, |buf| b.encode(seq, buf));
        out
    }

    /// A writer of segment 1 in `dir` on the real file system.
    fn segment_one(dir: &Path, prefill: bool) -> (Arc<dyn FileSystem>, WalWriter) {
        let fs: Arc<dyn FileSystem> = Arc::new(OsFs);
        let mut w = WalWriter::create(&fs, dir, 1, false).unwrap();
        w.prefill(prefill);
        (fs, w)
    }

    fn file_len(dir: &Path, n: u64) -> u64 {
        std::fs::metadata(segment_path(dir, n)).unwrap().len()
    }

    #[test]
    fn zeros_written_ahead_end_the_log_and_are_cut_when_it_moves_on() {
        let dir = tempfile::tempdir().unwrap();
        let (fs, mut w) = segment_one(dir.path(), true);
        for seq in 1..=3 {
            w.append(&record(seq)).unwrap();
        }
        w.sync().unwrap();
        let size = w.size();
        // Written once, after the first record; the next two overwrote them.
        let first = record(1).len() as u64;
        assert_eq!(file_len(dir.path(), 1), first + PREFILL, "zeros ahead");
        // Replayed as the live segment: every record, nothing torn, nothing cut.
        let path = segment_path(dir.path(), 1);
        let r = replay_segment(fs.as_ref(), &path, true, TornTail::Keep).unwrap();
        assert_eq!((r.batches.len(), r.torn_bytes), (3, 0));
        assert_eq!(file_len(dir.path(), 1), first + PREFILL);
        // A segment the log moved past ends at its last record.
        w.rotate(2, false).unwrap();
        assert_eq!(file_len(dir.path(), 1), size);
        w.append(&record(4)).unwrap();
        assert!(
            file_len(dir.path(), 2) > w.size(),
            "the next one is prefilled too"
        );
        let size = w.size();
        drop(w);
        assert_eq!(file_len(dir.path(), 2), size, "cut when dropped");
        let r = replay_segment(
            fs.as_ref(),
            &segment_path(dir.path(), 2),
            true,
            TornTail::Cut,
        );
        assert_eq!(r.unwrap().batches.len(), 1);
    }

    #[test]
    fn a_group_past_the_zeros_written_gets_more_zeros_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut w) = segment_one(dir.path(), true);
        w.append(&record(1)).unwrap();
        // Not records: only lengths are checked here. The sixth reaches past the
        // zeros written after the first record.
        for _ in 0..6 {
            w.append(&vec![1u8; 200_000]).unwrap();
        }
        assert_eq!(file_len(dir.path(), 1), w.size() + PREFILL);
        let on_disk = std::fs::read(segment_path(dir.path(), 1)).unwrap();
        assert_eq!(&on_disk[..record(1).len()], &record(1)[..]);
        assert!(on_disk[w.size() as usize..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_large_group_is_written_without_zeros_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut w) = segment_one(dir.path(), true);
        w.append(&vec![1u8; PREFILL as usize / 4]).unwrap();
        assert_eq!(file_len(dir.path(), 1), w.size());
        w.append(&record(1)).unwrap();
        assert_eq!(file_len(dir.path(), 1), w.size() + PREFILL);
    }

    #[test]
    fn without_prefill_the_file_ends_at_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut w) = segment_one(dir.path(), false);
        w.append(&record(1)).unwrap();
        assert_eq!(file_len(dir.path(), 1), w.size());
    }
}
