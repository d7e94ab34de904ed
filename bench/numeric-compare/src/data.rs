//! The data a run writes (a workload of examples/common/numeric_workloads.rs, cut to
//! the series and hours asked for, each series given a key), the order it is
//! written in, and the random operations every system runs on it: the same ones,
//! drawn from fixed seeds, so their results can be compared.

use crate::numeric_workloads::{
    node_exporter_hosts, tsbs_hosts, Workload, NODE_SERIES_PER_HOST, SEC, TSBS_METRICS,
};

pub const MINUTE: i64 = 60 * SEC;
pub const HOUR: i64 = 3600 * SEC;
pub const DAY: i64 = 24 * HOUR;
/// Points (rows) per `write_points` call (SQLite transaction).
pub const BATCH: usize = 1000;

pub const WORKLOADS: [&str; 3] = ["node", "cpu", "cpu2dp"];

pub struct Data {
    pub keys: Vec<String>,
    /// Per series: its points' timestamps (µs) and values.
    pub ts: Vec<Vec<i64>>,
    pub vals: Vec<Vec<f64>>,
    /// Points per series.
    pub n: usize,
    pub first_ts: i64,
    pub last_ts: i64,
}

impl Data {
    pub fn points(&self) -> usize {
        self.keys.len() * self.n
    }

    /// Every point in the order it is written: scrape by scrape (the `i`-th point of
    /// every series, series by series), as a collector delivers them.
    pub fn in_write_order(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let s = self.keys.len();
        (0..self.n).flat_map(move |i| (0..s).map(move |k| (k, i)))
    }
}

/// A short name for a node_exporter-like series' kind: `cpu seconds (counter, 2 dp)`
/// is `cpu`.
fn slug(kind: &str) -> &str {
    kind.split([' ', '(']).next().unwrap_or("m")
}

/// Points per series for `hours` at one point every `interval` µs.
fn points_for(hours: f64, interval: i64) -> usize {
    ((hours * HOUR as f64) / interval as f64).round().max(2.0) as usize
}

/// Points per series of `workload` over `hours`.
pub fn points_per_series(workload: &str, hours: f64) -> usize {
    points_for(
        hours,
        if workload == "node" {
            15 * SEC
        } else {
            10 * SEC
        },
    )
}

/// The data of `workload` (`node`, `cpu`, `cpu2dp`): its first `series` series,
/// `hours` of them.
pub fn build(workload: &str, series: usize, hours: f64) -> Data {
    let (w, per_host, n): (Workload, usize, usize) = match workload {
        "node" => {
            let n = points_per_series(workload, hours);
            let hosts = series.div_ceil(NODE_SERIES_PER_HOST);
            (node_exporter_hosts(hosts, n), NODE_SERIES_PER_HOST, n)
        }
        "cpu" | "cpu2dp" => {
            let n = points_per_series(workload, hours);
            let hosts = series.div_ceil(TSBS_METRICS.len());
            let digits = (workload == "cpu2dp").then_some(2);
            (tsbs_hosts(hosts, n, digits), TSBS_METRICS.len(), n)
        }
        other => panic!("unknown workload {other}"),
    };
    let mut keys = Vec::with_capacity(series);
    let (mut ts, mut vals) = (Vec::with_capacity(series), Vec::with_capacity(series));
    for (i, s) in w.series.into_iter().take(series).enumerate() {
        let (host, j) = (i / per_host, i % per_host);
        keys.push(match workload {
            "node" => format!("node.h{host:04}.{}.{j:03}", slug(s.kind)),
            _ => format!("cpu.h{host:04}.{}", TSBS_METRICS[j]),
        });
        ts.push(s.ts);
        vals.push(s.vals);
    }
    let first_ts = ts.iter().map(|t| t[0]).min().expect("a series");
    let last_ts = ts.iter().map(|t| t[n - 1]).max().expect("a series");
    Data {
        keys,
        ts,
        vals,
        n,
        first_ts,
        last_ts,
    }
}

/// The operations of a run, drawn from a fixed seed.
pub struct Plan {
    /// One series, one hour: (series, start); the hour is `[start, start + HOUR)`.
    pub hour: Vec<(usize, i64)>,
    /// Every series, one day: its start.
    pub day: Vec<i64>,
    /// Existing points: (series, index).
    pub gets: Vec<(usize, usize)>,
    /// Whole series.
    pub scans: Vec<usize>,
}

#[derive(Clone, Copy)]
pub struct Counts {
    pub hour: usize,
    pub day: usize,
    pub gets: usize,
    pub scans: usize,
}

impl Plan {
    pub fn new(d: &Data, c: Counts) -> Plan {
        let mut rng = fastrand::Rng::with_seed(42);
        let s = d.keys.len();
        let span = d.last_ts - d.first_ts;
        let start =
            |rng: &mut fastrand::Rng, len: i64| d.first_ts + rng.i64(0..=(span - len).max(0));
        Plan {
            hour: (0..c.hour)
                .map(|_| (rng.usize(..s), start(&mut rng, HOUR)))
                .collect(),
            day: (0..c.day).map(|_| start(&mut rng, DAY)).collect(),
            gets: (0..c.gets)
                .map(|_| (rng.usize(..s), rng.usize(..d.n)))
                .collect(),
            scans: (0..c.scans).map(|_| rng.usize(..s)).collect(),
        }
    }
}

/// What some reads returned, to compare systems: buckets (or points) returned,
/// the sum of their values and of their starts (or timestamps).
#[derive(Clone, Copy, Default, Debug)]
pub struct Digest {
    pub count: u64,
    pub sum: f64,
    pub starts: i64,
}

impl Digest {
    #[inline]
    pub fn add(&mut self, start: i64, v: f64) {
        self.count += 1;
        self.sum += v;
        self.starts = self.starts.wrapping_add(start);
    }
}

/// Runs `op` over the first `warm` of `ops` untimed (to warm caches: every system,
/// and each of flowdb's ways of reading, starts its timing with the blocks or pages
/// those operations read in its cache), then over all of them timed. Returns
/// operations per second and the timed pass's digest.
pub fn timed<T>(ops: &[T], warm: usize, mut op: impl FnMut(&T, &mut Digest)) -> (f64, Digest) {
    let mut warm_digest = Digest::default();
    for o in &ops[..warm.min(ops.len())] {
        op(o, &mut warm_digest);
    }
    let mut d = Digest::default();
    let t = std::time::Instant::now();
    for o in ops {
        op(o, &mut d);
    }
    (ops.len() as f64 / t.elapsed().as_secs_f64(), d)
}

/// One result line of a child process.
pub fn metric(name: &str, v: f64) {
    println!("metric\t{name}\t{v}");
}

pub fn digest(name: &str, d: &Digest) {
    println!("digest\t{name}\t{}\t{:e}\t{}", d.count, d.sum, d.starts);
}

/// Bytes of every file under `dir`.
pub fn dir_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let m = e.metadata().expect("metadata");
        total += if m.is_dir() {
            dir_bytes(&e.path())
        } else {
            m.len()
        };
    }
    total
}

/// This process's peak resident set (getrusage's ru_maxrss), in MiB.
pub fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage writes the struct it is given, which is zeroed and ours.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    ru.ru_maxrss as f64 / 1024.0 // KiB on Linux
}

/// The lines of a `--check` dump: one per bucket, `query key start count sum min
/// max`.
pub fn check_line(out: &mut String, q: &str, key: &str, start: i64, v: [f64; 4]) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{q}\t{key}\t{start}\t{}\t{:e}\t{:e}\t{:e}",
        v[0], v[1], v[2], v[3]
    );
}
