//! rust-compare: flowdb against the current RocksDB release, both through their Rust
//! APIs, on flowdb-compare's time-series workloads (bench/ts_workloads.c). One system
//! per process, so its peak RSS is its own; bench/rust-compare.sh runs both, alternating,
//! and prints the table.
//!
//! rust-compare --system flowdb|rocksdb [--series N] [--points N] [--dir D] [--scattered]
//!              [--retention]
//!              [--workloads get,get_absent,get_latest,last_n,last_n_lent,series_scan,series_window,
//!                           all_window,series,full_scan,reopen]
//! --retention runs the retention workload instead (`workloads::run_retention`).
//!
//! Output, one line each (tab-separated):
//!   `system  NAME  VERSION`
//!   `workload  NAME  OPS  SECONDS  COUNT  SUM`  (COUNT/SUM: the reads' tally)
//!   `metric  NAME  VALUE`  (write_amplification, settle_s, disk_bytes_per_record,
//!   peak_rss_mib)
//! Ingest, flush + compaction and disk bytes always run; --workloads picks the reads.
//! RUST_COMPARE_OPS_SCALE=F runs F times as many reads (a longer phase to profile);
//! RUST_COMPARE_REUSE=1 keeps the database in --dir at the end, and reads one an
//! earlier run left there without an ingest (two builds' reads on the same files).

mod flowdb_side;
mod rocksdb_side;
mod workloads;

use std::path::PathBuf;

use workloads::Params;

const READS: &[&str] = &[
    "get",
    "get_absent",
    "get_latest",
    "last_n",
    "last_n_lent",
    "series_scan",
    "series_window",
    "all_window",
    "series",
    "full_scan",
    "reopen",
];

fn usage(why: &str) -> ! {
    eprintln!("rust-compare: {why}");
    eprintln!(
        "usage: rust-compare --system flowdb|rocksdb [--series N] [--points N] [--dir D] \
         [--scattered] [--retention] [--workloads {}]",
        READS.join(",")
    );
    std::process::exit(2);
}

fn number(flag: &str, v: Option<&String>) -> usize {
    match v.and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n > 0 => n,
        _ => usage(&format!("{flag} needs a positive number")),
    }
}

/// This process's peak resident set (getrusage's ru_maxrss), in MiB.
fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage writes the struct it is given, which is zeroed and ours.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    ru.ru_maxrss as f64 / 1024.0 // KiB on Linux
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (mut system, mut series, mut points) = (None, 1000, 1000);
    let mut dir = PathBuf::from("bench-data");
    let mut chosen: Option<Vec<String>> = None;
    let mut scattered = false;
    let mut retention = false;
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1);
        match argv[i].as_str() {
            "--scattered" => {
                scattered = true;
                i += 1;
                continue;
            }
            "--retention" => {
                retention = true;
                i += 1;
                continue;
            }
            "--system" => system = v.cloned(),
            "--series" => series = number("--series", v),
            "--points" => points = number("--points", v),
            "--dir" => dir = PathBuf::from(v.unwrap_or_else(|| usage("--dir needs a path"))),
            "--workloads" => {
                let list: Vec<String> = v
                    .unwrap_or_else(|| usage("--workloads needs a list"))
                    .split(',')
                    .map(str::to_string)
                    .collect();
                if let Some(bad) = list.iter().find(|w| !READS.contains(&w.as_str())) {
                    usage(&format!("unknown workload {bad}"));
                }
                chosen = Some(list);
            }
            other => usage(&format!("unknown argument {other}")),
        }
        i += 2;
    }
    if series < 4 || points < 10 {
        usage("at least 4 series and 10 points");
    }
    let only = |w: &str| chosen.as_ref().is_none_or(|c| c.iter().any(|x| x == w));
    // Operation counts are the 1M-record run's, scaled down for smaller runs;
    // RUST_COMPARE_OPS_SCALE multiplies them (longer phases to profile).
    let extra = std::env::var("RUST_COMPARE_OPS_SCALE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|f| *f > 0.0)
        .unwrap_or(1.0);
    let scale = ((series * points) as f64 / 1e6).min(1.0) * extra;
    let reuse = std::env::var_os("RUST_COMPARE_REUSE").is_some_and(|v| v == "1");
    let p = Params {
        series,
        points,
        scattered,
        scale,
        reuse,
    };
    match system.as_deref() {
        Some("flowdb") => {
            println!("system\tflowdb\t(path dependency ../..)");
            match retention {
                true => workloads::run_retention::<flowdb_side::Flowdb>(&dir, &p),
                false => workloads::run::<flowdb_side::Flowdb>(&dir, &p, &only),
            }
        }
        Some("rocksdb") => {
            println!("system\trocksdb\t{}", rocksdb_side::VERSION);
            match retention {
                true => workloads::run_retention::<rocksdb_side::Rocks>(&dir, &p),
                false => workloads::run::<rocksdb_side::Rocks>(&dir, &p, &only),
            }
        }
        _ => usage("--system flowdb or --system rocksdb"),
    }
    if !reuse {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("metric\tpeak_rss_mib\t{:.1}", peak_rss_mib());
}
