//! The `flowdb` command-line program (feature `cli`, docs/cli.md), run as a real
//! process: dump -> load -> dump is byte-identical (binary keys and values, TTLs,
//! unicode); CSV and JSON lines loads, all or nothing for malformed lines, --skip-bad
//! and --skip-lines; scan, get, series and stats in each output format; verify on a
//! sound and a damaged database; checkpoint, backup and compact; the read commands
//! beside a writer holding the directory (read-only opens take no lock) and a clear
//! failure for commands that need it; the JsonDB commands; keys named in base64; a
//! streamed `docs query`; loads and imports of nothing creating nothing.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use flowdb::jsondb::JsonDB;
use flowdb::{Config, Engine, Record};
use serde_json::Value;

struct Out {
    status: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Out {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn ok(self) -> Self {
        assert_eq!(
            self.status,
            0,
            "stderr: {}\nstdout: {}",
            self.stderr,
            self.text()
        );
        self
    }
    fn lines(&self) -> Vec<String> {
        self.text().lines().map(String::from).collect()
    }
}

fn flowdb<S: AsRef<OsStr>>(args: &[S]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_flowdb"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run flowdb");
    Out {
        status: out.status.code().expect("exited"),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `flowdb` with `input` on a pipe as its standard input.
fn flowdb_piped(args: &[&str], input: &[u8]) -> Out {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowdb"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowdb");
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input); // (it may exit before reading)
    drop(stdin);
    let out = child.wait_with_output().expect("wait for flowdb");
    Out {
        status: out.status.code().expect("exited"),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn write_db(dir: &Path, records: &[Record]) {
    let e = Engine::open(Config::new(dir)).unwrap();
    e.write_batch(records).unwrap();
    e.shutdown().unwrap();
}

/// Keys a.1, a.2, b.1 with points at ts 1..=5 (values "<key>@<ts>").
fn small_db(dir: &Path) {
    let mut recs = Vec::new();
    for k in ["a.1", "a.2", "b.1"] {
        for ts in 1..=5 {
            recs.push(Record::new(k, ts, format!("{k}@{ts}").into_bytes()));
        }
    }
    write_db(dir, &recs);
}

fn odd_records() -> Vec<Record> {
    let far = 4_000_000_000_000_000; // year 2096: not expired while the test runs
    vec![
        Record::new(vec![0xff, 0x00, b'k'], 1, vec![0x80, 0x81, 0x00]),
        Record::new("bin.value", 2, vec![0, 1, 2, 255]),
        Record::new(
            "temp.温度.ü",
            -5,
            "température \"quoted\",\n\ttab\u{1}".into(),
        ),
        Record::new("ttl.a", 10, b"expires".to_vec()).with_expire_at(far),
        Record::new("ttl.a", 11, Vec::new()),
        Record::new("z", i64::MAX, b"x".to_vec()).with_expire_at(far + 1),
    ]
}

#[test]
fn dump_load_dump_is_byte_identical() {
    let t = tempfile::tempdir().unwrap();
    let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
    write_db(&a, &odd_records());
    let f1 = t.path().join("one.jsonl");
    flowdb(&["dump", p(&a), "-o", p(&f1)]).ok();
    let first = std::fs::read(&f1).unwrap();
    let text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(text.contains(r#""key_b64":"/wBr""#) && text.contains(r#""value_b64":"gIEA""#));
    assert!(text.contains(r#""expire_at":4000000000000000"#));
    assert_eq!(text.matches("expire_at").count(), 2, "{text}");
    assert_eq!(flowdb(&["dump", p(&a)]).ok().stdout, first);
    let load = flowdb(&["load", p(&b), p(&f1)]).ok();
    assert!(load.stderr.contains("loaded 6 records"), "{}", load.stderr);
    assert_eq!(flowdb(&["dump", p(&b)]).ok().stdout, first);
    // CSV carries the raw bytes too: scan as CSV, load it, dump the same.
    let csv = flowdb(&["scan", p(&a), "--format", "csv"]).ok().stdout;
    let f2 = t.path().join("two.csv");
    std::fs::write(&f2, csv).unwrap();
    flowdb(&["load", p(&c), p(&f2)]).ok();
    assert_eq!(flowdb(&["dump", p(&c)]).ok().stdout, first);
}

#[test]
fn csv_loads_with_columns_in_any_order_and_rfc3339_times() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let f = t.path().join("in.csv");
    std::fs::write(
        &f,
        "value,expire_at,ts,key\n\
         \"a,b\",,5,k1\n\
         \"multi\nline\",4000000000000000,2024-05-01T12:00:00Z,k2\n\
         plain,,2024-05-01T14:00:00.5+02:00,k2\n",
    )
    .unwrap();
    flowdb(&["load", p(&db), p(&f), "--batch", "2"]).ok();
    let got = flowdb(&["dump", p(&db)]).ok().lines();
    assert_eq!(
        got,
        [
            r#"{"key":"k1","ts":5,"value":"a,b"}"#,
            r#"{"key":"k2","ts":1714564800000000,"value":"multi\nline","expire_at":4000000000000000}"#,
            r#"{"key":"k2","ts":1714564800500000,"value":"plain"}"#,
        ]
    );
    // --format overrides the extension; a name that tells nothing needs it.
    let g = t.path().join("data.txt");
    std::fs::write(&g, "key,ts,value\nk3,1,v\n").unwrap();
    let no = flowdb(&["load", p(&db), p(&g)]);
    assert_eq!(no.status, 1);
    assert!(no.stderr.contains("--format"), "{}", no.stderr);
    flowdb(&["load", p(&db), p(&g), "--format", "csv"]).ok();
    assert!(flowdb(&["get", p(&db), "k3"])
        .ok()
        .text()
        .contains(r#""value":"v""#));
}

#[test]
fn a_malformed_line_loads_nothing_and_skip_bad_loads_the_rest() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    small_db(&db);
    let before = flowdb(&["dump", p(&db)]).ok().stdout;
    let f = t.path().join("in.csv");
    std::fs::write(
        &f,
        "key,ts,value\nnew.1,1,x\nnew.2,soon,x\nnew.3,3,x\nnew.4,4\n,5,empty key\nnew.6,6,y\n",
    )
    .unwrap();
    let bad = flowdb(&["load", p(&db), p(&f)]);
    assert_eq!(bad.status, 1);
    let e = &bad.stderr;
    assert!(e.contains("3 malformed lines; nothing was loaded"), "{e}");
    assert!(e.contains("line 3: ts: \"soon\""), "{e}");
    assert!(e.contains("line 5: 2 fields, expected 3"), "{e}");
    assert!(e.contains("line 6: the key is empty"), "{e}");
    assert_eq!(flowdb(&["dump", p(&db)]).ok().stdout, before);

    // A pipe cannot be read twice (check, then load): refused without --skip-bad
    // (it once loaded nothing and succeeded), read once with it.
    let csv = std::fs::read(&f).unwrap();
    for input in [&b"key,ts,value\npiped.1,1,x\n"[..], &csv] {
        let piped = flowdb_piped(&["load", p(&db), "/dev/stdin", "--format", "csv"], input);
        assert_eq!(piped.status, 1);
        assert!(
            piped.stderr.contains("not a regular file"),
            "{}",
            piped.stderr
        );
    }
    assert_eq!(flowdb(&["dump", p(&db)]).ok().stdout, before);
    let docs = t.path().join("docs");
    let piped = flowdb_piped(
        &["docs", p(&docs), "import", "users", "/dev/stdin"],
        b"{}\n",
    );
    assert_eq!(piped.status, 1);
    assert!(
        piped.stderr.contains("not a regular file"),
        "{}",
        piped.stderr
    );

    let skip = flowdb(&["load", p(&db), p(&f), "--skip-bad"]).ok();
    assert!(skip.stderr.contains("loaded 3 records"), "{}", skip.stderr);
    assert!(
        skip.stderr.contains("skipped 3 malformed lines"),
        "{}",
        skip.stderr
    );
    assert!(skip.stderr.contains("line 3: ts"), "{}", skip.stderr);
    let again = flowdb_piped(
        &[
            "load",
            p(&db),
            "/dev/stdin",
            "--format",
            "csv",
            "--skip-bad",
        ],
        &csv,
    );
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("loaded 3 records"),
        "{}",
        again.stderr
    );
    let keys = flowdb(&["series", p(&db), "new.", "--json"]).ok();
    let keys: Vec<Value> = serde_json::from_slice(&keys.stdout).unwrap();
    let keys: Vec<&str> = keys.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["new.1", "new.3", "new.6"]);

    // Past 20 malformed lines, the rest are counted; JSON lines are checked alike.
    let j = t.path().join("in.jsonl");
    let mut text = String::from("{\"key\":\"ok\",\"ts\":1,\"value\":\"v\"}\n");
    for i in 0..25 {
        text.push_str(&format!("{{\"key\":\"k{i}\",\"value\":\"v\"}}\n"));
    }
    std::fs::write(&j, text).unwrap();
    let many = flowdb(&["load", p(&db), p(&j)]);
    assert_eq!(many.status, 1);
    assert!(
        many.stderr.contains("25 malformed lines"),
        "{}",
        many.stderr
    );
    assert!(
        many.stderr.contains("line 2: missing field `ts`"),
        "{}",
        many.stderr
    );
    assert!(many.stderr.contains("line 21:") && !many.stderr.contains("line 22:"));
    assert!(many.stderr.contains("... and 5 more"), "{}", many.stderr);
}

#[test]
fn skip_lines_resumes_a_load() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let f = t.path().join("in.csv");
    std::fs::write(&f, "key,ts,value\nk,1,a\nk,2,b\nk,3,c\nk,4,d\n").unwrap();
    flowdb(&["load", p(&db), p(&f), "--skip-lines", "3"]).ok();
    let got = flowdb(&["scan", p(&db), "--format", "csv"]).ok().text();
    assert_eq!(got, "key,ts,value,expire_at,point\nk,3,c,,\nk,4,d,,\n");
}

#[test]
fn scan_ranges_in_every_format() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    small_db(&db);
    let d = p(&db);
    let jsonl = flowdb(&["scan", d, "--prefix", "a.", "--reverse", "--limit", "3"]).ok();
    assert_eq!(
        jsonl.lines(),
        [
            r#"{"key":"a.2","ts":5,"value":"a.2@5"}"#,
            r#"{"key":"a.2","ts":4,"value":"a.2@4"}"#,
            r#"{"key":"a.2","ts":3,"value":"a.2@3"}"#,
        ]
    );
    let csv = flowdb(&["scan", d, "--from", "2", "--to", "3", "--format", "csv"]).ok();
    assert_eq!(
        csv.text(),
        "key,ts,value,expire_at,point\na.1,2,a.1@2,,\na.1,3,a.1@3,,\na.2,2,a.2@2,,\na.2,3,a.2@3,,\n\
         b.1,2,b.1@2,,\nb.1,3,b.1@3,,\n"
    );
    let keys = flowdb(&[
        "scan",
        d,
        "--from-key",
        "a.2",
        "--to-key",
        "b.1",
        "--to",
        "1",
    ])
    .ok();
    assert_eq!(keys.lines().len(), 2, "{}", keys.text());
    let open_end = flowdb(&["scan", d, "--from-key", "b", "--format", "csv"]).ok();
    assert_eq!(open_end.lines().len(), 6);
    let rfc = flowdb(&[
        "scan",
        d,
        "--from",
        "1970-01-01T00:00:00.000005Z",
        "--limit",
        "1",
    ])
    .ok();
    assert_eq!(rfc.lines(), [r#"{"key":"a.1","ts":5,"value":"a.1@5"}"#]);
    let table = flowdb(&[
        "scan", d, "--prefix", "b.", "--limit", "2", "--format", "table",
    ])
    .ok();
    let lines = table.lines();
    assert_eq!(lines.len(), 3, "{}", table.text());
    assert!(
        lines[0].starts_with("KEY") && lines[0].contains("VALUE"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("b.1") && lines[1].contains("1970-01-01T00:00:00.000001Z"));
    assert!(lines[1].ends_with("b.1@1 (5 B)"), "{}", lines[1]);
    let bad = flowdb(&["scan", d, "--from", "yesterday"]);
    assert_eq!(bad.status, 1);
    assert!(bad.stderr.contains("--from") && bad.stderr.contains("RFC 3339"));
    let usage = flowdb(&["scan", d, "--prefix", "a", "--from-key", "b"]);
    assert_eq!(usage.status, 2, "{}", usage.stderr);
}

#[test]
fn get_latest_and_at_a_ts_and_series() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    small_db(&db);
    let d = p(&db);
    let latest = flowdb(&["get", d, "a.2"]).ok();
    assert_eq!(
        latest.text(),
        "{\"key\":\"a.2\",\"ts\":5,\"value\":\"a.2@5\"}\n"
    );
    let at = flowdb(&["get", d, "a.2", "3", "--format", "csv"]).ok();
    assert_eq!(at.text(), "key,ts,value,expire_at,point\na.2,3,a.2@3,,\n");
    let none = flowdb(&["get", d, "a.2", "9"]);
    assert_eq!(none.status, 1);
    assert!(none.stderr.contains("no record with key \"a.2\" at ts 9"));

    let table = flowdb(&["series", d]).ok().lines();
    assert_eq!(table.len(), 4);
    assert!(table[1].starts_with("a.1") && table[3].starts_with("b.1"));
    let json = flowdb(&["series", d, "a.", "--json"]).ok();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"key": "a.1", "points": 5, "first_ts": 1, "last_ts": 5},
            {"key": "a.2", "points": 5, "first_ts": 1, "last_ts": 5},
        ])
    );
}

