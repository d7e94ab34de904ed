//! flowdb through its Rust API, `Config::default()` (so `SyncMode::Always`: an
//! fdatasync of the log per write call; a 128 MiB block cache), as a user who
//! changed nothing has it. Three processes: the data as points (`write_points`,
//! `aggregate`, and the scan + fold a user of bytes writes today), the same data as
//! records of 8-byte values (`write_batch`), and an ingest of points with
//! `SyncMode::IntervalMs(1000)`, SQLite's `synchronous=NORMAL` durability.

use std::path::Path;
use std::time::Instant;

use flowdb::{Agg, Config, Engine, Point, Query, Record, ScanRange, SyncMode};

use crate::data::{check_line, digest, dir_bytes, metric, timed, Data, Digest, Plan, BATCH};
use crate::data::{DAY, HOUR, MINUTE};

fn open(dir: &Path, sync: SyncMode) -> Engine {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        wal_sync_mode: sync,
        ..Config::default()
    };
    // For experiments only (docs/benchmarks.md names any run that used it).
    if let Some(mb) = std::env::var("NUMERIC_COMPARE_FLOWDB_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.block_cache_capacity_mb = mb;
    }
    Engine::open(config).expect("flowdb: open")
}

/// The block cache's misses so far and the bytes it holds (`metrics_text`).
fn cache(engine: &Engine) -> (f64, f64) {
    let text = engine.metrics_text();
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (
        get("flowdb_block_cache_misses_total"),
        get("flowdb_block_cache_bytes"),
    )
}

/// Reports the block cache misses since `before` (warm-up included) and the cache's
/// size, after the phase `name`.
fn cache_after(engine: &Engine, name: &str, before: (f64, f64)) -> (f64, f64) {
    let now = cache(engine);
    metric(&format!("{name}_cache_misses"), now.0 - before.0);
    metric(&format!("{name}_cache_mib"), now.1 / (1 << 20) as f64);
    now
}

/// Flush and full compaction (timed), then the bytes on disk.
fn settle(engine: &Engine, dir: &Path, points: usize) {
    let t = Instant::now();
    engine.flush().expect("flowdb: flush");
    engine
        .trigger_compaction()
        .expect("flowdb: trigger_compaction");
    metric("settle_s", t.elapsed().as_secs_f64());
    let bytes = dir_bytes(dir);
    metric("disk_bytes", bytes as f64);
    metric("bytes_per_sample", bytes as f64 / points as f64);
    let tables = engine.stats().sstable_bytes;
    metric("table_bytes_per_sample", tables as f64 / points as f64);
    metric("tables", engine.stats().sstable_count as f64);
}

/// Point reads and whole-series scans, on points or on 8-byte records alike (the
/// value read back as the `f64` it holds).
fn reads(engine: &Engine, d: &Data, plan: &Plan) {
    let c = cache(engine);
    let (ops, dg) = timed(&plan.gets, plan.gets.len(), |&(s, i), dg: &mut Digest| {
        let ts = d.ts[s][i];
        let r = engine.get(&d.keys[s], ts).expect("flowdb: get");
        let r = r.expect("flowdb: an existing point");
        dg.add(r.ts, r.as_f64().expect("8 bytes"));
    });
    let c = cache_after(engine, "get", c);
    metric("get_ops", ops);
    digest("get", &dg);
    let (scans, dg) = timed(&plan.scans, plan.scans.len(), |&s, dg: &mut Digest| {
        let k = &d.keys[s];
        for r in engine
            .scan(ScanRange::key_range(k, k))
            .expect("flowdb: scan")
        {
            let r = r.expect("flowdb: scan");
            dg.add(r.ts, r.as_f64().expect("8 bytes"));
        }
    });
    cache_after(engine, "series_scan", c);
    metric("series_scan_pps", scans * d.n as f64);
    digest("series_scan", &dg);
}

/// The maximum per `step` of `q`'s points, each bucket lent (`aggregate_with`) into
/// the digest.
fn max_lent(engine: &Engine, q: Query, step: i64, dg: &mut Digest) {
    let lend = |_: &[u8], start, v: &[f64]| dg.add(start, v[0]);
    engine
        .aggregate_with(q, step, &[Agg::Max], lend)
        .expect("aggregate_with");
}

