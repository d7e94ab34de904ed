//! Kill -9 loop for rollups. A child process (this test binary, run again) opens a
//! database with the rule "1m" and background maintenance every few milliseconds
//! (so passes run in the background too), then writes forever: points, most of them
//! late (below the watermark), deletes and time-range deletes, with `run_rollups` and
//! flushes among them. The parent SIGKILLs it at a random moment, reopens the
//! database, runs a pass and checks that every rolled bucket below the watermark is
//! the fold of the raw points the database holds, and that no rolled point lies at
//! or above it: whatever the kill interrupted (a dirty mark written before its raw
//! write, a pass's chunks before its watermark), one pass after the reopen makes the
//! rollup agree with the raw data. `FLOWDB_ROLLUP_CRASH_CYCLES` (default 10); the
//! seed is printed.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::rollups::{check, open, raw_points, rule, tuning, Model, STEP};
use flowdb::{Config, Engine, Point, Query, SyncMode};

/// What the child prints once its first `write_points` has returned (its points are
/// then in the log, which a kill does not undo).
const WROTE: &str = "rollup_crash_child: first write done";

/// The child: runs only when the parent sets FLOWDB_ROLLUP_CRASH_DIR.
#[test]
fn rollup_crash_child() {
    let Ok(dir) = std::env::var("FLOWDB_ROLLUP_CRASH_DIR") else {
        return;
    };
    let seed: u64 = std::env::var("FLOWDB_ROLLUP_CRASH_SEED")
        .unwrap()
        .parse()
        .unwrap();
    let base: i64 = std::env::var("FLOWDB_ROLLUP_CRASH_BASE")
        .unwrap()
        .parse()
        .unwrap();
    let mut rng = fastrand::Rng::with_seed(seed);
    let config = Config {
        auto_background: true,
        flush_interval_ms: 5,
        wal_sync_mode: if rng.bool() {
            SyncMode::Always
        } else {
            SyncMode::IntervalMs(20)
        },
        ..common::small_config(Path::new(&dir))
    };
    let e = Engine::open_with(config, tuning(vec![rule()])).unwrap();
    let key = |rng: &mut fastrand::Rng| format!("cpu.h{}", rng.u8(..4));
    let mut wrote = false;
    loop {
        match rng.u8(..20) {
            0 => e.run_rollups().unwrap(),
            1 => e.flush().unwrap(),
            2 => {
                let ts = base + rng.i64(0..60 * STEP);
                e.delete_batch(&[(key(&mut rng), ts - ts.rem_euclid(1_000_000))])
                    .unwrap();
            }
            3 => {
                let lo = base + rng.i64(0..60 * STEP);
                e.delete_time_range("cpu.h1", "cpu.h3", lo, lo + rng.i64(0..3 * STEP))
                    .unwrap();
            }
            _ => {
                let pts: Vec<Point> = (0..rng.usize(1..30))
                    .map(|_| {
                        let ts = base + rng.i64(0..3600) * 1_000_000;
                        Point::new(key(&mut rng), ts, rng.i32(-500..500) as f64)
                    })
                    .collect();
                e.write_points(&pts).unwrap();
                if !wrote {
                    wrote = true;
                    eprintln!("{WROTE}"); // the parent times its kill from here
                }
            }
        }
    }
}

