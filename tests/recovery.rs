//! Recovery: a WAL cut at every byte of its last batches recovers exactly the batches
//! before it (and new writes never follow the torn bytes); damage in synced log bytes
//! is corruption, a hole in unsynced ones a torn tail; damage in a table gives a
//! `Corruption` error naming file and offset, never wrong data and never a panic.

mod common;

use std::path::{Path, PathBuf};

use flowdb::{Engine, Error, Record, ScanRange};

fn wal_segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "log") && std::fs::metadata(p).unwrap().len() > 0
        })
        .collect();
    v.sort();
    v
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn batch(b: i64) -> Vec<Record> {
    (0..3)
        .map(|k| Record::new(format!("k{k}"), b, format!("batch {b}").into_bytes()))
        .collect()
}

/// Where a segment's records end: at the first record header of zeros (under
/// `SyncMode::Always` the writer writes zeros ahead of its records), or the end.
fn records_end(data: &[u8]) -> usize {
    let mut pos = 0;
    while pos + 8 <= data.len() && data[pos..pos + 8] != [0; 8] {
        pos += 8 + u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap()) as usize;
    }
    pos
}

/// A segment cut at every byte of its last batches recovers the batches before the
/// cut. With `zeros`, the bytes past the cut are zeros to the file's old end (a group
/// torn over the zeros written ahead under `SyncMode::Always`); otherwise the file
/// ends there.
fn cut_at_every_byte(mode: flowdb::SyncMode, zeros: bool) {
    let config = |dir: &Path| flowdb::Config {
        wal_sync_mode: mode,
        ..common::small_config(dir)
    };
    let src = tempfile::tempdir().unwrap();
    let e = Engine::open(config(src.path())).unwrap();
    // ends[b]: where the segment's records end once batch b is in it.
    let mut ends = Vec::new();
    for b in 0..5 {
        e.write_batch(&batch(b)).unwrap();
        let seg = wal_segments(src.path()).pop().unwrap();
        ends.push(records_end(&std::fs::read(&seg).unwrap()));
    }
    let seg = wal_segments(src.path()).pop().unwrap();
    let whole = std::fs::read(&seg).unwrap();
    assert_eq!(zeros, whole.len() > ends[4], "zeros written ahead");
    let full = ends[4];
    drop(e);
    // Every byte of the last three batches.
    for cut in ends[1]..=full {
        let want = ends.iter().filter(|end| **end <= cut).count() as i64;
        let dir = tempfile::tempdir().unwrap();
        copy_dir(src.path(), dir.path());
        let mut data = whole.clone();
        if zeros {
            data[cut..].fill(0);
        } else {
            data.truncate(cut);
        }
        std::fs::write(dir.path().join(seg.file_name().unwrap()), &data).unwrap();
        let e = Engine::open(config(dir.path())).unwrap();
        let got: Vec<i64> = e
            .scan(ScanRange::prefix("k0"))
            .unwrap()
            .map(|r| r.unwrap().ts)
            .collect();
        assert_eq!(got, (0..want).collect::<Vec<_>>(), "cut at {cut} of {full}");
        assert_eq!(
            e.scan(ScanRange::all()).unwrap().count(),
            3 * want as usize,
            "atomic batches"
        );
        // New writes go on, and survive another reopen.
        e.write_batch(&batch(100)).unwrap();
        drop(e);
        let e = Engine::open(config(dir.path())).unwrap();
        assert_eq!(
            e.scan(ScanRange::all()).unwrap().count(),
            3 * want as usize + 3,
            "cut at {cut}"
        );
    }
}

#[test]
fn wal_cut_at_every_byte_of_the_last_batches() {
    cut_at_every_byte(flowdb::SyncMode::IntervalMs(50), false);
}

#[test]
fn wal_torn_at_every_byte_over_the_zeros_written_ahead() {
    cut_at_every_byte(flowdb::SyncMode::Always, true);
}

/// Under `SyncMode::Always` the live segment has zeros written ahead of its records:
/// a copy taken while the engine runs (as a kill leaves it) opens whole with nothing
/// counted torn, and a closed engine's log ends at its last record.
#[test]
fn zeros_written_ahead_end_the_log_and_a_closed_log_has_none() {
    let config = |dir: &Path| flowdb::Config {
        wal_sync_mode: flowdb::SyncMode::Always,
        ..common::small_config(dir)
    };
    let src = tempfile::tempdir().unwrap();
    let e = Engine::open(config(src.path())).unwrap();
    for b in 0..5 {
        e.write_batch(&batch(b)).unwrap();
    }
    let killed = tempfile::tempdir().unwrap();
    copy_dir(src.path(), killed.path());
    drop(e);
    let seg = wal_segments(src.path()).pop().unwrap();
    let data = std::fs::read(&seg).unwrap();
    assert_eq!(records_end(&data), data.len(), "cut when closed");
    let seg = killed.path().join(seg.file_name().unwrap());
    assert!(std::fs::metadata(&seg).unwrap().len() > data.len() as u64);
    let e = Engine::open(config(killed.path())).unwrap();
    assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 15);
    let metrics = e.metrics_text();
    assert!(
        metrics.contains("flowdb_wal_torn_tail_bytes_total 0\n"),
        "{metrics}"
    );
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), data.len() as u64);
}

