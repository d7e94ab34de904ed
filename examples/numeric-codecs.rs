//! Measures the numeric series codecs (`src/numeric`) on generated and recorded
//! workloads: bytes per sample (timestamp + value, the whole encoded run divided by
//! its points) per value codec and for the automatic choice, at runs of 120 and 1000
//! points of one series, then encoding and decoding speed. Results and the
//! workloads' description: docs/numeric-codecs.md.
//!
//! `cargo run --release --example numeric-codecs` (about 20 s on 2 cores; the data
//! is generated from fixed seeds, so the sizes are the same on every run). The
//! generators are in examples/common/numeric_workloads.rs, which
//! bench/numeric-compare (the engine against SQLite) includes too.

use std::hint::black_box;
use std::time::Instant;

use flowdb::numeric::{decode_run_into, encode_run_with, Choice, TsCodec, ValueCodec};

#[path = "common/numeric_workloads.rs"]
mod numeric_workloads;

use numeric_workloads::{node_exporter, recorded, tsbs, Workload, SEC, START};

/// The configurations measured: a name, the timestamp codec and the value choice.
const CONFIGS: [(&str, TsCodec, Choice); 8] = [
    ("raw", TsCodec::Packed, Choice::Force(ValueCodec::Raw)),
    (
        "gorilla",
        TsCodec::Packed,
        Choice::Force(ValueCodec::Gorilla),
    ),
    ("chimp", TsCodec::Packed, Choice::Force(ValueCodec::Chimp)),
    (
        "chimp128",
        TsCodec::Packed,
        Choice::Force(ValueCodec::Chimp128),
    ),
    (
        "decimal",
        TsCodec::Packed,
        Choice::Force(ValueCodec::Decimal),
    ),
    ("auto", TsCodec::Packed, Choice::Auto),
    ("exhaustive", TsCodec::Packed, Choice::Exhaustive),
    ("auto+dod ts", TsCodec::DeltaOfDelta, Choice::Auto),
];

/// Every run of `len` points of every series (the last of a series may be shorter).
fn runs(w: &Workload, len: usize) -> impl Iterator<Item = (&[i64], &[f64])> + '_ {
    w.series
        .iter()
        .flat_map(move |s| s.ts.chunks(len).zip(s.vals.chunks(len)))
}

struct Measured {
    bytes: Vec<usize>,
    ts_bytes: [usize; 2],
    points: usize,
    picks: [usize; 6],
    encode_s: [f64; 3],
    decode_s: f64,
}

/// Bytes of a run's header and timestamp section (`count > 0`).
fn ts_section(run: &[u8]) -> usize {
    let mut i = 1;
    let mut varint = || {
        let (mut v, mut shift) = (0usize, 0);
        while let Some(&b) = run.get(i) {
            i += 1;
            v |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                break;
            }
        }
        v
    };
    varint();
    let len = varint();
    i + len
}

fn measure(w: &Workload, len: usize) -> Measured {
    let mut m = Measured {
        bytes: vec![0; CONFIGS.len()],
        ts_bytes: [0; 2],
        points: 0,
        picks: [0; 6],
        encode_s: [0.0; 3],
        decode_s: 0.0,
    };
    let mut buf = Vec::new();
    for (c, &(_, ts_codec, choice)) in CONFIGS.iter().enumerate() {
        for (ts, vals) in runs(w, len) {
            buf.clear();
            let codec = encode_run_with(ts, vals, ts_codec, choice, &mut buf);
            m.bytes[c] += buf.len();
            if c == 5 {
                m.picks[codec as usize] += 1;
                m.ts_bytes[0] += ts_section(&buf);
                m.points += ts.len();
            } else if c == 7 {
                m.ts_bytes[1] += ts_section(&buf);
            }
        }
    }
    // Speed: the whole workload per timing, best of three.
    let best = |f: &mut dyn FnMut()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    for (k, choice) in [
        Choice::Auto,
        Choice::Exhaustive,
        Choice::Force(ValueCodec::Gorilla),
    ]
    .into_iter()
    .enumerate()
    {
        m.encode_s[k] = best(&mut || {
            for (ts, vals) in runs(w, len) {
                buf.clear();
                black_box(encode_run_with(ts, vals, TsCodec::Packed, choice, &mut buf));
            }
        });
    }
    let encoded: Vec<Vec<u8>> = runs(w, len)
        .map(|(ts, vals)| {
            let mut b = Vec::new();
            encode_run_with(ts, vals, TsCodec::Packed, Choice::Auto, &mut b);
            b
        })
        .collect();
    let (mut ts, mut vals) = (Vec::new(), Vec::new());
    m.decode_s = best(&mut || {
        for run in &encoded {
            decode_run_into(run, &mut ts, &mut vals).expect("decodes");
            black_box((&ts, &vals));
        }
    });
    m
}

