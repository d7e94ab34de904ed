//! Simulated power loss and process kills, through the fault-injecting file system
//! (`flowdb::fs::FaultFs`). A scripted workload (batches, deletes, range deletes,
//! TTL writes, flushes, compactions) is cut at an I/O step, and the file system is
//! restarted as a kill or a power loss (unsynced data dropped, or partly kept with
//! a garbled end) would leave it. Then:
//! - open never fails;
//! - what is stored is the model after a prefix of the commits, so no commit is
//!   partly visible and none is missing while a later one survives;
//! - under `Always`, that prefix holds every acknowledged commit; under
//!   `IntervalMs`, every commit acknowledged before the last `flush` returned;
//! - new writes after recovery survive another restart.
//!
//! The same for JsonDB transactions, whose indexes must also agree with the store.
//!
//! Exhaustive over every step of short scripts (`FLOWDB_POWER_LOSS_SCRIPTS`, default
//! 1); random for long ones (`FLOWDB_POWER_LOSS_CYCLES`, default 40). Seeds are
//! printed; `scripts/power-loss.sh` runs the long version.

mod common;

use common::docs::{self, DocTxn, Docs};
use common::ops::{self, Op};
use flowdb::fs::{CrashMode, FaultFs};
use flowdb::jsondb::JsonDB;
use flowdb::{Engine, SyncMode};

fn open(fs: &FaultFs, mode: SyncMode) -> flowdb::Result<Engine> {
    ops::open_on(fs, mode)
}

/// What a run of the script got done before the crash.
struct Run {
    /// Commits acknowledged.
    acked: usize,
    /// Commits attempted (the last may have failed midway).
    attempted: usize,
    /// Commits that must survive any crash.
    durable: usize,
}

fn run_script(fs: &FaultFs, ops: &[Op], mode: SyncMode) -> Run {
    let mut run = Run {
        acked: 0,
        attempted: 0,
        durable: 0,
    };
    let Ok(e) = open(fs, mode) else { return run };
    for op in ops {
        if op.is_commit() {
            run.attempted += 1;
        }
        if op.apply(&e).is_err() {
            break;
        }
        if op.is_commit() {
            run.acked += 1;
            if mode == SyncMode::Always {
                run.durable = run.acked;
            }
        } else if matches!(op, Op::Flush) {
            run.durable = run.acked;
        }
    }
    // Dropped without shutdown: nothing more is written (the crash has happened, or
    // the script ended and this is a kill).
    drop(e);
    run
}

/// Restarts `fs` after a crash per `crash` and checks the recovered database.
fn check_recovery(
    fs: &FaultFs,
    run: &Run,
    states: &[ops::State],
    mode: SyncMode,
    crash: CrashMode,
    what: &str,
) {
    let fs = fs.restart(crash);
    let e = open(&fs, mode).unwrap_or_else(|err| panic!("{what}, {crash:?}: open failed: {err}"));
    let got = ops::state_of(&e).unwrap_or_else(|err| panic!("{what}, {crash:?}: scan: {err}"));
    let lo = if crash == CrashMode::Kill {
        run.acked
    } else {
        run.durable
    };
    let found = ops::matching_prefixes(states, &got, lo, run.attempted);
    assert!(
        !found.is_empty(),
        "{what}, {crash:?}: recovered state is not the model after {lo}..={} commits \
         (acked {}); against {}: {}",
        run.attempted,
        run.acked,
        lo,
        ops::diff(&states[lo], &got)
    );
    // New writes go after what was recovered, and survive a kill.
    let extra = Op::Put(
        vec![flowdb::Record::new("zz", 1, b"after recovery".to_vec())],
        None,
    );
    extra.apply(&e).unwrap();
    drop(e);
    let fs = fs.restart(CrashMode::Kill);
    let e = open(&fs, mode).unwrap();
    let mut want = states[found[0]].clone();
    extra.apply_model(&mut want);
    let again = ops::state_of(&e).unwrap();
    assert_eq!(
        again, want,
        "{what}, {crash:?}: after a write and another restart"
    );
}

fn script(rng: &mut fastrand::Rng, n: usize) -> Vec<Op> {
    let base = common::base_ts();
    (0..n).map(|i| Op::random(rng, i, base)).collect()
}

fn every_step(mode: SyncMode, name: &str) {
    let scripts = env_count("FLOWDB_POWER_LOSS_SCRIPTS", 1);
    let mut rng = common::rng(name);
    let mut total = 0;
    for _ in 0..scripts {
        total += every_step_of(&script(&mut rng, 40), mode) + 1;
    }
    println!("{name}: {scripts} scripts, {total} crash points, 5 crash kinds each");
}

fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Crashes `ops` at each of its steps; returns the number of steps.
fn every_step_of(ops: &[Op], mode: SyncMode) -> u64 {
    let states = ops::prefix_states(ops);
    let probe = FaultFs::new();
    let full = run_script(&probe, ops, mode);
    assert_eq!(
        full.acked, full.attempted,
        "the script runs clean without faults"
    );
    let steps = probe.steps();
    assert!(steps > 10, "the script does I/O ({steps} steps)");
    for step in 0..=steps {
        let fs = FaultFs::new();
        fs.crash_at(step);
        let run = run_script(&fs, ops, mode);
        let what = format!("crash at step {step} of {steps}");
        check_recovery(&fs, &run, &states, mode, CrashMode::Kill, &what);
        check_recovery(&fs, &run, &states, mode, CrashMode::PowerLoss, &what);
        for seed in 0..3 {
            let torn = CrashMode::PowerLossTorn(step * 7 + seed);
            check_recovery(&fs, &run, &states, mode, torn, &what);
        }
    }
    steps
}

#[test]
fn power_loss_at_every_step_always() {
    every_step(SyncMode::Always, "power_loss_every_step_always");
}

#[test]
fn power_loss_at_every_step_interval() {
    every_step(
        SyncMode::IntervalMs(1_000_000),
        "power_loss_every_step_interval",
    );
}

fn random_crashes(mode: SyncMode, name: &str) {
    let cycles = env_count("FLOWDB_POWER_LOSS_CYCLES", 40);
    let mut rng = common::rng(name);
    for c in 0..cycles {
        let ops = script(&mut rng, 300);
        let states = ops::prefix_states(&ops);
        let probe = FaultFs::new();
        run_script(&probe, &ops, mode);
        let step = rng.u64(0..=probe.steps());
        let fs = FaultFs::new();
        fs.crash_at(step);
        let run = run_script(&fs, &ops, mode);
        let what = format!("cycle {c}: crash at step {step} of {}", probe.steps());
        let crash = match rng.u8(..3) {
            0 => CrashMode::Kill,
            1 => CrashMode::PowerLoss,
            _ => CrashMode::PowerLossTorn(rng.u64(..)),
        };
        check_recovery(&fs, &run, &states, mode, crash, &what);
    }
    println!("{name}: {cycles} cycles");
}

#[test]
fn power_loss_random_long_scripts_always() {
    random_crashes(SyncMode::Always, "power_loss_random_always");
}

#[test]
fn power_loss_random_long_scripts_interval() {
    random_crashes(
        SyncMode::IntervalMs(1_000_000),
        "power_loss_random_interval",
    );
}

/// Time-ordered flushes over several 10-second windows with incompressible values,
/// then the scheduled merges (tiered, then a closed window's final merge) and a full
/// compaction, all writing several 4 KiB tables each: a crash at every step of them.
#[test]
fn power_loss_at_every_step_of_compactions_that_cut_outputs() {
    let mut rng = common::rng("power_loss_cut_compactions");
    // At a window's start (10-second windows), so script windows are real ones.
    let base = common::base_ts().div_euclid(10_000_000) * 10_000_000;
    let mut ops = Vec::new();
    // Per 10-second window, six flushes: the first four merge into a level-1 run
    // (`RunCompactions`, tiers of 4); when the next window's first flush arrives, the
    // window is closed and its two level-0 runs merge into a final run (the level-1
    // run, the largest, stays).
    for round in 0..25i64 {
        let window = round / 6;
        let batch = (0..60)
            .map(|i| {
                let key = format!("s{:02}", i % 20);
                let ts = base + (window * 10 + round % 6 + i as i64 / 30) * 1_000_000;
                let value: Vec<u8> = (0..rng.usize(40..120)).map(|_| rng.u8(..)).collect();
                flowdb::Record::new(key, ts, value)
            })
            .collect();
        ops.push(Op::Put(batch, None));
        ops.push(Op::Flush);
        if round % 6 == 3 || round % 6 == 0 {
            ops.push(Op::RunCompactions);
        }
    }
    ops.push(Op::DeleteRange("s05".into(), "s07".into()));
    ops.push(Op::Flush);
    ops.push(Op::Compact);
    // The script does what it is meant to: merges, and merges with several outputs.
    let probe = FaultFs::new();
    let e = open(&probe, SyncMode::Always).unwrap();
    let mut most_tables = 0;
    for op in &ops {
        op.apply(&e).unwrap();
        most_tables = most_tables.max(e.stats().sstable_count);
    }
    let st = e.stats();
    assert!(st.total_compaction_runs >= 8, "{st:?}");
    assert!(
        st.sstable_count >= 3,
        "a full compaction writes several tables: {st:?}"
    );
    assert!(most_tables > st.sstable_count, "{most_tables} {st:?}");
    drop(e);
    let steps = every_step_of(&ops, SyncMode::Always);
    println!("power_loss_cut_compactions: {steps} crash points, 5 crash kinds each");
}

/// JsonDB on `fs`, with its store.
fn open_docs(fs: &FaultFs, mode: SyncMode) -> flowdb::Result<JsonDB> {
    let db = JsonDB::from_engine(open(fs, mode)?)?;
    docs::ensure_store(&db)?;
    Ok(db)
}

