//! Fuzz harnesses: each takes arbitrary bytes and drives flowdb through its public
//! API on the in-memory file system, so a run needs no disk. A panic is a bug; an
//! error is an answer. Used by the cargo-fuzz targets in `fuzz_targets/` and, on
//! stable, by `tests/fuzz_corpus.rs` over the corpus and past crashers.
//!
//! - `wal`: the bytes replace the live log segment of a small database, which is
//!   then recovered, read, written and reopened.
//! - `table`, `manifest`: the bytes replace a table or the manifest of a small
//!   database, which is then opened, read and compacted.
//!
//!   For these three, half of the inputs have their checksums recomputed first
//!   (`repair.rs`), so damaged bytes reach the decoders behind the checksums.
//! - `json_doc`: the bytes are a JSON document (and key) for a store with a unique,
//!   a compound and a multi-entry index; what is stored must read back the same.
//! - `jsondb_stored`: the bytes are planted as raw stored keys and values of JsonDB
//!   (documents, index entries, the catalog, a key generator), then read through
//!   JsonDB: stored bytes that are not JsonDB's must never crash it.
//! - `ops`: the bytes are a sequence of writes, deletes, range deletes, flushes,
//!   compactions and restarts, checked against a model after every step.
//! - `numeric`: the bytes are a numeric run to decode, which
//!   must fail cleanly or give points that re-encode to the same; then they are
//!   read as points, which every codec must round-trip bit for bit.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use flowdb::fs::{CrashMode, FaultFs};
use flowdb::jsondb::{Direction, IndexSchema, JsonDB, KeyRange, StoreSchema};
use flowdb::{Agg, Config, Engine, Point, Query, ReadOptions, Record, ScanRange, SyncMode, Tuning};
use serde_json::{json, Value};

#[path = "repair.rs"]
pub mod repair;

const DIR: &str = "/db";

fn config() -> Config {
    Config {
        data_dir: DIR.into(),
        memtable_size_mb: 1,
        block_size: 256,
        wal_segment_size_mb: 1,
        auto_background: false,
        wal_sync_mode: SyncMode::IntervalMs(1_000_000),
        block_cache_capacity_mb: 1,
        ..Config::default()
    }
}

fn open(fs: &FaultFs) -> flowdb::Result<Engine> {
    // Index partitions of two blocks: every lookup crosses partitions.
    let mut tuning = Tuning::default();
    tuning.index_partition_blocks = 2;
    Engine::open_on(Arc::new(fs.clone()), config(), tuning)
}

/// Reads everything every way; errors are fine.
fn read_all(e: &Engine) {
    if let Ok(it) = e.scan(ScanRange::all()) {
        for r in it.take(10_000).flatten() {
            let _ = e.get_bytes(&r.key, r.ts, &ReadOptions::default());
            let _ = e.get_latest_bytes(&r.key);
        }
    }
    let _ = e.query_time_range(i64::MIN, i64::MAX);
    let _ = e.query_by_prefix("k");
    // From block statistics and hour parts where they answer, else from points.
    for functions in [&[Agg::Max, Agg::Sum][..], &Agg::ALL] {
        let _ = e.aggregate(Query::prefix("n"), HOUR, functions);
    }
}

/// An hour in ts units.
const HOUR: i64 = 3_600_000_000;

pub fn wal(data: &[u8]) {
    let mut data = data.to_vec();
    if repair::wanted(&data) {
        repair::log(&mut data);
    }
    let Ok((fs, e)) = recover_log(&data) else {
        return;
    };
    read_all(&e);
    // Recovered: writes go on, and survive a restart.
    e.write_batch(&[Record::new("after", 1, b"x".to_vec())])
        .unwrap();
    drop(e);
    let e = open(&fs.restart(CrashMode::Kill)).expect("reopen after a recovered log");
    assert!(
        e.get("after", 1).unwrap().is_some(),
        "a write after recovery was lost"
    );
}

