//! Range conventions: inclusive key and time ranges, empty when start > end,
//! prefixes, half-open delete_range, negative timestamps, memcmp order.

mod common;

use flowdb::{Engine, Query, Record, ScanRange};

fn keys(rs: &[Record]) -> Vec<(String, i64)> {
    rs.iter()
        .map(|r| (r.key_str().into_owned(), r.ts))
        .collect()
}

fn engine(dir: &std::path::Path) -> Engine {
    let e = Engine::open(common::small_config(dir)).unwrap();
    let mut batch = Vec::new();
    for k in ["a", "b", "ba", "bb", "c", "\u{7f}", "é"] {
        for ts in [-5, 0, 5, 10] {
            batch.push(Record::new(k, ts, vec![]));
        }
    }
    e.write_batch(&batch).unwrap();
    e
}

#[test]
fn ranges_are_inclusive_and_ordered_by_bytes() {
    for flush in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        if flush {
            e.flush().unwrap();
        }
        let all = e.query(Query::time_range(i64::MIN, i64::MAX)).unwrap();
        let order: Vec<String> = all
            .iter()
            .step_by(4)
            .map(|r| r.key_str().into_owned())
            .collect();
        assert_eq!(
            order,
            ["a", "b", "ba", "bb", "c", "\u{7f}", "é"],
            "memcmp order"
        );
        assert!(all
            .windows(2)
            .all(|w| (&w[0].key, w[0].ts) < (&w[1].key, w[1].ts)));
        assert_eq!(
            keys(&e.query_by_key_range("b", "bb").unwrap()).len(),
            12,
            "both ends included"
        );
        assert_eq!(keys(&e.query_time_range(0, 5).unwrap()).len(), 14);
        assert_eq!(e.query_time_range(-5, -5).unwrap().len(), 7, "negative ts");
        assert!(
            e.query_time_range(6, 5).unwrap().is_empty(),
            "start > end is empty"
        );
        assert!(e.query_by_key_range("c", "b").unwrap().is_empty());
        assert_eq!(
            keys(&e.query_key_time_range("ba", "c", 5, 10).unwrap()),
            [
                ("ba".into(), 5),
                ("ba".into(), 10),
                ("bb".into(), 5),
                ("bb".into(), 10),
                ("c".into(), 5),
                ("c".into(), 10)
            ]
        );
        assert_eq!(e.query_by_prefix("b").unwrap().len(), 12);
        assert_eq!(
            e.query_by_prefix("").unwrap().len(),
            28,
            "empty prefix is everything"
        );
        assert_eq!(e.query_prefix_time_range("b", 10, 10).unwrap().len(), 3);
        assert_eq!(e.scan(ScanRange::all()).unwrap().count(), 28);
        assert_eq!(e.scan_prefix_time_range("b", -5, 0).unwrap().count(), 6);
        assert_eq!(e.scan(ScanRange::key_range("a", "a")).unwrap().count(), 4);
    }
}

#[test]
fn delete_range_is_half_open() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    e.flush().unwrap();
    e.delete_range("b", "bb").unwrap();
    let left: Vec<String> = e
        .query_by_prefix("b")
        .unwrap()
        .iter()
        .map(|r| r.key_str().into_owned())
        .collect();
    assert_eq!(left, ["bb"; 4], "start deleted, end kept");
    assert!(e.delete_range("c", "b").is_err(), "start > end is an error");
    e.delete_range("c", "c").unwrap();
    assert_eq!(
        e.query_by_prefix("c").unwrap().len(),
        4,
        "start == end deletes nothing"
    );
    // Writes after a range delete are visible; those before stay deleted across
    // flush, compaction and reopen.
    e.write_batch(&[Record::new("ba", 99, b"new".to_vec())])
        .unwrap();
    for step in 0..3 {
        match step {
            0 => e.flush().unwrap(),
            1 => assert!(e.trigger_compaction().unwrap()),
            _ => {}
        }
        assert_eq!(keys(&e.query_by_prefix("ba").unwrap()), [("ba".into(), 99)]);
    }
}

#[test]
fn get_latest_is_for_exactly_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    assert_eq!(e.get_latest("b").unwrap().unwrap().ts, 10);
    e.delete_batch(&[("b".into(), 10)]).unwrap();
    assert_eq!(e.get_latest("b").unwrap().unwrap().ts, 5);
    e.flush().unwrap();
    e.write_batch(&[Record::new("b", -100, vec![])]).unwrap();
    assert_eq!(e.get_latest("b").unwrap().unwrap().ts, 5);
    assert!(e.get_latest("bz").unwrap().is_none());
    assert!(e.get_latest("").unwrap().is_none());
}

/// A forward visit over several runs (the lending merge) hands out every record in
/// order, whether a run's block ends below the other runs' next record (its entries
/// then go out uncompared) or holds it (the run stops inside the block): runs of
/// interleaved keys, of separate stretches, and one of a few keys among the others'.
#[test]
fn visits_merge_runs_whose_blocks_interleave_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    let mut want = std::collections::BTreeMap::new();
    let runs: [Vec<(usize, i64)>; 3] = [
        // Even keys 0..200, and a separate stretch 400..500.
        (0..200)
            .step_by(2)
            .chain(400..500)
            .map(|k| (k, 0))
            .collect(),
        // Odd keys 100..300, and 500..600 (after the first run's stretch).
        (101..300)
            .step_by(2)
            .chain(500..600)
            .map(|k| (k, 1))
            .collect(),
        // A few keys inside the others' blocks, two versions apart in ts.
        [7, 150, 151, 450, 451, 599]
            .iter()
            .map(|&k| (k, 2))
            .collect(),
    ];
    for run in runs {
        let batch: Vec<Record> = run
            .iter()
            .map(|&(k, ts)| {
                let value = format!("value of {k:04} at {ts}").into_bytes();
                want.insert((format!("k{k:04}"), ts), value.clone());
                Record::new(format!("k{k:04}"), ts, value)
            })
            .collect();
        e.write_batch(&batch).unwrap();
        e.flush().unwrap();
    }
    let snap = e.snapshot();
    for (from, to) in [(0, 700), (120, 460), (450, 452)] {
        let range = ScanRange::key_range(format!("k{from:04}"), format!("k{to:04}"));
        let mut got = Vec::new();
        snap.visit(range.clone(), 0, &mut |k, ts, v| {
            got.push(((String::from_utf8(k.to_vec()).unwrap(), ts), v.to_vec()));
            Ok(true)
        })
        .unwrap();
        let (lo, hi) = (format!("k{from:04}"), format!("k{to:04}"));
        let expected: Vec<((String, i64), Vec<u8>)> = want
            .iter()
            .filter(|((k, _), _)| *k >= lo && *k <= hi)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(got, expected, "visit of {lo}..={hi}");
        let scanned: Vec<((String, i64), Vec<u8>)> = e
            .scan(range)
            .unwrap()
            .map(|r| r.unwrap())
            .map(|r| ((r.key_str().into_owned(), r.ts), r.value))
            .collect();
        assert_eq!(scanned, expected, "scan of {lo}..={hi}");
    }
}
