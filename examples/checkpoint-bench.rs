//! Checkpoint benchmark (docs/benchmarks.md, "Checkpoints"): the standard 1M-record
//! database (1,000 series x 1,000 points, 128-byte values), then a writer appending
//! one record per call while the main thread either sleeps or takes checkpoints one
//! after another. Prints each checkpoint's time and the writer's latency percentiles
//! in a window without checkpoints and in one with them, and their ratio.
//!
//! `cargo run --release --example checkpoint-bench -- [--series N] [--points N] [--checkpoints N] [--dir D]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowdb::{Config, Engine, Record, SyncMode};

fn arg(name: &str, default: usize) -> usize {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn dir_arg() -> Option<String> {
    let argv: Vec<String> = std::env::args().collect();
    let i = argv.iter().position(|a| a == "--dir")?;
    argv.get(i + 1).cloned()
}

const T0: i64 = 1_700_000_000_000_000;

/// Writes one record per call until `stop`; returns each call's latency in µs.
fn writer(e: Arc<Engine>, stop: Arc<AtomicBool>, from: i64) -> Vec<u32> {
    let mut lat = Vec::with_capacity(1 << 20);
    let mut i = from;
    while !stop.load(Ordering::Relaxed) {
        let r = Record::new(format!("live.{:03}", i % 100), T0 + i, vec![7u8; 128]);
        let t = Instant::now();
        e.write_batch(&[r]).expect("write");
        lat.push(t.elapsed().as_micros() as u32);
        i += 1;
    }
    lat
}

fn percentile(v: &mut [u32], p: f64) -> u32 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p) as usize]
}

/// Runs the writer for `window` while `during` runs on this thread; returns the
/// writer's latencies and what `during` returned.
fn window<T>(e: &Arc<Engine>, from: i64, during: impl FnOnce() -> T) -> (Vec<u32>, T) {
    let stop = Arc::new(AtomicBool::new(false));
    let w = {
        let (e, stop) = (e.clone(), stop.clone());
        std::thread::spawn(move || writer(e, stop, from))
    };
    std::thread::sleep(Duration::from_millis(100)); // the writer is running
    let out = during();
    stop.store(true, Ordering::Relaxed);
    (w.join().expect("writer"), out)
}

fn main() {
    let (series, points) = (arg("--series", 1000), arg("--points", 1000));
    let checkpoints = arg("--checkpoints", 20);
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = dir_arg().map_or_else(|| tmp.path().to_path_buf(), Into::into);
    let mut config = Config::new(root.join("db"));
    config.wal_sync_mode = SyncMode::IntervalMs(1000);
    let e = Arc::new(Engine::open(config).expect("open"));
    let started = Instant::now();
    for p in 0..points {
        let batch: Vec<Record> = (0..series)
            .map(|s| {
                Record::new(
                    format!("cpu.host-{s:05}.usage"),
                    T0 + p as i64,
                    vec![1u8; 128],
                )
            })
            .collect();
        e.write_batch_owned(batch).expect("ingest");
    }
    e.flush().expect("flush");
    println!(
        "ingested {} records in {:.2} s; {} tables",
        series * points,
        started.elapsed().as_secs_f64(),
        e.tables().expect("tables").len()
    );

    let (mut quiet, ()) = window(&e, 0, || std::thread::sleep(Duration::from_secs(2)));
    let (mut busy, times) = window(&e, 1 << 40, || {
        (0..checkpoints)
            .map(|i| {
                let t = Instant::now();
                e.checkpoint(root.join(format!("cp{i}")))
                    .expect("checkpoint");
                let took = t.elapsed();
                std::thread::sleep(Duration::from_millis(50));
                took
            })
            .collect::<Vec<_>>()
    });
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "checkpoint: median {:.2} ms, max {:.2} ms ({} taken)",
        ms[ms.len() / 2],
        ms[ms.len() - 1],
        ms.len()
    );
    let (q99, b99) = (percentile(&mut quiet, 0.99), percentile(&mut busy, 0.99));
    let (q50, b50) = (percentile(&mut quiet, 0.5), percentile(&mut busy, 0.5));
    println!(
        "writer latency without checkpoints: p50 {q50} µs, p99 {q99} µs ({} writes)",
        quiet.len()
    );
    println!(
        "writer latency with checkpoints:    p50 {b50} µs, p99 {b99} µs ({} writes)",
        busy.len()
    );
    println!(
        "p99 ratio (with / without): {:.2}",
        b99 as f64 / q99.max(1) as f64
    );
}
