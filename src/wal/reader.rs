//! Replays a log segment at open.
//!
//! A record that is short or fails its crc is a *torn tail* when it is in the last
//! segment and no valid record follows it anywhere after: the crash happened while it
//! was written. The segment is cut there and the dropped bytes reported (a read-only
//! instance leaves it: the writer may be writing that record now). Any other bad
//! record is a `Corruption` error naming the file and offset: data before the tail is
//! never skipped silently.

use std::path::Path;

use super::batch::WriteBatch;
use super::writer::RECORD_HEADER;
use crate::error::{Error, IoContext, Result};
use crate::fs::{FileSystem, OpenMode};
use crate::util::checksum::crc32_two;
use crate::util::coding::get_u32_at;

pub(crate) struct Replayed {
    /// `(first_seq, batch)` in log order.
    pub batches: Vec<(u64, WriteBatch)>,
    /// Bytes of a torn tail that were cut off (0 when the segment was whole).
    pub torn_bytes: u64,
}

/// The record at `pos`: its payload range, if it is whole and its crc matches.
fn valid_record_at(data: &[u8], pos: usize) -> Option<std::ops::Range<usize>> {
    let crc = get_u32_at(data, pos)?;
    let len = get_u32_at(data, pos + 4)? as usize;
    let start = pos + RECORD_HEADER;
    let end = start.checked_add(len)?;
    if len < 9 || end > data.len() {
        return None;
    }
    (crc32_two(&data[pos + 4..start], &data[start..end]) == crc).then_some(start..end)
}

/// What to do with a torn tail of the last segment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TornTail {
    /// Cut it off (the engine that owns the log, at open).
    Cut,
    /// Leave it (a read-only instance: the writer may be appending that record).
    Keep,
}

pub(crate) fn replay_segment(
    fs: &dyn FileSystem,
    path: &Path,
    is_last: bool,
    tail: TornTail,
) -> Result<Replayed> {
    let data = fs
        .read(path)
        .ctx(|| format!("reading WAL segment {}", path.display()))?;
    let name = path.display();
    let mut batches = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        match valid_record_at(&data, pos) {
            Some(payload) => {
                let end = payload.end;
                let batch = WriteBatch::decode(&data[payload]).ok_or_else(|| {
                    Error::corruption(
                        &name,
                        pos as u64,
                        "WAL record has a valid crc but a malformed batch",
                    )
                })?;
                batches.push(batch);
                pos = end;
            }
            None => {
                let later_valid =
                    (pos + 1..data.len()).any(|p| valid_record_at(&data, p).is_some());
                if !is_last || later_valid {
                    return Err(Error::corruption(
                        &name,
                        pos as u64,
                        "WAL record is damaged (bad length or crc) and is not a torn tail",
                    ));
                }
                let torn = (data.len() - pos) as u64;
                if tail == TornTail::Keep {
                    return Ok(Replayed {
                        batches,
                        torn_bytes: torn,
                    });
                }
                let f = fs
                    .open(path, OpenMode::Write)
                    .ctx(|| format!("opening {name} to cut a torn tail"))?;
                f.set_len(pos as u64)
                    .ctx(|| format!("cutting torn tail of {name}"))?;
                f.sync().ctx(|| format!("syncing {name}"))?;
                return Ok(Replayed {
                    batches,
                    torn_bytes: torn,
                });
            }
        }
    }
    Ok(Replayed {
        batches,
        torn_bytes: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::super::writer::frame_record;
    use super::super::Op;
    use super::*;
    use crate::Record;

    fn segment(n: usize) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut ends = Vec::new();
        for i in 0..n {
            let b = WriteBatch {
                ops: vec![Op::Put(Record::new(format!("k{i}"), i as i64, vec![7; 20]))],
            };
            frame_record(&mut out, |buf| b.encode(i as u64 + 1, buf));
            ends.push(out.len());
        }
        (out, ends)
    }

    #[test]
    fn every_truncation_of_the_last_record_recovers_the_ones_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal-000001.log");
        let (data, ends) = segment(3);
        for cut in ends[1]..=data.len() {
            std::fs::write(&path, &data[..cut]).unwrap();
            let r = replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut).unwrap();
            let want = if cut == data.len() { 3 } else { 2 };
            assert_eq!(r.batches.len(), want, "cut at {cut}");
            assert_eq!(
                std::fs::metadata(&path).unwrap().len() as usize,
                ends[want - 1]
            );
        }
    }

    #[test]
    fn damage_before_the_tail_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal-000001.log");
        let (mut data, ends) = segment(3);
        data[ends[0] + 10] ^= 1;
        std::fs::write(&path, &data).unwrap();
        let e = replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut)
            .err()
            .unwrap();
        assert!(
            matches!(e, Error::Corruption { offset, .. } if offset == ends[0] as u64),
            "{e}"
        );
        // Garbage or zeros after the last record are a torn tail.
        let (mut data, _) = segment(2);
        data.extend_from_slice(&[0u8; 100]);
        std::fs::write(&path, &data).unwrap();
        assert_eq!(
            replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut)
                .unwrap()
                .torn_bytes,
            100
        );
        // ...but not in a segment that is not the last.
        std::fs::write(&path, &data).unwrap();
        assert!(replay_segment(&crate::fs::OsFs, &path, false, TornTail::Cut).is_err());
    }
}