#[test]
fn stats_in_text_and_json() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    small_db(&db);
    let text = flowdb(&["stats", p(&db)]).ok().text();
    assert!(text.contains("sstable_count") && text.contains("Live table files."));
    assert!(text.contains("Tables: 1") && text.contains("000") && text.contains("a.1 .. b.1"));
    let json = flowdb(&["stats", p(&db), "--json"]).ok();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["stats"]["sstable_count"], 1);
    assert!(v["stat_docs"]["sstable_count"]
        .as_str()
        .unwrap()
        .contains("table"));
    let t0 = &v["tables"][0];
    assert_eq!(
        (t0["entries"].as_u64(), t0["tombstones"].as_u64()),
        (Some(15), Some(0))
    );
    assert_eq!(
        (t0["min_ts"].as_i64(), t0["max_ts"].as_i64()),
        (Some(1), Some(5))
    );
    assert_eq!(
        (t0["first_key"].as_str(), t0["last_key"].as_str()),
        (Some("a.1"), Some("b.1"))
    );
    assert!(t0["file"].as_str().unwrap().ends_with(".sst"));
    let missing = flowdb(&["stats", p(&t.path().join("nope"))]);
    assert_eq!(missing.status, 1);
    assert!(missing.stderr.starts_with("flowdb: ") && missing.stderr.contains("does not exist"));
}

fn sst_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    v.sort();
    v
}

