//! SQLite through rusqlite, on the system's libsqlite3: one table
//! `points(key TEXT, ts INTEGER, value REAL)`, `journal_mode=WAL`,
//! `synchronous=NORMAL` (no fsync per commit: a crash of the program loses nothing,
//! a power loss may lose the last commits), a 128 MiB page cache (`cache_size`, as
//! flowdb's block cache); every statement prepared once (`prepare_cached`).
//!
//! Schemas (`--sqlite-schema`): `without-rowid`, the primary key `(key, ts)` of a
//! `WITHOUT ROWID` table (the rows clustered by series and time), or `rowid`, a rowid
//! table with an index on `(key, ts)`.

use std::path::Path;
use std::time::Instant;

use rusqlite::{params, Connection};

use crate::data::{check_line, digest, dir_bytes, metric, timed, Data, Digest, Plan, BATCH};
use crate::data::{DAY, HOUR, MINUTE};

pub fn version() -> String {
    rusqlite::version().to_string()
}

fn open(dir: &Path, schema: &str) -> Connection {
    std::fs::create_dir_all(dir).expect("create the SQLite directory");
    let conn = Connection::open(dir.join("points.db")).expect("sqlite: open");
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("sqlite: journal_mode");
    assert_eq!(mode, "wal");
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-131072;")
        .expect("sqlite: pragmas");
    // For experiments only (docs/benchmarks.md names any run that used it): more
    // statements run after these, e.g. "PRAGMA wal_autocheckpoint=10000".
    if let Ok(more) = std::env::var("NUMERIC_COMPARE_SQLITE_PRAGMAS") {
        conn.execute_batch(&more)
            .expect("sqlite: NUMERIC_COMPARE_SQLITE_PRAGMAS");
    }
    let ddl = match schema {
        "without-rowid" => {
            "CREATE TABLE points(key TEXT, ts INTEGER, value REAL, PRIMARY KEY(key, ts)) \
             WITHOUT ROWID"
        }
        "rowid" => {
            "CREATE TABLE points(key TEXT, ts INTEGER, value REAL); \
             CREATE INDEX points_key_ts ON points(key, ts);"
        }
        other => panic!("unknown SQLite schema {other}"),
    };
    conn.execute_batch(ddl).expect("sqlite: create table");
    conn
}

