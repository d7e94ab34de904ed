//! Parquet export (`flowdb::export::parquet`, feature `parquet`), read back by DuckDB.
//!
//! Each test writes a database, exports it, and has DuckDB (the `duckdb` Python
//! package, run as `python3 -c ...`) read the file: the logical types it reports,
//! the row groups, aggregates of every column, and every row in file order (hex of
//! key and value, ts, expire_at), all compared with flowdb's own scan of the same
//! range. Covered: several row groups (small row-group sizes, by rows and by
//! bytes, a group boundary inside a key's run), binary values with zero bytes,
//! empty values, unicode keys, negative timestamps, records with and without
//! expiry, records in tables and in the memtable, each compression, prefix, time
//! and reverse ranges, keys that are not UTF-8 (an error naming the key, or binary
//! keys), an empty export, bad options, JsonDB stores (read back as JSON with
//! `json_extract`), and with the `cli` feature the `flowdb export` and `flowdb docs
//! export --format parquet` commands.
//!
//! DuckDB: when `import duckdb` fails, the tests run `python3 -m pip install duckdb`
//! once. They skip (printing why) only when python3 or pip is missing, unless
//! `FLOWDB_REQUIRE_DUCKDB=1`, which makes that a failure too (CI).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use flowdb::export::parquet::{
    export_engine, export_records, export_store, Compression, ExportOptions, ExportStats, KeyType,
    RecordWriter,
};
use flowdb::jsondb::{Direction, JsonDB, KeyRange, RawDoc, StoreSchema, TransactionMode};
use flowdb::{Config, Engine, Record, ScanRange, NEVER_EXPIRES};
use serde_json::{json, Value};

/// Runs a list of SQL queries in one DuckDB connection; prints each one's rows as
/// JSON (values DuckDB returns as other Python types are printed with `str`).
const RUNNER: &str = r#"
import json, sys
import duckdb
con = duckdb.connect()
out = []
for q in json.load(sys.stdin):
    out.append([list(r) for r in con.execute(q).fetchall()])
print(json.dumps(out, default=str))
"#;

/// Whether DuckDB can be used: `Ok(())`, or why not (python3 or pip missing).
fn duckdb_available() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let runs = |args: &[&str]| {
                Command::new("python3")
                    .args(args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !runs(&["--version"]) {
                return Err("python3 is not installed".into());
            }
            if runs(&["-c", "import duckdb"]) {
                return Ok(());
            }
            if !runs(&["-m", "pip", "--version"]) {
                return Err("the duckdb Python package is missing and pip is not installed".into());
            }
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "installing the duckdb Python package: python3 -m pip install duckdb"
            );
            let install = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "duckdb"])
                .stdin(Stdio::null())
                .output()
                .expect("run pip");
            assert!(
                install.status.success() && runs(&["-c", "import duckdb"]),
                "python3 -m pip install duckdb failed: {}{}",
                String::from_utf8_lossy(&install.stdout),
                String::from_utf8_lossy(&install.stderr)
            );
            Ok(())
        })
        .clone()
}

/// True when DuckDB is there; otherwise prints why the test skips (or fails, with
/// `FLOWDB_REQUIRE_DUCKDB=1`).
fn have_duckdb(test: &str) -> bool {
    match duckdb_available() {
        Ok(()) => true,
        Err(why) => {
            assert!(
                std::env::var_os("FLOWDB_REQUIRE_DUCKDB").map_or(true, |v| v != "1"),
                "{test}: DuckDB is required (FLOWDB_REQUIRE_DUCKDB=1) but {why}"
            );
            // Written to the real stderr (the test harness captures eprintln!), so the
            // skip shows in a plain `cargo test` run.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {why}; the Parquet files were written but not read back"
            );
            false
        }
    }
}

