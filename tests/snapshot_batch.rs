//! `Engine::snapshot` and `WriteBatch`: a snapshot sees exactly the writes before it
//! (not later writes, flushes, compactions or deletes) for every read form; a batch
//! applies all or nothing, in order, with the TTL rules of single writes. The crash
//! tests (tests/common/ops.rs) write `WriteBatch`es too, so all-or-nothing is also
//! checked across kill -9 and power loss.

mod common;

use flowdb::{
    Config, Engine, Query, Record, ScanRange, StatusCode, WriteBatch, WriteOptions, NEVER_EXPIRES,
};

fn open(dir: &std::path::Path) -> Engine {
    Engine::open(common::small_config(dir)).unwrap()
}

type Got = Vec<(Vec<u8>, i64, Vec<u8>)>;

/// What a scan of `range` returns: key, ts and value.
fn scanned(snap: &flowdb::Snapshot, range: &ScanRange) -> Got {
    snap.scan(range.clone())
        .unwrap()
        .map(|r| r.unwrap())
        .map(|r| (r.key, r.ts, r.value))
        .collect()
}

/// What `visit` lends of `range`, to a visitor that stops after `stop` records.
fn visited(snap: &flowdb::Snapshot, range: &ScanRange, stop: usize) -> Got {
    let mut got = Vec::new();
    snap.visit(range.clone(), 0, &mut |k, ts, v| {
        got.push((k.to_vec(), ts, v.to_vec()));
        Ok(got.len() < stop)
    })
    .unwrap();
    got
}

fn keys_ts(recs: &[Record]) -> Vec<(String, i64)> {
    recs.iter()
        .map(|r| (r.key_str().into_owned(), r.ts))
        .collect()
}

#[test]
fn a_snapshot_is_unaffected_by_later_writes_flushes_and_compactions() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let big = vec![7u8; 3000]; // several tables with the small settings
    for i in 0..200 {
        e.write_batch(&[Record::new(format!("k{:02}", i % 20), i, big.clone())])
            .unwrap();
    }
    let snap = e.snapshot();
    let before = snap.query(Query::prefix("k")).unwrap();
    assert_eq!(before.len(), 200);
    // Later: overwrites, new records, deletes, a range delete, flushes, compaction.
    e.write_batch(&[
        Record::new("k00", 0, b"new".to_vec()),
        Record::new("k99", 1, vec![]),
    ])
    .unwrap();
    e.delete_batch(&[("k01".into(), 1)]).unwrap();
    e.delete_range("k05", "k10").unwrap();
    e.flush().unwrap();
    e.trigger_compaction().unwrap();
    e.trigger_gc().unwrap();
    // Every read form of the snapshot still sees the moment it was taken.
    assert_eq!(
        keys_ts(&snap.query(Query::prefix("k")).unwrap()),
        keys_ts(&before)
    );
    let scanned: Vec<Record> = snap
        .scan(ScanRange::all())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(scanned, before);
    assert_eq!(snap.get("k00", 0).unwrap().unwrap().value, big);
    assert!(snap.get("k01", 1).unwrap().is_some());
    assert!(snap.get("k99", 1).unwrap().is_none());
    assert_eq!(snap.get_latest("k07").unwrap().unwrap().ts, 187);
    let mut visited = 0;
    snap.visit(
        ScanRange::key_range("k05", "k09"),
        usize::MAX,
        &mut |k, _, v| {
            assert!(k >= b"k05".as_slice() && v == big.as_slice());
            visited += 1;
            Ok(true)
        },
    )
    .unwrap();
    assert_eq!(visited, 50);
    // A new snapshot sees the new state.
    let now = e.snapshot();
    assert_eq!(now.get("k00", 0).unwrap().unwrap().value, b"new");
    assert!(now.get_latest("k07").unwrap().is_none());
    drop(snap);
    e.shutdown().unwrap();
    assert_eq!(now.get("k00", 0).unwrap_err().code(), StatusCode::Closed);
    let lent = now.get_with(b"k00", 0, &flowdb::ReadOptions::default(), |v| v.to_vec());
    assert_eq!(lent.unwrap_err().code(), StatusCode::Closed);
}

