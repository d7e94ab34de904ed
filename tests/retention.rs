//! Deleting by time (docs/design.md, "Deleting by time"): `delete_time_range`,
//! `delete_before` and `delete_prefix_before` hide at once what they cover, survive
//! flush, compaction and reopen, drop wholly covered tables without rewriting them,
//! and reject bad input; the retention limits of `Tuning` (by age, by size) enforce
//! themselves. Every test checks what is read back against a model.

mod common;

use std::collections::BTreeMap;

use flowdb::{Config, Engine, Error, Record, ScanRange, Tuning};

const SEC: i64 = 1_000_000;
const SERIES: usize = 20;

type Model = BTreeMap<(Vec<u8>, i64), Vec<u8>>;

fn open(dir: &std::path::Path, tuning: Tuning) -> Engine {
    Engine::open_with(common::small_config(dir), tuning).unwrap()
}

/// The first second of a 10-second window (the windows of `small_config`), an hour
/// ago.
fn base() -> i64 {
    common::base_ts().div_euclid(10 * SEC) * 10 * SEC
}

/// `windows` 10-second windows of one point per series per second, a flush after
/// each window and the scheduled merges after each flush.
fn ingest(e: &Engine, m: &mut Model, from: i64, windows: i64) {
    for w in 0..windows {
        for sec in 0..10 {
            let ts = from + (w * 10 + sec) * SEC;
            let batch: Vec<Record> = (0..SERIES)
                .map(|s| Record::new(format!("cpu.{s:02}"), ts, format!("{s}@{ts}").into_bytes()))
                .collect();
            for r in &batch {
                m.insert((r.key.clone(), r.ts), r.value.clone());
            }
            e.write_batch(&batch).unwrap();
        }
        e.flush().unwrap();
        e.run_compactions().unwrap();
    }
}

fn stored(e: &Engine) -> Model {
    e.scan(ScanRange::all())
        .unwrap()
        .map(|r| r.unwrap())
        .map(|r| ((r.key, r.ts), r.value))
        .collect()
}

/// Every read form agrees with the model: full scan, point reads, get_latest,
/// last_n, a time-range query.
fn check(e: &Engine, m: &Model, what: &str) {
    assert!(stored(e) == *m, "{what}: the scan differs from the model");
    for s in [0, 7, SERIES - 1] {
        let key = format!("cpu.{s:02}");
        let series: Vec<(&i64, &Vec<u8>)> = m
            .range((key.clone().into_bytes(), i64::MIN)..=(key.clone().into_bytes(), i64::MAX))
            .map(|((_, ts), v)| (ts, v))
            .collect();
        let latest = e.get_latest(&key).unwrap().map(|r| r.ts);
        assert_eq!(
            latest,
            series.last().map(|(ts, _)| **ts),
            "{what}: get_latest({key})"
        );
        let last: Vec<i64> = e.last_n(&key, 5).unwrap().iter().map(|r| r.ts).collect();
        let want: Vec<i64> = series.iter().rev().take(5).map(|(ts, _)| **ts).collect();
        assert_eq!(last, want, "{what}: last_n({key})");
        if let Some((ts, v)) = series.first() {
            assert_eq!(
                e.get(&key, **ts).unwrap().map(|r| r.value).as_ref(),
                Some(*v)
            );
            assert!(e.get(&key, **ts - SEC).unwrap().is_none());
        }
    }
}

#[test]
fn delete_before_hides_at_once_drops_covered_tables_and_trims_the_cut_window() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), common::tiny_partitions());
    let mut m = Model::new();
    let b = base();
    ingest(&e, &mut m, b, 12);
    let before = e.stats();
    // The oldest five windows and a half.
    let cutoff = b + 55 * SEC;
    e.delete_before(cutoff).unwrap();
    m.retain(|(_, ts), _| *ts >= cutoff);
    check(&e, &m, "right after delete_before");
    let snap_count = e.snapshot().scan(ScanRange::all()).unwrap().count();
    assert_eq!(snap_count, m.len());

    e.run_compactions().unwrap();
    let after = e.stats();
    assert!(
        after.total_tables_deleted > 0,
        "no table was dropped whole: {after:?}"
    );
    // Five windows dropped whole; the one the cutoff cuts through rewritten without
    // its older half (about half a window written: no more than one window).
    let rewritten = after.total_compaction_bytes_written - before.total_compaction_bytes_written;
    assert!(
        rewritten > 0 && rewritten <= before.sstable_bytes / 12,
        "{rewritten} bytes rewritten of {}",
        before.sstable_bytes
    );
    assert!(
        after.sstable_bytes < before.sstable_bytes * 58 / 100,
        "space did not come back: {} of {}",
        after.sstable_bytes,
        before.sstable_bytes
    );
    assert_eq!(e.run_compactions().unwrap(), 0, "nothing more is due");
    check(&e, &m, "after the covered tables were dropped");

    // The tombstone still hides the older part of the window it cuts through, after
    // a flush, a full compaction and a reopen.
    e.flush().unwrap();
    check(&e, &m, "after flush");
    drop(e);
    let e = open(dir.path(), common::tiny_partitions());
    check(&e, &m, "after reopen");
    e.trigger_compaction().unwrap();
    check(&e, &m, "after a full compaction");
}

