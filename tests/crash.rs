//! Kill -9 loop with an oracle. A child process (this test binary, run again) opens
//! the database with small memtables and log segments and a busy background thread,
//! then writes from several threads: three time-series writers (batches, overwrites,
//! deletes, range deletes, TTL writes, flushes, compactions), each on its own keys,
//! and one JsonDB writer (transactions putting and deleting documents in a store with
//! a unique and a plain index); and a reader scanning the writers' keys, whose range
//! reads pay for merges for reads (docs/design.md), so those are killed too (the
//! merges it saw are counted in a file beside the oracle). Before each call a writer appends `P thread op` to an
//! oracle log outside the data directory, and `A thread op` after it succeeds; each
//! line is one write(2), unbuffered. The parent SIGKILLs the child at a random moment
//! (a quarter of the time before the child's open has returned, as timed in the
//! cycles before: some land in recovery), reopens, and checks
//! for each writer that what is stored is its model after every acknowledged op, with
//! or without the one pending: so no acknowledged op is lost, no op is partly visible
//! and nothing deleted comes back. Each JsonDB index must agree with its store. Open
//! must never fail. Before the reopen, a read-only instance (`Engine::open_read_only`)
//! opened on the killed child's directory must see exactly what the reopen recovers.
//! The next child continues where the database is.
//!
//! Every op is generated from (seed, writer, op number), so the parent rebuilds what
//! the child did from the oracle. `FLOWDB_CRASH_CYCLES` (default 20 per sync mode);
//! `scripts/crash-loop.sh` runs long loops. The seed is printed.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::docs::{self, DocTxn, Docs};
use common::ops::{self, Op};
use flowdb::jsondb::JsonDB;
use flowdb::{Config, Engine, ScanRange, SyncMode};

const TS_WRITERS: usize = 3;
/// The JsonDB writer's number.
const JSON: usize = TS_WRITERS;

fn config(dir: &Path, mode: &str) -> Config {
    Config {
        wal_sync_mode: if mode == "always" {
            SyncMode::Always
        } else {
            SyncMode::IntervalMs(50)
        },
        auto_background: true,
        flush_interval_ms: 10,
        ..common::small_config(dir)
    }
}

fn op_rng(seed: u64, writer: usize, n: usize) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed ^ ((writer as u64) << 56) ^ (n as u64).wrapping_mul(0x9e37_79b9))
}

fn prefix(writer: usize) -> String {
    format!("t{writer}/")
}

/// Time-series writer `w`'s op number `n`.
fn ts_op(seed: u64, base_ts: i64, w: usize, n: usize) -> Op {
    Op::random_in(&mut op_rng(seed, w, n), n, base_ts, &prefix(w))
}

/// The JsonDB writer's transaction number `n`.
fn json_op(seed: u64, n: usize) -> DocTxn {
    DocTxn::random(&mut op_rng(seed, JSON, n), n)
}

fn open_db(dir: &Path, mode: &str) -> JsonDB {
    let db = JsonDB::from_engine(Engine::open(config(dir, mode)).unwrap()).unwrap();
    docs::ensure_store(&db).unwrap();
    db
}

/// The oracle: one line per write(2) on a file opened for appending.
struct Oracle(std::fs::File);

impl Oracle {
    fn line(&self, tag: char, w: usize, n: usize) {
        (&self.0)
            .write_all(format!("{tag} {w} {n}\n").as_bytes())
            .unwrap();
    }
}

