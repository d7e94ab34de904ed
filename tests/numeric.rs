//! Numeric points (`write_points`, `WriteBatch::put_point`) and `aggregate`: every
//! read returns a point bit for bit from memtable, tables and the log; aggregation's
//! rules one by one (buckets, functions, NaN, bytes left out, overwrites, expiry,
//! limit, direction, bad arguments); the table format a point brings.
//! (The randomized model and crash tests write points too.)

mod common;

use flowdb::{
    Agg, Engine, Error, GroupBy, Point, Query, ReadOptions, Record, ScanRange, WriteBatch,
};

/// Values whose bits must come back unchanged.
const SPECIAL: [u64; 10] = [
    0x0000_0000_0000_0000, // +0
    0x8000_0000_0000_0000, // -0
    0x7ff0_0000_0000_0000, // +inf
    0xfff0_0000_0000_0000, // -inf
    0x7ff8_0000_0000_0000, // the quiet NaN
    0x7ff0_dead_beef_0001, // a signalling NaN with a payload
    0xfff8_0000_0000_0abc, // a negative NaN with a payload
    0x0000_0000_0000_0001, // the smallest subnormal
    0x000f_ffff_ffff_ffff, // the largest subnormal
    0x7fef_ffff_ffff_ffff, // f64::MAX
];

fn open(dir: &std::path::Path) -> Engine {
    Engine::open(common::small_config(dir)).unwrap()
}

fn special_points() -> Vec<Point> {
    SPECIAL
        .iter()
        .enumerate()
        .map(|(i, &bits)| Point::new("n.a", i as i64 * 10, f64::from_bits(bits)))
        .collect()
}

/// Every read form returns the points' records, bit for bit.
fn check_reads(e: &Engine, what: &str) {
    let want: Vec<Record> = special_points()
        .into_iter()
        .map(Point::into_record)
        .collect();
    let bits =
        |rs: &[Record]| -> Vec<u64> { rs.iter().map(|r| r.as_f64().unwrap().to_bits()).collect() };
    assert_eq!(bits(&want), SPECIAL, "{what}: into_record");
    for r in &want {
        assert_eq!(e.get("n.a", r.ts).unwrap().as_ref(), Some(r), "{what}: get");
    }
    assert_eq!(e.query(Query::prefix("n.")).unwrap(), want, "{what}: query");
    let mut it = e.scan(ScanRange::all()).unwrap();
    assert!(!it.is_point(), "{what}: nothing returned yet");
    let mut scanned = Vec::new();
    while let Some(r) = it.next() {
        assert!(it.is_point(), "{what}: scan marks points");
        scanned.push(r.unwrap());
    }
    assert_eq!(scanned, want, "{what}: scan");
    let mut back: Vec<Record> = e
        .scan(ScanRange::all().reverse())
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    back.reverse();
    assert_eq!(back, want, "{what}: reverse scan");
    let mut last = e.last_n("n.a", 3).unwrap();
    last.reverse();
    assert_eq!(last, want[7..], "{what}: last_n");
    assert_eq!(
        e.get_latest("n.a").unwrap().as_ref(),
        want.last(),
        "{what}: get_latest"
    );
    let snap = e.snapshot();
    let r = &want[5];
    let got = snap
        .get_bytes(b"n.a", r.ts, &ReadOptions::default())
        .unwrap();
    assert_eq!(got.as_ref(), Some(r), "{what}: snapshot get");
    let mut visited = Vec::new();
    snap.visit(ScanRange::prefix("n."), usize::MAX, &mut |_, _, v| {
        visited.push(f64::from_le_bytes(v.try_into().unwrap()).to_bits());
        Ok(true)
    })
    .unwrap();
    assert_eq!(visited, SPECIAL, "{what}: visit");
    let firsts = e.aggregate(Query::prefix("n."), 1, &[Agg::First]).unwrap();
    let got: Vec<u64> = firsts.iter().map(|b| b.values[0].to_bits()).collect();
    assert_eq!(
        got, SPECIAL,
        "{what}: aggregate first, one bucket per point"
    );
}

#[test]
fn points_read_back_bit_for_bit_from_memory_tables_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.write_points(&special_points()).unwrap();
    check_reads(&e, "memtable");
    drop(e); // no flush: the log is replayed
    let e = open(dir.path());
    check_reads(&e, "replayed log");
    e.flush().unwrap();
    check_reads(&e, "table");
    e.trigger_compaction().unwrap();
    check_reads(&e, "compacted");
    e.shutdown().unwrap();
    let e = open(dir.path());
    check_reads(&e, "reopened");
    e.shutdown().unwrap();
}