#[test]
fn a_tombstone_in_the_memtable_survives_a_crash_and_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Model::new();
    let b = base();
    {
        let e = open(dir.path(), common::tiny_partitions());
        ingest(&e, &mut m, b, 4);
        e.delete_time_range("cpu.03", "cpu.08", b + 5 * SEC, b + 25 * SEC)
            .unwrap();
        e.delete_prefix_before("cpu.1", b + 12 * SEC).unwrap();
        // Dropped without shutdown: the deletes live only in the log.
    }
    m.retain(|(k, ts), _| {
        let k = k.as_slice();
        let timed =
            k >= &b"cpu.03"[..] && k < &b"cpu.08"[..] && (b + 5 * SEC..=b + 25 * SEC).contains(ts);
        let prefixed = k.starts_with(b"cpu.1") && *ts < b + 12 * SEC;
        !(timed || prefixed)
    });
    let e = open(dir.path(), common::tiny_partitions());
    check(&e, &m, "after replaying the log");
    ingest(&e, &mut m, b + 40 * SEC, 2);
    e.trigger_compaction().unwrap();
    check(&e, &m, "after writes and a full compaction");
}

#[test]
fn a_snapshot_taken_before_a_delete_still_sees_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), common::tiny_partitions());
    let mut m = Model::new();
    let b = base();
    ingest(&e, &mut m, b, 3);
    let snap = e.snapshot();
    e.delete_before(b + 30 * SEC).unwrap();
    e.run_compactions().unwrap();
    assert_eq!(snap.scan(ScanRange::all()).unwrap().count(), m.len());
    assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 0);
    // Data written after the delete with old timestamps is kept: the delete hides
    // only what was written before it.
    e.write_batch(&[Record::new("cpu.00", b, b"again".to_vec())])
        .unwrap();
    assert_eq!(e.get("cpu.00", b).unwrap().unwrap().value, b"again");
}

#[test]
fn many_retention_deletes_keep_reads_right() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), common::tiny_partitions());
    let mut m = Model::new();
    let b = base();
    for round in 0..20 {
        ingest(&e, &mut m, b + round * 10 * SEC, 1);
        let cutoff = b + (round * 10 - 25) * SEC;
        e.delete_before(cutoff).unwrap();
        m.retain(|(_, ts), _| *ts >= cutoff);
        if round % 5 == 4 {
            check(&e, &m, &format!("round {round}"));
        }
    }
    let st = e.stats();
    assert!(st.total_tables_deleted > 0);
    check(&e, &m, "at the end");
}

#[test]
fn bad_input_is_named_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), common::tiny_partitions());
    let mut m = Model::new();
    ingest(&e, &mut m, base(), 1);
    let err = e.delete_time_range("b", "a", 0, 1).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(_)) && err.to_string().contains("after end"),
        "{err}"
    );
    let err = e.delete_time_range("a", "b", 5, 4).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(_)) && err.to_string().contains("ts_start 5"),
        "{err}"
    );
    let mut batch = flowdb::WriteBatch::new();
    batch
        .put(Record::new("cpu.00", 1, b"x".to_vec()))
        .delete_time_range("a", "z", 9, 1);
    let err = e.write(&batch, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("batch operation 1"), "{err}");
    // Empty regions delete nothing.
    e.delete_time_range("cpu.00", "cpu.00", i64::MIN, i64::MAX)
        .unwrap();
    e.delete_before(i64::MIN).unwrap();
    e.delete_prefix_before("cpu.", i64::MIN).unwrap();
    check(&e, &m, "after rejected and empty deletes");
    for (age, bytes) in [(Some(0), None), (None, Some(0))] {
        let mut t = Tuning::default();
        t.retention_max_age_secs = age;
        t.retention_max_bytes = bytes;
        let other = tempfile::tempdir().unwrap();
        let err = Engine::open_with(Config::new(other.path()), t).unwrap_err();
        assert!(err.to_string().contains("retention_max"), "{err}");
    }
}

