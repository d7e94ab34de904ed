//! Online checkpoints and backups (`Engine::checkpoint`, `Engine::backup_to`): the copy
//! is the database as of one moment, taken while writers write, it opens as a normal
//! database, and a crash at any step leaves either no checkpoint or a complete one.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::ops::{self, Op};
use flowdb::fs::{CrashMode, FaultFs, FileSystem};
use flowdb::{Config, Engine, Error, Record, ScanRange, SyncMode, Tuning};

fn open(dir: &Path) -> Engine {
    common::open_tiny(common::small_config(dir))
}

fn value(e: &Engine, ts: i64) -> Option<Vec<u8>> {
    e.get("k", ts).unwrap().map(|r| r.value)
}

/// A random workload with a checkpoint and a backup taken at random points in it:
/// each opens holding the model as of its moment; the source goes on unchanged.
#[test]
fn checkpoint_holds_the_state_of_its_moment() {
    let mut rng = common::rng("checkpoint_holds_the_state_of_its_moment");
    let base = common::base_ts();
    let tmp = tempfile::tempdir().unwrap();
    let e = open(&tmp.path().join("db"));
    let mut model = ops::State::new();
    let n = 300;
    let (at_cp, at_backup) = (rng.usize(0..n), rng.usize(0..n));
    let (mut want_cp, mut want_backup) = (None, None);
    for i in 0..n {
        let op = Op::random(&mut rng, i, base);
        op.apply(&e).unwrap();
        op.apply_model(&mut model);
        if i == at_cp {
            e.checkpoint(tmp.path().join("cp")).unwrap();
            want_cp = Some(model.clone());
        }
        if i == at_backup {
            e.backup_to(tmp.path().join("backup")).unwrap();
            want_backup = Some(model.clone());
        }
    }
    for (name, want) in [("cp", want_cp), ("backup", want_backup)] {
        let copy = open(&tmp.path().join(name));
        let got = ops::state_of(&copy).unwrap();
        let want = want.unwrap();
        assert!(got == want, "{name}: {}", ops::diff(&want, &got));
        // The copy is a database of its own: it takes writes.
        copy.write_batch(&[Record::new("after", 1, b"x".to_vec())])
            .unwrap();
    }
    assert_eq!(ops::state_of(&e).unwrap(), model, "the source changed");
}

/// One writer appends `ts = 0, 1, 2, …` (one batch each, flushes happening as it
/// goes) while checkpoints are taken: each holds exactly a prefix `0..k`, and later
/// checkpoints hold longer prefixes.
#[test]
fn checkpoints_taken_while_writing_are_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Arc::new(open(&tmp.path().join("db")));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (e, stop) = (e.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0i64;
            while !stop.load(Ordering::Relaxed) || i < 2_000 {
                e.write_batch(&[Record::new("w", i, vec![7u8; 200])])
                    .unwrap();
                i += 1;
            }
            i
        })
    };
    let mut last = 0;
    for c in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(15));
        let dest = tmp.path().join(format!("cp{c}"));
        e.checkpoint(&dest).unwrap();
        let copy = open(&dest);
        let ts: Vec<i64> = copy
            .scan(ScanRange::all())
            .unwrap()
            .map(|r| r.unwrap().ts)
            .collect();
        let k = ts.len() as i64;
        assert_eq!(
            ts,
            (0..k).collect::<Vec<_>>(),
            "checkpoint {c} is not a prefix"
        );
        assert!(k >= last, "checkpoint {c} holds {k} < {last}");
        last = k;
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert_eq!(ops::state_of(&e).unwrap().len() as i64, written);
}

#[test]
fn the_destination_must_not_exist_and_a_stale_temp_dir_is_cleared() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(&tmp.path().join("db"));
    e.write_batch(&[Record::new("k", 1, b"v".to_vec())])
        .unwrap();
    let dest = tmp.path().join("cp");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("mine"), b"keep").unwrap();
    let err = e.checkpoint(&dest).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(std::fs::read(dest.join("mine")).unwrap(), b"keep");
    // What an interrupted checkpoint left behind is cleared by the next one.
    let dest = tmp.path().join("cp2");
    std::fs::create_dir(tmp.path().join("cp2.tmp")).unwrap();
    std::fs::write(tmp.path().join("cp2.tmp/000001.sst"), b"half").unwrap();
    // A symbolic link in it is removed, not followed into what it points to.
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("precious"), b"keep").unwrap();
    std::os::unix::fs::symlink(&outside, tmp.path().join("cp2.tmp/rollups")).unwrap();
    e.checkpoint(&dest).unwrap();
    assert!(!tmp.path().join("cp2.tmp").exists());
    assert_eq!(value(&open(&dest), 1), Some(b"v".to_vec()));
    assert_eq!(std::fs::read(outside.join("precious")).unwrap(), b"keep");
    // An engine whose directory lock went with shutdown is not asked: shutdown takes
    // the engine. A closed handle in C or Go refuses (their tests).
}