/// The child: runs only when the parent sets FLOWDB_CRASH_DIR.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("FLOWDB_CRASH_DIR") else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap();
    let mode = var("FLOWDB_CRASH_MODE");
    let seed: u64 = var("FLOWDB_CRASH_SEED").parse().unwrap();
    let base_ts: i64 = var("FLOWDB_CRASH_BASE_TS").parse().unwrap();
    let starts: Vec<usize> = var("FLOWDB_CRASH_FROM")
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let oracle = Oracle(
        std::fs::OpenOptions::new()
            .append(true)
            .open(var("FLOWDB_CRASH_ORACLE"))
            .unwrap(),
    );
    oracle.line('S', 0, 0); // started: a kill after this and before 'O' hit open
    let db = open_db(Path::new(&dir), &mode);
    oracle.line('O', 0, 0); // opened: a kill before this line hit open or recovery
    std::thread::scope(|s| {
        for (w, &start) in starts.iter().enumerate().take(TS_WRITERS) {
            let (db, oracle) = (&db, &oracle);
            s.spawn(move || {
                for n in start.. {
                    let op = ts_op(seed, base_ts, w, n);
                    oracle.line('P', w, n);
                    op.apply(db.engine()).unwrap();
                    oracle.line('A', w, n);
                }
            });
        }
        let reads = Path::new(&var("FLOWDB_CRASH_ORACLE")).with_extension("reads");
        let db_for_reads = &db;
        s.spawn(move || {
            for i in 0u64.. {
                for w in 0..TS_WRITERS {
                    let scan = db_for_reads.engine().scan(ScanRange::prefix(prefix(w)));
                    scan.unwrap().for_each(|r| drop(r.unwrap()));
                }
                if i % 8 == 7 {
                    let merges = db_for_reads.engine().stats().total_read_merges;
                    std::fs::write(&reads, merges.to_string()).unwrap();
                }
            }
        });
        let (db, oracle) = (&db, &oracle);
        s.spawn(move || {
            for n in starts[JSON].. {
                let txn = json_op(seed, n);
                oracle.line('P', JSON, n);
                txn.apply(db).unwrap();
                oracle.line('A', JSON, n);
            }
        });
    });
}

/// The op numbers (from the values, `v<op>.<i>.`) of stored records that differ from
/// the model: for failure messages.
fn writers_of(got: &ops::State, model: &ops::State) -> Vec<String> {
    got.iter()
        .filter(|(k, v)| model.get(*k) != Some(*v))
        .map(|(_, (_, v))| String::from_utf8_lossy(&v[..v.len().min(8)]).into_owned())
        .collect()
}

/// Held while this process has a database open (`verify`) and while it spawns a
/// child. Both sync modes run at once in this process; a child forked by one copies
/// every descriptor of the process until it execs, the other's `LOCK` included, and
/// a `flock` lock lives as long as any copy. Without this, a child could find the
/// directory `Locked` by its sibling's half-spawned process. (The same holds for any
/// program that forks while it has a database open: see docs/design.md.)
static FORK_GUARD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether the child got through open before it was killed.
fn opened(path: &Path) -> bool {
    has_line(path, "O 0 0")
}

fn has_line(path: &Path, line: &str) -> bool {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .any(|l| l == line)
}

/// Per writer: the last op begun and the last acknowledged.
fn read_oracle(path: &Path) -> Vec<(Option<usize>, Option<usize>)> {
    let mut out = vec![(None, None); JSON + 1];
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let mut f = line.split(' ');
        let (Some(tag), Some(w), Some(n)) = (f.next(), f.next(), f.next()) else {
            continue; // a line cut by the kill
        };
        let (Ok(w), Ok(n)) = (w.parse::<usize>(), n.parse::<usize>()) else {
            continue;
        };
        let slot = match tag {
            "P" => &mut out[w].0,
            "A" => &mut out[w].1,
            _ => continue,
        };
        *slot = Some(slot.map_or(n, |m: usize| m.max(n)));
    }
    out
}

struct Loop {
    dir: tempfile::TempDir,
    oracle_dir: tempfile::TempDir,
    mode: &'static str,
    seed: u64,
    base_ts: i64,
    /// Per writer: ops applied so far, and the model after them.
    next: Vec<usize>,
    ts_models: Vec<ops::State>,
    docs: Docs,
}

