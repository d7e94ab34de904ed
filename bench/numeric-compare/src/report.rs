//! The parent process: runs every system in a child of its own per workload and
//! round, checks that their reads agree, and prints the tables.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Options;

/// In the order a round runs them (reversed every other round): the data as points
/// (`SyncMode::Always`, the default), as 8-byte records, an ingest of points with
/// `SyncMode::IntervalMs(1000)`, and SQLite.
pub const SYSTEMS: [&str; 4] = ["flowdb", "flowdb-bytes", "flowdb-interval", "sqlite"];

#[derive(Default)]
struct Run {
    metrics: HashMap<String, f64>,
    digests: HashMap<String, (u64, f64, i64)>,
}

fn run_child(o: &Options, workload: &str, system: &str, dir: &Path, check: Option<&Path>) -> Run {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args(["--system", system, "--workload", workload])
        .args([
            "--series",
            &o.series.to_string(),
            "--hours",
            &o.hours.to_string(),
        ])
        .args(["--sqlite-schema", &o.schema])
        .args(["--hour-queries", &o.counts.hour.to_string()])
        .args(["--day-queries", &o.counts.day.to_string()])
        .args(["--gets", &o.counts.gets.to_string()])
        .args(["--series-scans", &o.counts.scans.to_string()])
        .arg("--dir")
        .arg(dir.join(workload).join(system));
    if let Some(c) = check {
        cmd.arg("--check-out").arg(c);
    }
    let out = cmd.stderr(Stdio::inherit()).output().expect("run a child");
    if !out.status.success() {
        eprintln!(
            "numeric-compare: {system} on {workload} failed ({})",
            out.status
        );
        std::process::exit(1);
    }
    let mut run = Run::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["metric", name, v] => {
                run.metrics
                    .insert(name.to_string(), v.parse().expect("a number"));
            }
            ["digest", name, n, sum, starts] => {
                let d = (
                    n.parse().expect("count"),
                    sum.parse().expect("sum"),
                    starts.parse().expect("starts"),
                );
                run.digests.insert(name.to_string(), d);
            }
            _ => eprintln!("numeric-compare: {system}: unexpected line {line:?}"),
        }
    }
    run
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Compares the digests of the same reads; returns the mismatches.
fn compare_digests(runs: &HashMap<&str, Run>, workload: &str, round: usize) -> usize {
    let mut bad = 0;
    let groups: [&[(&str, &str)]; 5] = [
        &[
            ("flowdb", "hour"),
            ("flowdb", "hour_lent"),
            ("flowdb", "hour_fold"),
            ("sqlite", "hour"),
        ],
        &[
            ("flowdb", "day"),
            ("flowdb", "day_lent"),
            ("flowdb", "day_fold"),
            ("sqlite", "day"),
        ],
        &[
            ("flowdb", "daily"),
            ("flowdb", "daily_lent"),
            ("flowdb", "daily_fold"),
            ("sqlite", "daily"),
        ],
        &[
            ("flowdb", "get"),
            ("flowdb-bytes", "get"),
            ("sqlite", "get"),
        ],
        &[
            ("flowdb", "series_scan"),
            ("flowdb-bytes", "series_scan"),
            ("sqlite", "series_scan"),
        ],
    ];
    for group in groups {
        let found: Vec<(&str, &str, (u64, f64, i64))> = group
            .iter()
            .filter_map(|&(s, n)| Some((s, n, *runs.get(s)?.digests.get(n)?)))
            .collect();
        let Some(&(s0, n0, a)) = found.first() else {
            continue;
        };
        for &(s, n, b) in &found[1..] {
            if a.0 != b.0 || a.2 != b.2 || !close(a.1, b.1) {
                eprintln!(
                    "MISMATCH {workload} round {round}: {s0} {n0} returned {} (sum {}, starts {}), \
                     {s} {n} {} (sum {}, starts {})",
                    a.0, a.1, a.2, b.0, b.1, b.2
                );
                bad += 1;
            }
        }
    }
    bad
}

type Dump = BTreeMap<(String, String, i64), [f64; 4]>;

fn load_dump(path: &Path) -> Dump {
    let text = std::fs::read_to_string(path).expect("a check dump");
    let mut out = Dump::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let n = |i: usize| f[i].parse::<f64>().expect("a number");
        let key = (
            f[0].to_string(),
            f[1].to_string(),
            f[2].parse().expect("start"),
        );
        out.insert(key, [n(3), n(4), n(5), n(6)]);
    }
    out
}