#[test]
fn verify_reports_a_flipped_byte_with_its_file_and_offset() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let recs: Vec<Record> = (0..3000)
        .map(|i| Record::new(format!("k{}", i % 7), i, vec![(i % 251) as u8; 100]))
        .collect();
    write_db(&db, &recs);
    let sound = flowdb(&["verify", p(&db)]).ok().text();
    assert!(
        sound.contains("tables:        1") && sound.contains("is sound"),
        "{sound}"
    );
    assert!(sound.contains("MB/s"), "{sound}");
    let sst = &sst_files(&db)[0];
    let mut data = std::fs::read(sst).unwrap();
    let at = data.len() / 3;
    data[at] ^= 0x40;
    std::fs::write(sst, data).unwrap();
    let damaged = flowdb(&["verify", p(&db)]);
    assert_eq!(damaged.status, 1, "{}", damaged.text());
    let out = damaged.text();
    let name = sst.file_name().unwrap().to_str().unwrap();
    assert!(out.contains(name) && out.contains(" at offset "), "{out}");
    assert!(out.contains("is DAMAGED"), "{out}");
    let nothing = flowdb(&["verify", p(&t.path().join("nope"))]);
    assert_eq!(nothing.status, 2);
    std::fs::create_dir(t.path().join("empty")).unwrap();
    let empty = flowdb(&["verify", p(&t.path().join("empty"))]);
    assert_eq!(empty.status, 2);
    assert!(empty.stderr.contains("no MANIFEST"), "{}", empty.stderr);
}

#[test]
fn checkpoint_backup_and_compact() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let e = Engine::open(Config::new(&db)).unwrap();
    for round in 0..3 {
        let recs: Vec<Record> = (0..50)
            .map(|i| Record::new(format!("k{i}"), round, vec![1]))
            .collect();
        e.write_batch(&recs).unwrap();
        e.flush().unwrap();
    }
    e.shutdown().unwrap();
    let all = flowdb(&["scan", p(&db)]).ok().stdout;
    let (cp, bk) = (t.path().join("cp"), t.path().join("bk"));
    // The summary goes to stderr (silenced by -q); stdout stays for data.
    let cp_out = flowdb(&["checkpoint", p(&db), p(&cp)]).ok();
    assert!(cp_out.stderr.contains("written to"), "{}", cp_out.stderr);
    assert!(cp_out.stdout.is_empty());
    let quiet = flowdb(&["-q", "backup", p(&db), p(&bk)]).ok();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    assert_eq!(flowdb(&["scan", p(&cp)]).ok().stdout, all);
    assert_eq!(flowdb(&["scan", p(&bk)]).ok().stdout, all);
    let again = flowdb(&["checkpoint", p(&db), p(&cp)]);
    assert_eq!(again.status, 1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    let tables = |d: &Path| {
        let v: Value =
            serde_json::from_slice(&flowdb(&["stats", p(d), "--json"]).ok().stdout).unwrap();
        v["tables"].as_array().unwrap().len()
    };
    assert_eq!(tables(&db), 3);
    let out = flowdb(&["compact", p(&db)]).ok().stderr;
    assert!(
        out.contains("compacted") && out.contains("3 tables"),
        "{out}"
    );
    assert_eq!(tables(&db), 1);
    assert_eq!(flowdb(&["scan", p(&db)]).ok().stdout, all);
    let again = flowdb(&["compact", p(&db)]).ok().stderr;
    assert!(again.contains("nothing to compact"), "{again}");
    // Records that expired in a compacted database: GC's, reported.
    let e = Engine::open(Config::new(&db)).unwrap();
    // (Far enough ahead that the write, flush and compaction finish before it on
    // a busy machine: the compaction must not drop them itself.)
    let soon = flowdb::now_micros() + 4_000_000;
    let recs: Vec<Record> = (0..20)
        .map(|i| Record::new(format!("x{i}"), 1, vec![2]).with_expire_at(soon))
        .collect();
    e.write_batch(&recs).unwrap();
    e.flush().unwrap();
    assert!(e.trigger_compaction().unwrap());
    assert_eq!(
        e.scan(flowdb::ScanRange::prefix("x")).unwrap().count(),
        20,
        "compacted before they expired"
    );
    e.shutdown().unwrap();
    while flowdb::now_micros() <= soon + 50_000 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = flowdb(&["compact", p(&db)]).ok().stderr;
    assert!(out.contains("20 expired records purged"), "{out}");
    assert_eq!(flowdb(&["scan", p(&db)]).ok().stdout, all);
    let missing = flowdb(&["compact", p(&t.path().join("nope"))]);
    assert_eq!(missing.status, 1);
    assert!(!t.path().join("nope").exists());
}

/// A database's rollups (DIR/rollups/NAME) are verified with it, and copied into
/// checkpoints and backups.
#[test]
fn verify_checkpoint_and_backup_take_the_rollups_along() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let mut tuning = flowdb::Tuning::default();
    tuning.rollups.push(flowdb::RollupRule::new(
        "1m",
        60_000_000,
        &[flowdb::Agg::Max],
    ));
    let e = Engine::open_with(Config::new(&db), tuning).unwrap();
    let pts: Vec<flowdb::Point> = (0..300)
        .map(|i| flowdb::Point::new("cpu.a", i * 1_000_000, i as f64))
        .collect();
    e.write_points(&pts).unwrap();
    e.run_rollups().unwrap();
    e.shutdown().unwrap();
    let out = flowdb(&["verify", p(&db)]).ok().text();
    assert!(out.contains("rollups/1m is sound"), "{out}");
    let hourly = |d: &Path| {
        flowdb(&[
            "aggregate",
            p(d),
            "--rollup",
            "1m",
            "--step",
            "1h",
            "--fn",
            "max,count",
            "--format",
            "csv",
        ])
        .ok()
        .text()
    };
    assert_eq!(hourly(&db), "key,start,max,count\nmax:cpu.a,0,299,5\n");
    for cmd in ["checkpoint", "backup"] {
        let dest = t.path().join(cmd);
        let out = flowdb(&[cmd, p(&db), p(&dest)]).ok().stderr;
        assert!(out.contains("with its rollup \"1m\""), "{out}");
        assert_eq!(hourly(&dest), hourly(&db), "{cmd}");
    }
}

#[test]
fn reads_work_beside_a_writer_and_writes_say_the_directory_is_in_use() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    let writer = Engine::open(Config::new(&db)).unwrap();
    writer
        .write_batch(&[Record::new("live", 1, b"unflushed".to_vec())])
        .unwrap();
    let d = p(&db);
    let scan = flowdb(&["scan", d]).ok();
    assert_eq!(
        scan.text(),
        "{\"key\":\"live\",\"ts\":1,\"value\":\"unflushed\"}\n"
    );
    flowdb(&["get", d, "live"]).ok();
    flowdb(&["series", d]).ok();
    flowdb(&["stats", d, "--json"]).ok();
    flowdb(&["dump", d]).ok();
    flowdb(&["verify", d]).ok();

    let f = t.path().join("in.csv");
    std::fs::write(&f, "key,ts,value\nk,1,v\n").unwrap();
    let load = flowdb(&["load", d, p(&f)]);
    assert_eq!(load.status, 1);
    assert!(
        load.stderr.contains("in use by another process"),
        "{}",
        load.stderr
    );
    assert!(load.stderr.contains("locked"), "{}", load.stderr);
    let compact = flowdb(&["compact", d]);
    assert_eq!(compact.status, 1);
    assert!(
        compact.stderr.contains("call Engine::trigger_compaction"),
        "{}",
        compact.stderr
    );
    // checkpoint and backup open read-only too: a copy of what the writer has on disk.
    let (cp, bk) = (t.path().join("cp"), t.path().join("bk"));
    flowdb(&["checkpoint", d, p(&cp)]).ok();
    flowdb(&["backup", d, p(&bk)]).ok();
    writer
        .write_batch(&[Record::new("later", 2, b"after the copy".to_vec())])
        .unwrap();
    assert_eq!(flowdb(&["scan", p(&cp)]).ok().stdout, scan.stdout);
    assert_eq!(flowdb(&["scan", p(&bk)]).ok().stdout, scan.stdout);
    writer.shutdown().unwrap();
    flowdb(&["load", d, p(&f)]).ok();
}