/// A snapshot learns at its making whether any range tombstone can hide a version
/// from it, and then skips the check per version: one made before a range delete
/// still reads what it covers, and one made after it (the tombstone only in the
/// memtable, or only in a table) hides it from every read form.
#[test]
fn range_deletes_hide_from_later_snapshots_only() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    for i in 0..50 {
        e.write_batch(&[Record::new("a", i, vec![1]), Record::new("b", i, vec![2])])
            .unwrap();
    }
    e.flush().unwrap();
    let before = e.snapshot();
    e.delete_range("a", "b").unwrap(); // [a, b): "a" alone
    let after = e.snapshot();
    for flushed in [false, true] {
        let n = |s: &flowdb::Snapshot, k: &str| s.last_n(k, 100).unwrap().len();
        assert_eq!(n(&before, "a"), 50, "flushed: {flushed}");
        assert_eq!(n(&after, "a"), 0, "flushed: {flushed}");
        assert_eq!(n(&after, "b"), 50, "flushed: {flushed}");
        assert_eq!(before.get_latest("a").unwrap().unwrap().ts, 49);
        assert!(after.get_latest("a").unwrap().is_none());
        assert!(after.get("a", 7).unwrap().is_none());
        assert_eq!(after.query(Query::prefix("")).unwrap().len(), 50);
        assert_eq!(e.snapshot().query(Query::prefix("")).unwrap().len(), 50);
        e.flush().unwrap();
    }
    e.trigger_compaction().unwrap();
    assert_eq!(e.snapshot().last_n("a", 10).unwrap().len(), 0);
    assert_eq!(e.snapshot().last_n("b", 10).unwrap().len(), 10);
}

#[test]
fn a_batch_applies_in_order_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(Config {
        default_ttl_secs: Some(60),
        ..common::small_config(dir.path())
    })
    .unwrap();
    let now = flowdb::now_micros();
    e.write_batch(&[Record::new("old.a", now, b"x".to_vec())])
        .unwrap();
    let mut b = WriteBatch::new();
    b.delete_range("old.", "old/")
        .put(Record::new("s", now, b"1".to_vec())) // the default TTL: 60 s
        .put(Record::new("s", now + 1, b"2".to_vec()).with_expire_at(now + 30_000_000))
        .put_ttl(Record::new("s", now + 2, b"3".to_vec()), 3600)
        .put_permanent(Record::new("s", now + 3, b"4".to_vec()))
        .put(Record::new("t", now, b"gone".to_vec()))
        .delete("t", now);
    assert_eq!(b.len(), 7);
    e.write(&b, &WriteOptions { sync: true }).unwrap();
    assert!(e.get("old.a", now).unwrap().is_none());
    assert!(
        e.get("t", now).unwrap().is_none(),
        "the delete after the put wins"
    );
    let s = e.query(Query::prefix("s")).unwrap();
    let exp: Vec<i64> = s.iter().map(|r| r.expire_at).collect();
    assert_eq!(
        exp,
        [
            now + 60_000_000,
            now + 30_000_000,
            now + 2 + 3_600_000_000,
            NEVER_EXPIRES
        ]
    );
    // One bad operation: nothing of the batch is written, and the error names it.
    let mut bad = WriteBatch::new();
    bad.put(Record::new("u", 1, vec![])).delete_range("z", "a");
    let err = e.write(&bad, &WriteOptions::default()).unwrap_err();
    assert_eq!(err.code(), StatusCode::InvalidArgument);
    assert!(err.to_string().contains("batch operation 1"), "{err}");
    assert!(e.get("u", now).unwrap().is_none());
    // Reuse after clear; an empty batch is fine.
    bad.clear();
    assert!(bad.is_empty());
    e.write(&bad, &WriteOptions::default()).unwrap();
    bad.put(Record::new("u", now, vec![]));
    e.write_owned(bad, &WriteOptions::default()).unwrap();
    assert!(e.get("u", now).unwrap().is_some());
    // Survives a reopen (the log replays the batch as one).
    e.shutdown().unwrap();
    let e = open(dir.path());
    assert_eq!(e.query(Query::prefix("s")).unwrap().len(), 4);
    assert!(e.get("t", now).unwrap().is_none());
    e.shutdown().unwrap();
}

/// Readers racing a stream of batches see each batch whole: every batch writes the
/// same sequence number to two series, so any snapshot holds equal latest values.
#[test]
fn concurrent_readers_see_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..400i64 {
                let mut b = WriteBatch::new();
                let v = i.to_string().into_bytes();
                b.put(Record::new("x", i, v.clone()))
                    .put(Record::new("y", i, v));
                if i % 50 == 0 {
                    b.delete_range("tmp", "tmq");
                }
                e.write(&b, &WriteOptions::default()).unwrap();
                if i % 100 == 0 {
                    e.flush().unwrap();
                }
            }
        });
        s.spawn(|| {
            for _ in 0..400 {
                let snap = e.snapshot();
                let x = snap.get_latest("x").unwrap().map(|r| r.ts);
                let y = snap.get_latest("y").unwrap().map(|r| r.ts);
                assert_eq!(x, y, "a batch was seen in part");
            }
        });
    });
    e.shutdown().unwrap();
}

