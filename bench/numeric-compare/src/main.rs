//! numeric-compare: flowdb's numeric series (`write_points`, `aggregate`) against
//! SQLite, both through their Rust APIs, on the workloads of
//! examples/numeric-codecs.rs (shared through examples/common/numeric_workloads.rs).
//! docs/benchmarks.md, "Numeric series (issue 19)", has a run and what it means.
//!
//! numeric-compare [--workload node|cpu|cpu2dp[,...]] [--series N] [--hours H]
//!                 [--rounds R] [--check] [--dir D] [--sqlite-schema without-rowid|rowid]
//!                 [--hour-queries N] [--day-queries N] [--gets N] [--series-scans N]
//!                 [--systems flowdb,flowdb-bytes,flowdb-interval,sqlite]
//!
//! Runs each measurement in a child process of its own (this program with
//! `--system flowdb|flowdb-bytes|flowdb-interval|sqlite`), on a fresh store under
//! `D/<workload>/<system>`, and prints markdown tables of the medians over the rounds.
//! A child prints `metric NAME VALUE` and `digest NAME COUNT SUM STARTS` lines; the
//! digests of the same reads must agree between systems (and between flowdb's
//! `aggregate` and its scan + fold), or the program exits 1. `--check` also dumps
//! count, sum, min and max per bucket of 20 one-series queries and one all-series
//! day from flowdb and SQLite and compares them bucket by bucket (sums to a relative
//! 1e-9).

#[allow(dead_code)]
#[path = "../../../examples/common/numeric_workloads.rs"]
mod numeric_workloads;

mod data;
mod flowdb_side;
mod report;
mod sqlite_side;

use std::path::PathBuf;

use data::{Counts, Plan, WORKLOADS};

pub struct Options {
    pub workloads: Vec<String>,
    pub series: usize,
    pub hours: f64,
    pub rounds: usize,
    pub check: bool,
    pub dir: PathBuf,
    pub schema: String,
    pub counts: Counts,
    /// The systems to run (all by default).
    pub systems: Vec<String>,
    /// A child's system.
    pub system: Option<String>,
    /// A child's `--check` dump.
    pub check_out: Option<PathBuf>,
    /// `--spans`: the flowdb child runs these aggregations alone (see
    /// `flowdb_side::SPANS`), each over the hour queries' plan `span_repeat` times.
    pub spans: Vec<String>,
    pub span_repeat: usize,
}

fn usage(why: &str) -> ! {
    eprintln!("numeric-compare: {why}");
    eprintln!(
        "usage: numeric-compare [--workload node|cpu|cpu2dp[,...]] [--series N] [--hours H] \
         [--rounds R] [--check] [--dir D] [--sqlite-schema without-rowid|rowid] \
         [--hour-queries N] [--day-queries N] [--gets N] [--series-scans N] \
         [--systems flowdb,flowdb-bytes,flowdb-interval,sqlite] \
         [--system flowdb --spans hour,hour-1bucket,minute,second [--span-repeat R]]"
    );
    std::process::exit(2);
}

fn number(flag: &str, v: Option<&String>) -> usize {
    match v.and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if n > 0 => n,
        _ => usage(&format!("{flag} needs a positive number")),
    }
}

fn parse() -> Options {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        workloads: vec!["node".into()],
        series: 100,
        hours: 2.0,
        rounds: 1,
        check: false,
        dir: PathBuf::from("build-bench/numeric-compare"),
        schema: "without-rowid".into(),
        counts: Counts {
            hour: 10_000,
            day: 3,
            gets: 100_000,
            scans: 300,
        },
        systems: report::SYSTEMS.iter().map(|s| s.to_string()).collect(),
        system: None,
        check_out: None,
        spans: Vec::new(),
        span_repeat: 1,
    };
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1);
        let need = |what: &str| {
            v.cloned()
                .unwrap_or_else(|| usage(&format!("{} needs {what}", argv[i])))
        };
        match argv[i].as_str() {
            "--check" => {
                o.check = true;
                i += 1;
                continue;
            }
            "--workload" => {
                o.workloads = need("a workload").split(',').map(str::to_string).collect();
                if let Some(bad) = o
                    .workloads
                    .iter()
                    .find(|w| !WORKLOADS.contains(&w.as_str()))
                {
                    usage(&format!("unknown workload {bad} (node, cpu or cpu2dp)"));
                }
            }
            "--series" => o.series = number("--series", v),
            "--hours" => {
                o.hours = match need("a number").parse::<f64>() {
                    Ok(h) if h > 0.0 && h.is_finite() => h,
                    _ => usage("--hours needs a positive number"),
                }
            }
            "--rounds" => o.rounds = number("--rounds", v),
            "--dir" => o.dir = PathBuf::from(need("a path")),
            "--sqlite-schema" => {
                o.schema = need("a schema");
                if !["without-rowid", "rowid"].contains(&o.schema.as_str()) {
                    usage("--sqlite-schema is without-rowid or rowid");
                }
            }
            "--hour-queries" => o.counts.hour = number("--hour-queries", v),
            "--day-queries" => o.counts.day = number("--day-queries", v),
            "--gets" => o.counts.gets = number("--gets", v),
            "--series-scans" => o.counts.scans = number("--series-scans", v),
            "--systems" => {
                o.systems = need("a list").split(',').map(str::to_string).collect();
                if let Some(bad) = o
                    .systems
                    .iter()
                    .find(|s| !report::SYSTEMS.contains(&s.as_str()))
                {
                    usage(&format!(
                        "unknown system {bad} ({})",
                        report::SYSTEMS.join(", ")
                    ));
                }
            }
            "--system" => o.system = Some(need("a system")),
            "--spans" => {
                o.spans = need("a list").split(',').map(str::to_string).collect();
                if let Some(bad) = o
                    .spans
                    .iter()
                    .find(|s| !flowdb_side::SPANS.iter().any(|(n, ..)| n == s))
                {
                    usage(&format!("unknown span {bad}"));
                }
            }
            "--span-repeat" => o.span_repeat = number("--span-repeat", v),
            "--check-out" => o.check_out = Some(PathBuf::from(need("a path"))),
            other => usage(&format!("unknown argument {other}")),
        }
        i += 2;
    }
    o
}

/// A child: one system on one workload, results on stdout.
fn child(o: &Options, system: &str) {
    let workload = &o.workloads[0];
    let d = data::build(workload, o.series, o.hours);
    let plan = Plan::new(&d, o.counts);
    let _ = std::fs::remove_dir_all(&o.dir);
    let check = o.check_out.as_deref();
    match system {
        "flowdb" if !o.spans.is_empty() => flowdb_side::spans(&o.dir, &d, &plan, o),
        "flowdb" => flowdb_side::points(&o.dir, &d, &plan, check, flowdb::SyncMode::Always),
        "flowdb-interval" => {
            flowdb_side::points(&o.dir, &d, &plan, None, flowdb::SyncMode::IntervalMs(1000))
        }
        "flowdb-bytes" => flowdb_side::bytes(&o.dir, &d, &plan),
        "sqlite" => sqlite_side::run(&o.dir, &d, &plan, check, &o.schema),
        other => usage(&format!("unknown system {other}")),
    }
    let _ = std::fs::remove_dir_all(&o.dir);
    data::metric("peak_rss_mib", data::peak_rss_mib());
}

fn main() {
    let o = parse();
    match o.system.clone() {
        Some(system) => child(&o, &system),
        None => std::process::exit(report::drive(&o)),
    }
}
