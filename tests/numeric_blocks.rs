//! `aggregate` from block statistics: a table block holding only one series' points
//! keeps their count, sum, min, max, first, last and counter increase in its index
//! entry, and a bucket covering the block whole is folded from them without reading
//! it. Each case compares with a fold over a model of what was written, and checks
//! through `EngineStats::total_points_aggregated_from_index` whether the statistics
//! were used: never where another source (a memtable's overwrite, a delete, a newer
//! point among the block's), an expired point or a bucket edge inside the block
//! forbids it.

mod common;

use std::collections::BTreeMap;

use common::points;
use flowdb::{Agg, Engine, GroupBy, Point, Query, Record, WriteBatch, WriteOptions};

type Model = BTreeMap<(Vec<u8>, i64), (i64, f64)>;

const SEC: i64 = 1_000_000;

struct Case {
    engine: Engine,
    model: Model,
    _dir: tempfile::TempDir,
}

impl Case {
    fn write(&mut self, pts: &[Point]) {
        self.engine.write_points(pts).unwrap();
        for p in pts {
            self.model
                .insert((p.key.clone(), p.ts), (p.expire_at, p.value));
        }
    }

    fn points_from_index(&self) -> u64 {
        self.engine.stats().total_points_aggregated_from_index
    }

    /// `aggregate_by(query, step, functions, group)` against the model folded; the
    /// points the statistics answered for.
    fn check(
        &self,
        query: Query,
        keep: impl Fn(&[u8], i64) -> bool,
        step: i64,
        group: GroupBy,
    ) -> u64 {
        self.check_with(query, keep, step, group, usize::MAX, &Agg::ALL)
    }

    /// [`check`](Self::check) of `functions`, with a limit (`usize::MAX`: none).
    fn check_with(
        &self,
        query: Query,
        keep: impl Fn(&[u8], i64) -> bool,
        step: i64,
        group: GroupBy,
        limit: usize,
        functions: &[Agg],
    ) -> u64 {
        let query = match limit {
            usize::MAX => query,
            n => query.limit(n),
        };
        let now = flowdb::now_micros();
        let live = self
            .model
            .iter()
            .filter(|((k, ts), (exp, _))| *exp > now && keep(k, *ts))
            .map(|((k, ts), (_, v))| (k.as_slice(), *ts, *v));
        let want = points::fold(live, step, functions, group, false, limit);
        let before = self.points_from_index();
        let got = self
            .engine
            .aggregate_by(query.clone(), step, functions, group)
            .unwrap();
        points::assert_buckets(
            &got,
            &want,
            functions,
            &format!("{query:?} step {step} {group:?}"),
        );
        self.points_from_index() - before
    }
}

/// Three series of 20,000 points a second apart (in blocks of about 60 points with
/// `small_config`), flushed and compacted into one run.
fn case(test: &str) -> Case {
    let mut rng = common::rng(test);
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(common::small_config(dir.path())).unwrap();
    let mut c = Case {
        engine,
        model: Model::new(),
        _dir: dir,
    };
    // The start of yesterday (UTC): the 5.6 hours of points then lie within one day
    // bucket whatever the time of day the test runs. (An hour boundary a day ago
    // put a midnight inside them from 18:27 UTC on, and the block across it was read
    // point by point.)
    let base = common::base_ts() / (86_400 * SEC) * (86_400 * SEC) - 86_400 * SEC;
    for key in ["s.a", "s.b", "s.c"] {
        let pts: Vec<Point> = (0..20_000)
            .map(|i| {
                let p = Point::new(key, base + i * SEC, points::value(&mut rng));
                match key {
                    // A run that expires (a month on): its statistics still apply.
                    "s.c" => p.with_expire_at(base + 30 * 86_400 * SEC),
                    _ => p,
                }
            })
            .collect();
        for chunk in pts.chunks(1000) {
            c.write(chunk);
        }
    }
    c.engine.flush().unwrap();
    while c.engine.trigger_compaction().unwrap() {}
    c
}

fn all(_: &[u8], _: i64) -> bool {
    true
}

/// The points of series `key`.
fn series(key: &'static str) -> impl Fn(&[u8], i64) -> bool {
    move |k, _| k == key.as_bytes()
}