/// JsonDB transactions (with a flush after every 8th), crashed at every I/O step and
/// restarted 5 ways: the documents are the model after a prefix of the transactions
/// holding every durable one, and each index agrees with the store.
fn jsondb_every_step(mode: SyncMode, name: &str) {
    let mut rng = common::rng(name);
    let txns: Vec<DocTxn> = (0..24).map(|n| DocTxn::random(&mut rng, n)).collect();
    let mut models = vec![Docs::new()];
    for t in &txns {
        let mut m = models.last().unwrap().clone();
        t.apply_model(&mut m);
        models.push(m);
    }
    let run = |fs: &FaultFs| -> Run {
        let mut run = Run {
            acked: 0,
            attempted: 0,
            durable: 0,
        };
        let Ok(db) = open_docs(fs, mode) else {
            return run;
        };
        for (i, t) in txns.iter().enumerate() {
            run.attempted += 1;
            if t.apply(&db).is_err() {
                break;
            }
            run.acked += 1;
            if mode == SyncMode::Always || (i % 8 == 7 && db.engine().flush().is_ok()) {
                run.durable = run.acked;
            }
        }
        run
    };
    let probe = FaultFs::new();
    let full = run(&probe);
    assert_eq!(full.acked, txns.len());
    let steps = probe.steps();
    for step in 0..=steps {
        let fs = FaultFs::new();
        fs.crash_at(step);
        let r = run(&fs);
        let kinds = [
            CrashMode::Kill,
            CrashMode::PowerLoss,
            CrashMode::PowerLossTorn(step),
            CrashMode::PowerLossTorn(step + 1_000_000),
        ];
        for crash in kinds {
            let what = format!("{name}: crash at step {step} of {steps}, {crash:?}");
            let fs = fs.restart(crash);
            let db = open_docs(&fs, mode).unwrap_or_else(|e| panic!("{what}: open: {e}"));
            let got = docs::stored(&db);
            let lo = if crash == CrashMode::Kill {
                r.acked
            } else {
                r.durable
            };
            let p = (lo..=r.attempted)
                .find(|p| models[*p] == got)
                .unwrap_or_else(|| panic!("{what}: not the model after {lo}..={}", r.attempted));
            docs::check_indexes(&db, &got, &what);
            docs::check_feed(&db, &got, &what);
            // A transaction after recovery survives a kill.
            let extra = DocTxn::random(&mut rng, 99);
            extra.apply(&db).unwrap();
            drop(db);
            let db = open_docs(&fs.restart(CrashMode::Kill), mode).unwrap();
            let mut want = models[p].clone();
            extra.apply_model(&mut want);
            assert_eq!(
                docs::stored(&db),
                want,
                "{what}: after a transaction and a kill"
            );
            docs::check_indexes(&db, &want, &what);
            docs::check_feed(&db, &want, &what);
        }
    }
    println!("{name}: {} crash points, 4 crash kinds each", steps + 1);
}

#[test]
fn jsondb_power_loss_at_every_step_always() {
    jsondb_every_step(SyncMode::Always, "jsondb_power_loss_always");
}

#[test]
fn jsondb_power_loss_at_every_step_interval() {
    jsondb_every_step(
        SyncMode::IntervalMs(1_000_000),
        "jsondb_power_loss_interval",
    );
}

/// The in-memory file system's model of an overwrite: bytes written over synced ones
/// are durable only at the next sync; a power loss keeps the old bytes, or (torn) a
/// prefix of the new ones over them, maybe with a garbled end (the model garbles a
/// sector or so past the last byte kept, whether or not it was written: pessimistic);
/// a kill keeps them all.
#[test]
fn overwritten_bytes_are_durable_only_when_synced() {
    use flowdb::fs::{FileSystem, OpenMode};
    use std::path::Path;
    let fs = FaultFs::new();
    let path = Path::new("/d/f");
    fs.create_dir_all(Path::new("/d")).unwrap();
    let f = fs.open(path, OpenMode::CreateNew).unwrap();
    f.write_at(&[0; 64], 0).unwrap();
    f.sync().unwrap();
    fs.sync_dir(Path::new("/d")).unwrap();
    f.write_at(&[7; 16], 8).unwrap();
    let read = |fs: &FaultFs| fs.contents(path).unwrap();
    let mut new = vec![0u8; 64];
    new[8..24].fill(7);
    assert_eq!(read(&fs.restart(CrashMode::Kill)), new);
    assert_eq!(read(&fs.restart(CrashMode::PowerLoss)), vec![0; 64]);
    let mut torn = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let got = read(&fs.restart(CrashMode::PowerLossTorn(seed)));
        assert_eq!(got.len(), 64, "seed {seed}");
        assert!(got[..8].iter().all(|&b| b == 0), "seed {seed}: {got:?}");
        // Past a prefix of the new bytes: the old ones, or a garbled end.
        let kept = got[8..24].iter().take_while(|&&b| b == 7).count();
        torn.insert(kept);
    }
    assert!(
        torn.contains(&0) && torn.contains(&16) && torn.len() > 2,
        "{torn:?}"
    );
}
