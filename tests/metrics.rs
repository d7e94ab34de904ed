//! Stats and metrics: every `EngineStats` field is live, and `metrics_text` passes
//! `promtool check metrics` (required when FLOWDB_REQUIRE_PROMTOOL=1, as in CI).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use flowdb::{Engine, Record, ScanRange};

fn busy_engine(dir: &std::path::Path) -> Engine {
    let e = Engine::open(common::small_config(dir)).unwrap();
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
