//! Kill -9 loop: a child process writes batches through the public API (small
//! memtables and log segments, so flushes and rotations happen while it runs) and
//! prints each acknowledged batch; the parent kills it at a random moment, reopens and
//! checks that every acknowledged batch is there and no batch is partly visible.
//! (The full crash, power-loss and fault battery is tests of the reliability work.)

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flowdb::{Config, Engine, Record, ScanRange, SyncMode};

const KEYS: usize = 8;

fn config(dir: &str, mode: &str) -> Config {
    Config {
        wal_sync_mode: if mode == "always" {
            SyncMode::Always
        } else {
            SyncMode::IntervalMs(100)
        },
        auto_background: true,
        flush_interval_ms: 20,
        ..common::small_config(std::path::Path::new(dir))
    }
}

/// The child: runs only when the parent sets FLOWDB_CRASH_DIR.
#[test]
fn crash_child() {
    let (Ok(dir), Ok(mode)) = (
        std::env::var("FLOWDB_CRASH_DIR"),
        std::env::var("FLOWDB_CRASH_MODE"),
    ) else {
        return;
    };
    let e = Engine::open(config(&dir, &mode)).unwrap();
    let start: i64 = std::env::var("FLOWDB_CRASH_FROM").unwrap().parse().unwrap();
    for b in start.. {
        let batch: Vec<Record> = (0..KEYS)
            .map(|k| Record::new(format!("k{k}"), b, vec![b as u8; 2000]))
            .collect();
        e.write_batch_owned(batch).unwrap();
        println!("ack {b}");
    }
}

fn cycle(dir: &str, mode: &str, from: i64, kill_after: Duration) -> i64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("FLOWDB_CRASH_DIR", dir)
        .env("FLOWDB_CRASH_MODE", mode)
        .env("FLOWDB_CRASH_FROM", from.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acked = -1;
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("ack ") {
                acked = n.parse().unwrap();
            }
        }
        acked
    });
    let started = Instant::now();
    std::thread::sleep(kill_after);
    // SIGKILL: no destructor, no flush, no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let acked = reader.join().unwrap();
    let _ = started;
    acked
}

fn run(mode: &str, cycles: usize) {
    let mut rng = common::rng(&format!("crash_{mode}"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    let mut acked_total = -1i64;
    for c in 0..cycles {
        let acked = cycle(
            &path,
            mode,
            acked_total + 1,
            Duration::from_millis(rng.u64(30..400)),
        );
        acked_total = acked_total.max(acked);
        let e = Engine::open(config(&path, mode)).unwrap();
        let rs: Vec<Record> = e
            .scan(ScanRange::all())
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let mut per_ts = std::collections::BTreeMap::<i64, usize>::new();
        for r in &rs {
            assert_eq!(r.value, vec![r.ts as u8; 2000], "cycle {c}: wrong value");
            *per_ts.entry(r.ts).or_default() += 1;
        }
        assert!(
            per_ts.values().all(|n| *n == KEYS),
            "cycle {c}: a batch is partly visible"
        );
        for b in 0..=acked_total {
            assert_eq!(
                per_ts.get(&b),
                Some(&KEYS),
                "cycle {c}: acknowledged batch {b} lost ({mode})"
            );
        }
        // Batches written but not acknowledged may exist; continue after them.
        acked_total = acked_total.max(per_ts.keys().last().copied().unwrap_or(-1));
        e.shutdown().unwrap();
    }
    assert!(acked_total > 0, "the child never wrote");
}

#[test]
fn kill_9_loses_no_acknowledged_batch_interval_mode() {
    run("interval", 6);
}

#[test]
fn kill_9_loses_no_acknowledged_batch_always_mode() {
    run("always", 6);
}