#[test]
fn kill_9_leaves_rollups_that_one_pass_makes_agree_with_the_raw_points() {
    let cycles: usize = std::env::var("FLOWDB_ROLLUP_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut rng = common::rng("kill_9_leaves_rollups_that_one_pass_makes_agree");
    let dir = tempfile::tempdir().unwrap();
    // An hour of points, three hours ago: all of it rolls, and most writes are late.
    let now = flowdb::now_micros();
    let base = now - now.rem_euclid(STEP) - 3 * 3_600_000_000;
    let mut rolled_points = 0;
    for cycle in 0..cycles {
        let stderr = dir.path().join(format!("child-{cycle}.stderr"));
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "rollup_crash_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("FLOWDB_ROLLUP_CRASH_DIR", dir.path().join("db"))
            .env("FLOWDB_ROLLUP_CRASH_SEED", rng.u64(..).to_string())
            .env("FLOWDB_ROLLUP_CRASH_BASE", base.to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        // The kill is timed from the child's first write of points, not from its
        // start: on a slow machine, a kill timed from the start could land before
        // any write in every cycle, and nothing would roll. (Each cycle now writes
        // raw points that the kill cannot undo, and the pass below rolls them.)
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(&stderr).unwrap().contains(WROTE)
            && std::time::Instant::now() < deadline
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(rng.u64(50..500)));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let err = std::fs::read_to_string(&stderr).unwrap();
        assert!(
            status.code().is_none() && !err.contains("panicked"),
            "cycle {cycle}: the child failed ({status}):\n{err}"
        );
        let e = open(&dir.path().join("db"), &tuning(vec![rule()]));
        e.run_rollups().unwrap();
        let raw: Model = raw_points(&e);
        check(&e, &raw, &format!("cycle {cycle}"));
        rolled_points = e
            .rollup("1m")
            .unwrap()
            .query(Query::prefix(""))
            .unwrap()
            .len();
        e.shutdown().unwrap();
    }
    println!("{cycles} cycles; {rolled_points} rolled points at the end");
    assert!(rolled_points > 0, "the children wrote and rolled something");
}

/// The rule "1m" on the in-memory file system at `/db`, syncing the log once an hour.
fn open_on_faults(fs: &flowdb::fs::FaultFs) -> Engine {
    let config = Config {
        wal_sync_mode: SyncMode::IntervalMs(3_600_000),
        ..common::small_config(Path::new("/db"))
    };
    let fs = std::sync::Arc::new(fs.clone());
    Engine::open_on(fs, config, tuning(vec![rule()])).unwrap()
}

/// The start of the minute ten minutes ago: points there are due for a pass.
fn ten_minutes_ago() -> i64 {
    flowdb::now_micros() / STEP * STEP - 10 * STEP
}

/// Under `IntervalMs` a pass makes the raw points it read durable before it writes
/// what it rolled from them, so a power loss never keeps rolled buckets of raw points
/// it lost (the rollup's log is synced on its own clock, maybe before the raw one):
/// after a pass, the raw points survive a power loss; each file keeping any prefix of
/// its unsynced bytes, one pass after the reopen makes the rollup agree.
#[test]
fn a_pass_makes_the_raw_points_it_rolled_durable() {
    use flowdb::fs::{CrashMode, FaultFs};
    let base = ten_minutes_ago();
    for (seed, mode) in (0..20u64)
        .map(CrashMode::PowerLossTorn)
        .chain([CrashMode::PowerLoss])
        .enumerate()
    {
        let fs = FaultFs::new();
        let e = open_on_faults(&fs);
        let points: Vec<Point> = (0..30)
            .map(|i| Point::new("cpu.a", base + i * 10_000_000, i as f64))
            .collect();
        e.write_points(&points).unwrap();
        e.run_rollups().unwrap();
        let e2 = open_on_faults(&fs.restart(mode));
        assert_eq!(raw_points(&e2).len(), 30, "{seed}: raw points kept");
        e2.run_rollups().unwrap();
        check(&e2, &raw_points(&e2), &format!("{seed}"));
        drop(e);
    }
}

/// After a failed log sync, acknowledged raw points live in memory only until
/// `resume` writes them to a table: a pass would roll buckets a power loss could
/// keep without them, so it is refused until then.
#[test]
fn a_pass_waits_for_resume_after_a_failed_log_sync() {
    use flowdb::fs::{Fault, FaultFs, Injected, Op};
    let fs = FaultFs::new();
    let e = open_on_faults(&fs);
    let base = ten_minutes_ago();
    e.write_points(&[Point::new("cpu.a", base, 1.0)]).unwrap();
    fs.inject(Fault {
        op: Some(Op::Sync),
        name: "/db/wal-".into(),
        skip: 0,
        times: 1,
        error: Injected::Io,
    });
    let synced = vec![flowdb::Record::new("other", base, b"x".to_vec())];
    assert!(e.write_batch_sync(synced).is_err());
    let refused = e.run_rollups().unwrap_err();
    assert!(refused.to_string().contains("resume()"), "{refused}");
    e.resume().unwrap();
    e.run_rollups().unwrap();
    check(&e, &raw_points(&e), "after resume");
}
