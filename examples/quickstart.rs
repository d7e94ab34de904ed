//! flowdb quickstart: write a few series, read the latest point, query a time window,
//! scan lazily, and print stats. Runs on `./data` (or the directory given as the
//! first argument): `cargo run --release --example quickstart [DIR]`.

use flowdb::{Config, Engine, Record, ScanRange};

fn main() -> flowdb::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "./data".into());
    let engine = Engine::open(Config::new(&dir))?;

    // Three series, 60 points one second apart; ts is in microseconds.
    let start = flowdb::now_micros() - 60_000_000;
    let mut batch = Vec::new();
    for host in ["host-1", "host-2", "host-3"] {
        for i in 0..60i64 {
            let value = format!("{:.1}", 40.0 + (i % 7) as f64 * 2.5).into_bytes();
            batch.push(Record::new(
                format!("cpu.{host}.usage"),
                start + i * 1_000_000,
                value,
            ));
        }
    }
    engine.write_batch(&batch)?;

    if let Some(r) = engine.get_latest("cpu.host-2.usage")? {
        println!(
            "latest {} at {}: {}",
            r.key_str(),
            r.ts,
            String::from_utf8_lossy(&r.value)
        );
    }

    // Every series over a 10-second window (both ends inclusive).
    let window = engine.query_time_range(start + 10_000_000, start + 19_000_000)?;
    println!(
        "10-second window across all series: {} records",
        window.len()
    );

    // A lazy scan of one series.
    let mut n = 0;
    for r in engine.scan(ScanRange::prefix("cpu.host-1."))? {
        let _record = r?;
        n += 1;
    }
    println!("scanned {n} points of cpu.host-1");

    // Records with a TTL: invisible once expired, purged by GC.
    engine.write_batch_ttl(
        &[Record::new(
            "events.login",
            flowdb::now_micros(),
            b"alice".to_vec(),
        )],
        Some(3600),
    )?;

    engine.flush()?;
    let s = engine.stats();
    println!(
        "stats: {} records written, {} tables, {} bytes on disk, compression {:.1}x",
        s.total_records_written, s.sstable_count, s.sstable_bytes, s.compression_ratio
    );
    engine.shutdown()?;
    println!("data directory: {dir}");
    Ok(())
}