/// The footer's format version of every table in `dir`.
fn table_versions(dir: &std::path::Path) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "sst") {
            let bytes = std::fs::read(&path).unwrap();
            // Footer: four handles of 12 bytes, then the version (docs/format.md).
            let at = bytes.len() - 64 + 48;
            out.push(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
        }
    }
    out
}

#[test]
fn only_tables_holding_points_take_the_new_format() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.write_batch(&[Record::new("bytes", 1, vec![1; 8])])
        .unwrap();
    e.flush().unwrap();
    assert_eq!(table_versions(dir.path()), [2], "no points: format 2");
    e.write_points(&[Point::new("num", 1, 1.5)]).unwrap();
    e.flush().unwrap();
    let mut v = table_versions(dir.path());
    v.sort();
    // Its block holds points of one series alone: it has statistics, format 5.
    assert_eq!(v, [2, 5], "the table with a point: format 5");
    e.trigger_compaction().unwrap();
    // One block of a record and a point: no statistics, format 3.
    assert_eq!(table_versions(dir.path()), [3]);
    let mut it = e.scan(ScanRange::all()).unwrap();
    let mut kinds = Vec::new();
    while let Some(r) = it.next() {
        kinds.push((r.unwrap().key, it.is_point()));
    }
    assert_eq!(kinds, [(b"bytes".to_vec(), false), (b"num".to_vec(), true)]);
    assert!(!it.is_point(), "no record after the end");
    e.shutdown().unwrap();
}

#[test]
fn aggregate_buckets_and_functions() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let s = 1_000_000; // a second
    let mut pts = Vec::new();
    for (i, v) in [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
        .into_iter()
        .enumerate()
    {
        pts.push(Point::new("cpu.a", i as i64 * 15 * s, v)); // every 15 s
    }
    pts.push(Point::new("cpu.b", -s, 7.0)); // before 0: the bucket [-60 s, 0)
    pts.push(Point::new("cpu.b", 0, f64::NAN));
    pts.push(Point::new("cpu.b", s, -2.0));
    e.write_points(&pts).unwrap();
    // Bytes in the range are left out, even 8-byte values.
    e.write_batch(&[Record::new("cpu.a", 7 * s, 100f64.to_le_bytes().to_vec())])
        .unwrap();
    let got = e
        .aggregate(Query::prefix("cpu."), 60 * s, &Agg::ALL)
        .unwrap();
    let rows: Vec<(&[u8], i64, Vec<f64>)> = got
        .iter()
        .map(|b| (b.key.as_slice(), b.start, b.values.clone()))
        .collect();
    let nan_free = |v: &[f64]| {
        v.iter()
            .map(|x| if x.is_nan() { -999.0 } else { *x })
            .collect::<Vec<_>>()
    };
    let rows: Vec<_> = rows
        .into_iter()
        .map(|(k, s0, v)| (k, s0, nan_free(&v)))
        .collect();
    // count, sum, min, max, avg, first, last, increase, rate (per second)
    assert_eq!(
        rows,
        [
            // 3 1 4 1: resets counted (+1, +3, +1) over 45 s
            (
                &b"cpu.a"[..],
                0,
                vec![4.0, 9.0, 1.0, 4.0, 2.25, 3.0, 1.0, 5.0, 5.0 / 45.0]
            ),
            (
                &b"cpu.a"[..],
                60 * s,
                vec![4.0, 22.0, 2.0, 9.0, 5.5, 5.0, 6.0, 10.0, 10.0 / 45.0]
            ),
            // One point: no increase, no rate.
            (
                &b"cpu.b"[..],
                -60 * s,
                vec![1.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 0.0, -999.0]
            ),
            // NaN: sum, avg, increase and rate NaN, min and max skip it, first is it.
            (
                &b"cpu.b"[..],
                0,
                vec![2.0, -999.0, -2.0, -2.0, -999.0, -999.0, -2.0, -999.0, -999.0]
            ),
        ]
    );
    // A time range, a key range, reverse, limit, one function.
    let q = Query::key_time_range("cpu.a", "cpu.a", 30 * s, 75 * s);
    let got = e.aggregate(q, 60 * s, &[Agg::Count]).unwrap();
    assert_eq!(
        got.iter()
            .map(|b| (b.start, b.values[0]))
            .collect::<Vec<_>>(),
        [(0, 2.0), (60 * s, 2.0)]
    );
    let got = e
        .aggregate(
            Query::prefix("cpu.").reverse().limit(2),
            60 * s,
            &[Agg::Max],
        )
        .unwrap();
    let keys: Vec<(&[u8], i64)> = got.iter().map(|b| (b.key.as_slice(), b.start)).collect();
    assert_eq!(keys, [(&b"cpu.b"[..], 0), (&b"cpu.b"[..], -60 * s)]);
    let got = e
        .aggregate(Query::prefix("cpu.").limit(1), i64::MAX, &[Agg::Sum])
        .unwrap();
    assert_eq!(
        (got.len(), got[0].values[0]),
        (1, 31.0),
        "one bucket for all time"
    );
    e.shutdown().unwrap();
}