/// `Snapshot::visit` lends records from a table's blocks when one table (or one
/// run) is the only source: records that expired after the table was written, and
/// records outside the time window, must still be skipped, as a scan skips them.
/// (A flush with nothing below it drops deletes and what has expired already.)
#[test]
fn visit_over_a_sole_table_skips_what_a_scan_skips() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let now = flowdb::now_micros();
    let mut b = WriteBatch::new();
    for i in 0..300 {
        let key = format!("k{:03}", i % 100);
        let ts = now + i as i64;
        match i % 5 {
            0 => b.put(Record::new(key, ts, vec![1]).with_expire_at(now + 300_000)),
            1 => b.delete(key, ts),
            _ => b.put_permanent(Record::new(key, ts, format!("v{i}").into_bytes())),
        };
    }
    e.write(&b, &WriteOptions::default()).unwrap();
    e.flush().unwrap();
    while flowdb::now_micros() < now + 400_000 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let snap = e.snapshot();
    let ranges = [
        ScanRange::all(),
        ScanRange::prefix("k05"),
        ScanRange::key_time_range("k010", "k070", now + 50, now + 250),
        ScanRange::time_range(now + 100, now + 200),
    ];
    for range in ranges {
        let want = scanned(&snap, &range);
        let got = visited(&snap, &range, usize::MAX);
        assert!(!want.is_empty(), "{range:?}");
        assert_eq!(got, want, "{range:?}");
    }
}

/// `Snapshot::visit` over several tables and the memtable (the lending merge, and its
/// runs: one source stepped alone while it stays below the others) hands out what a
/// scan returns: writes in runs of ascending keys, each run flushed to its own table,
/// with overwrites of the same `(key, ts)` in later tables and the memtable, deletes
/// and records that have expired; visitors that stop early. The first rounds are
/// merged into a run of several small tables (a source that moves from table to
/// table) under the later rounds' tables. Seed printed.
#[test]
fn visit_over_many_sources_matches_the_scan() {
    let mut rng = common::rng("visit_over_many_sources_matches_the_scan");
    let dir = tempfile::tempdir().unwrap();
    let e = common::open_tiny(common::small_config(dir.path()));
    let base = common::base_ts();
    let key = |i: usize| format!("k{i:04}");
    for round in 0..6 {
        let mut b = WriteBatch::new();
        // A run of ascending keys from a random place, and a few strays.
        let from = rng.usize(0..400);
        for i in from..from + rng.usize(150..300) {
            let ts = base + rng.i64(0..3);
            match rng.u8(0..10) {
                0 => b.delete(key(i), ts),
                1 => b.put(Record::new(key(i), ts, vec![round]).with_expire_at(base)),
                _ => b.put_permanent(Record::new(
                    key(i),
                    ts,
                    format!("{round}.{i:040}").into_bytes(),
                )),
            };
        }
        for _ in 0..10 {
            let i = rng.usize(0..700);
            b.put_permanent(Record::new(key(i), base + rng.i64(0..3), vec![round, 1]));
        }
        e.write(&b, &WriteOptions::default()).unwrap();
        if round < 5 {
            e.flush().unwrap();
        }
        if round == 2 {
            e.trigger_compaction().unwrap();
        }
    }
    // Rounds 3 and 4 are a table each; the merge of rounds 0 to 2 is the rest.
    let tables = e.stats().sstable_count;
    assert!(
        tables >= 4,
        "a run of several tables under two more: {tables}"
    );
    let snap = e.snapshot();
    for _ in 0..40 {
        let (a, z) = (rng.usize(0..700), rng.usize(0..700));
        let range = ScanRange::key_range(key(a.min(z)), key(a.max(z)));
        let want = scanned(&snap, &range);
        let stop = rng.usize(0..want.len() + 2);
        let got = visited(&snap, &range, stop);
        let n = stop.clamp(1, want.len().max(1)).min(want.len());
        assert_eq!(got, want[..n], "{range:?}, stopping after {stop}");
    }
}
