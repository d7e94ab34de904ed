//! Reading ahead for a walk over a table's blocks that the cache does not hold
//! (aggregation reading packed blocks into columns: cursor.rs, columns.rs). From the
//! third block in a row on, a walk *streams*: each read brings the blocks that follow
//! too, twice as many bytes each time from 16 KiB up to 256 KiB (as RocksDB's
//! automatic readahead does for iterators), and what it reads is not cached (as
//! RocksDB's `fill_cache = false` for long scans), so a long aggregation neither pays
//! a read per block nor pushes out what other reads cached. A read of one or two
//! blocks (an hour of one series) goes through the cache as any read. Measured on a
//! day of 1,000 series' points, one `pread` per block was a quarter of the
//! aggregation's time.

use super::format::{block_end, BlockHandle};
use crate::error::{Error, IoContext, Result};
use crate::fs::FsFile;

/// The first read ahead, and the largest.
const FIRST: u64 = 16 << 10;
const MAX: u64 = 256 << 10;

/// File bytes read ahead for one cursor.
#[derive(Default)]
pub(crate) struct ReadAhead {
    /// The file offset of `buf[0]`.
    start: u64,
    buf: Vec<u8>,
    /// The block asked for last, and how many blocks in a row end with it.
    last: Option<u32>,
    run: u32,
    /// How far the last read reached (0: none yet in this run).
    size: u64,
}

impl ReadAhead {
    /// Notes that block `i` is asked for; true when the walk streams (the third
    /// consecutive block or later): read it with [`framed`](Self::framed), not
    /// through the cache.
    pub(crate) fn streaming(&mut self, i: u32) -> bool {
        let next = self.last.and_then(|l| l.checked_add(1)) == Some(i);
        self.run = if next { self.run + 1 } else { 1 };
        self.last = Some(i);
        if self.run < 3 {
            self.size = 0;
        }
        self.run >= 3
    }

    /// The framed bytes (payload and trailer) of block `i` at `h` in `file`, in a
    /// streaming walk: from the bytes read ahead when they hold it, otherwise read
    /// with the blocks after it. `extent(limit)` gives the end of the last block,
    /// from `i` on, that ends within `limit` bytes of `h.offset`.
    pub(crate) fn framed(
        &mut self,
        file: &dyn FsFile,
        name: &str,
        h: BlockHandle,
        extent: impl FnOnce(u64) -> Result<u64>,
    ) -> Result<&[u8]> {
        let end = block_end(&h);
        let held = h.offset >= self.start && end <= self.start + self.buf.len() as u64;
        if !held {
            self.size = (self.size * 2).clamp(FIRST, MAX);
            let to = extent(self.size)?.max(end);
            // A damaged index's handle: an error, not a huge buffer or a panic (one
            // `fstat` per read ahead, not per block).
            let size = file.len().ctx(|| format!("reading the size of {name}"))?;
            let len = usize::try_from(to - h.offset)
                .ok()
                .filter(|_| to <= size && end != u64::MAX)
                .ok_or_else(|| {
                    Error::corruption(name, h.offset, "block handle past the end of the file")
                })?;
            // Nothing is held until the read succeeds (a failed one leaves no bytes
            // marked as another offset's).
            self.buf.clear();
            self.buf.resize(len, 0);
            file.read_exact_at(&mut self.buf, h.offset)
                .ctx(|| format!("reading blocks at offsets {}..{to} of {name}", h.offset))
                .inspect_err(|_| self.buf.clear())?;
            self.start = h.offset;
        }
        let at = (h.offset - self.start) as usize;
        Ok(&self.buf[at..at + (end - h.offset) as usize])
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

    use super::*;
    use crate::sstable::format::TRAILER;

    /// A file in memory that counts its reads, and fails them while `failing`.
    struct Mem(Vec<u8>, AtomicUsize, AtomicBool);

    impl Mem {
        fn new(bytes: Vec<u8>) -> Mem {
            Mem(bytes, AtomicUsize::new(0), AtomicBool::new(false))
        }
    }

    impl FsFile for Mem {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            if self.2.load(Relaxed) {
                return Err(io::ErrorKind::Other.into());
            }
            self.1.fetch_add(1, Relaxed);
            let at = offset as usize;
            let src = self
                .0
                .get(at..at + buf.len())
                .ok_or(io::ErrorKind::UnexpectedEof)?;
            buf.copy_from_slice(src);
            Ok(())
        }
        fn append(&self, _: &[u8]) -> io::Result<()> {
            unreachable!()
        }
        fn set_len(&self, _: u64) -> io::Result<()> {
            unreachable!()
        }
        fn sync(&self) -> io::Result<()> {
            Ok(())
        }
        fn len(&self) -> io::Result<u64> {
            Ok(self.0.len() as u64)
        }
    }

