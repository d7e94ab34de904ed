//! Checking every block of a table in one front-to-back pass, for `verify`.
//!
//! A format 2 table is a run of data blocks with each index partition written right
//! after the blocks it indexes, then the table's metadata. The top-level index (read
//! at open) says where every partition is, so the file can be read in stretches that
//! each end with a partition: every stretch brings its partitions and, before them,
//! the data blocks they name, all checked from memory. The reads run on a second
//! thread one stretch ahead of the checks, so the disk is kept busy while a stretch is
//! checked. Blocks found outside their stretch (a partition whose blocks are too far
//! apart to read at once) are checked afterwards with
//! [`check_blocks`].

use std::sync::{mpsc, Mutex};

use crate::error::{Error, IoContext, Result};
use crate::fs::FsFile;

use super::format::{block_end, check_blocks, check_framed, unframe, BlockHandle};
use super::props::{decode_index_handles, BlockMeta};

/// How the file is cut into stretches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stretches {
    /// The size a stretch grows to before it is read.
    pub target: u64,
    /// A partition whose stretch would be longer than this is read alone, its blocks
    /// after the pass.
    pub max_span: u64,
}

impl Stretches {
    /// 2 MiB reads (4 MiB measured slower: a longer first read before checks
    /// start); a partition whose blocks span over 64 MiB is read alone.
    pub(crate) const DEFAULT: Stretches = Stretches {
        target: 2 << 20,
        max_span: 64 << 20,
    };
}

/// What was checked: blocks and their bytes.
#[derive(Default)]
struct Tally {
    blocks: u64,
    bytes: u64,
}

impl Tally {
    fn add(&mut self, h: &BlockHandle) {
        self.blocks += 1;
        self.bytes += block_end(h) - h.offset;
    }
}

/// Checks the checksum of every block of a format 2 table: the partitions the top
/// level `top` names, every data block they name, and `others` (further blocks named
/// elsewhere, such as the key map). Returns the blocks and bytes checked.
pub(crate) fn check_partitioned(
    file: &dyn FsFile,
    name: &str,
    top: &[BlockMeta],
    others: &[BlockHandle],
    cut: Stretches,
) -> Result<(u64, u64)> {
    let ranges = stretches(name, top, cut)?;
    let mut tally = Tally::default();
    let mut later: Vec<BlockHandle> = others.to_vec();
    let mut parts = top.iter().peekable();
    read_ahead(file, name, &ranges, |start, buf| {
        let end = start + buf.len() as u64;
        while let Some(part) = parts.next_if(|p| block_end(&p.handle) <= end) {
            let h = part.handle;
            if h.offset < start {
                return Err(Error::Internal(format!(
                    "index partition at {} of {name} is outside its stretch",
                    h.offset
                )));
            }
            let framed = &buf[(h.offset - start) as usize..(block_end(&h) - start) as usize];
            check_framed(framed, name, h.offset)?;
            tally.add(&h);
            let blocks = decode_index_handles(&unframe(framed.to_vec(), name, h.offset)?)
                .filter(|b| b.len() == part.entries as usize)
                .ok_or_else(|| Error::corruption(name, h.offset, "malformed index partition"))?;
            for b in blocks {
                if b.offset >= start && block_end(&b) <= end {
                    let at = (b.offset - start) as usize;
                    check_framed(
                        &buf[at..at + (block_end(&b) - b.offset) as usize],
                        name,
                        b.offset,
                    )?;
                    tally.add(&b);
                } else {
                    later.push(b);
                }
            }
        }
        Ok(())
    })?;
    if parts.next().is_some() {
        return Err(Error::Internal(format!(
            "an index partition of {name} was not read"
        )));
    }
    later.sort_by_key(|h| h.offset);
    tally.bytes += check_blocks(file, name, &later)?;
    tally.blocks += later.len() as u64;
    Ok((tally.blocks, tally.bytes))
}

