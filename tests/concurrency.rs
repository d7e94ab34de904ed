//! Several writer and reader threads on one engine: every acknowledged write is
//! readable, readers never see a batch half-applied, and concurrent synced writers
//! share log syncs (group commit).

mod common;

use std::sync::Arc;

use flowdb::{Config, Engine, Record, ScanRange, SyncMode};

#[test]
fn writers_and_readers_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let e = Arc::new(
        Engine::open(Config {
            auto_background: true,
            ..common::small_config(dir.path())
        })
        .unwrap(),
    );
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let e = e.clone();
            std::thread::spawn(move || {
                for b in 0..200i64 {
                    // Each batch writes the same ts to 10 keys of this writer: readers
                    // must see all 10 or none.
                    let batch: Vec<Record> = (0..10)
                        .map(|k| Record::new(format!("w{w}/k{k}"), b, vec![w as u8; 200]))
                        .collect();
                    e.write_batch_owned(batch).unwrap();
                    assert_eq!(
                        e.get(&format!("w{w}/k9"), b).unwrap().unwrap().value,
                        vec![w as u8; 200]
                    );
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    for w in 0..4 {
                        let rs: Vec<Record> = e
                            .scan(ScanRange::prefix(format!("w{w}/")))
                            .unwrap()
                            .map(|r| r.unwrap())
                            .collect();
                        let mut per_ts = std::collections::BTreeMap::<i64, usize>::new();
                        for r in &rs {
                            *per_ts.entry(r.ts).or_default() += 1;
                        }
                        assert!(per_ts.values().all(|n| *n == 10), "torn batch seen");
                    }
                }
            })
        })
        .collect();
    for t in writers.into_iter().chain(readers) {
        t.join().unwrap();
    }
    assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 4 * 200 * 10);
    assert_eq!(e.stats().total_records_written, 8000);
}

#[test]
fn concurrent_synced_writers_share_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let e = Arc::new(
        Engine::open(Config {
            wal_sync_mode: SyncMode::Always,
            ..common::small_config(dir.path())
        })
        .unwrap(),
    );
    let before = e.metrics_text();
    let syncs = |text: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix("flowdb_wal_syncs_total "))
            .unwrap()
            .parse()
            .unwrap()
    };
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let e = e.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    e.write_batch(&[Record::new(format!("t{t}"), i, vec![1; 32])])
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let used = syncs(&e.metrics_text()) - syncs(&before);
    assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 800);
    // Every batch is synced, but batches queued together share one fdatasync.
    assert!(used <= 800, "{used} syncs for 800 batches");
    println!("group commit: {used} syncs for 800 synced batches from 8 threads");
}
