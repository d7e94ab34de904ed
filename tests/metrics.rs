//! Stats and metrics: every `EngineStats` field is live, `metrics_text` passes
//! `promtool check metrics` (required when FLOWDB_REQUIRE_PROMTOOL=1, as in CI), with
//! and without constant labels (`Tuning::metrics_labels`), which go on every sample.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use flowdb::jsondb::JsonDB;
use flowdb::{Engine, Error, Record, ScanRange, Tuning};

fn labelled(labels: &[(&str, &str)]) -> Tuning {
    let mut t = Tuning::default();
    t.metrics_labels = labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    t
}

fn busy_engine(dir: &std::path::Path) -> Engine {
    busy_engine_with(dir, Tuning::default())
}

fn busy_engine_with(dir: &std::path::Path, tuning: Tuning) -> Engine {
    let e = Engine::open_with(common::small_config(dir), tuning).unwrap();
    for round in 0..3 {
        let batch: Vec<Record> = (0..2000)
            .map(|i| Record::new(format!("s{:03}", i % 100), round * 10_000 + i, vec![7; 64]))
            .collect();
        e.write_batch(&batch).unwrap();
        e.flush().unwrap();
    }
    e.write_batch(&[Record::new("m", 1, vec![1])]).unwrap();
    for i in 0..200 {
        e.get(&format!("s{:03}", i % 100), i).unwrap();
    }
    e.get_latest("s001").unwrap();
    assert_eq!(e.scan(ScanRange::prefix("s00")).unwrap().count(), 600);
    e.trigger_compaction().unwrap();
    e.trigger_gc().unwrap();
    e
}

#[test]
fn stats_fields_are_live() {
    let dir = tempfile::tempdir().unwrap();
    let e = busy_engine(dir.path());
    let s = e.stats();
    assert_eq!(s.total_records_written, 6001);
    assert!(s.total_bytes_written > 6001 * 64);
    assert!(s.total_records_read >= 600);
    assert_eq!(s.total_flushes, 3);
    assert_eq!(s.total_gc_runs, 1);
    assert_eq!(s.total_compaction_runs, 1);
    assert_eq!((s.memtable_records, s.frozen_memtable_count), (1, 0));
    assert!(s.memtable_bytes > 0);
    assert_eq!(s.sstable_count, 1);
    assert!(s.sstable_bytes > 0 && s.wal_bytes > 0);
    assert!(s.block_meta_index_entries > 1);
    // Format 2 tables keep no time index (their index partitions carry ts ranges).
    assert_eq!(s.time_index_buckets, 0);
    assert!(s.block_cache_hit_rate > 0.0 && s.block_cache_hit_rate <= 1.0);
    assert!(s.compression_ratio > 1.0, "{}", s.compression_ratio);
    assert!(
        s.write_latency_p50_us <= s.write_latency_p90_us
            && s.write_latency_p90_us <= s.write_latency_p99_us
    );
    assert!(s.query_latency_p99_us > 0 && s.flush_latency_p99_us > 0);
    assert!(s.uptime_secs < 600);
}

#[test]
fn metrics_text_passes_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let text = busy_engine(dir.path()).metrics_text();
    assert!(text.contains(
        "# TYPE flowdb_records_written_total counter\nflowdb_records_written_total 6001\n"
    ));
    assert!(text.contains("flowdb_write_latency_seconds{quantile=\"0.99\"}"));
    promtool_check(&text);
    // Labelled, with a value that needs every escape.
    let dir = tempfile::tempdir().unwrap();
    let tuning = labelled(&[("db", "orders"), ("path", "C:\\d \"x\"\ny")]);
    let text = busy_engine_with(dir.path(), tuning).metrics_text();
    assert!(text.contains(
        "flowdb_records_written_total{db=\"orders\",path=\"C:\\\\d \\\"x\\\"\\ny\"} 6001\n"
    ));
    promtool_check(&text);
}