/// flowdb's and SQLite's count, sum, min and max per bucket of the check queries:
/// the same buckets, counts, minima and maxima, sums to a relative 1e-9.
fn compare_dumps(flowdb: &Path, sqlite: &Path, workload: &str) -> usize {
    let (a, b) = (load_dump(flowdb), load_dump(sqlite));
    let mut bad = 0;
    let mut report = |what: String| {
        bad += 1;
        if bad <= 10 {
            eprintln!("CHECK {workload}: {what}");
        }
    };
    for (k, va) in &a {
        match b.get(k) {
            None => report(format!("{k:?}: flowdb has a bucket SQLite has not")),
            Some(vb) => {
                let same =
                    va[0] == vb[0] && close(va[1], vb[1]) && va[2] == vb[2] && va[3] == vb[3];
                if !same {
                    report(format!(
                        "{k:?}: flowdb {va:?}, SQLite {vb:?} (count, sum, min, max)"
                    ));
                }
            }
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        report(format!("{k:?}: SQLite has a bucket flowdb has not"));
    }
    if bad == 0 {
        let queries: std::collections::BTreeSet<&str> = a.keys().map(|k| k.0.as_str()).collect();
        eprintln!(
            "numeric-compare: {workload}: flowdb and SQLite agree on {} buckets of {} queries \
             (count, sum, min, max)",
            a.len(),
            queries.len()
        );
    }
    bad
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}K", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// `v` with `digits` decimals, `-` for none.
fn dec(v: f64, digits: usize) -> String {
    match v.is_nan() {
        true => "-".into(),
        false => format!("{v:.digits$}"),
    }
}

fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r.is_nan() {
        "-".into()
    } else if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.2}")
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**short**"
    }
}

pub fn drive(o: &Options) -> i32 {
    let mut bad = 0;
    for workload in &o.workloads {
        let mut rounds: Vec<HashMap<&str, Run>> = Vec::new();
        for round in 0..o.rounds {
            let mut order: Vec<&str> = SYSTEMS
                .into_iter()
                .filter(|s| o.systems.iter().any(|x| x == s))
                .collect();
            if round % 2 == 1 {
                order.reverse();
            }
            let mut runs = HashMap::new();
            for sys in order {
                let dump = o.dir.join(workload).join(format!("check-{sys}.tsv"));
                let check = (o.check && round == 0 && (sys == "flowdb" || sys == "sqlite"))
                    .then_some(dump.as_path());
                let t = Instant::now();
                let run = run_child(o, workload, sys, &o.dir, check);
                let shown: Vec<String> = [
                    ("ingest_pps", "ingest"),
                    ("hour_qps", "1-h"),
                    ("hour_lent_qps", "1-h lent"),
                    ("hour_fold_qps", "1-h fold"),
                    ("day_qps", "day"),
                    ("day_lent_qps", "day lent"),
                    ("day_fold_qps", "day fold"),
                    ("daily_qps", "daily"),
                    ("daily_lent_qps", "daily lent"),
                    ("daily_fold_qps", "daily fold"),
                    ("get_ops", "get"),
                    ("series_scan_pps", "scan"),
                ]
                .iter()
                .filter_map(|(k, name)| Some(format!("{name} {}", fmt(*run.metrics.get(*k)?))))
                .collect();
                eprintln!(
                    "numeric-compare: {workload}, round {}: {sys} took {:.1} s ({}; peak RSS {:.0} MiB)",
                    round + 1,
                    t.elapsed().as_secs_f64(),
                    shown.join(", "),
                    run.metrics["peak_rss_mib"]
                );
                runs.insert(sys, run);
            }
            bad += compare_digests(&runs, workload, round + 1);
            rounds.push(runs);
        }
        if o.check
            && ["flowdb", "sqlite"]
                .iter()
                .all(|s| o.systems.iter().any(|x| x == s))
        {
            let path = |s: &str| o.dir.join(workload).join(format!("check-{s}.tsv"));
            bad += compare_dumps(&path("flowdb"), &path("sqlite"), workload);
        }
        print_tables(o, workload, &rounds);
    }
    let _ = std::fs::remove_dir_all(&o.dir);
    if bad > 0 {
        eprintln!("numeric-compare: {bad} results differed between systems");
        return 1;
    }
    if o.check {
        eprintln!("numeric-compare: every system returned the same results");
    }
    0
}