#[test]
fn jsondb_commands() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("docs");
    let d = p(&db);
    flowdb(&["docs", d, "create-store", "users", "--key-path", "id"]).ok();
    flowdb(&["docs", d, "create-index", "users", "by_city", "city"]).ok();
    flowdb(&[
        "docs",
        d,
        "create-index",
        "users",
        "email",
        "email",
        "--unique",
    ])
    .ok();
    let put = flowdb(&[
        "docs",
        d,
        "put",
        "users",
        r#"{"id":1,"city":"Oslo","email":"a@x"}"#,
    ])
    .ok();
    assert_eq!(put.text(), "1\n");
    let f = t.path().join("users.jsonl");
    std::fs::write(
        &f,
        "{\"id\":\"k2\",\"city\":\"Rome\",\"email\":\"b@x\"}\n\n{\"id\":3,\"city\":\"Oslo\",\"email\":\"c@x\"}\n",
    )
    .unwrap();
    flowdb(&["docs", d, "import", "users", p(&f), "--batch", "1"]).ok();

    let stores = flowdb(&["docs", d, "stores", "--json", "--count"]).ok();
    let v: Value = serde_json::from_slice(&stores.stdout).unwrap();
    assert_eq!(v[0]["name"], "users");
    assert_eq!(v[0]["count"], 3);
    assert_eq!(v[0]["indexes"].as_array().unwrap().len(), 2);
    assert!(flowdb(&["docs", d, "stores"])
        .ok()
        .text()
        .contains("index email  on email  (unique)"));
    let get = flowdb(&["docs", d, "get", "users", "k2"]).ok();
    assert_eq!(
        get.text(),
        "{\"city\":\"Rome\",\"email\":\"b@x\",\"id\":\"k2\"}\n"
    );
    assert_eq!(flowdb(&["docs", d, "get", "users", "7"]).status, 1);
    let eq = flowdb(&["docs", d, "query", "users", "by_city", "--eq", "Oslo"]).ok();
    assert_eq!(eq.lines().len(), 2);
    let range = flowdb(&[
        "docs", d, "query", "users", "by_city", "--from", "P", "--to", "\"S\"",
    ])
    .ok();
    assert_eq!(
        range.lines(),
        ["{\"city\":\"Rome\",\"email\":\"b@x\",\"id\":\"k2\"}"]
    );
    let desc = flowdb(&[
        "docs",
        d,
        "query",
        "users",
        "by_city",
        "--reverse",
        "--limit",
        "1",
    ])
    .ok();
    assert!(desc.text().contains("Rome"));
    let export = flowdb(&["docs", d, "export", "users"]).ok();
    assert_eq!(export.lines().len(), 3);
    assert!(export.lines()[0].contains("\"id\":1"), "{}", export.text());

    // Malformed lines: nothing imported; --skip-bad imports the rest.
    let bad = t.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\":10,\"email\":\"j@x\"}\nnot json\n[1]\n").unwrap();
    let no = flowdb(&["docs", d, "import", "users", p(&bad)]);
    assert_eq!(no.status, 1);
    assert!(
        no.stderr
            .contains("2 malformed lines; nothing was imported"),
        "{}",
        no.stderr
    );
    assert!(
        no.stderr.contains("line 2: not JSON") && no.stderr.contains("line 3: not a JSON object")
    );
    assert_eq!(flowdb(&["docs", d, "get", "users", "10"]).status, 1);
    flowdb(&["docs", d, "import", "users", p(&bad), "--skip-bad"]).ok();
    flowdb(&["docs", d, "get", "users", "10"]).ok();
    // A document the store refuses stops the import at its transaction.
    let dup = t.path().join("dup.jsonl");
    std::fs::write(
        &dup,
        "{\"id\":20,\"email\":\"n@x\"}\n{\"id\":21,\"email\":\"a@x\"}\n",
    )
    .unwrap();
    let refused = flowdb(&["docs", d, "import", "users", p(&dup), "--batch", "1"]);
    assert_eq!(refused.status, 1);
    assert!(
        refused.stderr.contains("line 2: store \"users\" refused"),
        "{}",
        refused.stderr
    );
    assert!(refused
        .stderr
        .contains("lines 1..1 are imported; rerun with --skip-lines 1"));
    flowdb(&["docs", d, "delete", "users", "20"]).ok();
    assert_eq!(flowdb(&["docs", d, "get", "users", "20"]).status, 1);

    // The reads open read-only: they work while a writer holds the directory.
    let writer = JsonDB::open(Config::new(&db)).unwrap();
    writer
        .put("users", serde_json::json!({"id": 30, "email": "w@x"}))
        .unwrap();
    flowdb(&["docs", d, "get", "users", "30"]).ok();
    let locked = flowdb(&["docs", d, "put", "users", "{\"id\":31}"]);
    assert_eq!(locked.status, 1);
    assert!(
        locked.stderr.contains("in use by another process"),
        "{}",
        locked.stderr
    );
    writer.shutdown().unwrap();
}

