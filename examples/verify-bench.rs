//! `verify` against the disk (docs/benchmarks.md, "verify"): writes a database
//! (`--series` × `--points` records in time order, 128-byte values, flushed), then
//! compares `flowdb::verify::verify_dir` with reading the same files sequentially,
//! both from a cold page cache (each file's cached pages dropped with
//! `posix_fadvise(DONTNEED)` before each run) and warm. The target: verify at
//! ≥ 80% of the disk's sequential read speed.
//!
//! `cargo run --release --example verify-bench -- [--series N] [--points N] [--dir D]`
//! (with `--dir`, a database already in `D/db` is verified again without writing it).

use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

use flowdb::{Config, Engine, Record, SyncMode};

fn arg(name: &str, default: usize) -> usize {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Drops the page cache's copy of every file in `dir`.
fn evict(dir: &Path) {
    for p in files(dir) {
        let f = std::fs::File::open(&p).expect("open");
        f.sync_all().expect("sync");
        // SAFETY: a valid, open file descriptor; advice only.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    }
}

/// Reads every file of `dir` front to back in 1 MiB reads; returns the bytes.
fn read_all(dir: &Path) -> u64 {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    for p in files(dir) {
        let mut f = std::fs::File::open(&p).expect("open");
        loop {
            let n = f.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    total
}

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

fn main() {
    let (series, points) = (arg("--series", 1000), arg("--points", 1000));
    let tmp = tempfile::tempdir().expect("tempdir");
    let argv: Vec<String> = std::env::args().collect();
    let root = argv
        .iter()
        .position(|a| a == "--dir")
        .map_or_else(|| tmp.path().to_path_buf(), |i| PathBuf::from(&argv[i + 1]));
    let dir = root.join("db");
    if dir.join("MANIFEST").exists() {
        println!(
            "verifying the database already in {} (--dir)",
            dir.display()
        );
        return measure(&dir);
    }
    let mut config = Config::new(&dir);
    config.wal_sync_mode = SyncMode::IntervalMs(1000);
    let e = Engine::open(config).expect("open");
    for p in 0..points {
        let batch: Vec<Record> = (0..series)
            .map(|s| {
                let mut v =
                    format!("v={};s={s};p={p};", (s * 7919 + p * 104_729) % 100_000).into_bytes();
                v.resize(128, b' ');
                Record::new(
                    format!("cpu.host-{s:05}.usage"),
                    1_700_000_000_000_000 + p as i64 * 1_000_000,
                    v,
                )
            })
            .collect();
        e.write_batch_owned(batch).expect("ingest");
    }
    e.shutdown().expect("shutdown");
    println!("{} records in {} files", series * points, files(&dir).len());
    measure(&dir);
}

fn measure(dir: &Path) {
    for round in 0..3 {
        evict(dir);
        let t = Instant::now();
        let bytes = read_all(dir);
        let read_cold = mbps(bytes, t.elapsed().as_secs_f64());
        evict(dir);
        let t = Instant::now();
        let report = flowdb::verify::verify_dir(dir).expect("verify");
        let verify_cold = mbps(
            report.table_bytes + report.log_bytes,
            t.elapsed().as_secs_f64(),
        );
        assert!(report.is_sound());
        let t = Instant::now();
        let bytes_warm = read_all(dir);
        let read_warm = mbps(bytes_warm, t.elapsed().as_secs_f64());
        let t = Instant::now();
        let report = flowdb::verify::verify_dir(dir).expect("verify");
        let verify_warm = mbps(
            report.table_bytes + report.log_bytes,
            t.elapsed().as_secs_f64(),
        );
        println!(
            "round {round}: {:.0} MB; cold: read {read_cold:.0} MB/s, verify {verify_cold:.0} MB/s ({:.2}); \
             warm: read {read_warm:.0} MB/s, verify {verify_warm:.0} MB/s ({:.2})",
            bytes as f64 / 1e6,
            verify_cold / read_cold,
            verify_warm / read_warm
        );
    }
}
