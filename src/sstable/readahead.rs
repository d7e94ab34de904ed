//! Reading ahead for a walk over a table's blocks that the cache does not hold
//! (aggregation reading packed blocks into columns: cursor.rs, columns.rs): after
//! two misses on consecutive blocks, one read brings the blocks that follow too,
//! twice as many bytes each time up to 256 KiB, as RocksDB's automatic readahead
//! does for iterators. A read of one or two blocks (an hour of one series) reads
//! just them. Measured on a day of 1,000 series' points, one `pread` per block was
//! a quarter of the aggregation's time.

use super::format::{block_end, BlockHandle};
use crate::error::{IoContext, Result};
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
    /// The block asked for last.
    last: Option<u32>,
    /// How far the last read reached past its block (0: it read the block alone).
    size: u64,
}

impl ReadAhead {
    /// The framed bytes (payload and trailer) of block `i` at `h` in `file`: from the
    /// bytes read ahead when they hold it, otherwise read, with the blocks after it
    /// when the block before was asked for last. `extent(limit)` gives the end of the
    /// last block, from `i` on, that ends within `limit` bytes of `h.offset`.
    pub(crate) fn framed(
        &mut self,
        file: &dyn FsFile,
        name: &str,
        (i, h): (u32, BlockHandle),
        extent: impl FnOnce(u64) -> Result<u64>,
    ) -> Result<&[u8]> {
        let end = block_end(&h);
        let sequential = self.last.is_some_and(|l| l.checked_add(1) == Some(i));
        self.last = Some(i);
        let held = h.offset >= self.start && end <= self.start + self.buf.len() as u64;
        if !held {
            self.size = match sequential {
                true => (self.size * 2).clamp(FIRST, MAX),
                false => 0,
            };
            let to = match self.size {
                0 => end,
                n => extent(n)?.max(end),
            };
            self.buf.resize((to - h.offset) as usize, 0);
            file.read_exact_at(&mut self.buf, h.offset)
                .ctx(|| format!("reading blocks at offsets {}..{to} of {name}", h.offset))?;
            self.start = h.offset;
        }
        let at = (h.offset - self.start) as usize;
        Ok(&self.buf[at..at + (end - h.offset) as usize])
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    use super::*;
    use crate::sstable::format::TRAILER;

    /// A file in memory that counts its reads.
    struct Mem(Vec<u8>, AtomicUsize);

    impl FsFile for Mem {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
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
        let file = Mem((0..len).map(|o| o as u8).collect(), AtomicUsize::new(0));
        let extent = |i: usize, limit: u64| {
            let start = handles[i].offset;
            let ends = handles[i..].iter().map(block_end);
            Ok(ends
                .take_while(|&e| e - start <= limit)
                .last()
                .unwrap_or(start))
        };
        let mut ahead = ReadAhead::default();
        // In order: a few reads, not one per block.
        for (i, h) in handles.iter().enumerate() {
            let got = ahead
                .framed(&file, "t", (i as u32, *h), |l| extent(i, l))
                .unwrap();
            assert_eq!(got.len(), h.len as usize + TRAILER);
            assert!(got.iter().zip(h.offset..).all(|(&b, o)| b == o as u8));
        }
        let reads = file.1.swap(0, Relaxed);
        assert!(reads < 30, "{reads} reads for 400 blocks");
        // Out of order: each block alone, and still right.
        for _ in 0..200 {
            let i = rng.usize(..handles.len());
            let h = handles[i];
            let got = ahead
                .framed(&file, "t", (i as u32, h), |l| extent(i, l))
                .unwrap();
            assert!(got.iter().zip(h.offset..).all(|(&b, o)| b == o as u8));
        }
    }
}