impl Loop {
    /// Runs a child and kills it `kill_after` from its start, or with `from_open`
    /// from when it has opened the database and every writer with no op verified
    /// yet has had one acknowledged (so a slow machine's open and first ops do not
    /// eat the time meant for writes: timed from the start alone, every kill of a
    /// run could land before some writer wrote, failing "every writer got work
    /// done" by chance); also returns how long it took to open the database, when
    /// it got that far.
    fn spawn_and_kill(
        &self,
        cycle: usize,
        kill_after: Duration,
        from_open: bool,
    ) -> (PathBuf, Option<Duration>) {
        let oracle = self.oracle_dir.path().join(format!("oracle-{cycle}"));
        std::fs::write(&oracle, b"").unwrap();
        let from: Vec<String> = self.next.iter().map(|n| n.to_string()).collect();
        let spawning = FORK_GUARD.lock().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env("FLOWDB_CRASH_DIR", self.dir.path())
            .env("FLOWDB_CRASH_MODE", self.mode)
            .env("FLOWDB_CRASH_SEED", self.seed.to_string())
            .env("FLOWDB_CRASH_BASE_TS", self.base_ts.to_string())
            .env("FLOWDB_CRASH_FROM", from.join(","))
            .env("FLOWDB_CRASH_ORACLE", &oracle)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(oracle.with_extension("stderr")).unwrap())
            .spawn()
            .unwrap();
        drop(spawning);
        let started = std::time::Instant::now();
        let mut open_took = None;
        // What `kill_after` counts from: the start, or the open and the first
        // acknowledged op of each writer that has none verified yet, once seen (a
        // child that has not got there in a minute is killed anyway).
        let mut clock = (!from_open).then_some(started);
        let idle: Vec<usize> = (0..=JSON).filter(|w| self.next[*w] == 0).collect();
        loop {
            if open_took.is_none() && opened(&oracle) {
                open_took = Some(started.elapsed());
            }
            if clock.is_none() && open_took.is_some() {
                let log = read_oracle(&oracle);
                if idle.iter().all(|w| log[*w].1.is_some()) {
                    clock = Some(std::time::Instant::now());
                }
            }
            match clock {
                Some(t) if t.elapsed() >= kill_after => break,
                // Not open after a minute, or gone before its open (reported below).
                None if started.elapsed() >= Duration::from_secs(60)
                    || matches!(child.try_wait(), Ok(Some(_))) =>
                {
                    break
                }
                _ => std::thread::sleep(Duration::from_micros(500)),
            }
        }
        // SIGKILL: no destructor, no flush, no chance to clean up.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        // A writer whose call failed panics, and its thread stops while the others
        // go on: that is a failure of the engine, not something to wait out.
        let stderr = std::fs::read_to_string(oracle.with_extension("stderr")).unwrap();
        assert!(
            status.code().is_none() && !stderr.contains("panicked"),
            "cycle {cycle}: the child failed ({status}):\n{stderr}"
        );
        (oracle, open_took)
    }

    /// Checks the reopened database against the oracle and moves the models on.
    fn verify(&mut self, cycle: usize, oracle: &Path) {
        let _no_spawn = FORK_GUARD.lock().unwrap();
        let what = |w: usize| {
            format!(
                "{} cycle {cycle} writer {w} (seed {})",
                self.mode, self.seed
            )
        };
        let log = read_oracle(oracle);
        // A read-only instance opened on the killed writer's directory sees exactly
        // what the writer recovers (it leaves a torn tail out, and in place).
        // A child killed in its first open may have left no manifest: no database
        // yet, which recovery then creates, empty (nothing was acknowledged).
        let no_database_yet = !self.dir.path().join("MANIFEST").exists();
        let read_only = match Engine::open_read_only(config(self.dir.path(), self.mode)) {
            Err(flowdb::Error::NotFound(_)) if no_database_yet => Ok(ops::State::new()),
            opened => opened.and_then(|r| ops::state_of(&r)),
        }
        .unwrap_or_else(|e| panic!("{}: read-only open: {e}", what(0)));
        // What recovery recovered, read before JsonDB's open writes its catalog: a
        // child killed within its first JsonDB open left none, which this open then
        // creates (the read-only instance, opened before it, rightly has none).
        let engine = Engine::open(config(self.dir.path(), self.mode)).unwrap();
        let stored = ops::state_of(&engine).unwrap();
        let db = JsonDB::from_engine(engine).unwrap();
        docs::ensure_store(&db).unwrap();
        assert!(
            read_only == stored,
            "{}: the read-only instance saw another state than recovery: {}",
            what(0),
            ops::diff(&stored, &read_only)
        );
        for (w, logged) in log.iter().enumerate().take(TS_WRITERS) {
            let p = prefix(w).into_bytes();
            let got: ops::State = stored
                .iter()
                .filter(|((k, _), _)| k.starts_with(&p))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut model = self.ts_models[w].clone();
            let acked_to = logged.1.map_or(self.next[w], |n| n + 1);
            for n in self.next[w]..acked_to {
                ts_op(self.seed, self.base_ts, w, n).apply_model(&mut model);
            }
            let mut next = acked_to;
            if got != model {
                let pending = logged.0.filter(|n| *n == acked_to);
                let mut with = model.clone();
                if let Some(n) = pending {
                    ts_op(self.seed, self.base_ts, w, n).apply_model(&mut with);
                }
                assert!(
                    pending.is_some() && got == with,
                    "{}: stored data is not the model after op {acked_to}, nor {}: {}\n\
                     oracle: pending {:?}, acked {:?}; ops that wrote what is stored: {:?}",
                    what(w),
                    acked_to + 1,
                    ops::diff(&model, &got),
                    logged.0,
                    logged.1,
                    writers_of(&got, &model),
                );
                model = with;
                next += 1;
            }
            self.ts_models[w] = model;
            self.next[w] = next;
        }
        self.verify_json(&db, &log, &what(JSON));
        db.shutdown().unwrap();
    }

    fn verify_json(&mut self, db: &JsonDB, log: &[(Option<usize>, Option<usize>)], what: &str) {
        let got = docs::stored(db);
        let acked_to = log[JSON].1.map_or(self.next[JSON], |n| n + 1);
        for n in self.next[JSON]..acked_to {
            json_op(self.seed, n).apply_model(&mut self.docs);
        }
        self.next[JSON] = acked_to;
        if got != self.docs {
            let pending = log[JSON].0.filter(|n| *n == acked_to);
            let mut with = self.docs.clone();
            if let Some(n) = pending {
                json_op(self.seed, n).apply_model(&mut with);
            }
            assert!(
                pending.is_some() && got == with,
                "{what}: documents are not the model after transaction {acked_to} nor the next"
            );
            self.docs = with;
            self.next[JSON] += 1;
        }
        docs::check_indexes(db, &self.docs, what);
        docs::check_feed(db, &self.docs, what);
    }
}

