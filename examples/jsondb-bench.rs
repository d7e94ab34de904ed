//! The JsonDB benchmark (docs/benchmarks.md): 100,000 user documents with a unique
//! index on email, a plain index on age, a compound index on [city, age] and a
//! multi-entry index on tags; puts in transactions of 100; get by key; unique-index
//! lookups; an indexed age range with limit 20; city equality ordered by age; a
//! cursor over every document; `get_all_keys` over an index range of ~10,000 keys
//! (at 100,000 documents); the change feed's delivery latency (commit returned →
//! subscriber has the change, p50/p99 of single-document commits); and synced
//! single-document puts compared with the machine's fdatasync rate.
//!
//! `cargo run --release --example jsondb-bench -- [--docs N]`

use std::io::Write;
use std::time::{Duration, Instant};

use flowdb::jsondb::{
    Direction, IndexSchema, JsonDB, KeyRange, SortDir, StoreSchema, TransactionMode,
};
use flowdb::{Config, SyncMode};
use serde_json::{json, Value};

const CITIES: [&str; 8] = [
    "Oslo", "Lima", "Pune", "Kyiv", "Accra", "Quito", "Hanoi", "Perth",
];

fn doc(i: u64) -> Value {
    let tags = [
        ["a", "b", "c", "d"][(i % 4) as usize],
        ["x", "y"][(i % 2) as usize],
    ];
    json!({
        "id": i,
        "email": format!("u{i}@example.com"),
        "age": 18 + (i * 7919) % 60,
        "city": CITIES[(i % 8) as usize],
        "tags": tags,
    })
}

fn report(name: &str, ops: usize, took: Duration, unit: &str) {
    println!(
        "{name:<40} {:>12.0} {unit}/s   ({ops} in {:.3}s)",
        ops as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
}

fn schema() -> StoreSchema {
    StoreSchema::new("users", "id")
        .index(IndexSchema::new("email", "email").unique(true))
        .index(IndexSchema::new("age", "age"))
        .index(IndexSchema::compound("city_age", &["city", "age"]))
        .index(IndexSchema::new("tags", "tags").multi_entry(true))
}

/// Commit → delivery latency of the change feed: a subscriber thread stamps each
/// change as it arrives; the writer stamps each commit as it returns.
fn feed_latency(db: &JsonDB, n: u64) -> flowdb::Result<()> {
    let commits = 2_000;
    let sub = db.subscribe(&["users"], None)?;
    let got = std::thread::scope(|s| -> flowdb::Result<Vec<Duration>> {
        let reader = s.spawn(move || {
            let mut at = Vec::with_capacity(commits);
            while at.len() < commits {
                if sub.recv().is_none() {
                    break;
                }
                at.push(Instant::now());
            }
            at
        });
        let mut committed = Vec::with_capacity(commits);
        for i in 0..commits as u64 {
            db.put("users", doc(n + i))?;
            committed.push(Instant::now());
            std::thread::sleep(Duration::from_micros(200));
        }
        let arrived = reader.join().expect("reader");
        Ok(arrived
            .iter()
            .zip(&committed)
            .map(|(a, c)| a.saturating_duration_since(*c))
            .collect())
    })?;
    let mut lat = got;
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{:<40} {:>9.1} µs p50 {:>9.1} µs p99 {:>9.1} µs max",
        "change feed: commit → subscriber",
        pct(0.5).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e6)
    );
    Ok(())
}