/// The stretches to read: each ends with a partition and starts where the last one
/// ended (the first at 0), and grows to `cut.target`; a partition whose stretch would
/// pass `cut.max_span` is read alone.
fn stretches(name: &str, top: &[BlockMeta], cut: Stretches) -> Result<Vec<(u64, u64)>> {
    let mut ranges = Vec::new();
    // The open stretch's start, and the end of its last partition.
    let (mut start, mut last) = (0u64, 0u64);
    for p in top {
        if p.handle.offset < last {
            return Err(Error::corruption(
                name,
                p.handle.offset,
                "index partitions out of order",
            ));
        }
        let end = block_end(&p.handle);
        if end - start > cut.max_span {
            if last > start {
                ranges.push((start, last));
            }
            ranges.push((p.handle.offset, end));
            (start, last) = (end, end);
            continue;
        }
        last = end;
        if last - start >= cut.target {
            ranges.push((start, last));
            start = last;
        }
    }
    if last > start {
        ranges.push((start, last));
    }
    Ok(ranges)
}

thread_local! {
    /// Read buffers kept between the tables one thread checks: fresh ones cost a
    /// page fault per page.
    static SPARE: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads `ranges` of `file` in order on a second thread, one range ahead of `each`,
/// which gets each range's offset and bytes. Stops at the first error of either.
fn read_ahead(
    file: &dyn FsFile,
    name: &str,
    ranges: &[(u64, u64)],
    mut each: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let spare = Mutex::new(SPARE.take());
    let checked = std::thread::scope(|s| {
        // Declared inside the scope, so it is dropped (and a blocked reader freed)
        // before the scope waits for the reader.
        let (full, filled) = mpsc::sync_channel::<Result<(u64, Vec<u8>)>>(1);
        let spare = &spare;
        s.spawn(move || {
            for &(start, end) in ranges {
                let mut buf = spare
                    .lock()
                    .ok()
                    .and_then(|mut v| v.pop())
                    .unwrap_or_default();
                buf.resize((end - start) as usize, 0);
                let read = file
                    .read_exact_at(&mut buf, start)
                    .ctx(|| format!("reading blocks at offsets {start}..{end} of {name}"));
                let failed = read.is_err();
                if full.send(read.map(|()| (start, buf))).is_err() || failed {
                    break;
                }
            }
        });
        for read in filled {
            let (start, buf) = read?;
            each(start, &buf)?;
            if let Ok(mut v) = spare.lock() {
                v.push(buf);
            }
        }
        Ok(())
    });
    SPARE.set(spare.into_inner().unwrap_or_default());
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(offset: u64, len: u32) -> BlockMeta {
        BlockMeta {
            first_key: Default::default(),
            first_ts: 0,
            last_key: Default::default(),
            last_ts: 0,
            handle: BlockHandle { offset, len },
            min_ts: 0,
            max_ts: 0,
            entries: 1,
            stats: None,
        }
    }

    const CUT: Stretches = Stretches {
        target: 4 << 20,
        max_span: 64 << 20,
    };

    #[test]
    fn stretches_end_with_partitions_and_cover_the_file() {
        let mb = 1u64 << 20;
        // Partitions every 1 MiB: four to a stretch.
        let top: Vec<BlockMeta> = (1..=10).map(|i| part(i * mb - 100, 95)).collect();
        let r = stretches("t", &top, CUT).unwrap();
        assert_eq!(r, vec![(0, 4 * mb), (4 * mb, 8 * mb), (8 * mb, 10 * mb)]);
    }

    #[test]
    fn a_partition_spanning_too_much_is_read_alone() {
        let mb = 1u64 << 20;
        let top = vec![
            part(mb - 100, 95),
            part(100 * mb - 100, 95),
            part(101 * mb - 100, 95),
        ];
        let r = stretches("t", &top, CUT).unwrap();
        assert_eq!(
            r,
            vec![(0, mb), (100 * mb - 100, 100 * mb), (100 * mb, 101 * mb)]
        );
    }

    #[test]
    fn partitions_out_of_order_are_damage() {
        let top = vec![part(1000, 95), part(500, 95)];
        let e = stretches("t", &top, CUT).unwrap_err();
        assert!(e.to_string().contains("out of order"), "{e}");
    }
}
