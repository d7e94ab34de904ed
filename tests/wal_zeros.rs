//! The zeros the log writer writes ahead of its records under `SyncMode::Always`
//! (docs/format.md, "WAL"): only the last segment may end in them, whatever happens
//! between the writes: a drop and a reopen before a power loss, a rotation that
//! fails halfway, a disk too full for them, a backup beside the writer.

mod common;

use std::path::Path;
use std::sync::Arc;

use flowdb::fs::{CrashMode, Fault, FaultFs, Injected, Op};
use flowdb::{Engine, Error, Record, SyncMode};

fn open(fs: &FaultFs) -> flowdb::Result<Engine> {
    common::ops::open_on(fs, SyncMode::Always)
}

fn batch(b: i64) -> Vec<Record> {
    (0..10)
        .map(|i| Record::new(format!("k{i:02}"), b, vec![b as u8; 100]))
        .collect()
}

/// The batches whose records `k00` holds.
fn batches(e: &Engine) -> Vec<i64> {
    (0..100)
        .filter(|&b| e.get("k00", b).unwrap().is_some())
        .collect()
}

/// A dropped writer cuts its zeros without a sync; the next open syncs the cut
/// before the log goes on in a new segment, so a power loss cannot bring them back
/// in a segment that is no longer the last.
#[test]
fn a_drop_then_a_reopen_then_a_power_loss_opens_whole() {
    let fs = FaultFs::new();
    let e = open(&fs).unwrap();
    for b in 0..3 {
        e.write_batch(&batch(b)).unwrap();
    }
    drop(e);
    let e = open(&fs).unwrap();
    e.write_batch(&batch(10)).unwrap();
    drop(e);
    let e = open(&fs.restart(CrashMode::PowerLoss)).unwrap();
    assert_eq!(batches(&e), vec![0, 1, 2, 10]);
}

/// A rotation (here a checkpoint's) that cuts the zeros and then fails to make the
/// next segment durable leaves the old segment broken: no group follows it, so it
/// never ends in zeros again while a newer segment exists.
#[test]
fn a_rotation_that_fails_halfway_leaves_no_zeros_before_a_later_segment() {
    let fs = FaultFs::new();
    let e = open(&fs).unwrap();
    e.write_batch(&batch(0)).unwrap();
    fs.inject(Fault {
        op: Some(Op::SyncDir),
        name: "/db".into(),
        skip: 0,
        times: 1,
        error: Injected::Io,
    });
    assert!(e.checkpoint("/cp").is_err());
    fs.clear_faults();
    e.write_batch(&batch(1)).unwrap();
    let live = flowdb::verify::verify_dir_on(Arc::new(fs.clone()), Path::new("/db")).unwrap();
    assert!(live.damage.is_empty(), "{:?}", live.damage);
    let e2 = open(&fs.restart(CrashMode::Kill)).unwrap();
    assert_eq!(batches(&e2), vec![0, 1]);
    drop(e);
}

/// With less room left than the zeros take, a small synced write still fits: the
/// segment goes on without zeros ahead.
#[test]
fn a_small_write_fits_where_the_zeros_ahead_do_not() {
    let fs = FaultFs::new();
    let e = open(&fs).unwrap();
    e.write_batch(&batch(0)).unwrap();
    e.flush().unwrap();
    let used: usize = fs
        .files()
        .iter()
        .map(|p| fs.contents(p).map_or(0, |c| c.len()))
        .sum();
    fs.set_capacity(Some(used as u64 + (256 << 10)));
    for b in 1..4 {
        e.write_batch(&batch(b)).unwrap();
    }
    drop(e);
    let e = open(&fs.restart(CrashMode::PowerLoss)).unwrap();
    assert_eq!(batches(&e), vec![0, 1, 2, 3]);
}

/// A read-only instance's backup copies the live segment as it finds it; a copy
/// that shows damage is taken again (it may have caught a group landing over the
/// zeros), and damage that stays is reported as corruption, not as a busy writer.
#[test]
fn a_backup_reports_damage_in_synced_log_bytes_as_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let config = flowdb::Config {
        wal_sync_mode: SyncMode::Always,
        ..common::small_config(dir.path())
    };
    let e = Engine::open(config.clone()).unwrap();
    for b in 0..4 {
        e.write_batch(&batch(b)).unwrap();
    }
    let reader = Engine::open_read_only(config.clone()).unwrap();
    let whole = dir.path().join("whole");
    reader.backup_to(&whole).unwrap();
    let copy = Engine::open(flowdb::Config {
        data_dir: whole,
        ..config.clone()
    })
    .unwrap();
    assert_eq!(batches(&copy), vec![0, 1, 2, 3]);
    // A bit flipped in the first batch, which later groups' marks state synced.
    let seg = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .max()
        .unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    data[20] ^= 0x40;
    std::fs::write(&seg, &data).unwrap();
    let err = reader.backup_to(dir.path().join("damaged")).unwrap_err();
    assert!(matches!(err, Error::Corruption { .. }), "{err}");
    drop(e);
}
