//! Time-window compaction (docs/design.md, "Compaction"): each closed window is
//! merged once and never again, so write amplification does not grow with the
//! database; late points do not reopen closed windows; outputs are cut by size; the
//! policy's state survives a restart. Every test also checks the data read back.

mod common;

use std::collections::BTreeMap;

use flowdb::{Config, Engine, Record, ScanRange};

const SERIES: usize = 40;
const SEC: i64 = 1_000_000;

type Model = BTreeMap<(Vec<u8>, i64), Vec<u8>>;

fn engine(dir: &std::path::Path, target: u64) -> Engine {
    let mut tuning = common::tiny_partitions();
    tuning.target_table_bytes = target;
    Engine::open_with(
        Config {
            ..common::small_config(dir)
        },
        tuning,
    )
    .unwrap()
}

/// Incompressible values, so that table sizes follow the data.
fn value(rng: &mut fastrand::Rng) -> Vec<u8> {
    (0..48).map(|_| rng.u8(..)).collect()
}

/// Writes `windows` 10-second windows of time-ordered points, three flushes per
/// window, running the scheduled merges after each flush as background maintenance
/// would; one point in `late_every` goes to the window before (0: none late).
/// Returns each window's own write amplification: table bytes written while it was
/// ingested over table bytes flushed meanwhile.
fn ingest(e: &Engine, m: &mut Model, windows: i64, late_every: usize, seed: u64) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let base = common::base_ts();
    let mut wa = Vec::new();
    let mut n = 0;
    let written = |e: &Engine| {
        let st = e.stats();
        let all = st.total_table_bytes_written as f64;
        (all, all - st.total_compaction_bytes_written as f64)
    };
    for w in 0..windows {
        let (all0, flushed0) = written(e);
        for flush in 0..3 {
            let mut batch = Vec::new();
            for sec in 0..2 {
                for s in 0..SERIES {
                    n += 1;
                    let mut ts = base + (w * 10 + flush * 3 + sec) * SEC;
                    if late_every > 0 && n % late_every == 0 && w > 0 {
                        ts -= 10 * SEC + rng.i64(0..5) * SEC;
                    }
                    let r = Record::new(format!("cpu.{s:03}"), ts, value(&mut rng));
                    m.insert((r.key.clone(), r.ts), r.value.clone());
                    batch.push(r);
                }
            }
            e.write_batch(&batch).unwrap();
            e.flush().unwrap();
            e.run_compactions().unwrap();
        }
        let (all, flushed) = written(e);
        wa.push((all - all0) / (flushed - flushed0));
    }
    wa
}

fn check(e: &Engine, m: &Model) {
    let got: Model = e
        .scan(ScanRange::all())
        .unwrap()
        .map(|r| r.unwrap())
        .map(|r| ((r.key, r.ts), r.value))
        .collect();
    assert_eq!(got.len(), m.len());
    assert!(got == *m, "scan differs from the model");
    for s in 0..SERIES {
        let key = format!("cpu.{s:03}");
        let want =
            m.range((key.clone().into_bytes(), i64::MIN)..=(key.clone().into_bytes(), i64::MAX));
        let (want_ts, want_v) = want.last().map(|((_, t), v)| (*t, v.clone())).unwrap();
        let got = e.get_latest(&key).unwrap().unwrap();
        assert_eq!((got.ts, got.value), (want_ts, want_v), "get_latest({key})");
    }
}

#[test]
fn each_closed_window_is_merged_once_so_write_amplification_stays_flat() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path(), 8 << 10);
    let mut m = Model::new();
    let wa = ingest(&e, &mut m, 12, 0, 1);
    // Three flushes per window with threshold 2: the first two merge inside the open
    // window (2/3 of the data rewritten), and closing the window merges its two runs
    // once (all of it): 1 + 2/3 + 1 writes per byte, in the 12th window as in the
    // 2nd (the first closes in the second).
    println!("write amplification by window: {wa:.2?}");
    // (Merged tables carry a little more metadata than flushed ones: 2.70.)
    for (w, x) in wa.iter().enumerate().skip(1) {
        assert!(*x <= 2.75, "window {w}: write amplification {x} ({wa:.2?})");
        assert!(
            (x - wa[1]).abs() < 0.02,
            "window {w} differs from window 1: {wa:.2?}"
        );
    }
    check(&e, &m);
    // Nothing is due any more: the closed windows are final, and the open one holds
    // a level-1 and a level-0 run.
    assert_eq!(e.run_compactions().unwrap(), 0);
    // The policy's state (levels) survives a restart.
    e.shutdown().unwrap();
    let e = engine(dir.path(), 8 << 10);
    assert_eq!(e.run_compactions().unwrap(), 0);
    check(&e, &m);
}

#[test]
fn late_points_do_not_rewrite_closed_windows() {
    let (on_time, late) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (
        engine(on_time.path(), 8 << 10),
        engine(late.path(), 8 << 10),
    );
    let (mut ma, mut mb) = (Model::new(), Model::new());
    let wa_on_time = ingest(&a, &mut ma, 8, 0, 2);
    // One point in a hundred arrives 10-15 s (one window or more) late.
    let wa_late = ingest(&b, &mut mb, 8, 100, 2);
    println!("on time {wa_on_time:.2?}\nlate    {wa_late:.2?}");
    let (x, y) = (a.stats().write_amplification, b.stats().write_amplification);
    assert!(
        y <= x * 1.05,
        "late points cost rewrites: {x} on time, {y} with late points"
    );
    check(&b, &mb);
}

#[test]
fn merges_cut_their_output_into_tables_of_the_target_size() {
    let dir = tempfile::tempdir().unwrap();
    let target = 16 << 10;
    let e = engine(dir.path(), target);
    let mut m = Model::new();
    ingest(&e, &mut m, 6, 0, 3);
    assert!(e.trigger_compaction().unwrap());
    let st = e.stats();
    let sizes: Vec<u64> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|f| f.unwrap())
        .filter(|f| f.file_name().to_string_lossy().ends_with(".sst"))
        .map(|f| f.metadata().unwrap().len())
        .collect();
    assert_eq!(sizes.len(), st.sstable_count);
    let total: u64 = sizes.iter().sum();
    assert!(
        sizes.len() as u64 >= total / (2 * target),
        "{} tables for {total} bytes",
        sizes.len()
    );
    // A table ends at the first key after the target, or at twice the target; the
    // metadata after the last block adds a little.
    for s in &sizes {
        assert!(
            *s <= 2 * target + (8 << 10),
            "a table of {s} bytes: {sizes:?}"
        );
    }
    check(&e, &m);
    // The full compaction's run is final: background compaction leaves it alone.
    assert_eq!(e.run_compactions().unwrap(), 0);
}