/// Timestamps alone: bits per point of each timestamp codec on a few clocks.
fn clocks() {
    println!("\n### Timestamps alone (bits per point: run header and timestamp section)\n");
    println!("| clock (15 s interval) | run | packed | delta-of-delta |");
    println!("|---|---|---|---|");
    let mut rng = fastrand::Rng::with_seed(7);
    let n = 3000;
    let exact: Vec<i64> = (0..n).map(|i| START + i * 15 * SEC).collect();
    let ms: Vec<i64> = exact.iter().map(|t| t + rng.i64(-5..=5) * 1000).collect();
    let us: Vec<i64> = exact.iter().map(|t| t + rng.i64(-5000..=5000)).collect();
    let missed: Vec<i64> = exact
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 200 != 7)
        .map(|(_, t)| *t)
        .collect();
    let cases = [
        ("exact", &exact),
        ("+-5 ms jitter, whole ms", &ms),
        ("+-5 ms jitter, in µs", &us),
        ("exact, 1 scrape in 200 missed", &missed),
    ];
    let mut buf = Vec::new();
    for (name, ts) in cases {
        for len in [120, 1000] {
            let mut bits = |codec| {
                let mut bytes = 0;
                for t in ts.chunks(len) {
                    buf.clear();
                    let zeros = vec![0.0; t.len()];
                    encode_run_with(t, &zeros, codec, Choice::Force(ValueCodec::Raw), &mut buf);
                    bytes += ts_section(&buf);
                }
                format!("{:.2}", 8.0 * bytes as f64 / ts.len() as f64)
            };
            let (packed, dod) = (bits(TsCodec::Packed), bits(TsCodec::DeltaOfDelta));
            println!("| {name} | {len} | {packed} | {dod} |");
        }
    }
}

fn per_sample(bytes: usize, points: usize) -> String {
    format!("{:.3}", bytes as f64 / points as f64)
}

fn main() {
    let n = 3000; // points per generated series: 25 runs of 120, 3 of 1000
    let t = Instant::now();
    let workloads = [
        node_exporter(n),
        tsbs(n, None),
        tsbs(n, Some(2)),
        recorded(),
    ];
    println!("generated in {:.1}s", t.elapsed().as_secs_f64());
    for w in &workloads {
        let points: usize = w.series.iter().map(|s| s.vals.len()).sum();
        let (series, name) = (w.series.len(), w.name);
        println!("- {name}: {series} series, {points} points. {}", w.about);
    }
    println!("\n### Bytes per sample (timestamp + value; header included)\n");
    print!("| workload | run |");
    for (name, _, _) in CONFIGS {
        print!(" {name} |");
    }
    println!(" ts part (packed / dod) | auto's picks |");
    println!("|---|---|{}---|---|", "---|".repeat(CONFIGS.len()));
    let mut speeds = Vec::new();
    for w in &workloads {
        for len in [120, 1000] {
            let m = measure(w, len);
            print!("| {} | {len} |", w.name);
            for b in &m.bytes {
                print!(" {} |", per_sample(*b, m.points));
            }
            let names = ["raw", "gorilla", "chimp", "chimp128", "decimal", "i64"];
            let picks: Vec<String> = m
                .picks
                .iter()
                .zip(names)
                .filter(|(c, _)| **c > 0)
                .map(|(c, n)| format!("{n} {c}"))
                .collect();
            println!(
                " {} / {} | {} |",
                per_sample(m.ts_bytes[0], m.points),
                per_sample(m.ts_bytes[1], m.points),
                picks.join(", ")
            );
            speeds.push((w.name, len, m));
        }
    }
    println!("\n### Speed (million points per second, one core; best of 3)\n");
    println!("| workload | run | encode auto | encode exhaustive | encode gorilla | decode (auto's runs) |");
    println!("|---|---|---|---|---|---|");
    for (name, len, m) in &speeds {
        let mps = |s: f64| format!("{:.1}", m.points as f64 / s / 1e6);
        println!(
            "| {name} | {len} | {} | {} | {} | {} |",
            mps(m.encode_s[0]),
            mps(m.encode_s[1]),
            mps(m.encode_s[2]),
            mps(m.decode_s)
        );
    }
    clocks();
    println!("\n### node_exporter-like by kind of series (auto, runs of 120)\n");
    println!("| kind | series | bytes/sample | values only |");
    println!("|---|---|---|---|");
    let node = &workloads[0];
    let mut kinds: Vec<&str> = node.series.iter().map(|s| s.kind).collect();
    kinds.dedup();
    kinds.sort();
    kinds.dedup();
    let mut buf = Vec::new();
    for kind in kinds {
        let (mut bytes, mut vbytes, mut points, mut count) = (0, 0, 0, 0);
        for s in node.series.iter().filter(|s| s.kind == kind) {
            count += 1;
            for (t, v) in s.ts.chunks(120).zip(s.vals.chunks(120)) {
                buf.clear();
                encode_run_with(t, v, TsCodec::Packed, Choice::Auto, &mut buf);
                bytes += buf.len();
                vbytes += buf.len() - ts_section(&buf);
                points += t.len();
            }
        }
        println!(
            "| {kind} | {count} | {} | {} |",
            per_sample(bytes, points),
            per_sample(vbytes, points)
        );
    }
}
