//! Locking across processes: two processes racing to open one directory, many times,
//! and exactly one wins each time; a killed owner's lock is released at once. The
//! racers are this test binary run again (`lock_child`, which does nothing unless
//! FLOWDB_LOCK_CHILD names a directory). FLOWDB_LOCK_RACES sets the number of races
//! (default 100; scripts/lock-race.sh runs 1,000).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use flowdb::{Config, Engine, Error};

const CHILD: &str = "FLOWDB_LOCK_CHILD";
const START: &str = "FLOWDB_LOCK_START_MICROS";

fn config(dir: &str) -> Config {
    Config {
        data_dir: dir.into(),
        auto_background: false,
        ..Config::default()
    }
}

/// The racer: waits for the common start time, opens, reports `won` or `locked`, and
/// (when it won) holds the engine until the parent closes its stdin.
#[test]
fn lock_child() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let start: i64 = std::env::var(START).map_or(0, |s| s.parse().unwrap_or(0));
    while flowdb::now_micros() < start {
        std::hint::spin_loop();
    }
    let result = Engine::open(config(&dir));
    let line = match &result {
        Ok(_) => "LOCK-RESULT won".to_string(),
        Err(Error::Locked(_)) => "LOCK-RESULT locked".to_string(),
        Err(e) => format!("LOCK-RESULT error {e}"),
    };
    // On stderr, which the harness leaves alone (its own lines go to stdout).
    eprintln!("{line}");
    std::io::stderr().flush().unwrap();
    if result.is_ok() {
        let mut rest = String::new();
        let _ = std::io::stdin().read_line(&mut rest); // until the parent lets go
    }
}

fn spawn(dir: &str, start: i64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, dir)
        .env(START, start.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning a racer")
}

fn result(out: ChildStderr) -> String {
    for line in BufReader::new(out).lines() {
        let line = line.expect("reading a racer");
        if let Some(r) = line.strip_prefix("LOCK-RESULT ") {
            return r.to_string();
        }
    }
    panic!("a racer ended without a result");
}

#[test]
fn exactly_one_of_two_racing_processes_opens() {
    let races: usize = std::env::var("FLOWDB_LOCK_RACES").map_or(100, |s| s.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    Engine::open(config(&path)).unwrap().shutdown().unwrap(); // created once
    for race in 0..races {
        // Both start at the same moment, 30 ms from now (after both have started).
        let start = flowdb::now_micros() + 30_000;
        let mut kids = [spawn(&path, start), spawn(&path, start)];
        let results: Vec<String> = kids
            .iter_mut()
            .map(|k| result(k.stderr.take().unwrap()))
            .collect();
        for k in kids.iter_mut() {
            drop(k.stdin.take()); // the winner lets go
            assert!(k.wait().unwrap().success(), "race {race}: a racer failed");
        }
        let won = results.iter().filter(|r| *r == "won").count();
        let locked = results.iter().filter(|r| *r == "locked").count();
        assert_eq!((won, locked), (1, 1), "race {race}: {results:?}");
    }
    println!("{races} races: exactly one winner each time");
}

#[test]
fn a_killed_owners_lock_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    let mut owner = spawn(&path, 0);
    assert_eq!(result(owner.stderr.take().unwrap()), "won");
    assert!(matches!(Engine::open(config(&path)), Err(Error::Locked(_))));
    owner.kill().unwrap(); // SIGKILL: no shutdown, no unlock
    owner.wait().unwrap();
    let t = Instant::now();
    let e = Engine::open(config(&path)).expect("open after the owner was killed");
    assert!(t.elapsed() < Duration::from_secs(5));
    e.shutdown().unwrap();
}