fn print_tables(o: &Options, workload: &str, rounds: &[HashMap<&str, Run>]) {
    let m = |sys: &str, name: &str| -> f64 {
        median(
            rounds
                .iter()
                .map(|r| {
                    let run = r.get(sys);
                    run.and_then(|r| r.metrics.get(name).copied())
                        .unwrap_or(f64::NAN)
                })
                .collect(),
        )
    };
    let n = crate::data::points_per_series(workload, o.hours);
    let points = o.series * n;
    let about = match workload {
        "node" => "node_exporter-like: gauges and counters every 15 s, 116 series a host",
        "cpu" => "TSBS cpu-only: 10 random walks a host every 10 s, full precision",
        _ => "TSBS cpu-only: 10 random walks a host every 10 s, 2 decimals",
    };
    println!(
        "\n#### `{workload}`: {} series × {} points ({} points, {} h; {about}), median of {} round{}; \
         SQLite {} (`{}` schema)\n",
        o.series,
        group(n),
        group(points),
        o.hours,
        o.rounds,
        if o.rounds > 1 { "s" } else { "" },
        crate::sqlite_side::version(),
        o.schema
    );
    println!("| workload | unit | flowdb | SQLite | ratio | target | met/short |");
    println!("|---|---|---:|---:|---:|---|---|");
    let sq = |name: &str| m("sqlite", name);
    let row = |name: &str, unit: &str, f: f64, s: f64, target: &str, ok: Option<bool>| {
        let verdict = ok.map_or("", met);
        println!(
            "| {name} | {unit} | {} | {} | {} | {target} | {verdict} |",
            fmt(f),
            fmt(s),
            ratio(f, s)
        );
    };
    let ingest = m("flowdb", "ingest_pps");
    row(
        "ingest, `write_points` × 1,000 (default config: `SyncMode::Always`)",
        "points/s",
        ingest,
        sq("ingest_pps"),
        "≥ 2M points/s",
        (!ingest.is_nan()).then_some(ingest >= 2e6),
    );
    let ingest_iv = m("flowdb-interval", "ingest_pps");
    row(
        "ingest, the same with `SyncMode::IntervalMs(1000)`",
        "points/s",
        ingest_iv,
        sq("ingest_pps"),
        "≥ 2M points/s",
        (!ingest_iv.is_nan()).then_some(ingest_iv >= 2e6),
    );
    let bps = m("flowdb", "bytes_per_sample");
    let size_target = match bps {
        b if b <= 1.0 => "met (and the aim)",
        b if b <= 1.5 => "met (aim ≤ 1.0: short)",
        b if b.is_nan() => "-",
        _ => "**short**",
    };
    println!(
        "| bytes per sample on disk (every file) | bytes | {} | {} | {} | ≤ 1.5 (aim ≤ 1.0) | {size_target} |",
        dec(bps, 3),
        dec(sq("bytes_per_sample"), 2),
        ratio(bps, sq("bytes_per_sample"))
    );
    let hour = m("flowdb", "hour_qps");
    row(
        "max per 1-min bucket, 1 h of one series (`aggregate`)",
        "queries/s",
        hour,
        sq("hour_qps"),
        "≥ 5× SQLite",
        (!(hour / sq("hour_qps")).is_nan()).then_some(hour >= 5.0 * sq("hour_qps")),
    );
    let day = m("flowdb", "day_qps");
    row(
        "max per 1-h bucket, 1 day of all series (`aggregate`)",
        "queries/s",
        day,
        sq("day_qps"),
        "≥ 5× SQLite",
        (!(day / sq("day_qps")).is_nan()).then_some(day >= 5.0 * sq("day_qps")),
    );
    let daily = m("flowdb", "daily_qps");
    row(
        "max per 1-day bucket, 1 day of all series (`aggregate`)",
        "queries/s",
        daily,
        sq("daily_qps"),
        "-",
        None,
    );
    row(
        "`get(key, ts)` of a point (warm cache)",
        "ops/s",
        m("flowdb", "get_ops"),
        sq("get_ops"),
        "-",
        None,
    );
    row(
        "scan of one whole series",
        "points/s",
        m("flowdb", "series_scan_pps"),
        sq("series_scan_pps"),
        "-",
        None,
    );

    println!("\n| flowdb against itself (same build) | unit | flowdb | baseline | ratio | target | met/short |");
    println!("|---|---|---:|---:|---:|---|---|");
    let self_row = |name: &str, unit: &str, a: f64, b: f64, target: f64| {
        let (t, ok) = match target {
            t if t > 0.0 && (a / b).is_nan() => (format!("≥ {t}×"), "-"),
            t if t > 0.0 => (format!("≥ {t}×"), met(a / b >= t)),
            _ => ("-".to_string(), ""),
        };
        println!(
            "| {name} | {unit} | {} | {} | {} | {t} | {ok} |",
            fmt(a),
            fmt(b),
            ratio(a, b)
        );
    };
    self_row(
        "1 h of one series: `aggregate` / `scan` + fold",
        "queries/s",
        hour,
        m("flowdb", "hour_fold_qps"),
        10.0,
    );
    self_row(
        "1 h of one series: `aggregate_with` (buckets lent) / `scan` + fold",
        "queries/s",
        m("flowdb", "hour_lent_qps"),
        m("flowdb", "hour_fold_qps"),
        10.0,
    );
    self_row(
        "1 day of all series: `aggregate` / `scan` + fold",
        "queries/s",
        day,
        m("flowdb", "day_fold_qps"),
        10.0,
    );
    self_row(
        "1 day of all series: `aggregate_with` (buckets lent) / `scan` + fold",
        "queries/s",
        m("flowdb", "day_lent_qps"),
        m("flowdb", "day_fold_qps"),
        10.0,
    );
    self_row(
        "1 day of all series, 1-day buckets: `aggregate` / `scan` + fold",
        "queries/s",
        daily,
        m("flowdb", "daily_fold_qps"),
        0.0,
    );
    self_row(
        "1 day of all series, 1-day buckets: `aggregate_with` / `scan` + fold",
        "queries/s",
        m("flowdb", "daily_lent_qps"),
        m("flowdb", "daily_fold_qps"),
        0.0,
    );
    self_row(
        "`get(key, ts)`: points / 8-byte records",
        "ops/s",
        m("flowdb", "get_ops"),
        m("flowdb-bytes", "get_ops"),
        0.9,
    );
    self_row(
        "scan of one series: points / 8-byte records",
        "points/s",
        m("flowdb", "series_scan_pps"),
        m("flowdb-bytes", "series_scan_pps"),
        0.9,
    );
    self_row(
        "ingest: `write_points` / `write_batch` of 8-byte records",
        "points/s",
        ingest,
        m("flowdb-bytes", "ingest_pps"),
        0.0,
    );
    println!(
        "| bytes per sample on disk: points / 8-byte records | bytes | {} | {} | {} | - | |",
        dec(bps, 3),
        dec(m("flowdb-bytes", "bytes_per_sample"), 2),
        ratio(bps, m("flowdb-bytes", "bytes_per_sample"))
    );

    println!("\n| cost | unit | flowdb (points) | flowdb (8-byte records) | flowdb (ingest, `IntervalMs`) | SQLite |");
    println!("|---|---|---:|---:|---:|---:|");
    let cost = |name: &str, unit: &str, key: &str| {
        let cells: Vec<String> = SYSTEMS
            .iter()
            .map(|s| match m(s, key) {
                v if v.is_nan() => "-".to_string(),
                v if v < 10.0 => format!("{v:.2}"),
                v => format!("{v:.0}"),
            })
            .collect();
        println!("| {name} | {unit} | {} |", cells.join(" | "));
    };
    cost(
        "flush + full compaction (SQLite: checkpoint + VACUUM)",
        "s",
        "settle_s",
    );
    cost(
        "table bytes per sample (tables alone)",
        "bytes",
        "table_bytes_per_sample",
    );
    cost(
        "SQLite bytes per sample before VACUUM (db + WAL)",
        "bytes",
        "bytes_per_sample_before_vacuum",
    );
    cost(
        "peak RSS (the generated data included)",
        "MiB",
        "peak_rss_mib",
    );
}

/// `1234567` as `1,234,567`.
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
