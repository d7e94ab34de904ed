//! Merges for reads (docs/design.md, "Merges for reads"): range reads that merge two
//! or more runs of the newest window charge for it, and once the charges reach the
//! runs' bytes / 64, background compaction merges those runs into one. Reads that
//! meet one run, point reads, and runs of closed windows charge nothing.

mod common;

use std::collections::BTreeMap;

use flowdb::{Engine, Record, ScanRange};

const SEC: i64 = 1_000_000;

type Model = BTreeMap<(Vec<u8>, i64), Vec<u8>>;

/// Small tables (`small_config`), merge outputs not cut (a run is one table here).
fn engine(dir: &std::path::Path) -> Engine {
    let mut tuning = common::tiny_partitions();
    tuning.target_table_bytes = 64 << 20;
    Engine::open_with(common::small_config(dir), tuning).unwrap()
}

/// One flush of `n` points of each of `keys`, at `ts0` + 0..n seconds.
fn flush(e: &Engine, m: &mut Model, keys: &[String], ts0: i64, n: i64, rng: &mut fastrand::Rng) {
    let mut batch = Vec::new();
    for k in keys {
        for i in 0..n {
            let v: Vec<u8> = (0..32).map(|_| rng.u8(..)).collect();
            let r = Record::new(k.as_str(), ts0 + i * SEC, v);
            m.insert((r.key.clone(), r.ts), r.value.clone());
            batch.push(r);
        }
    }
    e.write_batch(&batch).unwrap();
    e.flush().unwrap();
    assert_eq!(
        e.run_compactions().unwrap(),
        0,
        "three runs merge by no tier"
    );
}

fn keys(prefix: &str) -> Vec<String> {
    (0..8).map(|i| format!("{prefix}.{i:02}")).collect()
}

fn check(e: &Engine, m: &Model) {
    assert!(
        common::scanned(e) == *m,
        "the database differs from the model"
    );
}

fn read_merges(e: &Engine) -> u64 {
    e.stats().total_read_merges
}

/// Three flushes of the same keys in one window: point reads of them charge
/// nothing; scans over them merge three runs and charge two each, forwards or
/// backwards. Below the due charge nothing merges; past it, one merge leaves one run
/// (one table), and the data reads the same, also after a reopen.
#[test]
fn range_reads_over_several_runs_merge_them_once_paid_for() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let mut m = Model::new();
    let mut rng = common::rng("range_reads_over_several_runs_merge_them_once_paid_for");
    let base = common::base_ts().div_euclid(10 * SEC) * 10 * SEC;
    let ks = keys("cpu");
    for f in 0..3 {
        flush(&e, &mut m, &ks, base + f, 3, &mut rng);
    }
    assert_eq!(e.stats().sstable_count, 3);
    let due = e.stats().sstable_bytes / 64;
    // Point reads of keys every run holds: no charge.
    for i in 0..2 * due as usize {
        let k = &ks[i % ks.len()];
        assert!(e.get(k, base + SEC).unwrap().is_some());
        assert!(e.get_latest(k).unwrap().is_some());
        assert_eq!(e.last_n(k, 4).unwrap().len(), 4);
    }
    assert_eq!(e.run_compactions().unwrap(), 0, "point reads charged");
    // Each scan of one key merges the three runs: two charges, either way.
    let scan = |i: u64| {
        let k = &ks[i as usize % ks.len()];
        let range = match i % 2 {
            0 => ScanRange::key_range(k, k),
            _ => ScanRange::key_range(k, k).reverse(),
        };
        assert_eq!(e.scan(range).unwrap().count(), 9);
    };
    let mut scans = 0;
    while (scans + 1) * 2 < due {
        scan(scans);
        scans += 1;
    }
    assert_eq!(e.run_compactions().unwrap(), 0, "not paid for yet");
    assert_eq!(read_merges(&e), 0);
    scan(0);
    scan(1);
    assert_eq!(e.run_compactions().unwrap(), 1);
    assert_eq!(read_merges(&e), 1);
    assert_eq!(e.stats().sstable_count, 1, "one run, one table");
    check(&e, &m);
    drop(e);
    let e = engine(dir.path());
    check(&e, &m);
}