fn main() -> flowdb::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .iter()
        .position(|a| a == "--docs")
        .and_then(|i| args.get(i + 1))
        .map_or(100_000, |v| v.parse().expect("--docs N"));
    let dir = tempfile::tempdir().expect("temp dir");
    let db = JsonDB::open(Config {
        data_dir: dir.path().to_path_buf(),
        wal_sync_mode: SyncMode::IntervalMs(1000),
        ..Config::default()
    })?;
    db.create_store(&schema())?;
    println!("jsondb-bench: {n} documents, 4 indexes");

    let t = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut tx = db.transaction(&["users"], TransactionMode::ReadWrite)?;
        for i in chunk {
            tx.put("users", doc(*i))?;
        }
        tx.commit()?;
    }
    report("put, transactions of 100", n as usize, t.elapsed(), "docs");
    db.engine().flush()?;

    let mut x = 12345u64;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let ops = 200_000;
    let keys: Vec<Value> = (0..ops).map(|_| json!(next(n))).collect();
    let t = Instant::now();
    for k in &keys {
        assert!(db.get("users", k)?.is_some());
    }
    report("get by primary key", ops, t.elapsed(), "ops");

    let emails: Vec<Value> = (0..ops)
        .map(|_| json!(format!("u{}@example.com", next(n))))
        .collect();
    let t = Instant::now();
    for e in &emails {
        assert_eq!(db.get_by_index("users", "email", e)?.len(), 1);
    }
    report("get_by_index on unique email", ops, t.elapsed(), "ops");

    let q = 20_000;
    let t = Instant::now();
    for _ in 0..q {
        let lo = 18 + next(50);
        let got = db
            .query("users")
            .where_range("age", json!(lo), json!(lo + 5))
            .limit(20)
            .collect()?;
        assert_eq!(got.len(), 20);
    }
    report("where_range(age) limit 20", q, t.elapsed(), "queries");

    let q = 5_000;
    let t = Instant::now();
    for _ in 0..q {
        let city = CITIES[next(8) as usize];
        let got = db
            .query("users")
            .where_eq("city", json!(city))
            .order_by("age", SortDir::Asc)
            .limit(20)
            .collect()?;
        assert_eq!(got.len(), 20);
    }
    report(
        "where_eq(city) order_by(age) limit 20",
        q,
        t.elapsed(),
        "queries",
    );

    for round in 0..3 {
        let t = Instant::now();
        let mut c = db.open_cursor("users", None, &KeyRange::all(), Direction::Next, false)?;
        let (mut seen, mut bytes) = (0usize, 0usize);
        while c.key().is_some() {
            bytes += c.raw_value().map_or(0, |v| v.len());
            seen += 1;
            c.continue_()?;
        }
        assert_eq!(seen as u64, n);
        std::hint::black_box(bytes);
        if round == 2 {
            report("cursor over every document", seen, t.elapsed(), "docs");
        }
    }

    // Ages are spread evenly over 60 values: 6 of them hold a tenth of the documents.
    let q = 200;
    let (mut keys_read, t) = (0, Instant::now());
    for _ in 0..q {
        let lo = 18 + next(54);
        let range = KeyRange::bound(&json!(lo), &json!(lo + 5), false, false)?;
        keys_read += db
            .get_all_keys_by_index("users", "age", &range, None)?
            .len();
    }
    let took = t.elapsed();
    report("get_all_keys over 6 ages (index)", q, took, "queries");
    println!(
        "{:<40} {:>12.0} keys/query",
        "  keys per query",
        keys_read as f64 / q as f64
    );
    feed_latency(&db, n)?;
    db.shutdown()?;

    // Synced single puts: one log sync each, compared with raw fdatasync.
    let dir = tempfile::tempdir().expect("temp dir");
    let db = JsonDB::open(Config {
        data_dir: dir.path().to_path_buf(),
        wal_sync_mode: SyncMode::Always,
        ..Config::default()
    })?;
    db.create_store(&schema())?;
    // Alternate rounds of each, so both see the same disk conditions.
    let (rounds, per_round) = (5, 200);
    let mut f = std::fs::File::create(dir.path().join("fsync-probe")).expect("probe file");
    let (mut took, mut raw) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        let t = Instant::now();
        for i in 0..per_round {
            db.put("users", doc(round * per_round + i))?;
        }
        took += t.elapsed();
        let t = Instant::now();
        for _ in 0..per_round {
            f.write_all(&[0u8; 200]).expect("write");
            f.sync_data().expect("fdatasync");
        }
        raw += t.elapsed();
    }
    let puts = (rounds * per_round) as usize;
    let syncs = |db: &JsonDB| -> f64 {
        db.engine()
            .metrics_text()
            .lines()
            .find_map(|l| {
                l.strip_prefix("flowdb_wal_syncs_total ")
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0.0)
    };
    println!(
        "{:<40} {:>12.2}",
        "WAL syncs per synced put",
        syncs(&db) / puts as f64
    );
    report("single put, SyncMode::Always", puts, took, "docs");
    report("raw write + fdatasync (same disk)", puts, raw, "syncs");
    println!(
        "{:<40} {:>12.2}",
        "synced put rate / fdatasync rate",
        raw.as_secs_f64() / took.as_secs_f64()
    );
    db.shutdown()?;
    Ok(())
}