#[test]
fn buckets_covering_whole_blocks_fold_their_statistics() {
    let c = case("buckets_covering_whole_blocks_fold_their_statistics");
    let base = c.model.keys().next().unwrap().1;
    for group in [GroupBy::Series, GroupBy::All] {
        // Buckets of an hour and more cover most blocks (a minute of points each).
        for step in [3600 * SEC, 86_400 * SEC, i64::MAX] {
            let used = c.check(Query::prefix("s."), all, step, group);
            assert!(used > 50_000, "step {step}: {used} points from the index");
            // A series' last block ends where the next series begins (it is larger
            // than a quarter block), so every block has statistics.
            if step >= 86_400 * SEC {
                assert_eq!(used, 60_000, "step {step}");
            }
        }
        // A 1-second bucket never covers a block: every point is read.
        assert_eq!(c.check(Query::prefix("s."), all, SEC, group), 0);
    }
    // Time bounds that cut blocks: those blocks are read, the others not.
    let (lo, hi) = (base + 1234 * SEC + 17, base + 15_000 * SEC - 3);
    let inside = move |_: &[u8], ts: i64| (lo..=hi).contains(&ts);
    let used = c.check(
        Query::prefix_time_range("s.", lo, hi),
        inside,
        3600 * SEC,
        GroupBy::Series,
    );
    assert!(used > 0 && used < 3 * 13_766, "{used}");
    // One series; a limit ends the read inside the statistics' buckets.
    c.check(
        Query::key_range("s.b", "s.b"),
        series("s.b"),
        3600 * SEC,
        GroupBy::Series,
    );
    c.check_with(
        Query::prefix("s."),
        all,
        3600 * SEC,
        GroupBy::Series,
        3,
        &Agg::ALL,
    );
    c.check_with(
        Query::prefix("s."),
        all,
        3600 * SEC,
        GroupBy::All,
        7,
        &Agg::ALL,
    );
}

#[test]
fn newer_versions_deletes_and_expired_points_keep_blocks_read() {
    let mut c = case("newer_versions_deletes_and_expired_points_keep_blocks_read");
    let base = c.model.keys().next().unwrap().1;
    // Into the memtable, among the tables' points: an overwrite of s.a, a new point
    // between two of s.b, a delete in s.c.
    c.write(&[Point::new("s.a", base + 5000 * SEC, 1e6)]);
    c.write(&[Point::new("s.b", base + 7000 * SEC + 1, -1e6)]);
    let mut b = WriteBatch::new();
    b.delete("s.c", base + 9000 * SEC);
    c.engine.write(&b, &WriteOptions::default()).unwrap();
    c.model.remove(&(b"s.c".to_vec(), base + 9000 * SEC));
    let step = 86_400 * SEC;
    for group in [GroupBy::Series, GroupBy::All] {
        let used = c.check(Query::prefix("s."), all, step, group);
        // Most blocks still come from the index; those holding the memtable's
        // versions come after them in the merge and are read.
        assert!(used > 40_000, "{used}");
    }
    // And a point that expires a moment after it is flushed, in a series of its
    // own (flush drops what has expired already).
    let soon = flowdb::now_micros() + 1_000_000;
    let dying: Vec<Point> = (0..2000)
        .map(|i| {
            let p = Point::new("s.d", base + i * SEC, i as f64);
            match i {
                700 => p.with_expire_at(soon),
                _ => p,
            }
        })
        .collect();
    c.write(&dying);
    c.engine.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_micros(
        (soon - flowdb::now_micros()).max(0) as u64 + 1000,
    ));
    // Tables of their own now: the blocks of the older run that the newer tables'
    // entries fall among are read, the rest folded from statistics.
    for group in [GroupBy::Series, GroupBy::All] {
        c.check(Query::prefix("s."), all, step, group);
    }
    // The expired point's block: read point by point (the others of s.d are not).
    let used = c.check(Query::prefix("s.d"), series("s.d"), step, GroupBy::Series);
    assert!(used < 2000 && used > 1000, "{used}");
    while c.engine.trigger_compaction().unwrap() {}
    for group in [GroupBy::Series, GroupBy::All] {
        c.check(Query::prefix("s."), all, step, group);
    }
    // After a time-range delete touching the query, every point is read (the owning
    // merge applies range deletes); one elsewhere changes nothing.
    c.engine
        .delete_time_range("s.a", "s.b", base + 100 * SEC, base + 200 * SEC)
        .unwrap();
    c.model.retain(|(k, ts), _| {
        !(k.as_slice() == b"s.a" && (base + 100 * SEC..=base + 200 * SEC).contains(ts))
    });
    assert_eq!(
        c.check(Query::prefix("s.a"), series("s.a"), step, GroupBy::Series),
        0
    );
    assert!(c.check(Query::prefix("s.c"), series("s.c"), step, GroupBy::Series) > 10_000);
    // Bytes over a point: the block holding it is not all points any more.
    c.engine
        .write_batch(&[Record::new("s.b", base + 42 * SEC, vec![1, 2, 3])])
        .unwrap();
    c.model.remove(&(b"s.b".to_vec(), base + 42 * SEC));
    c.engine.flush().unwrap();
    while c.engine.trigger_compaction().unwrap() {}
    c.check(Query::prefix("s.b"), series("s.b"), step, GroupBy::Series);
}

