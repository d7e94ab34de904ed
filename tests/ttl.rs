//! TTL rules (README.md, "The rules"): precedence, immediate invisibility, GC purging, and
//! wholly expired tables deleted without a rewrite.

mod common;

use flowdb::{expiry_from_ttl, Config, Engine, Record, ScanRange};

fn open(dir: &std::path::Path, default_ttl: Option<u64>) -> Engine {
    Engine::open(Config {
        default_ttl_secs: default_ttl,
        ..common::small_config(dir)
    })
    .unwrap()
}

#[test]
fn ttl_precedence_batch_then_own_then_default_then_never() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), Some(100));
    let ts = 1_000;
    let own = Record::new("own", ts, vec![]).with_expire_at(i64::MAX - 1);
    e.write_batch_ttl(&[Record::new("batch", ts, vec![]), own.clone()], Some(7))
        .unwrap();
    e.write_batch(&[
        own.clone().with_expire_at(5_000_000),
        Record::new("default", ts, vec![]),
    ])
    .unwrap();
    let stored = |k: &str| e.scan(ScanRange::prefix(k)).unwrap().next();
    // Batch TTL beats the record's own expiry; these are long expired (ts is 1970).
    assert!(stored("batch").is_none());
    assert_eq!(expiry_from_ttl(ts, 7), ts + 7_000_000);
    // The record's own expiry beats the default TTL.
    let e2 = open(tempfile::tempdir().unwrap().path(), Some(1));
    let now = flowdb::now_micros();
    e2.write_batch(&[Record::new("k", now, b"v".to_vec()).with_expire_at(now + 3_600_000_000)])
        .unwrap();
    assert_eq!(
        e2.get("k", now).unwrap().unwrap().expire_at,
        now + 3_600_000_000
    );
    // The default TTL applies to records without their own expiry: ts + 1s (a ts a
    // minute ahead, so the record is still live when read back on a slow machine).
    let later = now + 60_000_000;
    e2.write_batch(&[Record::new("d", later, b"v".to_vec())])
        .unwrap();
    assert_eq!(
        e2.get("d", later).unwrap().unwrap().expire_at,
        later + 1_000_000
    );
    // No TTL anywhere: never expires.
    let e3 = open(tempfile::tempdir().unwrap().path(), None);
    e3.write_batch(&[Record::new("n", 5, vec![])]).unwrap();
    assert_eq!(e3.get("n", 5).unwrap().unwrap().expire_at, i64::MAX);
}

#[test]
fn expired_records_are_invisible_at_once_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), None);
    let now = flowdb::now_micros();
    let gone = Record::new("k", now - 10, b"old".to_vec()).with_expire_at(now - 1);
    let live = Record::new("k", now - 20, b"live".to_vec()).with_expire_at(now + 3_600_000_000);
    for flush in [false, true] {
        e.write_batch(&[gone.clone(), live.clone()]).unwrap();
        if flush {
            e.flush().unwrap();
        }
        assert_eq!(e.get("k", now - 10).unwrap(), None);
        assert_eq!(e.get_latest("k").unwrap().unwrap().value, b"live");
        assert_eq!(e.query_by_prefix("k").unwrap(), vec![live.clone()]);
        assert_eq!(e.query_time_range(now - 15, now).unwrap(), vec![]);
    }
}

#[test]
fn expired_version_does_not_uncover_an_older_one_after_gc() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), None);
    e.write_batch(&[Record::new("k", 1, b"v1".to_vec())])
        .unwrap();
    e.flush().unwrap();
    // Overwrite with a version that expires soon, but after its flush however busy
    // the machine (a flush drops what expired before it: GC would find nothing).
    let soon = flowdb::now_micros() + 2_000_000;
    e.write_batch(&[Record::new("k", 1, b"v2".to_vec()).with_expire_at(soon)])
        .unwrap();
    e.flush().unwrap();
    while flowdb::now_micros() <= soon {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(e.get("k", 1).unwrap(), None);
    assert_eq!(e.trigger_gc().unwrap(), 1);
    assert_eq!(
        e.get("k", 1).unwrap(),
        None,
        "GC must not resurrect the overwritten version"
    );
    e.trigger_compaction().unwrap();
    assert_eq!(e.get("k", 1).unwrap(), None);
    assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 0);
}

#[test]
fn gc_purges_and_counts_and_drops_wholly_expired_tables_without_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), None);
    let now = flowdb::now_micros();
    // An old table whose records all expire, then a newer live one.
    // Five seconds: the writes and flushes below must come before it, however busy
    // the machine.
    let soon = now + 5_000_000;
    let old: Vec<Record> = (0..500)
        .map(|i| {
            Record::new(format!("s{i:03}"), now - 10_000_000 + i, vec![1; 50]).with_expire_at(soon)
        })
        .collect();
    e.write_batch(&old).unwrap();
    e.flush().unwrap();
    let fresh: Vec<Record> = (0..100)
        .map(|i| Record::new(format!("s{i:03}"), now + i, vec![2; 50]))
        .collect();
    e.write_batch(&fresh).unwrap();
    e.flush().unwrap();
    let tables_before = e.stats().sstable_count;
    assert_eq!(tables_before, 2);
    while flowdb::now_micros() <= soon {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let compactions = e.stats().total_compaction_runs;
    assert_eq!(e.trigger_gc().unwrap(), 500);
    let s = e.stats();
    assert_eq!(s.sstable_count, 1, "the expired table is gone");
    assert_eq!(
        s.total_compaction_runs, compactions,
        "deleted without a rewrite"
    );
    assert_eq!(s.records_purged_by_gc, 500);
    assert_eq!(s.total_gc_runs, 1);
    assert_eq!(e.query_by_prefix("s").unwrap(), fresh);
}

#[test]
fn patch_record_rules() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), None);
    let ts = flowdb::now_micros();
    e.write_batch(&[Record::new("k", ts, b"a".to_vec())])
        .unwrap();
    let r = e.patch_record("k", ts, None, Some(60)).unwrap();
    assert_eq!(
        (r.value.as_slice(), r.expire_at),
        (&b"a"[..], ts + 60_000_000)
    );
    let r = e.patch_record("k", ts, Some(b"b".to_vec()), None).unwrap();
    assert_eq!(
        (r.value.as_slice(), r.expire_at),
        (&b"b"[..], ts + 60_000_000)
    );
    assert_eq!(e.get("k", ts).unwrap().unwrap(), r);
    assert!(matches!(
        e.patch_record("k", ts + 1, None, None),
        Err(flowdb::Error::NotFound(_))
    ));
    // An expired record is not found either.
    e.patch_record("k", ts, None, Some(0)).unwrap();
    assert!(matches!(
        e.patch_record("k", ts, None, None),
        Err(flowdb::Error::NotFound(_))
    ));
}
