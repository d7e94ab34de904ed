//! Damage to every file of a database, through the in-memory file system
//! (`flowdb::fs::FaultFs`): a bit flipped at every byte (every 3rd in CI:
//! `FLOWDB_CORRUPTION_STRIDE`, default 3) and runs of bytes overwritten with zeros or
//! garbage, in every table (several, after compactions), the manifest, every log
//! segment and the lock file. Pass:
//! - open fails with a `Corruption` error naming the damaged file and an offset in
//!   it; or it opens, and every read returns either the right data or such an error;
//! - damage in the last log record is a torn tail: the batches before it are
//!   recovered, exactly;
//! - never a wrong value, a panic or an empty database;
//! - a compaction reading a corrupt table fails, and keeps its inputs: with the
//!   table repaired, everything is there again.
//!
//! Also: zeros or garbage appended to the log (a torn write) are cut, and new writes
//! never follow them.

mod common;

use std::path::{Path, PathBuf};

use common::ops::{self, Op, State};
use flowdb::fs::{CrashMode, FaultFs, FileSystem};
use flowdb::{Engine, Error, Record, SyncMode};

fn open(fs: &FaultFs) -> flowdb::Result<Engine> {
    ops::open_on(fs, SyncMode::Always)
}

/// A database with tables on two levels, a log holding unflushed batches, its
/// manifest and lock; and the models after each commit.
fn build(seed_name: &str) -> (FaultFs, Vec<State>) {
    let mut rng = common::rng(seed_name);
    let base = common::base_ts();
    let mut script: Vec<Op> = Vec::new();
    for round in 0..4 {
        for i in 0..15 {
            let op = Op::random(&mut rng, round * 100 + i, base);
            if op.is_commit() {
                script.push(op);
            }
        }
        script.push(Op::Flush);
        if round == 2 {
            script.push(Op::Compact);
        }
    }
    for i in 0..6 {
        script.push(Op::Put(
            vec![Record::new(format!("tail{i}"), i, vec![b't'; 40])],
            None,
        ));
    }
    let fs = FaultFs::new();
    let e = open(&fs).unwrap();
    for op in &script {
        op.apply(&e).unwrap();
    }
    drop(e);
    (fs.restart(CrashMode::Kill), ops::prefix_states(&script))
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn is_log(p: &Path) -> bool {
    file_name(p).ends_with(".log")
}

fn last_log(fs: &FaultFs) -> Option<PathBuf> {
    fs.files()
        .into_iter()
        .filter(|p| is_log(p) && !fs.contents(p).unwrap().is_empty())
        .max()
}

/// How many records of a log segment end after byte `at` (records are `crc: u32,
/// len: u32, payload`): damage there may cut the log back to before them.
fn records_from(log: &[u8], at: usize) -> usize {
    let (mut pos, mut n) = (0, 0);
    while pos < log.len() {
        pos += 8 + u32::from_le_bytes(log[pos + 4..pos + 8].try_into().unwrap()) as usize;
        n += usize::from(pos > at);
    }
    n
}

enum Outcome {
    /// Open or a read reported the damage.
    Reported,
    /// Everything read back is the model after a prefix of the commits.
    Intact,
}

/// Opens a damaged copy and checks the rules; `torn` is how many of the last commits
/// may be missing (damage in the last log records looks like a torn write).
fn check(fs: &FaultFs, damaged: &Path, states: &[State], torn: usize, what: &str) -> Outcome {
    let name = file_name(damaged);
    let len = fs.contents(damaged).map_or(0, |d| d.len()) as u64;
    let reported = |err: &Error| match err {
        Error::Corruption { file, offset, .. } => {
            assert!(
                file.ends_with(&name),
                "{what}: error names {file}, not {name}"
            );
            assert!(
                *offset <= len,
                "{what}: offset {offset} past the end ({len})"
            );
        }
        other => panic!("{what}: not a Corruption error: {other}"),
    };
    let e = match open(fs) {
        Ok(e) => e,
        Err(err) => {
            reported(&err);
            return Outcome::Reported;
        }
    };
    let full = states.len() - 1;
    let lo = full - torn;
    let (want, outcome) = match ops::state_of(&e) {
        Ok(got) => {
            let found = ops::matching_prefixes(states, &got, lo, full);
            assert!(
                !found.is_empty(),
                "{what}: wrong data without an error: {}",
                ops::diff(&states[full], &got)
            );
            (&states[found[0]], Outcome::Intact)
        }
        Err(err) => {
            reported(&err);
            (&states[full], Outcome::Reported)
        }
    };
    for ((k, ts), (exp, v)) in want.iter().step_by(3) {
        let key = String::from_utf8(k.clone()).unwrap();
        match e.get(&key, *ts) {
            Ok(Some(r)) => assert_eq!(
                (r.value.as_slice(), r.expire_at),
                (ops::read_value(v), *exp),
                "{what}: get"
            ),
            Ok(None) => panic!("{what}: ({key}, {ts}) lost without an error"),
            Err(err) => reported(&err),
        }
    }
    outcome
}

fn stride() -> usize {
    std::env::var("FLOWDB_CORRUPTION_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

#[test]
fn a_flipped_bit_in_any_file_is_reported_or_harmless() {
    let (base, states) = build("corruption_flip");
    let last = last_log(&base).unwrap();
    let mut damaged = 0;
    let mut reported = 0;
    for path in base.files() {
        let good = base.contents(&path).unwrap();
        for at in (0..good.len()).step_by(stride()) {
            let fs = base.restart(CrashMode::Kill);
            let mut bad = good.clone();
            bad[at] ^= 1 << (at % 8);
            fs.set_contents(&path, bad);
            let what = format!("{} byte {at} of {}", file_name(&path), good.len());
            let torn = if path == last {
                records_from(&good, at)
            } else {
                0
            };
            damaged += 1;
            if let Outcome::Reported = check(&fs, &path, &states, torn, &what) {
                reported += 1;
            }
        }
    }
    println!(
        "{damaged} flips in {} files, {reported} reported",
        base.files().len()
    );
    assert!(
        reported > damaged / 2,
        "most damage is noticed ({reported}/{damaged})"
    );
}

#[test]
fn overwritten_byte_runs_are_reported_or_harmless() {
    let (base, states) = build("corruption_runs");
    let mut rng = common::rng("corruption_runs_positions");
    let last = last_log(&base).unwrap();
    for path in base.files() {
        let good = base.contents(&path).unwrap();
        if good.is_empty() {
            continue;
        }
        for _ in 0..60 {
            let at = rng.usize(..good.len());
            let run = rng.usize(1..=64).min(good.len() - at);
            let zeros = rng.bool();
            let mut bad = good.clone();
            for b in &mut bad[at..at + run] {
                *b = if zeros { 0 } else { rng.u8(..) };
            }
            let fs = base.restart(CrashMode::Kill);
            fs.set_contents(&path, bad);
            let what = format!("{} bytes {at}..+{run} of {}", file_name(&path), good.len());
            let torn = if path == last {
                records_from(&good, at)
            } else {
                0
            };
            check(&fs, &path, &states, torn, &what);
        }
    }
}

/// A database whose MANIFEST is gone (damage, a partial restore) is refused, not
/// opened as a new one (which deleted its tables as orphans): every file stays.
#[test]
fn a_lost_manifest_is_refused_and_nothing_is_deleted() {
    let (base, states) = build("corruption_lost_manifest");
    let manifest = Path::new("/db/MANIFEST");
    let saved = base.contents(manifest).unwrap();
    let fs = base.restart(CrashMode::Kill);
    let before = fs.files();
    fs.remove(manifest).unwrap();
    let err = open(&fs).unwrap_err();
    assert!(matches!(err, Error::Corruption { .. }), "{err}");
    assert!(err.to_string().contains("MANIFEST"), "{err}");
    assert!(err.to_string().contains("table(s)"), "{err}");
    let mut after = fs.files();
    after.push(manifest.to_path_buf());
    after.sort();
    let mut before = before;
    before.sort();
    assert_eq!(after, before, "nothing deleted");
    // With it back, the database is whole.
    fs.set_contents(manifest, saved);
    let e = open(&fs).unwrap();
    assert_eq!(ops::state_of(&e).unwrap(), states[states.len() - 1]);
}

#[test]
fn the_lock_file_contents_do_not_matter() {
    let (base, states) = build("corruption_lock");
    let fs = base.restart(CrashMode::Kill);
    fs.set_contents(Path::new("/db/LOCK"), b"garbage left by someone".to_vec());
    let e = open(&fs).unwrap();
    assert_eq!(ops::state_of(&e).unwrap(), states[states.len() - 1]);
}

#[test]
fn zeros_or_garbage_after_the_log_are_cut_and_never_followed() {
    let (base, states) = build("corruption_tail");
    let full = &states[states.len() - 1];
    let last = last_log(&base).unwrap();
    let mut rng = common::rng("corruption_tail_bytes");
    for n in [1usize, 7, 8, 9, 100, 4096] {
        for zeros in [true, false] {
            let fs = base.restart(CrashMode::Kill);
            let mut data = fs.contents(&last).unwrap();
            data.extend((0..n).map(|_| if zeros { 0 } else { rng.u8(..) }));
            fs.set_contents(&last, data);
            let what = format!(
                "{n} {} bytes appended",
                if zeros { "zero" } else { "garbage" }
            );
            let e = open(&fs).unwrap_or_else(|err| panic!("{what}: {err}"));
            assert_eq!(&ops::state_of(&e).unwrap(), full, "{what}");
            // Zeros to the end are where the log ends (a segment written under
            // `SyncMode::Always` has zeros written ahead of its records); garbage is
            // a torn tail, cut and counted.
            let none_cut = e
                .metrics_text()
                .contains("flowdb_wal_torn_tail_bytes_total 0\n");
            assert_eq!(none_cut, zeros, "{what}: torn tail counted");
            let extra = Op::Put(vec![Record::new("new", 1, b"after".to_vec())], None);
            extra.apply(&e).unwrap();
            drop(e);
            let fs = fs.restart(CrashMode::Kill);
            let e = open(&fs).unwrap_or_else(|err| panic!("{what}, reopen: {err}"));
            let mut want = full.clone();
            extra.apply_model(&mut want);
            let got = ops::state_of(&e).unwrap();
            assert_eq!(got, want, "{what}: {}", ops::diff(&want, &got));
        }
    }
}

#[test]
fn compaction_over_a_corrupt_table_fails_and_keeps_its_inputs() {
    let (base, states) = build("corruption_compaction");
    let full = &states[states.len() - 1];
    let tables: Vec<PathBuf> = base
        .files()
        .into_iter()
        .filter(|p| file_name(p).ends_with(".sst"))
        .collect();
    assert!(tables.len() >= 2, "tables: {tables:?}");
    let mut failed = 0;
    for t in &tables {
        let good = base.contents(t).unwrap();
        // The first data block: damage there passes open and is found by a read.
        let fs = base.restart(CrashMode::Kill);
        let mut bad = good.clone();
        bad[10] ^= 0x10;
        fs.set_contents(t, bad);
        let e = open(&fs).unwrap();
        match e.trigger_compaction() {
            Err(Error::Corruption { file, .. }) => {
                assert!(file.ends_with(&file_name(t)), "{file}");
                failed += 1;
            }
            other => panic!("compaction over damaged {t:?}: {other:?}"),
        }
        drop(e);
        // Repaired, the table and every other input is still the database.
        let fs = fs.restart(CrashMode::Kill);
        assert!(fs.contents(t).is_some(), "{t:?} was deleted");
        fs.set_contents(t, good);
        let e = open(&fs).unwrap();
        assert_eq!(&ops::state_of(&e).unwrap(), full, "after repairing {t:?}");
    }
    assert_eq!(failed, tables.len());
}
