//! Replays a log segment at open.
//!
//! A record that is short or fails its crc is a *torn tail* when it is in the last
//! segment and no later sync mark (marker.rs) states the bytes it lies in synced: the
//! crash came before they were durable, and pages may reach the disk in any order
//! before an fsync, so whole records may follow the damage. The segment is cut there
//! (the records after it go too: they were written later and never synced) and the
//! dropped bytes reported (a read-only instance leaves it: the writer may be writing
//! that record now). Damage in synced bytes, or anywhere in a segment that is not the
//! last (each was synced whole before the next began), is a `Corruption` error naming
//! the file and offset: data is never skipped silently.
//!
//! (Segments written before sync marks have none: damage in their last segment is a
//! torn tail wherever it is, as SQLite's and RocksDB's default recovery treat it.)
//!
//! The last segment may end in zeros written ahead of its records (writer.rs,
//! `WalWriter::prefill`): the log ends at the first zero bytes that run to the end of
//! the file, which are cut off like a torn tail but not counted as one. The engine
//! that owns the log syncs its last segment at open whether or not it cut anything (a
//! dropped writer's cut of its zeros was not synced). A reader beside a live writer
//! reads damage in the last segment again before it counts (see `replay_segment`).

use std::path::Path;

use super::batch::WriteBatch;
use super::marker::decode_mark;
use super::writer::RECORD_HEADER;
use crate::error::{Error, IoContext, Result};
use crate::fs::{FileSystem, OpenMode};
use crate::util::checksum::crc32_two;
use crate::util::coding::get_u32_at;