fn run(mode: &'static str) {
    let cycles: usize = std::env::var("FLOWDB_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rng = common::rng(&format!("crash_{mode}"));
    let mut l = Loop {
        dir: tempfile::tempdir().unwrap(),
        oracle_dir: tempfile::tempdir().unwrap(),
        mode,
        seed: rng.u64(..),
        // A week back, not the usual hour: an op's ts moves on a second every four
        // ops, and a long loop's writers pass 14,400 ops, where a TTL of 1 s would
        // then expire between two verifications (the kept model would not follow).
        base_ts: common::base_ts() - 7 * 86_400_000_000,
        next: vec![0; JSON + 1],
        ts_models: vec![ops::State::new(); TS_WRITERS],
        docs: Docs::new(),
    };
    let mut in_open = 0;
    // Merges for reads the children had done when last counted (a lower bound).
    let mut read_merges = 0;
    // How long a child takes from its start to an open database (process start,
    // then open and recovery), as last seen: a quarter of the kills fall within it.
    let mut open_takes = Duration::from_millis(30);
    for c in 0..cycles {
        // A quarter of the kills within the open, timed from the start; the rest
        // 0-370 ms into the writes (30-400 ms from the start, before), timed from
        // the open and the first op of each writer with none verified yet. The
        // last cycle is of the second kind while a writer has none, so that every
        // writer gets work done whatever the draws and the machine's speed.
        let (kill_after, from_open) = if rng.u8(..4) == 0 {
            (open_takes.mul_f64(rng.f64()), false)
        } else {
            (Duration::from_millis(rng.u64(0..370)), true)
        };
        let from_open = from_open || (c + 1 == cycles && l.next.contains(&0));
        let (oracle, took) = l.spawn_and_kill(c, kill_after, from_open);
        open_takes = took.unwrap_or(open_takes);
        read_merges += std::fs::read_to_string(oracle.with_extension("reads"))
            .ok()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        in_open += usize::from(has_line(&oracle, "S 0 0") && !opened(&oracle));
        l.verify(c, &oracle);
    }
    let ops: usize = l.next.iter().sum();
    println!(
        "crash_{mode}: {cycles} cycles ({in_open} killed while opening), \
         {ops} ops verified, per writer {:?}, {read_merges} merges for reads seen",
        l.next
    );
    assert!(l.next.iter().all(|n| *n > 0), "every writer got work done");
}

#[test]
fn kill_9_loses_no_acknowledged_write_interval_mode() {
    run("interval");
}

#[test]
fn kill_9_loses_no_acknowledged_write_always_mode() {
    run("always");
}