#[test]
fn retention_by_age_deletes_what_is_older_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = common::tiny_partitions();
    // The base is an hour ago (rounded down to 10 s) and the data spans 180 s from
    // it. The cutoff moves in steps of age / 64 (54.4 s) counted from ts 0, so it
    // lies 66–130 s past the base whatever the time of day: whole 10-s windows fall
    // below it (with 3600 - 60 it could lie 5 s past the base, below every window).
    t.retention_max_age_secs = Some(3600 - 120);
    let e = open(dir.path(), t);
    let mut m = Model::new();
    let b = base();
    ingest(&e, &mut m, b, 18);
    let cutoff = e.enforce_retention().unwrap().expect("a cutoff is due");
    let age = flowdb::now_micros() - cutoff;
    assert!(
        (3480 * SEC..3480 * SEC + 120 * SEC).contains(&age),
        "cutoff {age} µs ago"
    );
    m.retain(|(_, ts), _| *ts >= cutoff);
    assert!(!m.is_empty() && m.len() < SERIES * 180);
    check(&e, &m, "after retention by age");
    assert!(e.stats().total_tables_deleted > 0);
    // Nothing new is due, unless the clock crossed into the next step meanwhile.
    let again = e.enforce_retention().unwrap();
    assert!(
        again.map_or(true, |c| c > cutoff),
        "{again:?} after {cutoff}"
    );
    assert_eq!(
        e.stats().total_retention_deletes,
        1 + again.is_some() as u64
    );
}

#[test]
fn retention_by_size_deletes_the_oldest_until_the_tables_fit() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Model::new();
    let b = base();
    let full = {
        let e = open(dir.path(), common::tiny_partitions());
        ingest(&e, &mut m, b, 12);
        e.stats().sstable_bytes
    };
    let mut t = common::tiny_partitions();
    t.retention_max_bytes = Some(full / 2);
    let e = open(dir.path(), t);
    // Maintenance rounds: the drop of the tables wholly below the cutoff, then the
    // compaction steps that trim a window it cuts through (the cutoff may fall
    // inside one: docs/design.md, "Retention limits"), until the files fit.
    let mut cutoff = e.enforce_retention().unwrap().expect("over the limit");
    for _ in 0..10 {
        while e.run_compactions().unwrap() > 0 {}
        match e.enforce_retention().unwrap() {
            Some(c) => cutoff = c,
            None => break,
        }
    }
    let after = e.stats().sstable_bytes;
    assert!(
        after <= full / 2,
        "{after} bytes of tables, limit {}",
        full / 2
    );
    m.retain(|(_, ts), _| *ts >= cutoff);
    assert!(
        m.len() >= SERIES * 40,
        "too much deleted: {} records left",
        m.len()
    );
    check(&e, &m, "after retention by size");
}

/// Tables of one merged run share their greatest ts (a run is cut by key): one byte
/// over the limit used to credit one table and cut past them all, the newest data
/// included. The cutoff stays below the newest ts, and what it trims (the tables
/// span all of time) brings the tables within the limit in a few steps.
#[test]
fn retention_by_size_over_one_merged_run_keeps_the_newest_data() {
    let dir = tempfile::tempdir().unwrap();
    let (mut m, b) = (Model::new(), base());
    let newest = b + 119 * SEC;
    let full = {
        let e = open(dir.path(), common::tiny_partitions());
        ingest(&e, &mut m, b, 12);
        e.trigger_compaction().unwrap();
        let t = e.tables().unwrap();
        assert!(
            t.len() >= 2 && t.iter().all(|t| t.max_ts == newest),
            "{t:?}"
        );
        t.iter().map(|t| t.bytes).sum::<u64>()
    };
    for limit in [full - 1, full / 2] {
        let mut t = common::tiny_partitions();
        t.retention_max_bytes = Some(limit);
        let e = open(dir.path(), t);
        let mut last = i64::MIN;
        for round in 0..80 {
            let Some(cutoff) = e.enforce_retention().unwrap() else {
                break;
            };
            assert!(
                cutoff > last && cutoff <= newest,
                "round {round}: cutoff {cutoff}"
            );
            last = cutoff;
            while e.run_compactions().unwrap() > 0 {}
        }
        assert!(last > i64::MIN, "limit {limit}: nothing deleted");
        m.retain(|(_, ts), _| *ts >= last);
        assert!(
            m.keys().any(|(_, ts)| *ts == newest),
            "the newest second kept"
        );
        check(&e, &m, &format!("after retention by size to {limit}"));
        let after = e.stats().sstable_bytes;
        assert!(after <= limit, "{after} bytes of tables, limit {limit}");
    }
}