pub(crate) struct Replayed {
    /// `(first_seq, batch)` in log order.
    pub batches: Vec<(u64, WriteBatch)>,
    /// Bytes of a torn tail that were cut off (0 when the segment was whole or ended
    /// in zeros).
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

/// Whether a sync mark after `pos` states the segment synced past `pos`.
/// (Searched byte by byte past damage, record by record past whole records.)
fn synced_past(data: &[u8], pos: usize) -> bool {
    let mut p = pos + 1;
    while p < data.len() {
        match valid_record_at(data, p) {
            Some(payload) => {
                if decode_mark(&data[payload.clone()]).is_some_and(|n| n > pos as u64) {
                    return true;
                }
                p = payload.end;
            }
            None => p += 1,
        }
    }
    false
}

pub(crate) fn replay_segment(
    fs: &dyn FileSystem,
    path: &Path,
    is_last: bool,
    tail: TornTail,
) -> Result<Replayed> {
    let name = path.display().to_string();
    let read = || {
        fs.read(path)
            .ctx(|| format!("reading WAL segment {}", path.display()))
    };
    let mut data = read()?;
    let mut parsed = parse(&data, &name, is_last);
    // A reader beside a live writer (`Keep`) can read its last segment while a group
    // lands in the zeros written ahead: a read(2) copies page by page, so it may see
    // a later group (whose mark states earlier bytes synced) but not the one before
    // it. Damage that a second read does not show again was such a group.
    for _ in 0..3 {
        if !(tail == TornTail::Keep && is_last && parsed.is_err()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        data = read()?;
        parsed = parse(&data, &name, is_last);
    }
    let Parsed { batches, end, torn } = parsed?;
    let whole = end == data.len();
    if tail == TornTail::Cut && is_last {
        // Synced even when nothing is cut (through a read-only handle then, so a
        // segment file without write permission still opens): an earlier writer's
        // cut of its zeros (`WalWriter`'s drop) is not, and the log goes on in a new
        // segment.
        let mode = if whole {
            OpenMode::Read
        } else {
            OpenMode::Write
        };
        let f = fs
            .open(path, mode)
            .ctx(|| format!("opening {name} to end it at its last record"))?;
        if !whole {
            f.set_len(end as u64)
                .ctx(|| format!("cutting torn tail of {name}"))?;
        }
        f.sync().ctx(|| format!("syncing {name}"))?;
    }
    Ok(Replayed {
        batches,
        torn_bytes: torn,
    })
}

/// Whether `data` is a log segment: a `Corruption` error naming `name` when damage
/// lies where it cannot be a torn tail (`is_last`: it may end torn).
pub(crate) fn check_segment(data: &[u8], name: &str, is_last: bool) -> Result<()> {
    parse(data, name, is_last).map(drop)
}

/// What a segment's bytes hold.
struct Parsed {
    batches: Vec<(u64, WriteBatch)>,
    /// Where its whole records end,
    end: usize,
    /// and how many bytes after them are a torn tail: 0 when there are none, or only
    /// zeros to the end (where the records end: writer.rs writes zeros ahead under
    /// `SyncMode::Always`; or a torn tail that left zeros).
    torn: u64,
}

/// A segment's bytes, parsed; an error when damage lies where it cannot be a torn
/// tail.
fn parse(data: &[u8], name: &str, is_last: bool) -> Result<Parsed> {
    let mut batches = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let Some(payload) = valid_record_at(data, pos) else {
            let zeros = data[pos..].iter().all(|&b| b == 0);
            if !is_last || (!zeros && synced_past(data, pos)) {
                return Err(Error::corruption(
                    name,
                    pos as u64,
                    "WAL record is damaged (bad length or crc) in bytes that were synced",
                ));
            }
            let torn = if zeros { 0 } else { (data.len() - pos) as u64 };
            return Ok(Parsed {
                batches,
                end: pos,
                torn,
            });
        };
        let end = payload.end;
        if decode_mark(&data[payload.clone()]).is_none() {
            let batch = WriteBatch::decode(&data[payload]).ok_or_else(|| {
                Error::corruption(
                    name,
                    pos as u64,
                    "WAL record has a valid crc but a malformed batch",
                )
            })?;
            batches.push(batch);
        }
        pos = end;
    }
    Ok(Parsed {
        batches,
        end: pos,
        torn: 0,
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

    /// `segment(3)` with a sync mark stating `synced` bytes durable after record `at`.
    fn marked_segment(at: usize, synced: usize) -> (Vec<u8>, Vec<usize>) {
        let (data, ends) = segment(3);
        let mut out = data[..ends[at]].to_vec();
        super::super::writer::frame_record(&mut out, |buf| {
            super::super::marker::encode_mark(synced as u64, buf)
        });
        let shift = out.len() - ends[at];
        out.extend_from_slice(&data[ends[at]..]);
        let ends = ends
            .iter()
            .enumerate()
            .map(|(i, e)| if i > at { e + shift } else { *e })
            .collect();
        (out, ends)
    }

    #[test]
    fn damage_in_bytes_a_later_mark_states_synced_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal-000001.log");
        // Records 0 and 1 synced, so stated by a mark after record 1: damage in
        // record 1 is corruption...
        let (mut data, ends) = marked_segment(1, segment(3).1[1]);
        data[ends[0] + 10] ^= 1;
        std::fs::write(&path, &data).unwrap();
        let e = replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut)
            .err()
            .unwrap();
        assert!(
            matches!(e, Error::Corruption { offset, .. } if offset == ends[0] as u64),
            "{e}"
        );
        // ...and damage in record 2, past what the mark states, a torn tail: it and
        // whatever follows it are cut, the mark is no batch.
        let (mut data, ends) = marked_segment(1, segment(3).1[1]);
        data[ends[1] + 30] ^= 1; // inside record 2, after the mark
        std::fs::write(&path, &data).unwrap();
        let r = replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut).unwrap();
        assert_eq!(r.batches.len(), 2);
        assert!(r.torn_bytes > 0);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len() as usize,
            ends[1] + 25
        );
    }

    /// Pages may reach the disk in any order before an fsync: after a power loss, an
    /// unsynced record can be a hole (zeros) with whole records after it. Without a
    /// mark stating those bytes synced it is a torn tail, not corruption.
    #[test]
    fn a_hole_in_unsynced_bytes_before_whole_records_is_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal-000001.log");
        let (mut data, ends) = segment(3);
        data[ends[0]..ends[1]].fill(0);
        std::fs::write(&path, &data).unwrap();
        let r = replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut).unwrap();
        assert_eq!(r.batches.len(), 1);
        assert_eq!(r.torn_bytes as usize, data.len() - ends[0]);
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, ends[0]);
        // A mark stating only record 0 synced changes nothing.
        let (mut data, ends) = marked_segment(2, segment(3).1[0]);
        data[ends[0]..ends[1]].fill(0);
        std::fs::write(&path, &data).unwrap();
        let r = replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut).unwrap();
        assert_eq!(r.batches.len(), 1);
    }

    #[test]
    fn damage_before_the_tail_of_a_segment_not_the_last_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal-000001.log");
        // Garbage after the last record is a torn tail; zeros to the end are where
        // the log ends (zeros written ahead), cut but not counted.
        for (tail, torn) in [([0u8; 100], 0), ([5u8; 100], 100)] {
            let (mut data, ends) = segment(2);
            data.extend_from_slice(&tail);
            std::fs::write(&path, &data).unwrap();
            let r = replay_segment(&crate::fs::OsFs, &path, true, TornTail::Cut).unwrap();
            assert_eq!((r.batches.len(), r.torn_bytes), (2, torn));
            assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, ends[1]);
            // ...but either is corruption in a segment that is not the last.
            std::fs::write(&path, &data).unwrap();
            assert!(replay_segment(&crate::fs::OsFs, &path, false, TornTail::Cut).is_err());
        }
    }
}