/// A small database with two tables (one with a range tombstone), its manifest and
/// a log (records and points): the base the `table`, `manifest` and `wal` targets
/// damage.
fn base() -> &'static FaultFs {
    static BASE: OnceLock<FaultFs> = OnceLock::new();
    BASE.get_or_init(|| {
        let fs = FaultFs::new();
        let e = open(&fs).unwrap();
        for round in 0..2i64 {
            let batch: Vec<Record> = (0..60)
                .map(|i| Record::new(format!("k{:02}", i % 20), i + round * 100, vec![b'v'; 30]))
                .collect();
            e.write_batch(&batch).unwrap();
            if round == 0 {
                // A series 15 s apart over three hours: blocks with statistics,
                // some with hour parts.
                let points: Vec<Point> = (0..720i64)
                    .map(|i| Point::new("n", i * 15_000_000, (i % 97) as f64 / 4.0))
                    .collect();
                e.write_points(&points).unwrap();
            }
            if round == 1 {
                e.delete_range("k05", "k08").unwrap();
            }
            e.flush().unwrap();
        }
        e.write_batch(&[Record::new("tail", 1, b"t".to_vec())])
            .unwrap();
        // Points in the log too (one operation of several, keys sharing prefixes).
        let points: Vec<Point> = (0..6i64)
            .map(|i| Point::new(format!("p.{}", i % 3), i / 3, i as f64 - 2.5))
            .collect();
        e.write_points(&points).unwrap();
        drop(e);
        fs.restart(CrashMode::Kill)
    })
}

/// The base database with `data` as its live log segment, opened (so the log is
/// replayed: a log in a directory without a manifest would be a new database's and
/// never read); the error when the open refused it.
pub fn recover_log(data: &[u8]) -> flowdb::Result<(FaultFs, Engine)> {
    let fs = replaced(".log", data);
    let e = open(&fs)?;
    Ok((fs, e))
}

/// The base database, after a kill, with its file ending in `name_ends` replaced by
/// `data`.
fn replaced(name_ends: &str, data: &[u8]) -> FaultFs {
    let fs = base().restart(CrashMode::Kill);
    let Some(path) = fs
        .files()
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(name_ends))
    else {
        panic!("the base database has no {name_ends}");
    };
    fs.set_contents(&path, data.to_vec());
    fs
}

fn replace_and_read(name_ends: &str, data: &[u8]) {
    let fs = replaced(name_ends, data);
    let Ok(e) = open(&fs) else { return };
    read_all(&e);
    let _ = e.trigger_compaction();
    read_all(&e);
}

/// Starting inputs for a target: the base database's files, a few documents.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let file = |ends: &str| {
        let fs = base();
        fs.files()
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(ends))
            .filter_map(|p| fs.contents(&p))
            .collect::<Vec<_>>()
    };
    match target {
        "wal" => file(".log"),
        "table" => file(".sst"),
        "manifest" => file("MANIFEST"),
        "json_doc" => [
            r#"{"id":1,"u":"a","a":1,"b":[2,"x"],"tags":[1,1,"t",[2]]}"#,
            r#"[1,"2",[3,{"x":4}]]"#,
            r#"{"id":[1,2],"u":{"v":1},"tags":"one"}"#,
            r#"-1.5e300"#,
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect(),
        "jsondb_stored" => vec![vec![0, 1, 2, 3], vec![0x41; 9], b"\x02{\"id\":1}".to_vec()],
        "numeric" => numeric_seeds(),
        _ => vec![vec![
            0, 1, 2, 3, 4, 5, 6, 7, 5, 1, 2, 7, 3, 1, 2, 6, 4, 0, 1,
        ]],
    }
}

pub fn table(data: &[u8]) {
    let mut data = data.to_vec();
    if repair::wanted(&data) {
        repair_table(&mut data);
    }
    replace_and_read(".sst", &data);
}