#[test]
fn load_numbers_and_aggregate_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, csv) = (tmp.path().join("db"), tmp.path().join("temps.csv"));
    // Every 15 s: 3 1 4 1 in the first minute, 5 9 in the second; bytes beside them.
    std::fs::write(
        &csv,
        "key,ts,value\nt.a,0,3\nt.a,15000000,1\nt.a,30000000,4\nt.a,45000000,1\n\
         t.a,60000000,5\nt.a,75000000,9.5\nt.b,0,-2e0\n",
    )
    .unwrap();
    flowdb(&["load", p(&db), p(&csv), "--numbers"]).ok();
    write_db(&db, &[Record::new("t.c", 0, b"not a point".to_vec())]);
    let out = flowdb(&[
        "aggregate",
        p(&db),
        "--prefix",
        "t.",
        "--step",
        "1m",
        "--fn",
        "count,sum,first,last,increase",
        "--format",
        "jsonl",
    ])
    .ok();
    assert_eq!(
        out.lines(),
        [
            r#"{"key":"t.a","start":0,"count":4,"sum":9,"first":3,"last":1,"increase":5}"#,
            r#"{"key":"t.a","start":60000000,"count":2,"sum":14.5,"first":5,"last":9.5,"increase":4.5}"#,
            r#"{"key":"t.b","start":0,"count":1,"sum":-2,"first":-2,"last":-2,"increase":0}"#,
        ]
    );
    let out = flowdb(&[
        "aggregate",
        p(&db),
        "--step",
        "1h",
        "--fn",
        "max",
        "--group",
        "all",
        "--format",
        "csv",
    ])
    .ok();
    assert_eq!(out.lines(), ["key,start,max", ",0,9.5"]);
    // --rollup reads a rule's rollup: the rolled maxima, per hour.
    let mut tuning = flowdb::Tuning::default();
    tuning.rollups.push(flowdb::RollupRule::new(
        "1m",
        60_000_000,
        &[flowdb::Agg::Max],
    ));
    let e = Engine::open_with(Config::new(&db), tuning).unwrap();
    e.run_rollups().unwrap();
    e.shutdown().unwrap();
    let out = flowdb(&[
        "aggregate",
        p(&db),
        "--rollup",
        "1m",
        "--prefix",
        "max:t.",
        "--step",
        "1h",
        "--fn",
        "max,count",
        "--format",
        "csv",
    ])
    .ok();
    assert_eq!(
        out.lines(),
        ["key,start,max,count", "max:t.a,0,9.5,2", "max:t.b,0,-2,1"]
    );
    let out = flowdb(&["aggregate", p(&db), "--rollup", "../x", "--step", "1h"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("--rollup"), "{}", out.stderr);
    // dump marks points, and load brings them back as points: dump -> load -> dump
    // is byte-identical and the copy aggregates the same.
    let (dump, copy) = (tmp.path().join("dump.jsonl"), tmp.path().join("copy"));
    flowdb(&["dump", p(&db), "-o", p(&dump)]).ok();
    let text = std::fs::read_to_string(&dump).unwrap();
    assert_eq!(text.matches(r#""point":true"#).count(), 7, "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.contains("t.c") && l.contains(r#""point":true"#)),
        "{text}"
    );
    flowdb(&["load", p(&copy), p(&dump)]).ok();
    let again = flowdb(&["dump", p(&copy)]).ok();
    assert_eq!(again.text(), text);
    let agg = |d: &Path| {
        flowdb(&["aggregate", p(d), "--step", "1m", "--format", "csv"])
            .ok()
            .text()
    };
    assert_eq!(agg(&copy), agg(&db));
    let scanned = flowdb(&["scan", p(&db), "--prefix", "t.b"]).ok();
    assert!(
        scanned.text().contains(r#""point":true"#),
        "{}",
        scanned.text()
    );
    let out = flowdb(&[
        "aggregate",
        p(&db),
        "--prefix",
        "t.a",
        "--step",
        "60s",
        "--reverse",
        "--limit",
        "1",
    ])
    .ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "a header and one bucket: {lines:?}");
    assert!(
        lines[1].starts_with("t.a") && lines[1].contains("1970-01-01T00:01:00Z"),
        "{}",
        lines[1]
    );
    // Bad input: a value that is not a number loads nothing; bad steps, functions
    // and groups are named.
    std::fs::write(&csv, "key,ts,value\nt.z,1,2\nt.z,2,hot\n").unwrap();
    let out = flowdb(&["load", p(&db), p(&csv), "--numbers"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("line 3") && out.stderr.contains("not a number"),
        "{}",
        out.stderr
    );
    for (arg, value, says) in [
        ("--step", "0s", "--step"),
        ("--step", "5y", "unit"),
        ("--fn", "median", "median"),
        ("--group", "host", "--group"),
    ] {
        let mut args = vec!["aggregate", p(&db), arg, value];
        if arg != "--step" {
            args.extend(["--step", "1m"]);
        }
        let out = flowdb(&args);
        assert_eq!(out.status, 1, "{arg} {value}");
        assert!(out.stderr.contains(says), "{arg} {value}: {}", out.stderr);
    }
    let e = Engine::open(Config::new(&db)).unwrap();
    assert!(
        e.get("t.z", 1).unwrap().is_none(),
        "nothing of the bad file was loaded"
    );
    e.shutdown().unwrap();
}

/// `docs import` into a store without a key path inside its documents (out-of-line
/// keys from a key generator) takes any JSON value as a document, not objects only.
#[test]
fn docs_import_takes_any_json_value_where_keys_are_out_of_line() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("docs");
    let d = p(&db);
    flowdb(&[
        "docs",
        d,
        "create-store",
        "notes",
        "--key-path",
        "[]",
        "--auto-increment",
    ])
    .ok();
    let f = t.path().join("notes.jsonl");
    std::fs::write(&f, "\"hello\"\n42\n[1,2]\n{\"a\":1}\n").unwrap();
    flowdb(&["docs", d, "import", "notes", p(&f)]).ok();
    let got = flowdb(&["docs", d, "get", "notes", "3"]).ok();
    assert_eq!(got.text().trim(), "[1,2]");
    let stores = flowdb(&["docs", d, "stores", "--json", "--count"]).ok();
    let v: Value = serde_json::from_slice(&stores.stdout).unwrap();
    assert_eq!(v[0]["count"], 4);
    // Exported, each document goes with its key (the documents do not hold them),
    // and imports back under it: with a generator or without one. (The keys were
    // once left out, and an import renumbered the documents.)
    flowdb(&["docs", d, "delete", "notes", "1"]).ok();
    let out = t.path().join("notes-out.jsonl");
    flowdb(&["docs", d, "export", "notes", "-o", p(&out)]).ok();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("{\"key\":2,\"doc\":42}\n"), "{text}");
    for auto in [true, false] {
        let db2 = t.path().join(format!("docs-{auto}"));
        let d2 = p(&db2);
        let mut create = vec!["docs", d2, "create-store", "notes", "--key-path", "[]"];
        if auto {
            create.push("--auto-increment");
        }
        flowdb(&create).ok();
        flowdb(&["docs", d2, "import", "notes", p(&out)]).ok();
        for k in ["2", "3", "4"] {
            let a = flowdb(&["docs", d, "get", "notes", k]).ok();
            let b = flowdb(&["docs", d2, "get", "notes", k]).ok();
            assert_eq!(a.text(), b.text(), "key {k}");
        }
        assert_eq!(flowdb(&["docs", d2, "get", "notes", "1"]).status, 1);
    }
}

