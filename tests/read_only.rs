//! Read-only instances (`Engine::open_read_only`, `catch_up`): a second engine, in this
//! process or another, on a directory a writer is writing. It takes no lock, writes
//! nothing, sees the database as of its open (memtables included) and moves forward
//! on `catch_up`; the writer's compactions deleting files it reads do not break it;
//! every view is a prefix of the writer's history, also while the writer is killed;
//! a checkpoint taken from it copies the writer's state (a prefix, at least its view).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flowdb::jsondb::JsonDB;
use flowdb::{Config, Engine, Error, Record, ScanRange};

fn config(dir: &Path) -> Config {
    common::small_config(dir)
}

/// Every file of `dir` with its contents.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|f| f.unwrap())
        .filter(|f| f.file_type().unwrap().is_file())
        .map(|f| {
            (
                f.file_name().into_string().unwrap(),
                std::fs::read(f.path()).unwrap(),
            )
        })
        .collect()
}

fn points(e: &Engine, key: &str) -> Vec<i64> {
    e.scan(ScanRange::key_range(key, key))
        .unwrap()
        .map(|r| r.unwrap().ts)
        .collect()
}

fn put(e: &Engine, key: &str, ts: std::ops::Range<i64>) {
    for t in ts {
        e.write_batch(&[Record::new(key, t, vec![(t % 200) as u8; 300])])
            .unwrap();
    }
}

#[test]
fn a_reader_sees_the_writer_as_of_its_open_and_catches_up() {
    let tmp = tempfile::tempdir().unwrap();
    let writer = common::open_tiny(config(tmp.path()));
    put(&writer, "a", 0..3000);
    writer.flush().unwrap();
    put(&writer, "a", 3000..3500); // only in the log and memtable

    let before = files(tmp.path());
    let reader = Engine::open_read_only(config(tmp.path())).unwrap();
    assert!(reader.is_read_only() && !writer.is_read_only());
    assert_eq!(points(&reader, "a"), (0..3500).collect::<Vec<_>>());

    // The writer goes on, flushes and compacts away the tables the reader holds.
    put(&writer, "a", 3500..6000);
    put(&writer, "b", 0..10);
    writer.flush().unwrap();
    writer.trigger_compaction().unwrap();
    assert_eq!(
        points(&reader, "a").len(),
        3500,
        "the reader moved without catch_up"
    );
    assert_eq!(points(&reader, "b"), Vec::<i64>::new());
    reader.catch_up().unwrap();
    assert_eq!(points(&reader, "a"), (0..6000).collect::<Vec<_>>());
    assert_eq!(points(&reader, "b"), (0..10).collect::<Vec<_>>());
    writer.catch_up().unwrap(); // on the writer: nothing to do

    // It never writes.
    for (what, r) in [
        ("write", reader.write_batch(&[Record::new("x", 1, vec![1])])),
        ("flush", reader.flush()),
        ("compaction", reader.trigger_compaction().map(|_| ())),
        ("retention", reader.enforce_retention().map(|_| ())),
    ] {
        match r {
            Err(Error::ReadOnly(m)) => assert!(m.contains("read-only"), "{what}: {m}"),
            other => panic!("{what} on a read-only instance: {other:?}"),
        }
    }
    // A checkpoint copies what the writer has on disk: at least the reader's view.
    reader.checkpoint(tmp.path().join("cp")).unwrap();
    let copy = Engine::open(config(&tmp.path().join("cp"))).unwrap();
    assert_eq!(points(&copy, "a"), (0..6000).collect::<Vec<_>>());
    drop(copy);
    reader.close().unwrap();
    assert!(reader.spawn_background_maintenance().is_none());
    drop(reader);
    // Nothing it did touched the writer's files (the writer wrote some since `before`,
    // so compare the reader-only phase: open and read again, then compare).
    let now = files(tmp.path());
    let reader = Engine::open_read_only(config(tmp.path())).unwrap();
    reader.catch_up().unwrap();
    reader.shutdown().unwrap();
    assert_eq!(
        files(tmp.path()),
        now,
        "a read-only instance changed the directory"
    );
    assert!(!before.is_empty());
}

#[test]
fn a_reader_needs_a_database_and_a_jsondb_can_be_read_too() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Engine::open_read_only(config(&tmp.path().join("none"))).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let err = Engine::open_read_only(config(&tmp.path().join("empty"))).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)) && err.to_string().contains("MANIFEST"));

    let dir = tmp.path().join("docs");
    let db = JsonDB::open(config(&dir)).unwrap();
    common::docs::ensure_store(&db).unwrap();
    let t = common::docs::DocTxn {
        clear: false,
        delete_range: None,
        puts: vec![serde_json::json!({"id": 1, "group": 2, "email": "a@x", "n": 0})],
        deletes: vec![],
    };
    t.apply(&db).unwrap();
    let reader = JsonDB::open_read_only(config(&dir)).unwrap();
    let mut want = common::docs::Docs::new();
    t.apply_model(&mut want);
    assert_eq!(common::docs::stored(&reader), want);
    common::docs::check_indexes(&reader, &want, "read-only");
    assert!(t.apply(&reader).is_err(), "a read-only JsonDB committed");
}