/// `data`, a table, with its checksums recomputed: the footer's, and the blocks'
/// when it is as long as one of the base database's tables (where its blocks lie).
pub fn repair_table(data: &mut [u8]) {
    static FRAMES: OnceLock<Vec<(usize, repair::Frames)>> = OnceLock::new();
    let frames = FRAMES.get_or_init(|| {
        seeds("table")
            .iter()
            .map(|t| (t.len(), repair::frames(t)))
            .collect()
    });
    repair::table(data, frames);
}

/// The base database with `data` in place of its file ending in `name_ends`, opened.
pub fn open_replaced(name_ends: &str, data: &[u8]) -> flowdb::Result<Engine> {
    open(&replaced(name_ends, data))
}

pub fn manifest(data: &[u8]) {
    let mut data = data.to_vec();
    if repair::wanted(&data) {
        repair::manifest(&mut data);
    }
    replace_and_read("MANIFEST", &data);
}

fn store_schema() -> StoreSchema {
    StoreSchema::new("s", "id")
        .index(IndexSchema::new("u", "u").unique(true))
        .index(IndexSchema::compound("ab", &["a", "b"]))
        .index(IndexSchema::new("tags", "tags").multi_entry(true))
}

fn jsondb(fs: &FaultFs) -> Option<JsonDB> {
    let db = JsonDB::from_engine(open(fs).ok()?).ok()?;
    if db.get_store("s").is_none() {
        db.create_store(&store_schema()).ok()?;
    }
    Some(db)
}

/// Reads a store every way JsonDB offers; errors are fine.
fn read_store(db: &JsonDB) {
    let all = KeyRange::all();
    let _ = db.scan("s");
    let _ = db.count("s");
    for dir in [Direction::Next, Direction::Prev, Direction::NextUnique] {
        let _ = db.get_range("s", &all, dir);
        for index in ["u", "ab", "tags"] {
            let _ = db.index_query("s", index, &all, dir);
        }
    }
    let _ = db.count_by_index("s", "tags", &all);
    let _ = db.query("s").where_eq("a", json!(1)).limit(5).collect();
}

pub fn json_doc(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let fs = FaultFs::new();
    let db = jsondb(&fs).unwrap();
    // As a document (it may carry an id, a unique u, a compound a/b, tags).
    if let Ok(key) = db.put("s", v.clone()) {
        let got = db
            .get("s", &key)
            .unwrap()
            .expect("a stored document reads back");
        assert_eq!(got, v, "a document changed on the way through");
        let n = db.count("s").unwrap();
        assert_eq!(n, 1);
        let by_u = db
            .index_query("s", "u", &KeyRange::all(), Direction::Next)
            .unwrap();
        assert!(by_u.len() <= 1);
    }
    // As a key and a key range.
    if let Ok(r) = KeyRange::only(&v) {
        let _ = db.get_range("s", &r, Direction::Next);
        let _ = db.index_query("s", "ab", &r, Direction::Prev);
    }
    let _ = db.get("s", &v);
    let _ = db.delete("s", &v);
    if let Ok(key) = db.put(
        "s",
        json!({"id": v.clone(), "u": v.clone(), "tags": v.clone()}),
    ) {
        assert!(db.get("s", &key).unwrap().is_some());
    }
    read_store(&db);
}