/// The rows of each query.
fn duckdb(queries: &[String]) -> Vec<Vec<Vec<Value>>> {
    let mut child = Command::new("python3")
        .args(["-c", RUNNER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(queries).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "duckdb failed on {queries:#?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `path` as a SQL string literal.
fn lit(path: &Path) -> String {
    format!("'{}'", path.to_str().unwrap().replace('\'', "''"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// One row as the checking query prints it: hex key, ts, expire_at, hex value.
fn row_line(r: &Record) -> String {
    let exp = if r.expire_at == NEVER_EXPIRES {
        "null".to_string()
    } else {
        r.expire_at.to_string()
    };
    format!("{} {} {} {}", hex(&r.key), r.ts, exp, hex(&r.value))
}

/// What DuckDB reads from an engine export, checked against `expected` (the
/// records in file order) and `stats`; `key_type` is DuckDB's type of `key`.
fn check_records(file: &Path, expected: &[Record], stats: &ExportStats, key_type: &str) {
    assert_eq!(stats.rows, expected.len() as u64);
    assert_eq!(stats.bytes, std::fs::metadata(file).unwrap().len());
    let f = lit(file);
    let rp = format!("read_parquet({f}, file_row_number = true)");
    // Bytes of a key: strlen of a VARCHAR, octet_length of a BLOB.
    let key_len = if key_type == "VARCHAR" {
        "strlen(key)"
    } else {
        "octet_length(key)"
    };
    let res = duckdb(&[
        format!("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({f}))"),
        format!("SELECT num_rows, num_row_groups FROM parquet_file_metadata({f})"),
        format!(
            "SELECT count(*)::VARCHAR, coalesce(sum(epoch_us(ts)), 0)::VARCHAR,
                    count(expire_at)::VARCHAR, coalesce(sum(epoch_us(expire_at)), 0)::VARCHAR,
                    coalesce(sum({key_len}), 0)::VARCHAR,
                    coalesce(sum(octet_length(value)), 0)::VARCHAR
             FROM read_parquet({f})"
        ),
        format!(
            "SELECT hex(key) || ' ' || epoch_us(ts) || ' ' ||
                    coalesce(epoch_us(expire_at)::VARCHAR, 'null') || ' ' || hex(value)
             FROM {rp} ORDER BY file_row_number"
        ),
    ]);
    let types: Vec<(String, String)> = res[0]
        .iter()
        .map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into()))
        .collect();
    let want = [
        ("key", key_type),
        ("ts", "TIMESTAMP WITH TIME ZONE"),
        ("expire_at", "TIMESTAMP WITH TIME ZONE"),
        ("value", "BLOB"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(types, want);
    assert_eq!(
        res[1][0],
        [json!(expected.len()), json!(stats.row_groups)],
        "rows and row groups in the footer"
    );
    let sum = |f: &dyn Fn(&Record) -> Option<i128>| -> String {
        expected.iter().filter_map(f).sum::<i128>().to_string()
    };
    let agg = [
        expected.len().to_string(),
        sum(&|r| Some(r.ts as i128)),
        expected
            .iter()
            .filter(|r| r.expire_at != NEVER_EXPIRES)
            .count()
            .to_string(),
        sum(&|r| (r.expire_at != NEVER_EXPIRES).then_some(r.expire_at as i128)),
        sum(&|r| Some(r.key.len() as i128)),
        sum(&|r| Some(r.value.len() as i128)),
    ];
    assert_eq!(res[2][0], agg.iter().map(|s| json!(s)).collect::<Vec<_>>());
    let rows: Vec<&str> = res[3].iter().map(|r| r[0].as_str().unwrap()).collect();
    let want: Vec<String> = expected.iter().map(row_line).collect();
    assert_eq!(rows.len(), want.len());
    for (i, (got, want)) in rows.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "row {i}");
    }
}

const FAR: i64 = 4_000_000_000_000_000; // year 2096: not expired while the tests run

/// Records of every kind: unicode keys, binary values with zero bytes, empty
/// values, negative timestamps, some expiring; `n` per key for the bulk keys.
fn varied_records(n: i64) -> Vec<Record> {
    let mut recs = Vec::new();
    for (i, key) in ["cpu.host-1", "cpu.host-2", "mem.温度.東京", "ключ.🙂", "z"]
        .iter()
        .enumerate()
    {
        for t in 0..n {
            let ts = 1_700_000_000_000_000 + t * 1_000_000 - (i as i64) * 7;
            let value = match t % 4 {
                0 => vec![0, 1, 0, 255, 0],
                1 => Vec::new(),
                2 => format!("{key}@{t}").into_bytes(),
                _ => (0..=255u8).collect(),
            };
            let mut r = Record::new(*key, ts, value);
            if t % 3 == 0 {
                r = r.with_expire_at(FAR + t);
            }
            recs.push(r);
        }
    }
    recs.push(Record::new("neg", -5_000_000, b"before 1970".to_vec()));
    recs.push(Record::new("neg", i64::MIN / 4, vec![0; 3]));
    recs
}

/// An engine holding `records`, half of them flushed to tables, half in the
/// memtable (and its log).
fn engine_with(dir: &Path, records: &[Record]) -> Engine {
    let e = Engine::open(Config::new(dir)).unwrap();
    let (a, b) = records.split_at(records.len() / 2);
    e.write_batch(a).unwrap();
    e.flush().unwrap();
    e.write_batch(b).unwrap();
    e
}

fn scan(e: &Engine, range: ScanRange) -> Vec<Record> {
    e.scan(range).unwrap().map(|r| r.unwrap()).collect()
}

fn opts(rows: usize) -> ExportOptions {
    let mut o = ExportOptions::default();
    o.row_group_rows = rows;
    o
}

#[test]
fn every_column_reads_back_in_duckdb_with_each_compression() {
    let t = tempfile::tempdir().unwrap();
    let e = engine_with(&t.path().join("db"), &varied_records(1500));
    let all = scan(&e, ScanRange::all());
    assert_eq!(all.len(), 5 * 1500 + 2);
    for (name, c, parallel) in [
        ("none", Compression::None, true),
        ("snappy", Compression::Snappy, true),
        ("zstd", Compression::Zstd(3), true),
        ("snappy-one-thread", Compression::Snappy, false),
    ] {
        let file = t.path().join(format!("all-{name}.parquet"));
        let mut o = opts(1000); // 8 row groups, boundaries inside key runs
        o.compression = c;
        o.parallel = parallel;
        let stats = export_engine(
            &e,
            ScanRange::all(),
            std::fs::File::create(&file).unwrap(),
            &o,
        )
        .unwrap();
        assert_eq!(stats.row_groups, 8);
        if !have_duckdb("every_column_reads_back_in_duckdb_with_each_compression") {
            return;
        }
        check_records(&file, &all, &stats, "VARCHAR");
        let f = lit(&file);
        let meta = duckdb(&[
            format!("SELECT DISTINCT compression FROM parquet_metadata({f})"),
            format!(
                "SELECT encodings FROM parquet_metadata({f}) WHERE path_in_schema = 'key' LIMIT 1"
            ),
            format!("SELECT key, value FROM parquet_kv_metadata({f}) ORDER BY key"),
        ]);
        let codec = match c {
            Compression::None => "UNCOMPRESSED",
            Compression::Snappy => "SNAPPY",
            Compression::Zstd(_) => "ZSTD",
        };
        assert_eq!(meta[0], [[json!(codec)]]);
        assert!(
            meta[1][0][0].as_str().unwrap().contains("RLE_DICTIONARY"),
            "key is dictionary-encoded: {:?}",
            meta[1]
        );
        let kv: Vec<String> = meta[2]
            .iter()
            .map(|r| format!("{}={}", r[0], r[1]))
            .collect();
        assert!(
            kv.iter()
                .any(|s| s.contains("flowdb.source") && s.contains("engine")),
            "{kv:?}"
        );
    }
}

#[test]
fn prefix_time_and_reverse_ranges_and_row_groups_by_bytes() {
    let t = tempfile::tempdir().unwrap();
    let e = engine_with(&t.path().join("db"), &varied_records(800));
    let lo = 1_700_000_000_000_000 + 100 * 1_000_000;
    let hi = 1_700_000_000_000_000 + 600 * 1_000_000;
    let ranges = [
        ("prefix-time", ScanRange::prefix_time_range("cpu.", lo, hi)),
        ("reverse", ScanRange::prefix("m").reverse()),
        ("unicode-prefix", ScanRange::prefix("ключ.")),
    ];
    for (name, range) in ranges {
        let expected = scan(&e, range.clone());
        assert!(!expected.is_empty());
        let file = t.path().join(format!("{name}.parquet"));
        let mut o = ExportOptions::default();
        o.row_group_bytes = 16 << 10; // groups by bytes: rows hold ~100 bytes each
        let stats = export_engine(&e, range, std::fs::File::create(&file).unwrap(), &o).unwrap();
        assert!(stats.row_groups > 1, "{name}: {stats:?}");
        if !have_duckdb("prefix_time_and_reverse_ranges_and_row_groups_by_bytes") {
            return;
        }
        check_records(&file, &expected, &stats, "VARCHAR");
    }
}

#[test]
fn many_distinct_keys_outgrow_the_dictionary() {
    // 120,000 keys of one point each: the key column's dictionary passes its 1 MiB
    // page limit and the writer falls back to plain encoding within the chunk.
    let t = tempfile::tempdir().unwrap();
    let recs: Vec<Record> = (0..120_000)
        .map(|i| {
            Record::new(
                format!("device.{:08}.temperature", i * 7919 % 1_000_003),
                i,
                vec![(i % 251) as u8; (i % 5) as usize],
            )
        })
        .collect();
    let e = engine_with(&t.path().join("db"), &recs);
    let file = t.path().join("wide.parquet");
    let stats = export_engine(
        &e,
        ScanRange::all(),
        std::fs::File::create(&file).unwrap(),
        &opts(50_000),
    )
    .unwrap();
    assert_eq!((stats.rows, stats.row_groups), (120_000, 3));
    if have_duckdb("many_distinct_keys_outgrow_the_dictionary") {
        check_records(&file, &scan(&e, ScanRange::all()), &stats, "VARCHAR");
        let enc = duckdb(&[format!(
            "SELECT DISTINCT encodings FROM parquet_metadata({}) WHERE path_in_schema = 'key'",
            lit(&file)
        )]);
        assert!(
            enc[0]
                .iter()
                .any(|r| r[0].as_str().unwrap().contains("PLAIN")),
            "{enc:?}"
        );
    }
}

#[test]
fn keys_that_are_not_utf8_are_an_error_or_binary() {
    let t = tempfile::tempdir().unwrap();
    let mut recs = varied_records(3);
    recs.push(Record::new(vec![b'b', 0xff, 0x00, b'k'], 42, vec![0x80, 0]));
    let e = engine_with(&t.path().join("db"), &recs);
    let file = t.path().join("bad.parquet");
    let err = export_engine(
        &e,
        ScanRange::all(),
        std::fs::File::create(&file).unwrap(),
        &ExportOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, flowdb::Error::Data(_)), "{err:?}");
    assert!(
        msg.contains(r#"key b"b\xff\x00k" (ts 42) is not UTF-8"#),
        "{msg}"
    );
    assert!(msg.contains("--binary-keys"), "{msg}");

    let mut o = opts(4);
    o.key_type = KeyType::Binary;
    let file = t.path().join("binary.parquet");
    let stats = export_engine(
        &e,
        ScanRange::all(),
        std::fs::File::create(&file).unwrap(),
        &o,
    )
    .unwrap();
    if have_duckdb("keys_that_are_not_utf8_are_an_error_or_binary") {
        check_records(&file, &scan(&e, ScanRange::all()), &stats, "BLOB");
    }
}

#[test]
fn an_empty_export_is_a_valid_file() {
    let t = tempfile::tempdir().unwrap();
    let e = engine_with(&t.path().join("db"), &varied_records(10));
    let file = t.path().join("empty.parquet");
    let stats = export_engine(
        &e,
        ScanRange::prefix("nothing here"),
        std::fs::File::create(&file).unwrap(),
        &ExportOptions::default(),
    )
    .unwrap();
    assert_eq!((stats.rows, stats.row_groups), (0, 0));
    // An engine with no records at all, through the generic entry point.
    let empty = t.path().join("empty2.parquet");
    let s2 = export_records(
        std::iter::empty(),
        std::fs::File::create(&empty).unwrap(),
        &ExportOptions::default(),
    )
    .unwrap();
    assert_eq!(s2.rows, 0);
    if have_duckdb("an_empty_export_is_a_valid_file") {
        check_records(&file, &[], &stats, "VARCHAR");
        check_records(&empty, &[], &s2, "VARCHAR");
    }
}

#[test]
fn options_are_checked() {
    let mut out = Vec::new();
    for (o, what) in [
        (opts(0), "row_group_rows"),
        (
            {
                let mut o = ExportOptions::default();
                o.row_group_bytes = 0;
                o
            },
            "row_group_bytes",
        ),
        (
            {
                let mut o = ExportOptions::default();
                o.compression = Compression::Zstd(99);
                o
            },
            "zstd level 99",
        ),
        (
            {
                let mut o = ExportOptions::default();
                o.compression = Compression::Zstd(0);
                o
            },
            "zstd level 0 is out of range",
        ),
    ] {
        let err = RecordWriter::new(&mut out, &o).unwrap_err();
        assert!(matches!(err, flowdb::Error::InvalidArgument(_)), "{err:?}");
        assert!(err.to_string().contains(what), "{err}");
    }
}

#[test]
fn writer_stats_count_rows_groups_and_bytes() {
    let mut out = Vec::new();
    let mut w = RecordWriter::new(&mut out, &opts(10)).unwrap();
    for i in 0..25 {
        w.write(&Record::new("k", i, vec![i as u8])).unwrap();
    }
    assert_eq!(w.stats().rows, 25);
    assert_eq!(w.stats().row_groups, 2);
    let s = w.finish().unwrap();
    assert_eq!((s.rows, s.row_groups), (25, 3));
    assert_eq!(s.bytes, out.len() as u64);
    assert_eq!(&out[..4], b"PAR1");
    assert_eq!(&out[out.len() - 4..], b"PAR1");
}

/// An output that fails once `left` bytes are written.
struct FailingOutput {
    left: usize,
}

impl std::io::Write for FailingOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.left {
            return Err(std::io::Error::other("disk full (test)"));
        }
        self.left -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_errors_stop_the_export_and_unfinished_writers_drop_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let e = engine_with(&t.path().join("db"), &varied_records(3000));
    for parallel in [true, false] {
        let mut o = opts(2000);
        o.parallel = parallel;
        let err =
            export_engine(&e, ScanRange::all(), FailingOutput { left: 50_000 }, &o).unwrap_err();
        assert!(
            matches!(&err, flowdb::Error::Io { .. }) && err.to_string().contains("disk full"),
            "{err:?}"
        );
        // A writer dropped with batches still on its threads ends them.
        let mut out = Vec::new();
        let mut w = RecordWriter::new(&mut out, &o).unwrap();
        for r in scan(&e, ScanRange::prefix("cpu.")).iter().take(20_000) {
            w.write(r).unwrap();
        }
        drop(w);
    }
}

/// Documents of a store, read through JsonDB: (primary key as JSON text, stored
/// document text), in primary-key order.
fn store_rows(db: &JsonDB, store: &str, key_path: &str) -> Vec<(String, String)> {
    let tx = db.transaction(&[store], TransactionMode::ReadOnly).unwrap();
    let docs: Vec<RawDoc> = tx
        .get_range_as(store, &KeyRange::all(), Direction::Next)
        .unwrap();
    docs.into_iter()
        .map(|d| {
            let v = d.parse().unwrap();
            let mut k = &v;
            for step in key_path.split('.') {
                k = &k[step];
            }
            (k.to_string(), String::from_utf8(d.into_bytes()).unwrap())
        })
        .collect()
}

#[test]
fn jsondb_stores_read_back_as_json() {
    let t = tempfile::tempdir().unwrap();
    let db = JsonDB::open(Config::new(t.path().join("docs"))).unwrap();
    db.create_store(&StoreSchema::new("users", "id")).unwrap();
    db.create_store(&StoreSchema::new("events", "meta.id").auto_increment(true))
        .unwrap();
    db.create_store(&StoreSchema::new("empty", "id")).unwrap();
    let cities = ["Oslo", "Zürich", "東京", "Rome"];
    for i in 0..2500 {
        let id = match i % 3 {
            0 => json!(i),
            1 => json!(format!("u-{i:05}-ü")),
            _ => json!([i, "a"]),
        };
        db.put(
            "users",
            json!({"id": id, "city": cities[i % 4], "age": i % 90, "tags": ["x", i],
                   "note": "quote \" backslash \\ newline \n nul \u{0}"}),
        )
        .unwrap();
    }
    for i in 0..10 {
        db.put("events", json!({"kind": "e", "n": i})).unwrap();
    }
    db.engine().flush().unwrap();
    db.put("users", json!({"id": 1.5, "city": "Oslo", "age": 1}))
        .unwrap();
    db.delete("users", &json!(3)).unwrap();

    for (store, key_path, rows_per_group, parallel) in [
        ("users", "id", 1000, true),
        ("users", "id", 700, false),
        ("events", "meta.id", 4, true),
        ("empty", "id", 10, true),
    ] {
        let expected = store_rows(&db, store, key_path);
        let file = t.path().join(format!("{store}-{parallel}.parquet"));
        let mut o = opts(rows_per_group);
        o.parallel = parallel;
        let stats = export_store(&db, store, std::fs::File::create(&file).unwrap(), &o).unwrap();
        assert_eq!(stats.rows, expected.len() as u64);
        assert_eq!(
            stats.row_groups,
            expected.len().div_ceil(rows_per_group) as u64
        );
        if !have_duckdb("jsondb_stores_read_back_as_json") {
            return;
        }
        let f = lit(&file);
        let res = duckdb(&[
            format!("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({f}))"),
            format!(
                "SELECT key, doc::VARCHAR FROM read_parquet({f}, file_row_number = true)
                 ORDER BY file_row_number"
            ),
            format!(
                "SELECT count(*), count(DISTINCT key),
                        count(*) FILTER (WHERE json_extract_string(doc, '$.city') = 'Zürich'),
                        coalesce(sum(json_extract(doc, '$.age')::BIGINT), 0),
                        count(*) FILTER (WHERE json_extract(key::JSON, '$') = json_extract(doc, '$.{key_path}'))
                 FROM read_parquet({f})"
            ),
        ]);
        assert_eq!(
            res[0],
            [
                [json!("key"), json!("VARCHAR")],
                [json!("doc"), json!("JSON")]
            ]
        );
        let rows: Vec<(String, String)> = res[1]
            .iter()
            .map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into()))
            .collect();
        assert_eq!(rows, expected, "{store}");
        let docs: Vec<Value> = expected
            .iter()
            .map(|(_, d)| serde_json::from_str(d).unwrap())
            .collect();
        let n = docs.len() as u64;
        let zurich = docs.iter().filter(|d| d["city"] == "Zürich").count() as u64;
        let ages: i64 = docs.iter().filter_map(|d| d["age"].as_i64()).sum();
        assert_eq!(
            res[2][0],
            [json!(n), json!(n), json!(zurich), json!(ages), json!(n)]
        );
    }
    let err = export_store(&db, "nope", Vec::new(), &ExportOptions::default()).unwrap_err();
    assert!(matches!(err, flowdb::Error::NotFound(_)), "{err:?}");
}

/// The commands, run as a real process.
#[cfg(feature = "cli")]
mod cli {
    use std::path::Path;
    use std::process::{Command, Stdio};

    use flowdb::jsondb::{JsonDB, StoreSchema};
    use flowdb::{Config, Engine, Record, ScanRange};
    use serde_json::json;

    use super::{check_records, duckdb, have_duckdb, lit, varied_records};
    use flowdb::export::parquet::ExportStats;

    fn flowdb(args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_flowdb"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run flowdb");
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn p(path: &Path) -> &str {
        path.to_str().unwrap()
    }

    #[test]
    fn export_command_writes_parquet_with_range_and_row_groups() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("db");
        {
            let e = Engine::open(Config::new(&dir)).unwrap();
            e.write_batch(&varied_records(300)).unwrap();
            e.shutdown().unwrap();
        }
        let out = t.path().join("cpu.parquet");
        let (status, stderr) = flowdb(&[
            "export",
            p(&dir),
            "--format",
            "parquet",
            p(&out),
            "--prefix",
            "cpu.",
            "--from",
            "2023-11-14T22:15:00Z",
            "--to",
            "1700000200000000",
            "--row-group-rows",
            "64",
            "--compression",
            "zstd",
        ]);
        assert_eq!(status, 0, "{stderr}");
        assert!(stderr.contains("flowdb export: exported"), "{stderr}");
        assert!(stderr.contains("row groups"), "{stderr}");
        let e = Engine::open_read_only(Config::new(&dir)).unwrap();
        let expected: Vec<Record> = e
            .scan(ScanRange::prefix_time_range(
                "cpu.",
                1_700_000_100_000_000,
                1_700_000_200_000_000,
            ))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(expected.len() > 64);
        let stats = ExportStats {
            rows: expected.len() as u64,
            row_groups: expected.len().div_ceil(64) as u64,
            bytes: std::fs::metadata(&out).unwrap().len(),
        };
        // No temporary file is left beside the output.
        let names: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|d| d.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        if have_duckdb("export_command_writes_parquet_with_range_and_row_groups") {
            check_records(&out, &expected, &stats, "VARCHAR");
        }

        // A key that is not UTF-8: exit status 1, the key named, no output file;
        // --binary-keys exports it.
        {
            let e = Engine::open(Config::new(t.path().join("bin"))).unwrap();
            e.write_batch(&[Record::new(vec![0xfe, b'x'], 7, b"v".to_vec())])
                .unwrap();
            e.shutdown().unwrap();
        }
        let bad = t.path().join("bad.parquet");
        let (status, stderr) = flowdb(&["export", p(&t.path().join("bin")), p(&bad)]);
        assert_eq!(status, 1);
        assert!(
            stderr.contains(r#"key b"\xfex" (ts 7) is not UTF-8"#),
            "{stderr}"
        );
        assert!(!bad.exists());
        let (status, stderr) = flowdb(&[
            "export",
            p(&t.path().join("bin")),
            p(&bad),
            "--binary-keys",
            "-q",
        ]);
        assert_eq!(status, 0, "{stderr}");
        assert_eq!(stderr, "");
        if have_duckdb("export_command_writes_parquet_with_range_and_row_groups") {
            let r = duckdb(&[format!(
                "SELECT hex(key), typeof(key) FROM read_parquet({})",
                lit(&bad)
            )]);
            assert_eq!(r[0], [[json!("FE78"), json!("BLOB")]]);
        }
        let (status, stderr) = flowdb(&["export", p(&t.path().join("missing")), p(&bad)]);
        assert_eq!(status, 1);
        assert!(stderr.contains("does not exist"), "{stderr}");
    }

    #[test]
    fn docs_export_writes_parquet_and_jsonl_stays_the_default() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("docs");
        {
            let db = JsonDB::open(Config::new(&dir)).unwrap();
            db.create_store(&StoreSchema::new("users", "id")).unwrap();
            for i in 0..50 {
                db.put(
                    "users",
                    json!({"id": i, "city": if i % 2 == 0 { "Oslo" } else { "Rome" }}),
                )
                .unwrap();
            }
            db.shutdown().unwrap();
        }
        let out = t.path().join("users.parquet");
        let (status, stderr) = flowdb(&[
            "docs",
            p(&dir),
            "export",
            "users",
            "--format",
            "parquet",
            p(&out),
            "--row-group-rows",
            "20",
        ]);
        assert_eq!(status, 0, "{stderr}");
        assert!(
            stderr.contains("flowdb export: exported 50 documents"),
            "{stderr}"
        );
        let jsonl = Command::new(env!("CARGO_BIN_EXE_flowdb"))
            .args(["docs", p(&dir), "export", "users"])
            .output()
            .unwrap();
        assert!(jsonl.status.success());
        let text = String::from_utf8(jsonl.stdout).unwrap();
        assert_eq!(text.lines().count(), 50);
        assert!(text.starts_with("{\"city\":\"Oslo\",\"id\":0}\n"), "{text}");
        let (status, stderr) = flowdb(&["docs", p(&dir), "export", "users", "--format", "parquet"]);
        assert_eq!(status, 1);
        assert!(stderr.contains("needs an output file"), "{stderr}");
        if have_duckdb("docs_export_writes_parquet_and_jsonl_stays_the_default") {
            let f = lit(&out);
            let r = duckdb(&[
                format!(
                    "SELECT count(*), count(*) FILTER (WHERE json_extract_string(doc, '$.city') = 'Rome'),
                            sum(key::BIGINT)
                     FROM read_parquet({f})"
                ),
                format!("SELECT num_row_groups FROM parquet_file_metadata({f})"),
                format!("SELECT doc::VARCHAR FROM read_parquet({f}) WHERE key = '7'"),
            ]);
            assert_eq!(r[0], [[json!(50), json!(25), json!(1225)]]);
            assert_eq!(r[1], [[json!(3)]]);
            assert_eq!(r[2], [[json!(r#"{"city":"Rome","id":7}"#)]]);
        }
    }
}