#[test]
fn overwrites_expiry_and_deletes_decide_what_is_aggregated() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let now = flowdb::now_micros();
    e.write_points(&[
        Point::new("k", 1, 1.0),
        Point::new("k", 2, 2.0),
        Point::new("k", 3, 3.0).with_expire_at(now - 1), // expired
        Point::new("k", 4, 4.0),
    ])
    .unwrap();
    let mut b = WriteBatch::new();
    b.put(Record::new("k", 2, b"bytes now".to_vec())) // a point overwritten by bytes
        .put_point(Point::new("k", 5, 5.0))
        .put_point_ttl(Point::new("k", 6, 6.0), 1) // expired at once (ts is 1970)
        .delete("k", 4);
    e.write(&b, &Default::default()).unwrap();
    let sum = |e: &Engine| {
        e.aggregate(Query::prefix("k"), i64::MAX, &[Agg::Sum, Agg::Count])
            .unwrap()[0]
            .values
            .clone()
    };
    assert_eq!(sum(&e), [6.0, 2.0]);
    e.flush().unwrap();
    // Bytes overwritten by a point count again.
    e.write_points(&[Point::new("k", 2, 20.0)]).unwrap();
    assert_eq!(sum(&e), [26.0, 3.0]);
    e.delete_time_range("k", "l", 5, 5).unwrap();
    e.trigger_compaction().unwrap();
    assert_eq!(sum(&e), [21.0, 2.0]);
    e.shutdown().unwrap();
}

#[test]
fn bad_arguments_are_named_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    for (step, fs) in [(0, &[Agg::Sum][..]), (-5, &[Agg::Sum][..]), (10, &[][..])] {
        match e.aggregate(Query::prefix(""), step, fs) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains("aggregate"), "{m}"),
            other => panic!("step {step}, {fs:?}: {other:?}"),
        }
    }
    let err = e
        .write_points(&[Point::new("ok", 1, 1.0), Point::new("", 2, 2.0)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("batch operation 1")),
        "{err}"
    );
    assert!(e.get("ok", 1).unwrap().is_none(), "all or nothing");
    assert_eq!(
        e.aggregate(Query::prefix("").limit(0), 1, &[Agg::Count])
            .unwrap(),
        []
    );
    e.shutdown().unwrap();
}

#[test]
fn series_grouped_by_key_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let s = 1_000_000;
    e.write_points(&[
        Point::new("cpu.h1.user", 0, 10.0),
        Point::new("cpu.h1.user", 10 * s, 30.0), // increase 20 over 10 s
        Point::new("cpu.h1.sys", 0, 5.0),        // one point: no rate
        Point::new("cpu.h2.user", 5 * s, 1.0),
        Point::new("cpu.h2.user", 6 * s, 3.0), // increase 2 over 1 s
    ])
    .unwrap();
    let fs = [
        Agg::Count,
        Agg::Sum,
        Agg::First,
        Agg::Last,
        Agg::Increase,
        Agg::Rate,
    ];
    let rows = |g: GroupBy| -> Vec<(String, Vec<f64>)> {
        e.aggregate_by(Query::prefix("cpu."), 60 * s, &fs, g)
            .unwrap()
            .into_iter()
            .map(|b| (String::from_utf8(b.key).unwrap(), b.values))
            .collect()
    };
    assert_eq!(
        rows(GroupBy::UpToLast(b'.')),
        [
            // first: ts 0 in both series, the lowest key (sys) wins the tie
            ("cpu.h1.".into(), vec![3.0, 45.0, 5.0, 30.0, 20.0, 2.0]),
            ("cpu.h2.".into(), vec![2.0, 4.0, 1.0, 3.0, 2.0, 2.0]),
        ]
    );
    assert_eq!(
        rows(GroupBy::All),
        [(String::new(), vec![5.0, 49.0, 5.0, 30.0, 22.0, 4.0])]
    );
    assert_eq!(rows(GroupBy::Prefix(6)).len(), 2);
    assert_eq!(rows(GroupBy::Series).len(), 3);
    e.shutdown().unwrap();
}