/// A flush starts the charges again: what reads paid over two runs does not count
/// towards the three runs after it, though the third is one record.
#[test]
fn a_flush_starts_the_charges_again() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let mut m = Model::new();
    let mut rng = common::rng("a_flush_starts_the_charges_again");
    let base = common::base_ts().div_euclid(10 * SEC) * 10 * SEC;
    let ks = keys("cpu");
    flush(&e, &mut m, &ks, base, 3, &mut rng);
    flush(&e, &mut m, &ks, base + 1, 3, &mut rng);
    // One charge a scan over two runs: one short of due.
    let due = e.stats().sstable_bytes / 64;
    for i in 0..due - 1 {
        let k = &ks[i as usize % ks.len()];
        assert_eq!(e.scan(ScanRange::key_range(k, k)).unwrap().count(), 6);
    }
    flush(&e, &mut m, &ks[..1], base + 2, 1, &mut rng);
    let due_now = e.stats().sstable_bytes / 64;
    // Two charges a scan over the three runs: carried over, these would be due.
    let k = &ks[0];
    let mut charged = due - 1;
    while charged < due_now {
        assert_eq!(e.scan(ScanRange::key_range(k, k)).unwrap().count(), 7);
        charged += 2;
    }
    assert!(
        charged - (due - 1) < due_now,
        "the new charges alone are not due"
    );
    assert_eq!(e.run_compactions().unwrap(), 0);
    assert_eq!(read_merges(&e), 0);
    check(&e, &m);
}

/// Flushes of disjoint keys: a scan of one key meets one run, a point read meets
/// its table alone; neither charges, so nothing merges however many there are.
#[test]
fn reads_that_meet_one_run_and_point_reads_charge_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let mut m = Model::new();
    let mut rng = common::rng("reads_that_meet_one_run_and_point_reads_charge_nothing");
    let base = common::base_ts().div_euclid(10 * SEC) * 10 * SEC;
    let sets = [keys("a"), keys("b"), keys("c")];
    for (f, ks) in sets.iter().enumerate() {
        flush(&e, &mut m, ks, base + f as i64, 3, &mut rng);
    }
    let due = e.stats().sstable_bytes / 64;
    for i in 0..4 * due as usize {
        let k = &sets[i % 3][i % 8];
        assert_eq!(e.scan(ScanRange::key_range(k, k)).unwrap().count(), 3);
        assert!(e.get(k, base + (i % 3) as i64).unwrap().is_some());
        assert!(e.get_latest(k).unwrap().is_some());
    }
    assert_eq!(e.run_compactions().unwrap(), 0);
    assert_eq!(read_merges(&e), 0);
    check(&e, &m);
}

/// Runs of a closed window are the time-window policy's alone: scans over them and
/// over the newest window's one run charge nothing.
#[test]
fn runs_of_closed_windows_are_not_merged_for_reads() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let mut m = Model::new();
    let mut rng = common::rng("runs_of_closed_windows_are_not_merged_for_reads");
    let base = common::base_ts().div_euclid(10 * SEC) * 10 * SEC;
    let ks = keys("cpu");
    // Window 0: a big run and a small one (the big one stays out of its final merge).
    flush(&e, &mut m, &ks, base, 6, &mut rng);
    flush(&e, &mut m, &ks, base + 6 * SEC, 1, &mut rng);
    // Window 1: one run; window 0 is closed now.
    let mut batch = Vec::new();
    for k in &ks {
        let r = Record::new(k.as_str(), base + 15 * SEC, vec![1; 32]);
        m.insert((r.key.clone(), r.ts), r.value.clone());
        batch.push(r);
    }
    e.write_batch(&batch).unwrap();
    e.flush().unwrap();
    e.run_compactions().unwrap();
    // Window 0 closed with two runs, the big one at its end, which its final merge
    // leaves out: nothing merged.
    let tables = e.stats().sstable_count;
    assert_eq!(tables, 3, "window 0 keeps two runs");
    let due = e.stats().sstable_bytes / 64;
    for i in 0..4 * due as usize {
        let k = &ks[i % ks.len()];
        assert_eq!(e.scan(ScanRange::key_range(k, k)).unwrap().count(), 8);
    }
    assert_eq!(e.run_compactions().unwrap(), 0);
    assert_eq!(read_merges(&e), 0);
    assert_eq!(e.stats().sstable_count, tables);
    check(&e, &m);
}