pub fn run(dir: &Path, d: &Data, plan: &Plan, check: Option<&Path>, schema: &str) {
    let conn = open(dir, schema);
    {
        let t = Instant::now();
        let mut insert = conn
            .prepare_cached("INSERT INTO points(key, ts, value) VALUES (?1, ?2, ?3)")
            .expect("sqlite: prepare");
        let mut in_tx = 0;
        for (s, i) in d.in_write_order() {
            if in_tx == 0 {
                conn.execute_batch("BEGIN").expect("sqlite: begin");
            }
            insert
                .execute(params![d.keys[s].as_str(), d.ts[s][i], d.vals[s][i]])
                .expect("sqlite: insert");
            in_tx += 1;
            if in_tx == BATCH {
                conn.execute_batch("COMMIT").expect("sqlite: commit");
                in_tx = 0;
            }
        }
        if in_tx > 0 {
            conn.execute_batch("COMMIT").expect("sqlite: commit");
        }
        metric("ingest_pps", d.points() as f64 / t.elapsed().as_secs_f64());
    }
    let before = dir_bytes(dir);
    metric(
        "bytes_per_sample_before_vacuum",
        before as f64 / d.points() as f64,
    );
    let t = Instant::now();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("sqlite: vacuum");
    metric("settle_s", t.elapsed().as_secs_f64());
    let bytes = dir_bytes(dir);
    metric("disk_bytes", bytes as f64);
    metric("bytes_per_sample", bytes as f64 / d.points() as f64);

    // Max per minute over one hour of one series.
    let mut hour = conn
        .prepare_cached(
            "SELECT ts / 60000000, max(value) FROM points \
             WHERE key = ?1 AND ts BETWEEN ?2 AND ?3 GROUP BY 1",
        )
        .expect("sqlite: prepare");
    let (qps, dg) = timed(&plan.hour, plan.hour.len(), |&(s, t0), dg: &mut Digest| {
        let rows: Vec<(i64, f64)> = hour
            .query_map(params![d.keys[s].as_str(), t0, t0 + HOUR - 1], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("sqlite: query")
            .collect::<Result<_, _>>()
            .expect("sqlite: row");
        for (b, v) in rows {
            dg.add(b * MINUTE, v);
        }
    });
    metric("hour_qps", qps);
    digest("hour", &dg);

    // Max per hour, and per day, over one day of every series.
    all_series(&conn, plan, HOUR, "day");
    all_series(&conn, plan, DAY, "daily");

    // Point reads and whole-series scans.
    let mut get = conn
        .prepare_cached("SELECT value FROM points WHERE key = ?1 AND ts = ?2")
        .expect("sqlite: prepare");
    let (ops, dg) = timed(&plan.gets, plan.gets.len(), |&(s, i), dg: &mut Digest| {
        let ts = d.ts[s][i];
        let v: f64 = get
            .query_row(params![d.keys[s].as_str(), ts], |r| r.get(0))
            .expect("sqlite: an existing point");
        dg.add(ts, v);
    });
    metric("get_ops", ops);
    digest("get", &dg);
    let mut scan = conn
        .prepare_cached("SELECT ts, value FROM points WHERE key = ?1 ORDER BY ts")
        .expect("sqlite: prepare");
    let (scans, dg) = timed(&plan.scans, plan.scans.len(), |&s, dg: &mut Digest| {
        let mut rows = scan
            .query(params![d.keys[s].as_str()])
            .expect("sqlite: scan");
        while let Some(r) = rows.next().expect("sqlite: row") {
            dg.add(r.get(0).expect("ts"), r.get(1).expect("value"));
        }
    });
    metric("series_scan_pps", scans * d.n as f64);
    digest("series_scan", &dg);

    if let Some(path) = check {
        let mut out = String::new();
        let mut hour = conn
            .prepare(
                "SELECT ts / 60000000, count(*), sum(value), min(value), max(value) FROM points \
                 WHERE key = ?1 AND ts BETWEEN ?2 AND ?3 GROUP BY 1 ORDER BY 1",
            )
            .expect("sqlite: prepare");
        for (q, &(s, t0)) in plan.hour.iter().take(20).enumerate() {
            let k = d.keys[s].as_str();
            let mut rows = hour.query(params![k, t0, t0 + HOUR - 1]).expect("query");
            while let Some(r) = rows.next().expect("row") {
                let b: i64 = r.get(0).expect("bucket");
                let n: i64 = r.get(1).expect("count");
                let v = [
                    n as f64,
                    r.get(2).expect("sum"),
                    r.get(3).expect("min"),
                    r.get(4).expect("max"),
                ];
                check_line(&mut out, &format!("hour{q}"), k, b * MINUTE, v);
            }
        }
        if let Some(&t0) = plan.day.first() {
            let mut day = conn
                .prepare(
                    "SELECT key, ts / 3600000000, count(*), sum(value), min(value), max(value) \
                     FROM points WHERE ts BETWEEN ?1 AND ?2 GROUP BY 1, 2 ORDER BY 1, 2",
                )
                .expect("sqlite: prepare");
            let mut rows = day.query(params![t0, t0 + DAY - 1]).expect("query");
            while let Some(r) = rows.next().expect("row") {
                let k: String = r.get(0).expect("key");
                let b: i64 = r.get(1).expect("bucket");
                let n: i64 = r.get(2).expect("count");
                let v = [
                    n as f64,
                    r.get(3).expect("sum"),
                    r.get(4).expect("min"),
                    r.get(5).expect("max"),
                ];
                check_line(&mut out, "day0", &k, b * HOUR, v);
            }
        }
        std::fs::write(path, out).expect("write the check dump");
    }
}

/// Max per `step` over one day of every series (`plan.day`): the metric
/// `{name}_qps`.
fn all_series(conn: &Connection, plan: &Plan, step: i64, name: &str) {
    let mut q = conn
        .prepare_cached(&format!(
            "SELECT key, ts / {step}, max(value) FROM points \
             WHERE ts BETWEEN ?1 AND ?2 GROUP BY key, ts / {step}"
        ))
        .expect("sqlite: prepare");
    let (qps, dg) = timed(&plan.day, 1, |&t0, dg: &mut Digest| {
        let rows: Vec<(String, i64, f64)> = q
            .query_map(params![t0, t0 + DAY - 1], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("sqlite: query")
            .collect::<Result<_, _>>()
            .expect("sqlite: row");
        for (_, b, v) in rows {
            dg.add(b * step, v);
        }
    });
    metric(&format!("{name}_qps"), qps);
    digest(name, &dg);
}