#[test]
fn wal_damage_in_synced_bytes_is_corruption_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    for b in 0..4 {
        // Synced: each later group's mark states the bytes before it durable.
        e.write_batch_sync(batch(b)).unwrap();
    }
    drop(e);
    let seg = wal_segments(dir.path()).pop().unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    data[20] ^= 0x40;
    std::fs::write(&seg, &data).unwrap();
    let err = Engine::open(common::small_config(dir.path()))
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::Corruption { file, .. } if file.contains("wal-")),
        "{err}"
    );
}

/// Pages of a file may reach the disk in any order before its fsync: after a power
/// loss, unsynced log bytes can be a hole with whole records after it. The log's sync
/// marks say what was synced, so such a hole is a torn tail (cut, the later unsynced
/// records with it) while damage in synced bytes stays corruption.
#[test]
fn a_hole_in_unsynced_log_bytes_is_a_torn_tail_damage_in_synced_bytes_is_not() {
    let config = |dir: &Path| flowdb::Config {
        wal_sync_mode: flowdb::SyncMode::IntervalMs(3_600_000),
        auto_background: false,
        ..common::small_config(dir)
    };
    let src = tempfile::tempdir().unwrap();
    let e = Engine::open(config(src.path())).unwrap();
    e.write_batch_sync(batch(0)).unwrap(); // synced
    let seg = wal_segments(src.path()).pop().unwrap();
    let synced = std::fs::metadata(&seg).unwrap().len() as usize;
    for b in 1..4 {
        e.write_batch(&batch(b)).unwrap(); // not synced: the first states batch 0's
    }
    drop(e);
    let whole = std::fs::read(&seg).unwrap();
    let scan = |dir: &Path| -> flowdb::Result<Vec<i64>> {
        let e = Engine::open(config(dir))?;
        let got = e.scan(ScanRange::prefix("k0"))?.map(|r| r.unwrap().ts);
        Ok(got.collect())
    };
    // A hole in batch 1 (past its mark), batches 2 and 3 whole after it.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(src.path(), dir.path());
    let mut data = whole.clone();
    data[synced + 40..synced + 60].fill(0);
    std::fs::write(dir.path().join(seg.file_name().unwrap()), &data).unwrap();
    assert_eq!(scan(dir.path()).unwrap(), vec![0]);
    // New writes go on after the cut.
    let e = Engine::open(config(dir.path())).unwrap();
    e.write_batch_sync(batch(9)).unwrap();
    drop(e);
    assert_eq!(scan(dir.path()).unwrap(), vec![0, 9]);
    // Damage in batch 0, which batch 1's mark states synced: corruption.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(src.path(), dir.path());
    let mut data = whole;
    data[20] ^= 0x40;
    std::fs::write(dir.path().join(seg.file_name().unwrap()), &data).unwrap();
    let err = scan(dir.path()).err().unwrap();
    assert!(matches!(&err, Error::Corruption { .. }), "{err}");
}

fn expected() -> Vec<Record> {
    (0..400)
        .map(|i| {
            Record::new(
                format!("key{i:04}"),
                i,
                format!("value-{i}-{}", "x".repeat(i as usize % 50)).into_bytes(),
            )
        })
        .collect()
}

#[test]
fn a_flipped_bit_anywhere_in_a_table_is_corruption_never_wrong_data() {
    let src = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(src.path())).unwrap();
    e.write_batch(&expected()).unwrap();
    e.shutdown().unwrap();
    let table = std::fs::read_dir(src.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sst"))
        .unwrap();
    let good = std::fs::read(&table).unwrap();
    let want = expected();
    let mut corruptions = 0;
    // Every byte would take long in debug builds; every 7th covers every part.
    for at in (0..good.len()).step_by(7) {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(src.path(), dir.path());
        let mut bad = good.clone();
        bad[at] ^= 1 << (at % 8);
        std::fs::write(dir.path().join(table.file_name().unwrap()), &bad).unwrap();
        let e = match Engine::open(common::small_config(dir.path())) {
            Ok(e) => e,
            Err(Error::Corruption { file, .. }) => {
                assert!(file.ends_with(".sst"), "{file}");
                corruptions += 1;
                continue;
            }
            Err(other) => panic!("byte {at}: unexpected {other}"),
        };
        let mut saw_error = false;
        for (i, r) in e.scan(ScanRange::all()).unwrap().enumerate() {
            match r {
                Ok(r) => assert_eq!(r, want[i], "byte {at}: wrong data"),
                Err(Error::Corruption { file, .. }) => {
                    assert!(file.ends_with(".sst"));
                    saw_error = true;
                }
                Err(other) => panic!("byte {at}: unexpected {other}"),
            }
        }
        for w in want.iter().step_by(37) {
            match e.get(&w.key_str(), w.ts) {
                Ok(Some(r)) => assert_eq!(&r, w, "byte {at}"),
                Ok(None) => panic!("byte {at}: record lost without an error"),
                Err(Error::Corruption { .. }) => saw_error = true,
                Err(other) => panic!("byte {at}: unexpected {other}"),
            }
        }
        // The series block is read only by `series`.
        match e.series("") {
            Ok(list) => assert_eq!(
                list.iter().map(|s| s.points).sum::<u64>(),
                want.len() as u64
            ),
            Err(Error::Corruption { .. }) => saw_error = true,
            Err(other) => panic!("byte {at}: unexpected {other}"),
        }
        assert!(saw_error, "byte {at}: damage went unnoticed");
        corruptions += 1;
    }
    assert!(corruptions > 0);
}