/// Blocks read as columns take the next block from the cache ahead of its turn
/// (`TableCursor::hold_next`), within an index partition: with partitions of two
/// blocks and of the default size, and in both lending forms, the buckets are the
/// model's, and a warm read counts one cache hit per block it reads, as a scan of
/// the same points does, and no miss.
#[test]
fn column_reads_holding_the_next_block_count_and_fold_as_a_scan() {
    let mut two = flowdb::Tuning::default();
    two.index_partition_blocks = 2;
    for tuning in [flowdb::Tuning::default(), two] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = common::small_config(dir.path());
        config.block_cache_capacity_mb = 8;
        let engine = Engine::open_with(config, tuning.clone()).unwrap();
        let mut rng = common::rng("column_reads_holding_the_next_block");
        let base = common::base_ts() / SEC * SEC;
        let mut model = Vec::new();
        for key in ["h.a", "h.b"] {
            let pts: Vec<Point> = (0..6_000)
                .map(|i| Point::new(key, base + i * SEC, points::value(&mut rng)))
                .collect();
            engine.write_points(&pts).unwrap();
            model.extend(pts.iter().map(|p| (p.key.clone(), p.ts, p.value)));
        }
        engine.flush().unwrap();
        while engine.trigger_compaction().unwrap() {}
        let (lo, hi) = (base + 500 * SEC + 3, base + 5_000 * SEC);
        let q = Query::prefix_time_range("h.", lo, hi);
        let fs = [Agg::Count, Agg::Max, Agg::Last];
        let live = model
            .iter()
            .filter(|(_, ts, _)| (lo..=hi).contains(ts))
            .map(|(k, ts, v)| (k.as_slice(), *ts, *v));
        // 7-second buckets: no block is covered whole, every one is read as columns.
        let step = 7 * SEC;
        let want = points::fold(live, step, &fs, GroupBy::Series, false, usize::MAX);
        // The cache's counters (metrics only: EngineStats keeps the published shape).
        let counts = || {
            let text = engine.metrics_text();
            let get = |name: &str| -> u64 {
                let line = text.lines().find_map(|l| l.strip_prefix(name));
                line.and_then(|v| v.trim().parse().ok()).expect(name)
            };
            (
                get("flowdb_block_cache_hits_total"),
                get("flowdb_block_cache_misses_total"),
            )
        };
        let lent = || points::lent(|f| engine.aggregate_with(q.clone(), step, &fs, f));
        points::assert_buckets(&lent(), &want, &fs, "cold");
        let before = counts();
        points::assert_buckets(&lent(), &want, &fs, "warm");
        let after = counts();
        let snap = engine.snapshot();
        let by = points::lent(|f| snap.aggregate_by_with(q.clone(), step, &fs, GroupBy::Series, f));
        points::assert_buckets(&by, &want, &fs, "snapshot");
        let scan_before = counts();
        let n = engine.query(q.clone()).unwrap().len();
        let scan_after = counts();
        assert_eq!(n, want.iter().map(|b| b.values[0] as usize).sum::<usize>());
        assert_eq!(after.1, before.1, "{tuning:?}: a warm read misses nothing");
        assert_eq!(
            after.0 - before.0,
            scan_after.0 - scan_before.0,
            "{tuning:?}: hits of the column read and of a scan"
        );
        assert!(after.0 - before.0 > 20, "{tuning:?}: blocks read");
    }
}

