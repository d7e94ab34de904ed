//! Read-only transactions alongside read-write ones on one store: each read-only
//! transaction sees one unchanging snapshot, never a half-committed transaction.

mod common;

use flowdb::jsondb::{JsonDB, TransactionMode};
use serde_json::json;

#[test]
fn readers_never_see_a_torn_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = JsonDB::open(common::small_config(dir.path())).unwrap();
    db.create_object_store("acct", "id").unwrap();
    db.put("acct", json!({"id": "a", "n": 100})).unwrap();
    db.put("acct", json!({"id": "b", "n": 0})).unwrap();
    std::thread::scope(|s| {
        for w in 0..2 {
            let db = &db;
            s.spawn(move || {
                for i in 0..150 {
                    let mut tx = db
                        .transaction(&["acct"], TransactionMode::ReadWrite)
                        .unwrap();
                    let a = tx.get("acct", &json!("a")).unwrap().unwrap()["n"]
                        .as_i64()
                        .unwrap();
                    let b = tx.get("acct", &json!("b")).unwrap().unwrap()["n"]
                        .as_i64()
                        .unwrap();
                    let amount = (i + w) % 7 - 3;
                    tx.put("acct", json!({"id": "a", "n": a - amount})).unwrap();
                    tx.put("acct", json!({"id": "b", "n": b + amount})).unwrap();
                    tx.commit().unwrap();
                }
            });
        }
        for _ in 0..2 {
            let db = &db;
            s.spawn(move || {
                for _ in 0..300 {
                    let tx = db
                        .transaction(&["acct"], TransactionMode::ReadOnly)
                        .unwrap();
                    let first: i64 = tx
                        .scan("acct")
                        .unwrap()
                        .iter()
                        .map(|d| d["n"].as_i64().unwrap())
                        .sum();
                    let again: i64 = tx
                        .scan("acct")
                        .unwrap()
                        .iter()
                        .map(|d| d["n"].as_i64().unwrap())
                        .sum();
                    assert_eq!((first, again), (100, 100), "a torn or moving view");
                }
            });
        }
    });
    let total: i64 = db
        .scan("acct")
        .unwrap()
        .iter()
        .map(|d| d["n"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 100);
}

/// Waiting never deadlocks a thread on itself, however the wait is reached, and no
/// timeout setting makes a begin panic or leave the store blocked.
mod waits {
    use super::common;
    use flowdb::jsondb::{JsonDB, TransactionMode};
    use flowdb::StatusCode;
    use serde_json::json;
    use std::time::{Duration, Instant};

    /// `f` fails with `Busy` well before the 10-second timeout (at once, not after
    /// waiting it out), once the other thread is queued: until then `f` may succeed
    /// (it is tried again every 20 ms, for up to 30 s, with the attempt's number),
    /// so the test does not depend on how soon that thread runs.
    fn busy_at_once(mut f: impl FnMut(usize) -> flowdb::Result<()>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for attempt in 0.. {
            let started = Instant::now();
            let Err(err) = f(attempt) else {
                assert!(Instant::now() < deadline, "never Busy");
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            assert_eq!(err.code(), StatusCode::Busy, "{err}");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "waited {:?}",
                started.elapsed()
            );
            return;
        }
    }

    fn db(dir: &std::path::Path, timeout: Duration) -> JsonDB {
        let db = JsonDB::open(common::small_config(dir)).unwrap();
        db.create_object_store("s", "id").unwrap();
        db.put("s", json!({"id": 1})).unwrap();
        db.set_transaction_timeout(timeout);
        db
    }

    /// `Duration::MAX` is "wait as long as it takes": adding it to the clock
    /// panicked, and the panicking begin's entry blocked the store until a reopen.
    #[test]
    fn the_largest_timeout_waits_without_end() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path(), Duration::MAX);
        let t1 = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
        std::thread::scope(|s| {
            let writer = s.spawn(|| db.put("s", json!({"id": 2})));
            std::thread::sleep(Duration::from_millis(100));
            drop(t1);
            assert!(writer.join().unwrap().is_ok());
        });
        db.put("s", json!({"id": 3})).unwrap();
    }

    /// This thread holds a read-only transaction; another thread's writer waits for
    /// it; this thread's next read would wait behind the writer: `Busy` at once (it
    /// waited out the whole timeout, and then the writer failed too).
    #[test]
    fn a_wait_through_another_threads_writer_is_busy_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path(), Duration::from_secs(10));
        let t1 = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
        std::thread::scope(|s| {
            let writer = s.spawn(|| db.put("s", json!({"id": 2})));
            busy_at_once(|_| db.get("s", &json!(1)).map(|_| ()));
            drop(t1);
            assert!(writer.join().unwrap().is_ok());
        });
    }

    /// A schema change holds the schema lock while it waits for this thread's
    /// transaction: this thread's own schema change is `Busy` at once (it waited
    /// without limit on the lock), and the first one goes on once the transaction ends.
    #[test]
    fn a_schema_change_waiting_for_this_thread_is_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path(), Duration::from_secs(10));
        let t1 = db.transaction(&["s"], TransactionMode::ReadOnly).unwrap();
        std::thread::scope(|s| {
            let index = s.spawn(|| db.create_index_on("s", "by_n", "n", false));
            // (A store of its own for each try: one that exists is not waited for.)
            busy_at_once(|n| db.create_object_store(&format!("z{n}"), "id"));
            drop(t1);
            assert!(index.join().unwrap().is_ok());
        });
        db.create_object_store("z", "id").unwrap();
    }

    /// An unknown store in the scope is `NotFound` before any wait (it was `Busy`).
    #[test]
    fn an_unknown_store_is_not_found_not_busy() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(dir.path(), Duration::from_secs(10));
        let _t1 = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
        let err = db
            .transaction(&["s", "zz"], TransactionMode::ReadOnly)
            .unwrap_err();
        assert_eq!(err.code(), StatusCode::NotFound, "{err}");
    }
}

/// Many writers queued on one store drain at once when the holder commits: the
/// wait-chain check runs at every wake-up of every waiter, and must stay cheap (a
/// walk of every chain per wake-up made 300 waiters take about 9 s to drain, 400
/// tens of seconds). The transaction timeout (5 s) is what would fail it.
#[test]
fn many_queued_writers_all_start() {
    use flowdb::jsondb::{JsonDB, TransactionMode};
    use serde_json::json;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let db = JsonDB::open(common::small_config(dir.path())).unwrap();
    db.create_object_store("s", "id").unwrap();
    db.set_transaction_timeout(Duration::from_secs(5));
    let t1 = db.transaction(&["s"], TransactionMode::ReadWrite).unwrap();
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..300)
            .map(|i| {
                let db = &db;
                s.spawn(move || db.put("s", json!({"id": i})))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        t1.commit().unwrap();
        for w in writers {
            w.join().unwrap().unwrap();
        }
    });
    assert_eq!(db.count("s").unwrap(), 300);
}