/// Negative timestamps and negative JSON keys are values, not flags (`--from -10`,
/// `get d a -5`, `docs get s -1`): clap once refused them as unknown arguments.
#[test]
fn negative_timestamps_and_keys_are_values_not_flags() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("d");
    write_db(
        &d,
        &[
            Record::new("a", -5, b"x".to_vec()),
            Record::new("a", 1, b"y".to_vec()),
        ],
    );
    let scan = flowdb(&["scan", p(&d), "--from", "-10", "--to", "-1"]).ok();
    assert_eq!(scan.text().lines().count(), 1, "{}", scan.text());
    assert!(flowdb(&["get", p(&d), "a", "-5"])
        .ok()
        .text()
        .contains("\"ts\":-5"));
    let x = t.path().join("x");
    let x = p(&x);
    flowdb(&["docs", x, "create-store", "s", "--key-path", "id"]).ok();
    flowdb(&["docs", x, "create-index", "s", "by_v", "v"]).ok();
    flowdb(&["docs", x, "put", "s", r#"{"id":-1,"v":-3}"#]).ok();
    assert!(flowdb(&["docs", x, "get", "s", "-1"])
        .ok()
        .text()
        .contains("\"v\":-3"));
    let q = flowdb(&[
        "docs", x, "query", "s", "by_v", "--from", "-5", "--to", "-2",
    ])
    .ok();
    assert_eq!(q.text().lines().count(), 1, "{}", q.text());
    flowdb(&["docs", x, "delete", "s", "-1"]).ok();
    assert_eq!(flowdb(&["docs", x, "get", "s", "-1"]).status, 1);
}

/// Output files are written whole or not at all: `docs export -o` of a store that
/// is not there leaves the file as it was (it once emptied it), a `dump -o` leaves
/// no temporary file, and `dump -o` naming a directory fails. A FIFO is written
/// into, not replaced (a reader on it gets the dump).
#[test]
fn failed_exports_leave_their_output_file_alone() {
    let t = tempfile::tempdir().unwrap();
    let x = t.path().join("x");
    let x = p(&x);
    flowdb(&["docs", x, "create-store", "s", "--key-path", "id"]).ok();
    let f = t.path().join("u.jsonl");
    std::fs::write(&f, "keep\n").unwrap();
    let no = flowdb(&["docs", x, "export", "nosuch", "-o", p(&f)]);
    assert_eq!(no.status, 1, "{}", no.stderr);
    assert!(no.stderr.contains("nosuch"), "{}", no.stderr);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "keep\n");
    flowdb(&["docs", x, "put", "s", r#"{"id":1}"#]).ok();
    flowdb(&["docs", x, "export", "s", "-o", p(&f)]).ok();
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "{\"id\":1}\n");
    let d = t.path().join("d");
    write_db(&d, &[Record::new("a", 1, b"x".to_vec())]);
    let dump = t.path().join("dump.jsonl");
    flowdb(&["dump", p(&d), "-o", p(&dump)]).ok();
    assert!(std::fs::read_to_string(&dump)
        .unwrap()
        .contains("\"key\":\"a\""));
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("flowdb-export"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let no = flowdb(&["dump", p(&d), "-o", p(t.path())]);
    assert_eq!(no.status, 1, "{}", no.stderr);
    assert!(no.stderr.contains("is a directory"), "{}", no.stderr);
    let fifo = t.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    flowdb(&["dump", p(&d), "-o", p(&fifo)]).ok();
    assert!(reader.join().unwrap().contains("\"key\":\"a\""));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // A symbolic link (as /dev/stdout is) is written through, not replaced.
    let target = t.path().join("target.jsonl");
    std::fs::write(&target, "old old old old old old old old old old old\n").unwrap();
    let link = t.path().join("link.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    flowdb(&["dump", p(&d), "-o", p(&link)]).ok();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let got = std::fs::read_to_string(&target).unwrap();
    assert!(
        got.starts_with("{\"key\":\"a\"") && !got.contains("old"),
        "{got}"
    );
}

/// A write command that writes nothing creates nothing: a `load` of a file with
/// only bad lines, and a `docs put` into a directory that does not exist (a typo),
/// leave no database behind.
#[test]
fn write_commands_that_write_nothing_create_no_database() {
    let t = tempfile::tempdir().unwrap();
    let bad = t.path().join("bad.csv");
    std::fs::write(&bad, "key,ts,value\na,notatime,x\n").unwrap();
    let new = t.path().join("new");
    let no = flowdb(&["load", p(&new), p(&bad)]);
    assert_eq!(no.status, 1, "{}", no.stderr);
    assert!(!new.exists(), "load created {}", new.display());
    let typo = t.path().join("typo");
    let no = flowdb(&["docs", p(&typo), "put", "users", r#"{"id":1}"#]);
    assert_ne!(no.status, 0);
    assert!(no.stderr.contains("does not exist"), "{}", no.stderr);
    assert!(!typo.exists());
}

/// Numeric points survive a CSV round trip (`scan --format csv` marks them in a
/// `point` column, `load` reads it): aggregating the copy gives the same buckets.
#[test]
fn points_survive_a_csv_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src.csv");
    std::fs::write(
        &src,
        "key,ts,value\ncpu,1000000,1.5\ncpu,2000000,-2\ncpu,3000000,4\n",
    )
    .unwrap();
    let nd = t.path().join("nd");
    flowdb(&["load", p(&nd), p(&src), "--numbers"]).ok();
    let csv = flowdb(&["scan", p(&nd), "--format", "csv"]).ok();
    assert!(csv.text().starts_with("key,ts,value,expire_at,point\n"));
    let copy = t.path().join("copy.csv");
    std::fs::write(&copy, &csv.stdout).unwrap();
    let nd2 = t.path().join("nd2");
    flowdb(&["load", p(&nd2), p(&copy)]).ok();
    let a = flowdb(&["aggregate", p(&nd), "--step", "1h"]).ok();
    let b = flowdb(&["aggregate", p(&nd2), "--step", "1h"]).ok();
    assert_eq!(a.text(), b.text());
    assert_eq!(b.text().lines().count(), 2, "{}", b.text());
    // `get` marks a point too.
    let got = flowdb(&["get", p(&nd2), "cpu", "2000000", "--format", "csv"]).ok();
    assert!(
        got.text().lines().nth(1).unwrap().ends_with(",true"),
        "{}",
        got.text()
    );
    let got = flowdb(&["get", p(&nd2), "cpu"]).ok();
    assert!(got.text().contains("\"point\":true"), "{}", got.text());
}

/// `aggregate` streams its buckets and names a key that is not UTF-8 by `key_b64`
/// in JSON lines (it printed U+FFFD, so distinct keys could look alike) and by its
/// raw bytes in CSV.
#[test]
fn aggregate_names_binary_keys_exactly() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("d");
    {
        let e = flowdb::Engine::open(flowdb::Config::new(&d)).unwrap();
        let pts: Vec<flowdb::Point> = [b"\xfex".to_vec(), b"\xffx".to_vec()]
            .into_iter()
            .flat_map(|k| {
                (0..3).map(move |i| flowdb::Point::new(k.clone(), i * 1_000_000, i as f64))
            })
            .collect();
        e.write_points(&pts).unwrap();
        e.shutdown().unwrap();
    }
    let j = flowdb(&["aggregate", p(&d), "--step", "1h", "--format", "jsonl"])
        .ok()
        .text();
    let lines: Vec<&str> = j.lines().collect();
    assert_eq!(lines.len(), 2, "{j}");
    assert!(
        lines[0].starts_with("{\"key_b64\":\"/ng=\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("{\"key_b64\":\"/3g=\""),
        "{}",
        lines[1]
    );
    let c = flowdb(&["aggregate", p(&d), "--step", "1h", "--format", "csv"]).ok();
    assert!(c.stdout.starts_with(b"key,start,"), "{}", c.text());
    assert!(
        c.stdout.windows(3).any(|w| w == b"\n\xfex"),
        "{:?}",
        c.stdout
    );
}

/// Keys that are not UTF-8 are named in base64, as the output shows them (`key_b64`):
/// `get --key-b64`, and `--prefix-b64`, `--from-key-b64` and `--to-key-b64` beside
/// `--prefix`, `--from-key` and `--to-key` on `scan`, `series`, `dump`, `aggregate`
/// and `export`. A key `dump` or `series --json` printed feeds back as printed; a text
/// key that looks like base64 is still itself (nothing is sniffed); bad base64 is a
/// usage error naming its option. (Such keys could be listed, never named.)
#[test]
fn binary_keys_are_named_in_base64() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    {
        let e = Engine::open(Config::new(&db)).unwrap();
        e.write_batch(&[
            Record::new(vec![0xff, 0x00, b'k'], 1, b"one".to_vec()),
            Record::new(vec![0xff, 0x00, b'k'], 2, b"two".to_vec()),
            Record::new(vec![0xff, 0x01], 1, b"other".to_vec()),
            // The text of the first key's base64: a key of its own.
            Record::new("/wBr", 1, b"text".to_vec()),
            Record::new("cpu", 1, b"c".to_vec()),
        ])
        .unwrap();
        let pts: Vec<flowdb::Point> = (0..3)
            .map(|i| flowdb::Point::new(vec![0xfe, b'p'], i * 1_000_000, i as f64))
            .collect();
        e.write_points(&pts).unwrap();
        e.shutdown().unwrap();
    }
    let d = p(&db);

    // What `series --json` and `dump` print feeds back.
    let listed = flowdb(&["series", d, "--json"]).ok();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let b64: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["key_b64"].as_str())
        .collect();
    assert_eq!(b64, ["/nA=", "/wBr", "/wE="]);
    let got = flowdb(&["get", d, "--key-b64", b64[1]]).ok();
    assert_eq!(
        got.text(),
        "{\"key_b64\":\"/wBr\",\"ts\":2,\"value\":\"two\"}\n"
    );
    let at = flowdb(&["get", d, "--key-b64", "/wBr", "1", "--format", "csv"]).ok();
    assert_eq!(
        at.stdout,
        b"key,ts,value,expire_at,point\n\xff\x00k,1,one,,\n"
    );
    let at = flowdb(&["get", d, "1", "--key-b64", "/wE="]).ok();
    assert!(at.text().contains("\"value\":\"other\""), "{}", at.text());
    // Unpadded base64 is taken too.
    flowdb(&["get", d, "--key-b64", "/wE"]).ok();
    let point = flowdb(&["get", d, "--key-b64", "/nA="]).ok();
    assert!(point.text().contains("\"point\":true"), "{}", point.text());
    // The text key /wBr is itself.
    let text = flowdb(&["get", d, "/wBr"]).ok();
    assert_eq!(
        text.text(),
        "{\"key\":\"/wBr\",\"ts\":1,\"value\":\"text\"}\n"
    );
    let none = flowdb(&["get", d, "--key-b64", "/wBr", "9"]);
    assert_eq!(none.status, 1);
    assert!(
        none.stderr
            .contains(r#"no record with key "\xff\x00k" (base64 "/wBr") at ts 9"#),
        "{}",
        none.stderr
    );

    // Prefixes and key ranges.
    let scan = flowdb(&["scan", d, "--prefix-b64", "/w=="]).ok();
    assert_eq!(
        scan.lines(),
        [
            r#"{"key_b64":"/wBr","ts":1,"value":"one"}"#,
            r#"{"key_b64":"/wBr","ts":2,"value":"two"}"#,
            r#"{"key_b64":"/wE=","ts":1,"value":"other"}"#,
        ]
    );
    let range = flowdb(&["scan", d, "--from-key-b64", "/wA=", "--to-key-b64", "/wBr"]).ok();
    assert_eq!(range.lines().len(), 2, "{}", range.text());
    // Text and base64 ends mixed: "cpu" ..= [ff 00] holds cpu and the points of [fe p].
    let mixed = flowdb(&["scan", d, "--from-key", "cpu", "--to-key-b64", "/wA="]).ok();
    let lines = mixed.lines();
    assert_eq!(lines.len(), 4, "{}", mixed.text());
    assert_eq!(lines[0], r#"{"key":"cpu","ts":1,"value":"c"}"#);
    assert!(lines[1..]
        .iter()
        .all(|l| l.starts_with(r#"{"key_b64":"/nA=""#)));
    let open_end = flowdb(&["scan", d, "--from-key-b64", "/wE="]).ok();
    assert_eq!(open_end.lines().len(), 1, "{}", open_end.text());
    let dump = flowdb(&["dump", d, "--prefix-b64", "/wA="]).ok();
    assert_eq!(dump.lines().len(), 2, "{}", dump.text());
    let series = flowdb(&["series", d, "--prefix-b64", "/w==", "--json"]).ok();
    let series: Value = serde_json::from_slice(&series.stdout).unwrap();
    assert_eq!(series.as_array().unwrap().len(), 2, "{series}");
    let no_series = flowdb(&["series", d, "--prefix-b64", "gA=="]).ok();
    assert!(
        no_series
            .stderr
            .contains(r#"no series under "\x80" (base64 "gA==")"#),
        "{}",
        no_series.stderr
    );
    let agg = flowdb(&[
        "aggregate",
        d,
        "--prefix-b64",
        "/nA=",
        "--step",
        "1h",
        "--format",
        "jsonl",
    ])
    .ok();
    assert_eq!(agg.lines().len(), 1, "{}", agg.text());
    assert!(agg.lines()[0].starts_with("{\"key_b64\":\"/nA=\""));
    let out = t.path().join("out.parquet");
    let export = flowdb(&[
        "export",
        d,
        p(&out),
        "--prefix-b64",
        "/w==",
        "--binary-keys",
    ])
    .ok();
    assert!(export.stderr.contains(": 3 rows"), "{}", export.stderr);

    // Bad base64 and conflicting forms are usage errors.
    for (args, names) in [
        (vec!["get", d, "--key-b64", "!!"], "--key-b64"),
        (vec!["scan", d, "--from-key-b64", "/w?"], "--from-key-b64"),
        (vec!["scan", d, "--to-key-b64", "a"], "--to-key-b64"),
        (vec!["dump", d, "--prefix-b64", "*"], "--prefix-b64"),
        (vec!["series", d, "--prefix-b64", "%"], "--prefix-b64"),
        (
            vec!["aggregate", d, "--step", "1h", "--prefix-b64", "-"],
            "--prefix-b64",
        ),
    ] {
        let bad = flowdb(&args);
        assert_eq!(bad.status, 2, "{args:?}: {}", bad.stderr);
        assert!(
            bad.stderr.contains(names) && bad.stderr.contains("base64"),
            "{args:?}: {}",
            bad.stderr
        );
    }
    for args in [
        vec!["get", d],
        vec!["get", d, "cpu", "--key-b64", "/w==", "1"],
        vec!["scan", d, "--prefix-b64", "/w==", "--from-key", "a"],
        vec!["scan", d, "--prefix", "a", "--to-key-b64", "/w=="],
        vec!["scan", d, "--from-key", "a", "--from-key-b64", "YQ=="],
        vec!["dump", d, "--prefix", "a", "--prefix-b64", "YQ=="],
        vec!["series", d, "a", "--prefix-b64", "YQ=="],
    ] {
        let bad = flowdb(&args);
        assert_eq!(bad.status, 2, "{args:?}: {}", bad.stderr);
    }
}

/// The primary key or index value of a `docs` command line: JSON, else a string.
fn json_arg(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// `docs query` prints what the collected reads gave before it streamed
/// (`JsonDB::get_by_index`, turned round for --reverse, or `JsonDB::index_query`, cut
/// by --limit), line for line: on plain, compound, unique and multi-entry indexes,
/// with prefixes of compound keys (a scalar, shorter arrays, the empty one), numbers
/// written two ways, empty results, and the same errors.
#[test]
fn docs_query_prints_what_the_collected_reads_gave() {
    use flowdb::jsondb::{Direction, KeyRange};
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("docs");
    let d = p(&db);
    flowdb(&["docs", d, "create-store", "people", "--key-path", "id"]).ok();
    for (name, path, flag) in [
        ("by_city", "city", None),
        ("by_city_age", "city,age", None),
        ("email", "email", Some("--unique")),
        ("tags", "tags", Some("--multi-entry")),
    ] {
        let mut args = vec!["docs", d, "create-index", "people", name, path];
        args.extend(flag);
        flowdb(&args).ok();
    }
    let f = t.path().join("people.jsonl");
    std::fs::write(
        &f,
        r#"{"id":1,"city":"Oslo","age":30,"email":"a@x","tags":["red","blue"],"z":1.50,"n":"é\u0001"}
{"id":2,"city":"Oslo","age":30.0,"email":"b@x","tags":["blue"]}
{"id":3,"city":"Oslo","age":25,"email":"c@x","tags":[]}
{"id":"k4","city":"Osl","age":40,"email":"d@x"}
{"id":5,"city":"Oslo ","age":30,"email":"e@x","tags":"red"}
{"id":6,"city":"Rome","age":30,"email":"f@x","tags":["red","red"]}
{"id":[7,"a"],"city":["Oslo"],"age":1,"email":"g@x"}
{"id":8,"city":"Oslo","age":[30],"email":"h@x"}
{"id":9,"city":"Oslo","email":"i@x"}
{"id":10,"city":"Rome","age":-1e3,"email":"j@x","big":12345678901234567890}
{"id":11,"city":"Oslo","age":"30","email":"k@x"}
"#,
    )
    .unwrap();
    flowdb(&["docs", d, "import", "people", p(&f)]).ok();
    let reference = JsonDB::open_read_only(Config::new(&db)).unwrap();
    // (index, --eq, --from, --to, --reverse, --limit)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        bool,
        Option<usize>,
    );
    let mut cases: Vec<Case<'_>> = Vec::new();
    for eq in [
        "Oslo",
        "[\"Oslo\"]",
        "[\"Oslo\",30]",
        "[\"Oslo\",30.0]",
        "[\"Oslo\",30,1]",
        "Osl",
        "Rome",
        "[]",
        "[[\"Oslo\"]]",
        "Nowhere",
        "{\"a\":1}",
        "[{\"a\":1}]",
        "12345678901234567890",
    ] {
        for index in ["by_city", "by_city_age"] {
            for reverse in [false, true] {
                for limit in [None, Some(0), Some(2)] {
                    cases.push((index, Some(eq), None, None, reverse, limit));
                }
            }
        }
    }
    for eq in ["c@x", "zz"] {
        cases.push(("email", Some(eq), None, None, false, None));
        cases.push(("email", Some(eq), None, None, true, None));
    }
    for reverse in [false, true] {
        cases.push(("tags", Some("red"), None, None, reverse, None));
        for index in ["by_city", "by_city_age", "email", "tags", "nosuch"] {
            cases.push((index, None, None, None, reverse, None));
            cases.push((index, None, None, None, reverse, Some(3)));
        }
        for (from, to) in [
            (Some("P"), None),
            (None, Some("Osl")),
            (Some("Oslo"), Some("Oslo")),
            (Some("Rome"), Some("Oslo")),
            (Some("{}"), None),
        ] {
            cases.push(("by_city", None, from, to, reverse, None));
        }
        cases.push((
            "by_city_age",
            None,
            Some("[\"Oslo\",26]"),
            Some("[\"Oslo\",30]"),
            reverse,
            Some(1),
        ));
        cases.push(("email", None, Some("b@x"), Some("e@x"), reverse, Some(2)));
        cases.push(("nosuch", Some("1"), None, None, reverse, None));
    }
    for (index, eq, from, to, reverse, limit) in cases {
        let mut args = vec!["docs", d, "query", "people", index];
        let limit_text = limit.map(|n| n.to_string());
        for (flag, v) in [("--eq", eq), ("--from", from), ("--to", to)] {
            if let Some(v) = v {
                args.extend([flag, v]);
            }
        }
        if reverse {
            args.push("--reverse");
        }
        if let Some(n) = &limit_text {
            args.extend(["--limit", n.as_str()]);
        }
        let read = match eq {
            Some(v) => reference
                .get_by_index("people", index, &json_arg(v))
                .map(|mut docs| {
                    if reverse {
                        docs.reverse();
                    }
                    docs
                }),
            None => {
                let (lo, hi) = (from.map(json_arg), to.map(json_arg));
                let range = match (&lo, &hi) {
                    (Some(l), Some(h)) => KeyRange::bound(l, h, false, false),
                    (Some(l), None) => KeyRange::lower_bound(l, false),
                    (None, Some(h)) => KeyRange::upper_bound(h, false),
                    (None, None) => Ok(KeyRange::all()),
                };
                let dir = if reverse {
                    Direction::Prev
                } else {
                    Direction::Next
                };
                range.and_then(|r| reference.index_query("people", index, &r, dir))
            }
        };
        let got = flowdb(&args);
        match read {
            Ok(mut docs) => {
                if let Some(n) = limit {
                    docs.truncate(n);
                }
                let want: String = docs
                    .iter()
                    .map(|doc| serde_json::to_string(doc).unwrap() + "\n")
                    .collect();
                assert_eq!(
                    (got.status, got.text()),
                    (0, want),
                    "{args:?}: {}",
                    got.stderr
                );
            }
            Err(e) => {
                assert_eq!(got.status, 1, "{args:?}: {}", got.text());
                assert_eq!(got.stderr, format!("flowdb: {e}\n"), "{args:?}");
                assert!(got.stdout.is_empty(), "{args:?}");
            }
        }
    }
}

/// `docs query` streams: its first document is out while the others are still
/// unread, so memory does not grow with the result. (It collected every document
/// before printing one: a query of 48 MB of documents held them all.) Measured as the
/// peak RSS (VmHWM) of the process when its first line has arrived and its stdout
/// pipe is full; then every document must still come.
#[cfg(target_os = "linux")]
#[test]
fn docs_query_streams_its_documents() {
    use flowdb::jsondb::{IndexSchema, StoreSchema, TransactionMode};
    use std::io::{BufRead, BufReader};
    const DOCS: usize = 3000;
    const PAD: usize = 16 << 10;
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("docs");
    {
        let w = JsonDB::open(Config::new(&db)).unwrap();
        w.create_store(&StoreSchema::new("big", "id")).unwrap();
        w.create_index_with("big", &IndexSchema::new("by_g", "g"))
            .unwrap();
        let mut rng = fastrand::Rng::with_seed(11);
        for chunk in 0..DOCS / 100 {
            let mut tx = w.transaction(&["big"], TransactionMode::ReadWrite).unwrap();
            for i in 0..100 {
                let pad: String = (0..PAD).map(|_| rng.alphanumeric()).collect();
                let doc = serde_json::json!({"id": chunk * 100 + i, "g": 1, "pad": pad});
                tx.put("big", doc).unwrap();
            }
            tx.commit().unwrap();
        }
        w.shutdown().unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowdb"))
        .args(["docs", p(&db), "query", "big", "by_g", "--eq", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run flowdb");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("{\"g\":1,\"id\":0,"), "{}", &line[..40]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    let mut n = 1;
    while {
        line.clear();
        out.read_line(&mut line).unwrap() > 0
    } {
        n += 1;
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(n, DOCS);
    let data_mb = (DOCS * PAD) >> 20;
    eprintln!(
        "docs query: peak RSS {} MiB at its first line, of {data_mb} MiB of documents",
        peak_kb >> 10
    );
    // Collected, the documents alone are more than their size in memory (126 MiB of
    // peak RSS here); streamed, the peak is about 24 MiB.
    assert!(
        peak_kb >> 10 < data_mb as u64,
        "peak RSS {} MiB at the first line: the documents were collected",
        peak_kb >> 10
    );
}

/// A `load` with nothing to write creates nothing: no directory for a missing
/// database (an empty file, a CSV header alone, only bad lines with --skip-bad,
/// every line skipped), no database in an empty directory. It says so on stderr and
/// succeeds, as a load of no records always did; an existing database is left as it
/// was. `docs import` of an empty file writes nothing (its store must exist, so it
/// never creates a database) and says so too.
#[test]
fn load_and_import_of_nothing_create_nothing() {
    let t = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let f = t.path().join(name);
        std::fs::write(&f, text).unwrap();
        f
    };
    let empty = file("empty.jsonl", "");
    let header = file("header.csv", "key,ts,value\n");
    let bad = file("bad.csv", "key,ts,value\na,notatime,x\n");
    let two = file("two.csv", "key,ts,value\na,1,x\nb,2,y\n");
    let new = t.path().join("new");
    for args in [
        vec!["load", p(&new), p(&empty)],
        vec!["load", p(&new), p(&header)],
        vec!["load", p(&new), p(&empty), "--skip-bad"],
        vec!["load", p(&new), p(&bad), "--skip-bad"],
        vec!["load", p(&new), p(&two), "--skip-lines", "3"],
        vec!["load", p(&new), p(&two), "--skip-lines", "3", "-q"],
    ] {
        let out = flowdb(&args).ok();
        assert!(!new.exists(), "{args:?} created {}", new.display());
        assert!(
            out.stderr.contains("no records to load") && out.stderr.contains("was not created"),
            "{args:?}: {}",
            out.stderr
        );
    }
    let bad_out = flowdb(&["load", p(&new), p(&bad), "--skip-bad"]).ok();
    assert!(
        bad_out.stderr.contains("skipped 1 malformed line"),
        "{}",
        bad_out.stderr
    );

    // An empty directory gets no database in it.
    let dir = t.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    let out = flowdb(&["load", p(&dir), p(&header)]).ok();
    assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

    // An existing database: nothing changes, and it is said.
    let db = t.path().join("db");
    small_db(&db);
    let before = flowdb(&["dump", p(&db)]).ok().stdout;
    let out = flowdb(&["load", p(&db), p(&empty)]).ok();
    assert!(out.stderr.contains("no records to load"), "{}", out.stderr);
    assert_eq!(flowdb(&["dump", p(&db)]).ok().stdout, before);

    // docs import: a missing database is an error and stays missing; an empty file
    // into a store imports nothing.
    let docs = t.path().join("docs");
    let no = flowdb(&["docs", p(&docs), "import", "users", p(&empty)]);
    assert_eq!(no.status, 1, "{}", no.stderr);
    assert!(!docs.exists());
    flowdb(&[
        "docs",
        p(&docs),
        "create-store",
        "users",
        "--key-path",
        "id",
    ])
    .ok();
    let none = flowdb(&["docs", p(&docs), "import", "users", p(&empty)]).ok();
    assert!(
        none.stderr.contains("no documents to import"),
        "{}",
        none.stderr
    );
    let stores = flowdb(&["docs", p(&docs), "stores", "--json", "--count"]).ok();
    let v: Value = serde_json::from_slice(&stores.stdout).unwrap();
    assert_eq!(v[0]["count"], 0);
}