/// Two checkpoints to one destination at once: the second finds the first's temporary
/// directory locked and fails, clearing nothing (it once cleared the first's files,
/// which could then commit a checkpoint missing log segments). The lock is the one
/// of the database the copy becomes, so a database open there stands in for a
/// checkpoint being written.
#[test]
fn a_second_checkpoint_to_the_same_place_meanwhile_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(&tmp.path().join("db"));
    e.write_batch(&[Record::new("k", 1, b"v".to_vec())])
        .unwrap();
    let dest = tmp.path().join("cp");
    let first = open(&tmp.path().join("cp.tmp"));
    first
        .write_batch(&[Record::new("first", 1, b"x".to_vec())])
        .unwrap();
    first.flush().unwrap();
    let err = e.checkpoint(&dest).unwrap_err();
    assert!(matches!(err, Error::Locked(_)), "{err}");
    assert!(err.to_string().contains("another checkpoint"), "{err}");
    assert!(!dest.exists());
    assert_eq!(value(&first, 1), None);
    assert!(first.get("first", 1).unwrap().is_some(), "nothing cleared");
    drop(first);
    // Once it is gone, the temporary directory is stale and cleared.
    e.checkpoint(&dest).unwrap();
    let copy = open(&dest);
    assert_eq!(value(&copy, 1), Some(b"v".to_vec()));
    assert_eq!(copy.get("first", 1).unwrap(), None);
}

/// A checkpoint shares the tables' and log segments' files (hard links); a backup
/// shares nothing.
#[test]
fn checkpoint_links_tables_and_backup_copies_them() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(&tmp.path().join("db"));
    for i in 0..500 {
        e.write_batch(&[Record::new("k", i, vec![1u8; 100])])
            .unwrap();
    }
    e.flush().unwrap();
    e.write_batch(&[Record::new("k", 10_000, b"in the log".to_vec())])
        .unwrap();
    e.checkpoint(tmp.path().join("cp")).unwrap();
    e.backup_to(tmp.path().join("backup")).unwrap();
    let links = |name: &str, ext: &str| -> Vec<u64> {
        std::fs::read_dir(tmp.path().join(name))
            .unwrap()
            .map(|f| f.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .map(|p| std::fs::metadata(p).unwrap().nlink())
            .collect()
    };
    let (cp, backup) = (links("cp", "sst"), links("backup", "sst"));
    assert!(!cp.is_empty() && cp.iter().all(|n| *n >= 2), "{cp:?}");
    assert!(
        !backup.is_empty() && backup.iter().all(|n| *n == 1),
        "{backup:?}"
    );
    // The log segments too: the checkpoint moved the log on, so none is written again.
    let (cp, backup) = (links("cp", "log"), links("backup", "log"));
    assert!(!cp.is_empty() && cp.iter().all(|n| *n >= 2), "{cp:?}");
    assert!(
        !backup.is_empty() && backup.iter().all(|n| *n == 1),
        "{backup:?}"
    );
    for name in ["cp", "backup"] {
        let copy = open(&tmp.path().join(name));
        assert_eq!(value(&copy, 10_000), Some(b"in the log".to_vec()));
        assert_eq!(value(&copy, 499), Some(vec![1u8; 100]));
    }
}

/// The workload the power-loss test checkpoints: tables, frozen and active memtables,
/// range deletes; deterministic, so every run takes the same I/O steps.
fn workload(fs: &FaultFs) -> (Engine, ops::State) {
    let e = ops::open_on(fs, SyncMode::Always).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let base = 1_700_000_000_000_000;
    let mut model = ops::State::new();
    let tail = Op::Put(
        vec![Record::new("tail", base, b"in the log only".to_vec())],
        None,
    );
    for op in (0..60).map(|i| Op::random(&mut rng, i, base)).chain([tail]) {
        op.apply(&e).unwrap();
        op.apply_model(&mut model);
    }
    (e, model)
}

fn open_copy(fs: &FaultFs, dir: &str) -> flowdb::Result<Engine> {
    let config = Config {
        wal_sync_mode: SyncMode::Always,
        ..common::small_config(Path::new(dir))
    };
    Engine::open_on(Arc::new(fs.clone()), config, Tuning::default())
}