/// Writes the data as points, scrape by scrape, in batches of `BATCH`.
fn write_points(engine: &Engine, d: &Data) {
    let mut batch = Vec::with_capacity(BATCH);
    for (s, i) in d.in_write_order() {
        batch.push(Point::new(d.keys[s].as_str(), d.ts[s][i], d.vals[s][i]));
        if batch.len() == BATCH {
            engine.write_points(&batch).expect("flowdb: write_points");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        engine.write_points(&batch).expect("flowdb: write_points");
    }
}

/// The data as points: ingest, size, the aggregations (and their scan + fold), reads.
pub fn points(dir: &Path, d: &Data, plan: &Plan, check: Option<&Path>, sync: SyncMode) {
    let engine = open(dir, sync);
    let t = Instant::now();
    write_points(&engine, d);
    metric("ingest_pps", d.points() as f64 / t.elapsed().as_secs_f64());
    if sync != SyncMode::Always {
        engine.shutdown().expect("flowdb: shutdown");
        return;
    }
    settle(&engine, dir, d.points());

    // Max per minute over one hour of one series.
    let c = cache(&engine);
    let (qps, dg) = timed(&plan.hour, plan.hour.len(), |&(s, t0), dg: &mut Digest| {
        let k = &d.keys[s];
        let q = Query::key_time_range(k, k, t0, t0 + HOUR - 1);
        for b in engine.aggregate(q, MINUTE, &[Agg::Max]).expect("aggregate") {
            dg.add(b.start, b.values[0]);
        }
    });
    let c = cache_after(&engine, "hour", c);
    metric("hour_qps", qps);
    digest("hour", &dg);
    let (qps, dg) = timed(&plan.hour, plan.hour.len(), |&(s, t0), dg: &mut Digest| {
        let k = &d.keys[s];
        let q = Query::key_time_range(k, k, t0, t0 + HOUR - 1);
        max_lent(&engine, q, MINUTE, dg);
    });
    let c = cache_after(&engine, "hour_lent", c);
    metric("hour_lent_qps", qps);
    digest("hour_lent", &dg);
    let (qps, dg) = timed(&plan.hour, plan.hour.len(), |&(s, t0), dg: &mut Digest| {
        let k = &d.keys[s];
        let range = ScanRange::key_time_range(k, k, t0, t0 + HOUR - 1);
        let mut out: Vec<(i64, f64)> = Vec::new();
        for r in engine.scan(range).expect("flowdb: scan") {
            let r = r.expect("flowdb: scan");
            let (start, v) = (
                r.ts.div_euclid(MINUTE) * MINUTE,
                r.as_f64().expect("8 bytes"),
            );
            match out.last_mut() {
                Some((s, m)) if *s == start => *m = m.max(v),
                _ => out.push((start, v)),
            }
        }
        for (start, v) in out {
            dg.add(start, v);
        }
    });
    let c = cache_after(&engine, "hour_fold", c);
    metric("hour_fold_qps", qps);
    digest("hour_fold", &dg);

    // Max per hour, and per day, over one day of every series.
    let c = all_series(&engine, plan, HOUR, "day", c);
    let c = all_series(&engine, plan, DAY, "daily", c);

    let _ = c;
    reads(&engine, d, plan);

    if let Some(path) = check {
        let fns = [Agg::Count, Agg::Sum, Agg::Min, Agg::Max];
        let mut out = String::new();
        for (q, &(s, t0)) in plan.hour.iter().take(20).enumerate() {
            let k = &d.keys[s];
            let query = Query::key_time_range(k, k, t0, t0 + HOUR - 1);
            for b in engine.aggregate(query, MINUTE, &fns).expect("aggregate") {
                let v = [b.values[0], b.values[1], b.values[2], b.values[3]];
                check_line(&mut out, &format!("hour{q}"), k, b.start, v);
            }
        }
        if let Some(&t0) = plan.day.first() {
            let query = Query::time_range(t0, t0 + DAY - 1);
            for b in engine.aggregate(query, HOUR, &fns).expect("aggregate") {
                let v = [b.values[0], b.values[1], b.values[2], b.values[3]];
                let key = String::from_utf8(b.key).expect("UTF-8 keys");
                check_line(&mut out, "day0", &key, b.start, v);
            }
        }
        std::fs::write(path, out).expect("write the check dump");
    }
    engine.shutdown().expect("flowdb: shutdown");
}

/// Max per `step` over one day of every series (`plan.day`), by `aggregate` and by
/// scan + fold: the metrics `{name}_qps` and `{name}_fold_qps`.
fn all_series(engine: &Engine, plan: &Plan, step: i64, name: &str, c: (f64, f64)) -> (f64, f64) {
    let (qps, dg) = timed(&plan.day, 1, |&t0, dg: &mut Digest| {
        let q = Query::time_range(t0, t0 + DAY - 1);
        for b in engine.aggregate(q, step, &[Agg::Max]).expect("aggregate") {
            dg.add(b.start, b.values[0]);
        }
    });
    let c = cache_after(engine, name, c);
    metric(&format!("{name}_qps"), qps);
    digest(name, &dg);
    let (qps, dg) = timed(&plan.day, 1, |&t0, dg: &mut Digest| {
        let q = Query::time_range(t0, t0 + DAY - 1);
        max_lent(engine, q, step, dg);
    });
    let lent = format!("{name}_lent");
    let c = cache_after(engine, &lent, c);
    metric(&format!("{lent}_qps"), qps);
    digest(&lent, &dg);
    let (qps, dg) = timed(&plan.day, 1, |&t0, dg: &mut Digest| {
        let range = ScanRange::time_range(t0, t0 + DAY - 1);
        let mut out: Vec<(Vec<u8>, i64, f64)> = Vec::new();
        for r in engine.scan(range).expect("flowdb: scan") {
            let r = r.expect("flowdb: scan");
            let (start, v) = (r.ts.div_euclid(step) * step, r.as_f64().expect("8 bytes"));
            match out.last_mut() {
                Some((k, s, m)) if *s == start && *k == r.key => *m = m.max(v),
                _ => out.push((r.key, start, v)),
            }
        }
        for (_, start, v) in out {
            dg.add(start, v);
        }
    });
    let fold = format!("{name}_fold");
    let c = cache_after(engine, &fold, c);
    metric(&format!("{fold}_qps"), qps);
    digest(&fold, &dg);
    c
}

/// The same data as records of 8-byte values (the `f64`'s bytes): ingest, size, reads.
pub fn bytes(dir: &Path, d: &Data, plan: &Plan) {
    let engine = open(dir, SyncMode::Always);
    let t = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for (s, i) in d.in_write_order() {
        let value = d.vals[s][i].to_le_bytes().to_vec();
        batch.push(Record::new(d.keys[s].as_str(), d.ts[s][i], value));
        if batch.len() == BATCH {
            engine.write_batch(&batch).expect("flowdb: write_batch");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        engine.write_batch(&batch).expect("flowdb: write_batch");
    }
    metric("ingest_pps", d.points() as f64 / t.elapsed().as_secs_f64());
    settle(&engine, dir, d.points());
    reads(&engine, d, plan);
    engine.shutdown().expect("flowdb: shutdown");
}

/// The aggregations `--spans` runs alone: name, span of the query and bucket step.
pub const SPANS: [(&str, i64, i64); 4] = [
    ("hour", HOUR, MINUTE),
    ("hour-1bucket", HOUR, HOUR),
    ("minute", MINUTE, MINUTE),
    ("second", 1_000_000, MINUTE),
];

/// `--spans`: the points written and settled as for `points`, then only the listed
/// `aggregate_with` queries (max), each over the hour queries' plan `span_repeat`
/// times, each list run untimed then timed as every phase is. For counting one
/// query's instructions (docs/benchmarks.md, "The hour of one series in fewer
/// instructions"): callgrind with `--toggle-collect='*aggregate_with*'`, and the
/// difference of two repeat counts.
pub fn spans(dir: &Path, d: &Data, plan: &Plan, o: &crate::Options) {
    let engine = open(dir, SyncMode::Always);
    write_points(&engine, d);
    settle(&engine, dir, d.points());
    let many: Vec<_> = (0..o.span_repeat)
        .flat_map(|_| plan.hour.iter().copied())
        .collect();
    for (name, span, step) in SPANS {
        if !o.spans.iter().any(|s| s == name) {
            continue;
        }
        let (qps, dg) = timed(&many, many.len(), |&(s, t0), dg: &mut Digest| {
            let k = &d.keys[s];
            let q = Query::key_time_range(k, k, t0, t0 + span - 1);
            max_lent(&engine, q, step, dg);
        });
        metric(&format!("span_{name}_qps"), qps);
        digest(&format!("span_{name}"), &dg);
    }
    engine.shutdown().expect("flowdb: shutdown");
}