/// The writer in another process (this test binary, run again as the child below):
/// appends `w` at `ts = 0, 1, 2, …`, one batch each, flushing and compacting as it
/// goes, until killed.
#[test]
fn read_only_child_writer() {
    let Ok(dir) = std::env::var("FLOWDB_READ_ONLY_CHILD_DIR") else {
        return;
    };
    let e = common::open_tiny(config(Path::new(&dir)));
    for i in 0.. {
        e.write_batch(&[Record::new("w", i, vec![9u8; 200])])
            .unwrap();
        if i % 1500 == 1499 {
            e.flush().unwrap();
        }
        if i % 6000 == 5999 {
            e.run_compactions().unwrap();
        }
        if i == 100 {
            println!("ready");
        }
    }
}

/// A reader in this process follows the writer in another: every view (open or
/// catch_up) holds exactly a prefix `0..k` of the writer's points, k never shrinks,
/// and a kill -9 of the writer mid-write leaves a directory the reader still reads
/// as a prefix, and the writer reopens holding at least that.
#[test]
fn a_reader_follows_a_writer_in_another_process_through_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let copies = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["read_only_child_writer", "--exact", "--nocapture"])
        .env("FLOWDB_READ_ONLY_CHILD_DIR", tmp.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut reader = loop {
        assert!(Instant::now() < deadline, "the writer never started");
        match Engine::open_read_only(config(tmp.path())) {
            Ok(r) if !points(&r, "w").is_empty() => break r,
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let mut last = 0;
    let check = |r: &Engine, last: &mut usize, what: &str| {
        let got = points(r, "w");
        let k = got.len();
        assert_eq!(
            got,
            (0..k as i64).collect::<Vec<_>>(),
            "{what}: not a prefix"
        );
        assert!(k >= *last, "{what}: {k} < {last}");
        *last = k;
    };
    check(&reader, &mut last, "opened");
    let first = last;
    for round in 0..40 {
        std::thread::sleep(Duration::from_millis(10));
        if round % 10 == 9 {
            reader = Engine::open_read_only(config(tmp.path())).unwrap();
            check(&reader, &mut last, "reopened");
        } else if round % 10 == 4 {
            // A checkpoint of the live database, from the reader: a prefix at least
            // as long as the reader's view, which opens (cutting a torn tail).
            let dest = copies.path().join(format!("cp{round}"));
            reader.checkpoint(&dest).unwrap();
            let copy = Engine::open(config(&dest)).unwrap();
            let mut at_least = last;
            check(&copy, &mut at_least, "checkpoint of the live database");
        } else {
            reader.catch_up().unwrap();
            check(&reader, &mut last, "catch_up");
        }
    }
    // The reader follows the writer on by more than 100 points before the kill, with
    // a deadline rather than a count of rounds (a busy machine runs the writer
    // slowly).
    let deadline = Instant::now() + Duration::from_secs(30);
    while last <= first + 100 {
        assert!(
            Instant::now() < deadline,
            "the reader saw {first} -> {last} points"
        );
        std::thread::sleep(Duration::from_millis(20));
        reader.catch_up().unwrap();
        check(&reader, &mut last, "catch_up");
    }
    child.kill().unwrap(); // SIGKILL, mid-write
    child.wait().unwrap();
    let before = files(tmp.path());
    reader.catch_up().unwrap();
    check(&reader, &mut last, "after the kill");
    assert_eq!(files(tmp.path()), before, "the reader cut the torn tail");
    assert!(
        last > first + 100,
        "the reader saw {first} -> {last} points"
    );
    eprintln!("reader saw {last} points");
    drop(reader);
    let writer = Engine::open(config(tmp.path())).unwrap();
    let k = points(&writer, "w").len();
    assert!(
        k >= last,
        "the writer recovered {k} < {last} the reader saw"
    );
}

/// A record the writer is appending right now (here: a torn tail left in the last log
/// segment) is left out whole, and left in place: the reader cuts nothing.
#[test]
fn a_torn_tail_is_left_out_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let writer = common::open_tiny(config(tmp.path()));
    put(&writer, "a", 0..100); // in the log (and memtable) only
    drop(writer);
    let last_log = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("wal-"))
        .max()
        .unwrap();
    let mut data = std::fs::read(&last_log).unwrap();
    data.extend_from_slice(&[0x55, 0x66, 0x77, 0x10, 0, 0, 0]); // half a record header
    std::fs::write(&last_log, &data).unwrap();
    let reader = Engine::open_read_only(config(tmp.path())).unwrap();
    assert_eq!(points(&reader, "a"), (0..100).collect::<Vec<_>>());
    reader.catch_up().unwrap();
    assert_eq!(
        std::fs::read(&last_log).unwrap(),
        data,
        "the reader cut the tail"
    );
}