/// A crash (kill, power loss, torn power loss) at every I/O step of a checkpoint (of
/// the engine, a backup, or a checkpoint from a read-only instance beside the writer)
/// leaves either no checkpoint or one that opens holding the whole state; the source
/// is intact; and a new checkpoint to the same place then succeeds.
#[test]
fn a_crash_at_any_step_leaves_no_checkpoint_or_a_complete_one() {
    for tables in ["checkpoint", "backup", "read-only checkpoint"] {
        let probe = FaultFs::new();
        let (e, model) = workload(&probe);
        let first = probe.steps();
        let take = |e: &Engine, fs: &FaultFs, dest: &str| match tables {
            "checkpoint" => e.checkpoint(dest),
            "backup" => e.backup_to(dest),
            _ => {
                let config = common::small_config(Path::new("/db"));
                let fs = Arc::new(fs.clone());
                Engine::open_read_only_on(fs, config, Tuning::default())?.checkpoint(dest)
            }
        };
        take(&e, &probe, "/cp").unwrap();
        let last = probe.steps();
        assert!(last - first > 5, "{tables}: only {} steps", last - first);
        let mut complete = 0;
        for n in first..last {
            let fs = FaultFs::new();
            let (e, _) = workload(&fs);
            assert_eq!(fs.steps(), first, "the workload is not deterministic");
            fs.crash_at(n);
            assert!(
                take(&e, &fs, "/cp").is_err(),
                "{tables}: step {n} did not fail"
            );
            drop(e);
            for mode in [
                CrashMode::Kill,
                CrashMode::PowerLoss,
                CrashMode::PowerLossTorn(n),
            ] {
                let what = format!("{tables}, crash at step {n} ({mode:?})");
                let after = fs.restart(mode);
                let source = open_copy(&after, "/db").unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(ops::state_of(&source).unwrap(), model, "{what}: source");
                if after.is_dir(Path::new("/cp")) == Some(true) {
                    let copy = open_copy(&after, "/cp").unwrap_or_else(|e| panic!("{what}: {e}"));
                    let got = ops::state_of(&copy).unwrap();
                    assert!(got == model, "{what}: {}", ops::diff(&model, &got));
                    complete += 1;
                } else {
                    take(&source, &after, "/cp").unwrap_or_else(|e| panic!("{what}: again: {e}"));
                    let copy = open_copy(&after, "/cp").unwrap();
                    assert_eq!(ops::state_of(&copy).unwrap(), model, "{what}: again");
                }
            }
        }
        assert!(complete > 0, "{tables}: no crash came after the commit");
    }
}

/// A backup from a read-only instance whose attempt finds a table gone (the writer
/// merged it away meanwhile) tries again, keeping the tables it placed (a table
/// never changes: placing one again would find it there) and clearing the
/// part-copied one: the copy holds the whole state. (Every attempt once copied every
/// table again, and a large database beside a busy writer never finished.)
#[test]
fn a_read_only_backup_that_finds_a_table_gone_tries_again() {
    use flowdb::fs::{Fault, Injected, Op as FsOp};
    let fs = FaultFs::new();
    let (e, model) = workload(&fs);
    e.flush().unwrap();
    let tables: Vec<String> = fs
        .files()
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.starts_with("/db/") && p.ends_with(".sst"))
        .collect();
    assert!(tables.len() >= 2, "{tables:?}");
    let reader = Engine::open_read_only_on(
        Arc::new(fs.clone()),
        common::small_config(Path::new("/db")),
        Tuning::default(),
    )
    .unwrap();
    // The last table's copy fails after its opening, as if it were deleted: the
    // first attempt leaves the others placed and that one part-copied.
    fs.inject(Fault {
        op: Some(FsOp::Read),
        name: tables[tables.len() - 1].clone(),
        skip: 1,
        times: 1,
        error: Injected::NotFound,
    });
    reader.backup_to("/bk").unwrap();
    let copy = open_copy(&fs, "/bk").unwrap();
    let got = ops::state_of(&copy).unwrap();
    assert!(got == model, "{}", ops::diff(&model, &got));
}

/// A JsonDB checkpoint taken between transactions holds every committed one and its
/// indexes; the schema comes with it.
#[test]
fn jsondb_checkpoint_holds_documents_indexes_and_schema() {
    use common::docs::{self, DocTxn};
    let mut rng = common::rng("jsondb_checkpoint_holds_documents_indexes_and_schema");
    let tmp = tempfile::tempdir().unwrap();
    let db = flowdb::jsondb::JsonDB::open(common::small_config(&tmp.path().join("db"))).unwrap();
    docs::ensure_store(&db).unwrap();
    let mut model = docs::Docs::new();
    for n in 0..200 {
        let t = DocTxn::random(&mut rng, n);
        t.apply(&db).unwrap();
        t.apply_model(&mut model);
        if n == 100 {
            db.engine().flush().unwrap();
        }
    }
    db.checkpoint(tmp.path().join("cp")).unwrap();
    db.backup_to(tmp.path().join("backup")).unwrap();
    DocTxn::random(&mut rng, 999).apply(&db).unwrap();
    for name in ["cp", "backup"] {
        let copy =
            flowdb::jsondb::JsonDB::open(common::small_config(&tmp.path().join(name))).unwrap();
        assert_eq!(docs::stored(&copy), model, "{name}");
        docs::check_indexes(&copy, &model, name);
        docs::check_feed(&copy, &model, name);
    }
}
