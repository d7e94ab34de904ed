//! Point and latest reads on series-shaped tables (each key spanning many blocks,
//! where tables map keys to their blocks) and on mixed tables (many short keys
//! inside blocks, where they do not): every present record is found, every absent
//! one is not, whatever the key's place among the fence keys.

mod common;

use flowdb::{Engine, Record};

fn value(k: usize, p: i64) -> Vec<u8> {
    format!("{k}:{p}").into_bytes()
}

#[test]
fn point_and_latest_reads_find_exactly_what_was_written() {
    let mut rng = common::rng("point_and_latest_reads_find_exactly_what_was_written");
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    // Long series s000..s039 (200 points each, many blocks per key) and short ones
    // s000x (3 points, inside blocks), interleaved in key order.
    let long = |k: usize| format!("s{k:03}");
    let short = |k: usize| format!("s{k:03}x");
    let mut batch = Vec::new();
    for k in 0..40 {
        for p in 0..200 {
            batch.push(Record::new(long(k), p * 10, value(k, p)));
        }
        for p in 0..3 {
            batch.push(Record::new(short(k), p * 10, value(k + 1000, p)));
        }
    }
    for chunk in batch.chunks(500) {
        e.write_batch(chunk).unwrap();
    }
    for settled in [false, true] {
        if settled {
            e.flush().unwrap();
            e.trigger_compaction().unwrap();
        }
        for k in 0..40 {
            let latest = e.get_latest(&long(k)).unwrap().unwrap();
            assert_eq!((latest.ts, latest.value), (1990, value(k, 199)));
            let latest = e.get_latest(&short(k)).unwrap().unwrap();
            assert_eq!((latest.ts, latest.value), (20, value(k + 1000, 2)));
            assert!(e.get_latest(&format!("s{k:03}a")).unwrap().is_none());
        }
        for _ in 0..2000 {
            let k = rng.usize(..40);
            let t = rng.i64(-5..2010);
            let present = t >= 0 && t % 10 == 0 && t < 2000;
            let got = e.get(&long(k), t).unwrap();
            assert_eq!(
                got.map(|r| r.value),
                present.then(|| value(k, t / 10)),
                "{} @ {t}",
                long(k)
            );
            let got = e.get(&short(k), t).unwrap();
            let present = present && t < 30;
            assert_eq!(
                got.map(|r| r.value),
                present.then(|| value(k + 1000, t / 10))
            );
            assert!(e.get(&format!("s{k:03}0"), t).unwrap().is_none());
        }
    }
    e.shutdown().unwrap();
}

/// Series listing over a document-shaped table (one record a key, 6,000 keys: no
/// series block, so its entries are summed as the listing goes) and over the same
/// keys once each has three points (a series block again): the same keys, counts
/// and ts ranges. A page reads about the blocks of the keys it lists (it once
/// summed the table's whole rest at every page).
#[test]
fn series_listing_reads_document_shaped_tables_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    let key = |k: usize| format!("doc.{k:05}");
    let n = 6_000;
    let batch: Vec<Record> = (0..n)
        .map(|k| Record::new(key(k), 100, value(k, 0)))
        .collect();
    e.write_batch(&batch).unwrap();
    e.flush().unwrap();
    let list = e.series("doc.").unwrap();
    assert_eq!(list.len(), n);
    assert!(list
        .iter()
        .enumerate()
        .all(|(k, s)| s.key == key(k).as_bytes()
            && s.points == 1
            && (s.first_ts, s.last_ts) == (100, 100)));
    // The cache's counters (metrics only: EngineStats keeps the published shape).
    let blocks = |e: &Engine| -> u64 {
        let text = e.metrics_text();
        let get = |name: &str| -> u64 {
            let line = text.lines().find_map(|l| l.strip_prefix(name));
            line.and_then(|v| v.trim().parse().ok()).expect(name)
        };
        get("flowdb_block_cache_hits_total") + get("flowdb_block_cache_misses_total")
    };
    let before = blocks(&e);
    let page = e.series_page(b"doc.", key(1_999).as_bytes(), 3).unwrap();
    let keys: Vec<&[u8]> = page.iter().map(|s| s.key.as_slice()).collect();
    assert_eq!(keys, [&b"doc.02000"[..], b"doc.02001", b"doc.02002"]);
    let read = blocks(&e) - before;
    assert!(read <= 4, "{read} blocks read for a page of 3 keys");
    for ts in [200, 300] {
        let batch: Vec<Record> = (0..n)
            .map(|k| Record::new(key(k), ts, value(k, 1)))
            .collect();
        e.write_batch(&batch).unwrap();
    }
    e.flush().unwrap();
    e.trigger_compaction().unwrap();
    let list = e.series("doc.").unwrap();
    assert_eq!(list.len(), n);
    assert!(list
        .iter()
        .all(|s| s.points == 3 && (s.first_ts, s.last_ts) == (100, 300)));
}

/// The newest-first walks reach the ends of time: versions at `i64::MIN` and
/// `i64::MAX`, in a table alone (the walk then drains one source to its end) and
/// beside a memtable.
#[test]
fn newest_first_reads_reach_the_ends_of_time() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open(common::small_config(dir.path())).unwrap();
    let ends = [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX];
    let batch: Vec<Record> = ends
        .iter()
        .map(|&ts| Record::new("k", ts, ts.to_le_bytes().to_vec()))
        .collect();
    e.write_batch(&batch).unwrap();
    let newest_first: Vec<i64> = ends.iter().rev().copied().collect();
    let check = |what: &str| {
        let got: Vec<i64> = e.last_n("k", 10).unwrap().iter().map(|r| r.ts).collect();
        assert_eq!(got, newest_first, "{what}: last_n");
        let mut lent = Vec::new();
        e.last_n_with(b"k", 10, |ts, _| lent.push(ts)).unwrap();
        assert_eq!(lent, newest_first, "{what}: last_n_with");
        assert_eq!(e.get_latest("k").unwrap().unwrap().ts, i64::MAX, "{what}");
    };
    check("memtable");
    e.flush().unwrap();
    check("one table");
    e.write_batch(&[Record::new("k", 5, b"m".to_vec())])
        .unwrap();
    let mut with_five: Vec<i64> = ends.to_vec();
    with_five.push(5);
    with_five.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<i64> = e.last_n("k", 10).unwrap().iter().map(|r| r.ts).collect();
    assert_eq!(got, with_five, "table and memtable");
}
