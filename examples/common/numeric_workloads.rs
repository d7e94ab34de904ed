//! The numeric workloads flowdb's numeric benchmarks generate, shared by
//! examples/numeric-codecs.rs (the codecs alone) and bench/numeric-compare (the
//! engine against SQLite), each including this file with `#[path = ...]`:
//! node_exporter-like hosts (gauges and counters every 15 s), TSBS's cpu-only data
//! (10 random walks a host every 10 s, at full precision or 2 decimals) and the
//! recorded series of tests/data/vega. Every generator draws from a fixed seed, so a
//! workload is the same on every run, and a smaller one (fewer hosts) is the first
//! hosts of a larger one.

pub const SEC: i64 = 1_000_000;
pub const START: i64 = 1_700_000_000 * SEC;

/// One series: its points' timestamps (µs, increasing) and values.
pub struct Series {
    pub kind: &'static str,
    pub ts: Vec<i64>,
    pub vals: Vec<f64>,
}

pub struct Workload {
    pub name: &'static str,
    pub about: &'static str,
    pub series: Vec<Series>,
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut fastrand::Rng) -> f64 {
    let (u, v) = (1.0 - rng.f64(), rng.f64());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn round_to(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

/// A scrape clock: every 15 s from a per-host phase, with ±5 ms (whole ms, as
/// Prometheus stamps scrapes) on jittered hosts.
fn clock(rng: &mut fastrand::Rng, n: usize, interval: i64, jitter_ms: i64) -> Vec<i64> {
    let phase = rng.i64(0..interval / SEC) * SEC;
    (0..n as i64)
        .map(|i| START + phase + i * interval + rng.i64(-jitter_ms..=jitter_ms) * 1000)
        .collect()
}

/// One node_exporter-like host: `NODE_SERIES_PER_HOST` series sharing the host's
/// scrape clock.
fn node_host(rng: &mut fastrand::Rng, n: usize, jittered: bool) -> Vec<Series> {
    let ts = clock(rng, n, 15 * SEC, if jittered { 5 } else { 0 });
    let mut out = Vec::new();
    let mut add = |kind: &'static str, vals: Vec<f64>| {
        out.push(Series {
            kind,
            ts: ts.clone(),
            vals,
        })
    };
    // CPU seconds per core and mode: counters in USER_HZ ticks (2 decimals), the
    // modes of a core sharing its 1500 ticks per 15 s.
    let mut busy_cores = Vec::new();
    for _ in 0..4 {
        let mut busy = rng.f64() * 0.3;
        let mut modes = [[0i64; 8]; 1];
        let mut totals: [Vec<f64>; 8] = Default::default();
        let start: [i64; 8] = [9_000_000, 200_000, 3_000_000, 80_000, 0, 20_000, 0, 1_000]
            .map(|s| s + rng.i64(0..100_000));
        modes[0] = start;
        let mut busy_trace = Vec::with_capacity(n);
        for _ in 0..n {
            busy = (busy + normal(rng) * 0.03).clamp(0.01, 0.9);
            busy_trace.push(busy);
            let user = (1500.0 * busy * 0.7 + normal(rng) * 5.0).max(0.0) as i64;
            let system = (1500.0 * busy * 0.25 + normal(rng) * 3.0).max(0.0) as i64;
            let iowait = rng.i64(0..4);
            let softirq = rng.i64(0..3);
            let nice = i64::from(rng.u8(..50) == 0);
            let idle = 1500 - user - system - iowait - softirq - nice + rng.i64(-1..=1);
            for (m, d) in [user, system, idle, iowait, 0, softirq, 0, nice]
                .iter()
                .enumerate()
            {
                modes[0][m] += d;
                totals[m].push(modes[0][m] as f64 / 100.0);
            }
        }
        busy_cores.push(busy_trace);
        for t in totals {
            add("cpu seconds (counter, 2 dp)", t);
        }
    }
    // Network, two interfaces: bytes and packets counters; errors and drops
    // almost never move.
    for _ in 0..2 {
        let mut rate = 20_000.0 + rng.f64() * 200_000.0;
        let (mut rb, mut tb, mut rp, mut tp) = (rng.i64(0..1 << 40), rng.i64(0..1 << 40), 0, 0);
        let mut cols: [Vec<f64>; 8] = Default::default();
        let mut rare = [0i64; 4];
        for _ in 0..n {
            rate = (rate * (1.0 + normal(rng) * 0.05)).clamp(1_000.0, 5e7);
            let burst = if rng.u8(..20) == 0 { 10.0 } else { 1.0 };
            let db = (rate * 15.0 * burst * (0.8 + 0.4 * rng.f64())) as i64;
            rb += db;
            tb += db / 3 + rng.i64(0..5000);
            rp += db / 900 + rng.i64(0..10);
            tp += db / 2700 + rng.i64(0..10);
            for r in &mut rare {
                *r += i64::from(rng.u16(..) == 0);
            }
            for (c, v) in cols
                .iter_mut()
                .zip([rb, tb, rp, tp, rare[0], rare[1], rare[2], rare[3]])
            {
                c.push(v as f64);
            }
        }
        for c in cols {
            add("network (counter, integer)", c);
        }
    }
    // Disks: operation counts, bytes in sectors, and busy time in ms (3 decimals).
    for _ in 0..2 {
        let mut v = [0i64; 6].map(|_| rng.i64(0..1 << 30));
        let mut cols: [Vec<f64>; 6] = Default::default();
        for _ in 0..n {
            let reads = rng.i64(0..40) * i64::from(rng.bool());
            let writes = rng.i64(5..120);
            let d = [
                reads,
                writes,
                reads * 8 * rng.i64(1..64),
                writes * 8 * rng.i64(1..32),
            ];
            for (x, d) in v.iter_mut().zip(d) {
                *x += d;
            }
            v[2] = v[2] / 8 * 8;
            v[4] += writes * rng.i64(1..4) + reads;
            v[5] += reads * rng.i64(1..8);
            for (c, (i, x)) in cols.iter_mut().zip(v.iter().enumerate()) {
                c.push(match i {
                    2 | 3 => (*x * 512) as f64,
                    4 | 5 => *x as f64 / 1000.0,
                    _ => *x as f64,
                });
            }
        }
        for c in cols {
            add("disk (counter)", c);
        }
    }
    // Memory: 20 gauges in bytes (kB from /proc/meminfo times 1024), each moving on
    // some scrapes by a walk of its own size; totals constant.
    for (p_move, step_kb) in [
        (0.0, 0.0),
        (0.9, 20_000.0),
        (0.9, 20_000.0),
        (0.3, 100.0),
        (0.8, 5_000.0),
        (0.8, 5_000.0),
        (0.7, 3_000.0),
        (0.95, 300.0),
        (0.05, 50.0),
        (0.5, 200.0),
        (0.5, 200.0),
        (0.3, 50.0),
        (0.4, 40.0),
        (0.9, 8_000.0),
        (0.0, 0.0),
        (0.0, 0.0),
        (0.2, 100.0),
        (0.5, 500.0),
        (0.9, 6_000.0),
        (0.3, 16.0),
    ] {
        let mut kb = rng.f64() * 8e6;
        let vals = (0..n)
            .map(|_| {
                if rng.f64() < p_move {
                    kb = (kb + normal(rng) * step_kb).max(0.0);
                }
                kb.round() * 1024.0
            })
            .collect();
        add("memory (gauge, bytes)", vals);
    }
    // Filesystems: free and available bytes move rarely, in 4 KiB blocks.
    for _ in 0..3 {
        let mut free = rng.i64(1 << 20..1 << 26);
        let mut files = rng.i64(100_000..5_000_000);
        let size = rng.i64(1 << 26..1 << 28) * 4096;
        let mut cols: [Vec<f64>; 4] = Default::default();
        for _ in 0..n {
            if rng.u8(..10) == 0 {
                free += rng.i64(-2000..2000);
                files += rng.i64(-20..20);
            }
            for (c, v) in cols
                .iter_mut()
                .zip([free * 4096, (free - 50_000) * 4096, size, files])
            {
                c.push(v as f64);
            }
        }
        for c in cols {
            add("filesystem (gauge)", c);
        }
    }
    // Load averages (2 decimals): exponentially damped runnable counts.
    let mut loads = [0.5, 0.5, 0.5];
    let mut cols: [Vec<f64>; 3] = Default::default();
    for i in 0..n {
        let runnable = busy_cores.iter().map(|b| b[i]).sum::<f64>() * 2.0 + rng.f64();
        for (k, minutes) in [1.0f64, 5.0, 15.0].iter().enumerate() {
            let decay = (-15.0 / (60.0 * minutes)).exp();
            loads[k] = loads[k] * decay + runnable * (1.0 - decay);
            cols[k].push(round_to(loads[k], 2));
        }
    }
    for c in cols {
        add("load average (gauge, 2 dp)", c);
    }
    // Temperatures (1 decimal), following the busiest core.
    for busy in &busy_cores {
        let base = 40.0 + rng.f64() * 10.0;
        let vals = busy
            .iter()
            .map(|b| round_to(base + 25.0 * b + normal(rng) * 0.3, 1))
            .collect();
        add("temperature (gauge, 1 dp)", vals);
    }
    // Constants: boot time, core count, info metrics, flags, sizes.
    for c in [1.7e9, 4.0, 1.0, 1.0, 1.0, 0.0, 1500.0, 1.0, 65536.0, 0.0] {
        add("constant", vec![c; n]);
    }
    // Other counters and small gauges.
    let (mut ctx, mut intr) = (rng.i64(0..1 << 40), rng.i64(0..1 << 40));
    let (mut running, mut sockets) = (2i64, 40i64);
    let mut cols: [Vec<f64>; 5] = Default::default();
    for _ in 0..n {
        ctx += 15 * 3000 + rng.i64(-8000..8000);
        intr += 15 * 2000 + rng.i64(-3000..3000);
        running = (running + rng.i64(-1..=1)).clamp(1, 8);
        sockets = (sockets + rng.i64(-2..=2)).clamp(5, 200);
        let blocked = i64::from(rng.u8(..30) == 0);
        for (c, v) in cols.iter_mut().zip([ctx, intr, running, sockets, blocked]) {
            c.push(v as f64);
        }
    }
    for c in cols {
        add("other (counter/gauge, integer)", c);
    }
    // Full-precision floats node_exporter does export: the host clock and the
    // NTP offset.
    add(
        "full-precision float",
        ts.iter()
            .map(|t| *t as f64 / 1e6 + rng.f64() * 1e-3)
            .collect(),
    );
    add(
        "full-precision float",
        (0..n).map(|_| normal(rng) * 1e-4).collect(),
    );
    debug_assert_eq!(out.len(), NODE_SERIES_PER_HOST);
    out
}

/// Series a node_exporter-like host has.
pub const NODE_SERIES_PER_HOST: usize = 116;

/// The node_exporter-like workload: 10 hosts of `n` points a series.
pub fn node_exporter(n: usize) -> Workload {
    node_exporter_hosts(10, n)
}

/// `hosts` node_exporter-like hosts (`NODE_SERIES_PER_HOST` series each, in host
/// order), `n` points a series; the first 10 are `node_exporter`'s.
pub fn node_exporter_hosts(hosts: usize, n: usize) -> Workload {
    let mut rng = fastrand::Rng::with_seed(15);
    let series = (0..hosts)
        .flat_map(|h| node_host(&mut rng, n, h % 10 == 0))
        .collect();
    Workload {
        name: "node_exporter-like",
        about: "10 hosts x 116 series scraped every 15 s (1 host in 10 with +-5 ms of \
                jitter in whole ms, the rest exact): CPU-seconds counters (2 dp), network \
                and disk counters, memory and filesystem gauges in bytes, load averages \
                (2 dp), temperatures (1 dp), constants, and two full-precision floats a \
                host (its clock, the NTP offset)",
        series,
    }
}

/// TSBS cpu-only: 10 metrics a host every 10 s, each a random walk with N(0,1)
/// steps clamped to [0, 100] (TSBS's ClampedRandomWalk), at full precision or
/// rounded to `digits`.
pub fn tsbs(n: usize, digits: Option<i32>) -> Workload {
    tsbs_hosts(100, n, digits)
}

/// The 10 metrics of a TSBS cpu-only host, in the order `tsbs_hosts` makes them.
pub const TSBS_METRICS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

/// `tsbs` with `hosts` hosts (10 series each, in host order); the first 100 are
/// `tsbs`'s.
pub fn tsbs_hosts(hosts: usize, n: usize, digits: Option<i32>) -> Workload {
    let mut rng = fastrand::Rng::with_seed(10);
    let mut series = Vec::new();
    for _ in 0..hosts {
        let ts = clock(&mut rng, n, 10 * SEC, 0);
        for _ in TSBS_METRICS {
            let mut v = rng.f64() * 100.0;
            let vals = (0..n)
                .map(|_| {
                    v = (v + normal(&mut rng)).clamp(0.0, 100.0);
                    digits.map_or(v, |d| round_to(v, d))
                })
                .collect();
            series.push(Series {
                kind: "cpu usage",
                ts: ts.clone(),
                vals,
            });
        }
    }
    let name = if digits.is_some() {
        "TSBS cpu-only, 2 dp"
    } else {
        "TSBS cpu-only, full precision"
    };
    let about = "100 hosts x 10 metrics every 10 s (exact), each a random walk with \
                 N(0,1) steps clamped to [0, 100], as TSBS generates";
    Workload {
        name,
        about,
        series,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// `2010/01/01 00:00` or `2012/01/01` as µs.
fn parse_date(s: &str) -> i64 {
    let n: Vec<i64> = s
        .split(['/', ' ', ':'])
        .map(|p| p.parse().expect("a date"))
        .collect();
    let secs = days(n[0], n[1], n[2]) * 86_400
        + n.get(3).unwrap_or(&0) * 3600
        + n.get(4).unwrap_or(&0) * 60;
    secs * SEC
}

/// The recorded series of the root crate's tests/data/vega (read at run time from
/// the directory of the crate being built: the root crate's examples only).
pub fn recorded() -> Workload {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vega");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("tests/data/vega");
    let mut series = Vec::new();
    let rows = |text: &str| {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let temps = rows(&read("seattle-temps.csv"));
    series.push(Series {
        kind: "seattle-temps (hourly °F, 1 dp)",
        ts: temps.iter().map(|r| parse_date(&r[0])).collect(),
        vals: temps
            .iter()
            .map(|r| r[1].parse().expect("a number"))
            .collect(),
    });
    let weather = rows(&read("seattle-weather.csv"));
    for (col, kind) in [
        (1, "precipitation"),
        (2, "temp_max"),
        (3, "temp_min"),
        (4, "wind"),
    ] {
        series.push(Series {
            kind: ["seattle-weather ", kind, " (daily, 1 dp)"].concat().leak(),
            ts: weather.iter().map(|r| parse_date(&r[0])).collect(),
            vals: weather
                .iter()
                .map(|r| r[col].parse().expect("a number"))
                .collect(),
        });
    }
    let stocks = rows(&read("stocks.csv"));
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    for sym in ["AAPL", "AMZN", "GOOG", "IBM", "MSFT"] {
        let rows: Vec<_> = stocks.iter().filter(|r| r[0] == sym).collect();
        let date = |s: &str| {
            let p: Vec<&str> = s.split(' ').collect();
            let m = MONTHS.iter().position(|m| *m == p[0]).expect("a month") as i64 + 1;
            days(
                p[2].parse().expect("a year"),
                m,
                p[1].parse().expect("a day"),
            ) * 86_400
                * SEC
        };
        series.push(Series {
            kind: "stocks (monthly close, 2 dp)",
            ts: rows.iter().map(|r| date(&r[1])).collect(),
            vals: rows
                .iter()
                .map(|r| r[2].parse().expect("a price"))
                .collect(),
        });
    }
    Workload {
        name: "recorded (vega_datasets)",
        about: "tests/data/vega: Seattle hourly temperatures (4,000 points), Seattle daily \
                weather (4 series x 1,461), 5 monthly stock prices (68-123 points)",
        series,
    }
}