/// The sample lines of an exposition (not the # HELP and # TYPE lines).
fn samples(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

/// Two databases in one process, told apart by a label on every sample; summaries
/// keep their quantile after the constant labels; values are escaped.
#[test]
fn metrics_labels_are_on_every_sample() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = busy_engine_with(da.path(), labelled(&[("db", "a"), ("shard", "1")]));
    let b = Engine::open_with(
        common::small_config(db.path()),
        labelled(&[("db", "say \"hi\"\n\\o/")]),
    )
    .unwrap();
    let plain = samples(&busy_engine(tempfile::tempdir().unwrap().path()).metrics_text()).len();
    let (ta, tb) = (a.metrics_text(), b.metrics_text());
    let (sa, sb) = (samples(&ta), samples(&tb));
    assert_eq!((sa.len(), sb.len()), (plain, plain));
    for line in &sa {
        let (name, rest) = line.split_once('{').expect(line);
        assert!(name.starts_with("flowdb_"), "{line}");
        assert!(rest.starts_with("db=\"a\",shard=\"1\""), "{line}");
        let labels = rest.split_once('}').expect(line).0;
        let quantile = labels.contains("quantile=");
        assert_eq!(quantile, name.ends_with("_latency_seconds"), "{line}");
        if quantile {
            assert!(
                labels.starts_with("db=\"a\",shard=\"1\",quantile=\"0."),
                "{line}"
            );
        }
    }
    assert!(ta.contains("flowdb_write_latency_seconds_count{db=\"a\",shard=\"1\"} "));
    assert!(ta.contains("flowdb_flushes_total{db=\"a\",shard=\"1\"} 3\n"));
    for line in &sb {
        assert!(line.contains("{db=\"say \\\"hi\\\"\\n\\\\o/\""), "{line}");
    }
    assert!(tb.contains("flowdb_flushes_total{db=\"say \\\"hi\\\"\\n\\\\o/\"} 0\n"));
    // One scrape for both (docs/metrics.md): the first text whole, then the samples
    // of the second.
    let mut body = ta.clone();
    for line in &sb {
        body.push_str(line);
        body.push('\n');
    }
    promtool_check(&body);
    // A JsonDB is labelled through its engine.
    let dj = tempfile::tempdir().unwrap();
    let docs =
        JsonDB::open_with(common::small_config(dj.path()), labelled(&[("db", "docs")])).unwrap();
    let text = docs.engine().metrics_text();
    assert!(samples(&text).iter().all(|l| l.contains("{db=\"docs\"")));
}

/// A bad label name fails the open with InvalidArgument, naming the label and what
/// is wrong; nothing is created or locked.
#[test]
fn bad_metrics_labels_are_rejected_at_open() {
    for (labels, wanted) in [
        (
            &[("9lives", "x")][..],
            "\"9lives\" is not a Prometheus label name",
        ),
        (
            &[("db", "x"), ("__meta", "y")][..],
            "metrics_labels[1]: label name \"__meta\" begins with \"__\"",
        ),
        (
            &[("quantile", "x")][..],
            "\"quantile\" is a label flowdb's own samples use",
        ),
        (&[("le", "x")][..], "\"le\""),
        (&[("db", "x"), ("db", "y")][..], "\"db\" is given twice"),
        (&[("", "x")][..], "label name \"\" is not"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let err = Engine::open_with(common::small_config(dir.path()), labelled(labels))
            .expect_err("opened with a bad label");
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        assert!(err.to_string().contains(wanted), "{labels:?}: {err}");
        let err = JsonDB::open_with(common::small_config(dir.path()), labelled(labels))
            .expect_err("opened with a bad label");
        assert!(err.to_string().contains(wanted), "{labels:?}: {err}");
        Engine::open(common::small_config(dir.path())).unwrap();
    }
}

/// Runs `promtool check metrics` over `text` (skipped when promtool is missing,
/// unless FLOWDB_REQUIRE_PROMTOOL is set).
fn promtool_check(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) if std::env::var("FLOWDB_REQUIRE_PROMTOOL").is_err() => {
            println!("promtool not installed; skipped (CI installs it and requires it)");
            return;
        }
        Err(e) => panic!("promtool is required but could not run: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool rejected the metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