/// Bytes of the tables in `dir`.
fn table_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

#[test]
fn series_of_points_are_packed_and_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let config = flowdb::Config {
        data_dir: dir.path().to_path_buf(),
        ..flowdb::Config::default()
    };
    let e = Engine::open(config.clone()).unwrap();
    // 20 series, a point every 15 s with a little jitter on some, values of one
    // decimal drifting slowly; one series of random bits; some points with a TTL.
    let mut rng = fastrand::Rng::with_seed(7);
    let mut pts = Vec::new();
    for s in 0..20 {
        let mut v = 20.0f64;
        for i in 0..5000i64 {
            let jitter = if s % 4 == 0 { rng.i64(-3000..3000) } else { 0 };
            v += rng.i32(-2..=2) as f64 / 10.0;
            let value = if s == 19 {
                f64::from_bits(rng.u64(..))
            } else {
                (v * 10.0).round() / 10.0
            };
            let mut p = Point::new(
                format!("host.{s:02}.temp"),
                1_700_000_000_000_000 + i * 15_000_000 + jitter,
                value,
            );
            if s == 18 {
                p.expire_at = p.ts + 86_400_000_000 * 36500;
            }
            pts.push(p);
        }
    }
    for chunk in pts.chunks(1000) {
        e.write_points(chunk).unwrap();
    }
    e.flush().unwrap();
    e.trigger_compaction().unwrap();
    let want: Vec<Record> = pts.iter().cloned().map(Point::into_record).collect();
    let check = |e: &Engine, what: &str| {
        let got: Vec<Record> = e
            .scan(ScanRange::all())
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(got == want, "{what}: the points differ");
        for p in pts.iter().step_by(997) {
            let r = e
                .get_bytes(&p.key, p.ts, &ReadOptions::default())
                .unwrap()
                .unwrap();
            assert_eq!(
                r.as_f64().unwrap().to_bits(),
                p.value.to_bits(),
                "{what}: get"
            );
        }
    };
    check(&e, "compacted");
    // 19 of the 20 series compress; the random one costs its 8 bytes a point (1.50
    // bytes a point in all, of which the blocks' hour parts take about 0.08).
    let bytes = table_bytes(dir.path());
    let per_point = bytes as f64 / pts.len() as f64;
    assert!(
        per_point < 1.6,
        "{per_point:.2} bytes a point ({bytes} bytes)"
    );
    e.shutdown().unwrap();
    let e = Engine::open(config).unwrap();
    check(&e, "reopened");
    e.shutdown().unwrap();
}

/// `patch_record` with a new TTL alone keeps a numeric point a point: aggregation
/// still counts it, a scan still marks it, in memory and after a flush (it was read
/// as a plain record and written back as bytes). A new value makes it bytes, as the
/// docs say (only the point-writing calls write numbers).
#[test]
fn patching_a_points_ttl_keeps_it_a_point() {
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path());
    let t = flowdb::now_micros();
    e.write_points(&[Point::new("k", t, 2.5), Point::new("k", t + 1, 4.0)])
        .unwrap();
    let count = |e: &Engine| {
        let b = e
            .aggregate(Query::prefix("k"), 60_000_000, &[Agg::Count])
            .unwrap();
        b.iter().map(|b| b.values[0]).sum::<f64>()
    };
    let patched = e.patch_record("k", t, None, Some(3600)).unwrap();
    assert_eq!(patched.expire_at, flowdb::expiry_from_ttl(t, 3600));
    assert_eq!(patched.value, 2.5f64.to_le_bytes().to_vec());
    assert_eq!(count(&e), 2.0);
    e.flush().unwrap();
    assert_eq!(count(&e), 2.0);
    let mut it = e.scan(ScanRange::prefix("k")).unwrap();
    assert!(it.next().unwrap().is_ok() && it.is_point());
    drop(it);
    e.patch_record("k", t + 1, Some(b"text".to_vec()), None)
        .unwrap();
    assert_eq!(count(&e), 1.0);
}