/// The engine key prefixes JsonDB uses for store `s`: documents, each index, and
/// the other keys (catalog, generator), found by looking at what one put wrote.
fn jsondb_prefixes(db: &JsonDB) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for r in db.engine().scan(ScanRange::all()).unwrap() {
        let k = r.unwrap().key;
        let p = match k.first() {
            Some(0x01) => k[..5.min(k.len())].to_vec(),
            Some(0x02) => k[..9.min(k.len())].to_vec(),
            _ => k.clone(),
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

pub fn jsondb_stored(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let fs = FaultFs::new();
    let db = jsondb(&fs).unwrap();
    db.put(
        "s",
        json!({"id": 1, "u": "x", "a": 1, "b": 2, "tags": [1, 2]}),
    )
    .unwrap();
    let prefixes = jsondb_prefixes(&db);
    // Plant the bytes: as a key under one of JsonDB's prefixes (or as a whole key,
    // the catalog's or a generator's), with the bytes, or a document, as value.
    let (key_part, value) = rest.split_at(rest.len() / 2);
    let prefix = &prefixes[pick as usize % prefixes.len()];
    let mut key = prefix.clone();
    key.extend_from_slice(key_part);
    if pick & 0x80 != 0 {
        key = prefix.clone();
    }
    let value = if pick & 0x40 != 0 {
        br#"{"id":2,"u":"y","a":1,"b":3,"tags":[3]}"#.to_vec()
    } else {
        value.to_vec()
    };
    let mut r = Record::new(key, 0, value);
    r.expire_at = flowdb::NEVER_EXPIRES;
    let _ = db.engine().write_batch_owned(vec![r]);
    read_store(&db);
    let _ = db.put("s", json!({"id": 3, "u": "z"}));
    let _ = db.put_auto("s", json!({"u": "w"}));
    drop(db);
    // And at open: the catalog is read from what is stored.
    if let Some(db) = jsondb(&fs.restart(CrashMode::Kill)) {
        read_store(&db);
    }
}

/// Bytes as ops: each op is a few bytes; the model is `(key, ts) -> value`.
pub fn ops(data: &[u8]) {
    let mut fs = FaultFs::new();
    let mut e = open(&fs).unwrap();
    let mut model: BTreeMap<(Vec<u8>, i64), Vec<u8>> = BTreeMap::new();
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    while let Some(op) = next() {
        let k = next().unwrap_or(0) % 8;
        let key = format!("k{k}").into_bytes();
        let ts = i64::from(next().unwrap_or(0) % 16) - 4;
        match op % 8 {
            0..=2 => {
                let v = vec![op; usize::from(next().unwrap_or(1)) * 8];
                e.write_batch(&[Record::new(key.clone(), ts, v.clone())])
                    .unwrap();
                model.insert((key.clone(), ts), v);
            }
            3 => {
                e.delete_batch_bytes(&[(&key, ts)]).unwrap();
                model.remove(&(key.clone(), ts));
            }
            4 => {
                let end = format!("k{}", k + u8::from(op > 128) + 1).into_bytes();
                e.delete_range_bytes(&key, &end).unwrap();
                model.retain(|(mk, _), _| !(mk >= &key && mk < &end));
            }
            5 => e.flush().unwrap(),
            6 => {
                e.trigger_compaction().unwrap();
            }
            _ => {
                drop(e);
                fs = fs.restart(CrashMode::Kill);
                e = open(&fs).unwrap();
            }
        }
        let got: BTreeMap<(Vec<u8>, i64), Vec<u8>> = e
            .scan(ScanRange::all())
            .unwrap()
            .map(|r| r.unwrap())
            .map(|r| ((r.key, r.ts), r.value))
            .collect();
        assert_eq!(got, model, "after op {op}");
        let latest = e.get_latest_bytes(&key).unwrap().map(|r| (r.ts, r.value));
        let want = model
            .range((key.clone(), i64::MIN)..=(key.clone(), i64::MAX))
            .next_back()
            .map(|((_, ts), v)| (*ts, v.clone()));
        assert_eq!(latest, want, "get_latest after op {op}");
    }
}

fn float_bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Bytes as points. First byte odd: each byte steps the clock by a signed number
/// of milliseconds and a decimal value by a signed number of tenths (the shapes the
/// packed and decimal codecs specialise in). Even: 16 bytes a point, raw `ts` and
/// value bits (NaN payloads, subnormals, anything).
fn numeric_points(data: &[u8]) -> (Vec<i64>, Vec<f64>) {
    let Some((&mode, rest)) = data.split_first() else {
        return (Vec::new(), Vec::new());
    };
    let max = flowdb::numeric::MAX_RUN_POINTS;
    if mode & 1 == 1 {
        let (mut t, mut v) = (i64::from(mode) << 40, 0i64);
        rest.iter()
            .take(max)
            .map(|&b| {
                t = t.wrapping_add(i64::from(b as i8) * 1000);
                v += i64::from(b >> 4) - 8;
                (t, v as f64 / 10.0)
            })
            .unzip()
    } else {
        rest.chunks_exact(16)
            .take(max)
            .map(|c| {
                let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
                (word(&c[..8]) as i64, f64::from_bits(word(&c[8..])))
            })
            .unzip()
    }
}

fn numeric_seeds() -> Vec<Vec<u8>> {
    use flowdb::numeric::{
        encode_run, encode_run_i64, encode_run_with, Choice, TsCodec, ValueCodec,
    };
    let ts: Vec<i64> = (0..100)
        .map(|i| 1_700_000_000_000_000 + i * 15_000_000)
        .collect();
    let temps: Vec<f64> = (0..100).map(|i| f64::from(200 + i % 7) / 10.0).collect();
    let mut seeds = vec![encode_run(&ts, &temps), encode_run_i64(&ts, &ts)];
    for (i, codec) in ValueCodec::FLOAT.into_iter().enumerate() {
        let mut vals = temps.clone();
        vals[i] = f64::NAN;
        vals[i + 1] = -0.0;
        let mut run = Vec::new();
        let ts_codec = if i % 2 == 0 {
            TsCodec::Packed
        } else {
            TsCodec::DeltaOfDelta
        };
        encode_run_with(
            &ts[..40],
            &vals[..40],
            ts_codec,
            Choice::Force(codec),
            &mut run,
        );
        seeds.push(run);
    }
    seeds.push(vec![1, 5, 250, 3, 3, 3, 0x80, 0x7f, 1, 1]);
    seeds.push(
        [0u8]
            .iter()
            .chain(&[0x7f; 16])
            .chain(&[1; 16])
            .copied()
            .collect(),
    );
    seeds
}

pub fn numeric(data: &[u8]) {
    use flowdb::numeric::{self as num, Choice, TsCodec, ValueCodec};
    // As a run: an error, or points that encode and decode to themselves.
    let _ = num::read_header(data);
    if let Ok((ts, vals)) = num::decode_run(data) {
        let (ts2, vals2) =
            num::decode_run(&num::encode_run(&ts, &vals)).expect("a re-encoded run decodes");
        assert_eq!(ts2, ts);
        assert_eq!(float_bits(&vals2), float_bits(&vals));
    }
    if let Ok((ts, vals)) = num::decode_run_i64(data) {
        let again = num::decode_run_i64(&num::encode_run_i64(&ts, &vals))
            .expect("a re-encoded run decodes");
        assert_eq!(again, (ts, vals));
    }
    // As points: every codec round-trips them.
    let (ts, vals) = numeric_points(data);
    let choices = [Choice::Auto, Choice::Exhaustive]
        .into_iter()
        .chain(ValueCodec::FLOAT.map(Choice::Force));
    for (i, choice) in choices.enumerate() {
        let ts_codec = if i % 2 == 0 {
            TsCodec::Packed
        } else {
            TsCodec::DeltaOfDelta
        };
        let mut run = Vec::new();
        num::encode_run_with(&ts, &vals, ts_codec, choice, &mut run);
        let (ts2, vals2) = num::decode_run(&run).expect("an encoded run decodes");
        assert_eq!(ts2, ts, "{choice:?}");
        assert_eq!(float_bits(&vals2), float_bits(&vals), "{choice:?}");
    }
    let ints: Vec<i64> = vals.iter().map(|v| v.to_bits() as i64).collect();
    let again = num::decode_run_i64(&num::encode_run_i64(&ts, &ints)).expect("an i64 run decodes");
    assert_eq!(again, (ts, ints));
}