/// The same with a newer flush after the merged run (so the run's tables are no
/// longer the newest), and with the run's tables ending a second apart: crediting
/// whole tables alone cut past the whole run there too.
#[test]
fn retention_by_size_never_cuts_past_tables_it_did_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let (mut m, b) = (Model::new(), base());
    let full = {
        let e = open(dir.path(), common::tiny_partitions());
        ingest(&e, &mut m, b, 12);
        e.trigger_compaction().unwrap();
        ingest(&e, &mut m, b + 120 * SEC, 1); // one newer flush
        e.tables().unwrap().iter().map(|t| t.bytes).sum::<u64>()
    };
    let mut t = common::tiny_partitions();
    t.retention_max_bytes = Some(full - 1);
    let e = open(dir.path(), t);
    let cutoff = e.enforce_retention().unwrap().expect("over the limit");
    assert!(cutoff <= b + 20 * SEC, "cut at {} s", (cutoff - b) / SEC);
    m.retain(|(_, ts), _| *ts >= cutoff);
    check(&e, &m, "after a byte over the limit");
}

/// A flush that carries a range tombstone keeps it in a table of its run; once a later
/// cutoff covers that table whole, it still goes (rewritten: the older tombstone is
/// dominated by the newer one) instead of staying on disk for good.
#[test]
fn a_wholly_deleted_table_holding_an_older_delete_is_reclaimed() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path(), common::tiny_partitions());
    let (mut m, b) = (Model::new(), base());
    ingest(&e, &mut m, b, 1);
    e.delete_before(b + 5 * SEC).unwrap(); // flushed with window 1's first table
    m.retain(|(_, ts), _| *ts >= b + 5 * SEC);
    ingest(&e, &mut m, b + 10 * SEC, 3);
    let cutoff = b + 20 * SEC; // windows 0 and 1, whole
    e.delete_before(cutoff).unwrap();
    m.retain(|(_, ts), _| *ts >= cutoff);
    while e.run_compactions().unwrap() > 0 {}
    let dead: Vec<_> = e
        .tables()
        .unwrap()
        .into_iter()
        .filter(|t| t.entries > 0 && t.max_ts < cutoff)
        .collect();
    assert!(dead.is_empty(), "never reclaimed: {dead:?}");
    check(&e, &m, "after");
}

/// A record at ts `i64::MAX` (a "current value" kept at the end of time) does not
/// turn retention by size into a delete of everything else: its tables are left out
/// of the count, the newest other data stays, and retention keeps working after.
#[test]
fn retention_by_size_leaves_the_end_of_time_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Model::new();
    let b = base();
    {
        let e = open(dir.path(), common::tiny_partitions());
        for w in 0..12 {
            ingest(&e, &mut m, b + w * 10 * SEC, 1);
            // After each window: the current value at the end of time.
            let r = Record::new("state", i64::MAX, format!("w{w}").into_bytes());
            m.insert((r.key.clone(), r.ts), r.value.clone());
            e.write_batch(&[r]).unwrap();
            e.flush().unwrap();
        }
    }
    // A limit no table fits: everything goes that may, and no more.
    let mut t = common::tiny_partitions();
    t.retention_max_bytes = Some(1);
    let e = open(dir.path(), t);
    let cutoff = e.enforce_retention().unwrap().expect("over the limit");
    assert!(
        cutoff < b + 12 * 10 * SEC,
        "cutoff {cutoff}: the newest data would go"
    );
    m.retain(|(_, ts), _| *ts >= cutoff);
    assert!(m.contains_key(&(b"state".to_vec(), i64::MAX)));
    assert!(
        m.keys().any(|(_, ts)| *ts == b + 119 * SEC),
        "the newest second kept"
    );
    check(&e, &m, "after retention by size");
    // More data over the limit: retention still moves.
    ingest(&e, &mut m, b + 120 * SEC, 6);
    let next = e.enforce_retention().unwrap();
    assert!(next.is_some_and(|c| c > cutoff), "{next:?} after {cutoff}");
    m.retain(|(_, ts), _| *ts >= next.unwrap());
    check(&e, &m, "after a second retention by size");
}
