//! The Rust API side of bench/cli-load.sh.
//!
//! `cli-load csv FILE [--series N] [--points N]` writes the benchmark's CSV file:
//! N series x N points in time order (every series' point p, then p + 1), header
//! `key,ts,value`, 16-byte values. `cli-load ingest DIR [--series N] [--points N]
//! [--batch N] [--interval-ms N]` writes the same records through the Rust API with
//! `write_batch_owned` in batches of `--batch` (default 10,000, as `flowdb load`), on
//! `Config::new(DIR)` (SyncMode::Always, as `flowdb load`; `--interval-ms`:
//! IntervalMs), and prints two rates: the write calls alone (records made outside the
//! timer), and open + making the records + writing + shutdown (what `flowdb load`'s
//! wall time covers, less parsing).

use std::io::{BufWriter, Write};
use std::time::Instant;

use flowdb::{Config, Engine, Record, SyncMode};

const T0: i64 = 1_700_000_000_000_000;
const STEP: i64 = 1_000_000;

fn key(s: usize) -> String {
    format!("cpu.host-{s:05}.usage")
}

/// 16 bytes: a reading as text, right-aligned.
fn value(s: usize, p: usize) -> Vec<u8> {
    let reading = ((s * 7919 + p * 104_729) % 10_000_000) as f64 / 1000.0;
    format!("{reading:>16.3}").into_bytes()
}

fn arg(argv: &[String], name: &str, default: usize) -> usize {
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

fn main() -> flowdb::Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    let usage = "usage: cli-load csv FILE | ingest DIR [--series N] [--points N] [--batch N] [--interval-ms N]";
    let (cmd, path) = match (argv.get(1), argv.get(2)) {
        (Some(c), Some(p)) => (c.as_str(), p.clone()),
        _ => panic!("{usage}"),
    };
    let series = arg(&argv, "--series", 1000);
    let points = arg(&argv, "--points", 1000);
    match cmd {
        "csv" => {
            let mut out =
                BufWriter::new(std::fs::File::create(&path).expect("create the CSV file"));
            writeln!(out, "key,ts,value").expect("write");
            for p in 0..points {
                for s in 0..series {
                    let v = value(s, p);
                    writeln!(
                        out,
                        "{},{},{}",
                        key(s),
                        T0 + p as i64 * STEP,
                        std::str::from_utf8(&v).expect("ASCII")
                    )
                    .expect("write");
                }
            }
            out.flush().expect("flush");
        }
        "ingest" => {
            let batch = arg(&argv, "--batch", 10_000);
            let mut config = Config::new(&path);
            if argv.iter().any(|a| a == "--interval-ms") {
                config.wal_sync_mode =
                    SyncMode::IntervalMs(arg(&argv, "--interval-ms", 1000) as u64);
            }
            let total = series * points;
            let started = Instant::now();
            let engine = Engine::open(config)?;
            let mut writing = std::time::Duration::ZERO;
            let mut records = Vec::with_capacity(batch);
            for p in 0..points {
                for s in 0..series {
                    records.push(Record::new(key(s), T0 + p as i64 * STEP, value(s, p)));
                    if records.len() == batch {
                        let full = std::mem::replace(&mut records, Vec::with_capacity(batch));
                        let t = Instant::now();
                        engine.write_batch_owned(full)?;
                        writing += t.elapsed();
                    }
                }
            }
            if !records.is_empty() {
                let t = Instant::now();
                engine.write_batch_owned(records)?;
                writing += t.elapsed();
            }
            engine.shutdown()?;
            let all = started.elapsed();
            println!(
                "api write calls: {total} records in {:.3} s = {:.0} records/s",
                writing.as_secs_f64(),
                total as f64 / writing.as_secs_f64()
            );
            println!(
                "api open+write+shutdown: {total} records in {:.3} s = {:.0} records/s",
                all.as_secs_f64(),
                total as f64 / all.as_secs_f64()
            );
        }
        _ => panic!("{usage}"),
    }
    Ok(())
}