/// Points 8-22 s apart in blocks of the default size (about 500 points, two or three
/// clock hours): each block keeps its hours' count, sum, min and max, and buckets of
/// whole hours fold them when the functions need no first or last point (or counter
/// increase); otherwise, and for buckets that cut hours, the blocks are read. One
/// series has gaps of 70-200 minutes, so some blocks skip hours and some span more
/// than four (those keep no parts).
#[test]
fn hour_parts_answer_whole_hour_buckets() {
    let mut rng = common::rng("hour_parts_answer_whole_hour_buckets");
    let dir = tempfile::tempdir().unwrap();
    let config = flowdb::Config {
        data_dir: dir.path().to_path_buf(),
        auto_background: false,
        ..flowdb::Config::default()
    };
    let mut c = Case {
        engine: Engine::open(config).unwrap(),
        model: Model::new(),
        _dir: dir,
    };
    // A day boundary falls among the points: the day buckets then need parts too.
    let base = common::base_ts() / (86_400 * SEC) * (86_400 * SEC) - 86_400 * SEC - 5 * 3600 * SEC;
    // Halves add up exactly in any order, so every function's answer is compared
    // exactly (the values of `points::value`, a twentieth of them NaN or infinite,
    // would make nearly every bucket's sum NaN). "h.c" lies before ts 0.
    for key in ["h.a", "h.b", "h.c"] {
        let start = if key == "h.c" { -base / 2 } else { base };
        let mut ts = start + rng.i64(0..3600 * SEC);
        let mut pts = Vec::new();
        for i in 0..12_000 {
            ts += rng.i64(8 * SEC..=22 * SEC);
            // Twenty gaps, every 600 points: drawn by chance, a run with many more
            // left too few blocks with parts for the 80% below (about 1 in 2,500).
            if key == "h.b" && i % 600 == 599 {
                ts += rng.i64(70 * 60 * SEC..=200 * 60 * SEC);
            }
            pts.push(Point::new(key, ts, f64::from(rng.i32(-2000..2000)) / 2.0));
        }
        for chunk in pts.chunks(1000) {
            c.write(chunk);
        }
    }
    c.engine.flush().unwrap();
    while c.engine.trigger_compaction().unwrap() {}
    let total = c.model.len() as u64;
    let order_free = [Agg::Count, Agg::Sum, Agg::Min, Agg::Max, Agg::Avg];
    let q = || Query::prefix("h.");
    for group in [GroupBy::Series, GroupBy::All] {
        for step in [3600 * SEC, 3 * 3600 * SEC, 86_400 * SEC] {
            let parts = c.check_with(q(), all, step, group, usize::MAX, &order_free);
            let whole = c.check_with(q(), all, step, group, usize::MAX, &Agg::ALL);
            // All but blocks over four hours, or too small for parts, and the
            // series' last blocks.
            assert!(
                parts > total * 8 / 10,
                "step {step}: {parts} of {total} points from the index"
            );
            assert!(
                whole < parts,
                "step {step}: {whole} whole, {parts} with parts"
            );
            // The counter functions need each part's first and last point: whole
            // blocks only, as with every function.
            for fs in [&[Agg::Rate][..], &[Agg::Increase], &[Agg::Max, Agg::Rate]] {
                let n = c.check_with(q(), all, step, group, usize::MAX, fs);
                assert_eq!(n, whole, "step {step}: {fs:?}");
            }
            for f in order_free {
                c.check_with(
                    q(),
                    all,
                    step,
                    group,
                    usize::MAX,
                    &[f, Agg::First][..1 + rng.usize(..2)],
                );
            }
        }
        // Buckets that cut hours (90 minutes) take a block's parts only when each
        // part lies in one bucket (an hour between two others, then no point).
        let cut = c.check_with(q(), all, 90 * 60 * SEC, group, usize::MAX, &order_free);
        let whole = c.check_with(q(), all, 90 * 60 * SEC, group, usize::MAX, &Agg::ALL);
        assert!(
            cut >= whole && cut < total / 2,
            "90-minute buckets: {cut}, {whole}"
        );
    }
    // Bounds and limits inside the parts' buckets.
    let (lo, hi) = (base + 7 * 3600 * SEC + 11, base + 40 * 3600 * SEC);
    let inside = move |_: &[u8], ts: i64| (lo..=hi).contains(&ts);
    let q = Query::prefix_time_range("h.", lo, hi);
    let used = c.check_with(
        q.clone(),
        inside,
        3600 * SEC,
        GroupBy::Series,
        usize::MAX,
        &order_free,
    );
    assert!(used > 0);
    for limit in [1, 5, 40] {
        c.check_with(
            q.clone(),
            inside,
            3600 * SEC,
            GroupBy::Series,
            limit,
            &order_free,
        );
        c.check_with(
            q.clone(),
            inside,
            3600 * SEC,
            GroupBy::All,
            limit,
            &[Agg::Max],
        );
    }
}
