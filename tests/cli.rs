//! The `flowdb` command-line program (feature `cli`, docs/cli.md), run as a real
//! process: dump -> load -> dump is byte-identical (binary keys and values, TTLs,
//! unicode); CSV and JSON lines loads, all or nothing for malformed lines, --skip-bad
//! and --skip-lines; scan, get, series and stats in each output format; verify on a
//! sound and a damaged database; checkpoint, backup and compact; the read commands
//! beside a writer holding the directory (read-only opens take no lock) and a clear
//! failure for commands that need it; the JsonDB commands.

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
    let soon = flowdb::now_micros() + 1_000_000;
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