    #[test]
    fn blocks_read_ahead_are_the_blocks() {
        let mut rng = crate::util::test_rng("blocks_read_ahead_are_the_blocks");
        // 400 blocks of 100 bytes to 3 KiB, each byte its offset's low byte.
        let mut handles = Vec::new();
        let mut len = 0u64;
        for _ in 0..400 {
            let n = rng.u32(100..3000);
            handles.push(BlockHandle {
                offset: len,
                len: n,
            });
            len += u64::from(n) + TRAILER as u64;
        }
        let file = Mem::new((0..len).map(|o| o as u8).collect());
        let extent = |i: usize, limit: u64| {
            let start = handles[i].offset;
            let ends = handles[i..].iter().map(block_end);
            Ok(ends
                .take_while(|&e| e - start <= limit)
                .last()
                .unwrap_or(start))
        };
        let mut ahead = ReadAhead::default();
        // In order: the first two blocks through the cache, the rest streamed in a
        // few reads, not one per block.
        for (i, h) in handles.iter().enumerate() {
            assert_eq!(ahead.streaming(i as u32), i >= 2);
            if i < 2 {
                continue;
            }
            let got = ahead.framed(&file, "t", *h, |l| extent(i, l)).unwrap();
            assert_eq!(got.len(), h.len as usize + TRAILER);
            assert!(got.iter().zip(h.offset..).all(|(&b, o)| b == o as u8));
        }
        let reads = file.1.swap(0, Relaxed);
        assert!(reads < 30, "{reads} reads for 400 blocks");
        // Out of order: nothing streams; and any block read is right.
        for _ in 0..200 {
            let i = rng.usize(2..handles.len());
            assert!(!ahead.streaming(i as u32 + 1000));
            let h = handles[i];
            let got = ahead.framed(&file, "t", h, |l| extent(i, l)).unwrap();
            assert!(got.iter().zip(h.offset..).all(|(&b, o)| b == o as u8));
        }
    }

    /// A read that fails leaves nothing held: a later block within the failed
    /// read's span is read again, not served from a buffer holding other bytes.
    #[test]
    fn a_failed_read_holds_nothing() {
        let bytes = (0..4000u64).map(|o| o as u8 | 1).collect();
        let file = Mem::new(bytes);
        let at = |offset, len| BlockHandle { offset, len };
        let mut ahead = ReadAhead::default();
        let first = at(0, 100);
        ahead
            .framed(&file, "t", first, |_| Ok(block_end(&first)))
            .unwrap();
        file.2.store(true, Relaxed);
        let far = at(1000, 100);
        assert!(ahead.framed(&file, "t", far, |_| Ok(3000)).is_err());
        file.2.store(false, Relaxed);
        let inside = at(200, 100);
        let got = ahead
            .framed(&file, "t", inside, |_| Ok(block_end(&inside)))
            .unwrap();
        assert!(got.iter().zip(200u64..).all(|(&b, o)| b == o as u8 | 1));
    }

    #[test]
    fn damaged_handles_are_errors() {
        let file = Mem::new(vec![0; 1000]);
        let mut ahead = ReadAhead::default();
        for (offset, len) in [(u64::MAX - 2, 10), (900, 500), (u64::MAX / 2, u32::MAX)] {
            let h = BlockHandle { offset, len };
            assert!(ahead.framed(&file, "t", h, |_| Ok(u64::MAX)).is_err());
            assert!(ahead.framed(&file, "t", h, |_| Ok(0)).is_err());
        }
    }
}
