//! Merges for reads (docs/design.md, "Merges for reads"): range reads that merge two
//! or more runs of the newest window charge for it, and once the charges reach the
//! runs' bytes / 64, background compaction merges those runs into one. Reads that
//! meet one run, point reads, and runs of closed windows charge nothing.

mod common;

use std::collections::BTreeMap;

use flowdb::{Engine, Record, ScanRange};

const SEC: i64 = 1_000_000;

type Model = BTreeMap<(Vec<u8>, i64), Vec<u8>>;

/// One test's database (small tables, `small_config`; merge outputs not cut, so a
/// run is one table here), the model of what it holds, its seeded values, and a
/// base ts at the start of a 10-second window.
struct Case {
    dir: tempfile::TempDir,
    e: Engine,
    m: Model,
    rng: fastrand::Rng,
    base: i64,
}

impl Case {
    fn new(test: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let e = Case::open(dir.path());
        Case {
            dir,
            e,
            m: Model::new(),
            rng: common::rng(test),
            base: common::base_ts().div_euclid(10 * SEC) * 10 * SEC,
        }
    }

    fn open(dir: &std::path::Path) -> Engine {
        let mut tuning = common::tiny_partitions();
        tuning.target_table_bytes = 64 << 20;
        Engine::open_with(common::small_config(dir), tuning).unwrap()
    }

    /// The same database opened again (the engine closed first: it holds the lock).
    fn reopen(self) -> Case {
        let Case {
            dir,
            e,
            m,
            rng,
            base,
        } = self;
        drop(e);
        Case {
            e: Case::open(dir.path()),
            dir,
            m,
            rng,
            base,
        }
    }

    /// One flush of `n` points of each of `keys`, at `ts0` + 0..n seconds, after
    /// which no tiered or window merge is due.
    fn flush(&mut self, keys: &[String], ts0: i64, n: i64) {
        let mut batch = Vec::new();
        for k in keys {
            for i in 0..n {
                let v: Vec<u8> = (0..32).map(|_| self.rng.u8(..)).collect();
                let r = Record::new(k.as_str(), ts0 + i * SEC, v);
                self.m.insert((r.key.clone(), r.ts), r.value.clone());
                batch.push(r);
            }
        }
        self.e.write_batch(&batch).unwrap();
        self.e.flush().unwrap();
        assert_eq!(self.e.run_compactions().unwrap(), 0, "no merge is due");
    }

    /// The charges at which the runs of the newest window are due (their bytes / 64).
    fn due(&self) -> u64 {
        self.e.stats().sstable_bytes / 64
    }

    /// How many records a scan of one key reads.
    fn scan_count(&self, k: &str) -> usize {
        self.e.scan(ScanRange::key_range(k, k)).unwrap().count()
    }

    fn read_merges(&self) -> u64 {
        self.e.stats().total_read_merges
    }

    fn check(&self) {
        assert!(
            common::scanned(&self.e) == self.m,
            "the database differs from the model"
        );
    }

    /// No merge is due, for reads or otherwise, and none has run for reads.
    fn assert_nothing_merges(&self) {
        assert_eq!(self.e.run_compactions().unwrap(), 0);
        assert_eq!(self.read_merges(), 0);
    }
}

fn keys(prefix: &str) -> Vec<String> {
    (0..8).map(|i| format!("{prefix}.{i:02}")).collect()
}

/// Three flushes of the same keys in one window: point reads of them charge
/// nothing; scans over them merge three runs and charge two each, forwards or
/// backwards. Below the due charge nothing merges; past it, one merge leaves one run
/// (one table), and the data reads the same, also after a reopen.
#[test]
fn range_reads_over_several_runs_merge_them_once_paid_for() {
    let mut c = Case::new("range_reads_over_several_runs_merge_them_once_paid_for");
    let (ks, base) = (keys("cpu"), c.base);
    for f in 0..3 {
        c.flush(&ks, base + f, 3);
    }
    assert_eq!(c.e.stats().sstable_count, 3);
    let due = c.due();
    // Point reads of keys every run holds: no charge.
    for i in 0..2 * due as usize {
        let k = &ks[i % ks.len()];
        assert!(c.e.get(k, base + SEC).unwrap().is_some());
        assert!(c.e.get_latest(k).unwrap().is_some());
        assert_eq!(c.e.last_n(k, 4).unwrap().len(), 4);
    }
    assert_eq!(c.e.run_compactions().unwrap(), 0, "point reads charged");
    // Each scan of one key merges the three runs: two charges, either way.
    let scan = |i: u64| {
        let k = &ks[i as usize % ks.len()];
        let range = match i % 2 {
            0 => ScanRange::key_range(k, k),
            _ => ScanRange::key_range(k, k).reverse(),
        };
        assert_eq!(c.e.scan(range).unwrap().count(), 9);
    };
    let mut scans = 0;
    while (scans + 1) * 2 < due {
        scan(scans);
        scans += 1;
    }
    assert_eq!(c.e.run_compactions().unwrap(), 0, "not paid for yet");
    assert_eq!(c.read_merges(), 0);
    scan(0);
    scan(1);
    assert_eq!(c.e.run_compactions().unwrap(), 1);
    assert_eq!(c.read_merges(), 1);
    assert_eq!(c.e.stats().sstable_count, 1, "one run, one table");
    c.check();
    c.reopen().check();
}

/// A flush starts the charges again: what reads paid over two runs does not count
/// towards the three runs after it, though the third is one record.
#[test]
fn a_flush_starts_the_charges_again() {
    let mut c = Case::new("a_flush_starts_the_charges_again");
    let (ks, base) = (keys("cpu"), c.base);
    c.flush(&ks, base, 3);
    c.flush(&ks, base + 1, 3);
    // One charge a scan over two runs: one short of due.
    let due = c.due();
    for i in 0..due - 1 {
        assert_eq!(c.scan_count(&ks[i as usize % ks.len()]), 6);
    }
    c.flush(&ks[..1], base + 2, 1);
    let due_now = c.due();
    // Two charges a scan over the three runs: carried over, these would be due.
    let mut charged = due - 1;
    while charged < due_now {
        assert_eq!(c.scan_count(&ks[0]), 7);
        charged += 2;
    }
    assert!(
        charged - (due - 1) < due_now,
        "the new charges alone are not due"
    );
    c.assert_nothing_merges();
    c.check();
}

/// Flushes of disjoint keys: a scan of one key meets one run, a point read meets
/// its table alone; neither charges, so nothing merges however many there are.
#[test]
fn reads_that_meet_one_run_and_point_reads_charge_nothing() {
    let mut c = Case::new("reads_that_meet_one_run_and_point_reads_charge_nothing");
    let base = c.base;
    let sets = [keys("a"), keys("b"), keys("c")];
    for (f, ks) in sets.iter().enumerate() {
        c.flush(ks, base + f as i64, 3);
    }
    let due = c.due();
    for i in 0..4 * due as usize {
        let k = &sets[i % 3][i % 8];
        assert_eq!(c.scan_count(k), 3);
        assert!(c.e.get(k, base + (i % 3) as i64).unwrap().is_some());
        assert!(c.e.get_latest(k).unwrap().is_some());
    }
    c.assert_nothing_merges();
    c.check();
}

/// Runs of a closed window are the time-window policy's alone: scans over them and
/// over the newest window's one run charge nothing.
#[test]
fn runs_of_closed_windows_are_not_merged_for_reads() {
    let mut c = Case::new("runs_of_closed_windows_are_not_merged_for_reads");
    let (ks, base) = (keys("cpu"), c.base);
    // Window 0: a big run and a small one (the big one stays out of its final merge).
    c.flush(&ks, base, 6);
    c.flush(&ks, base + 6 * SEC, 1);
    // Window 1: one run; window 0 is closed now, with two runs, the big one at its
    // end, which its final merge leaves out: nothing merged.
    c.flush(&ks, base + 15 * SEC, 1);
    let tables = c.e.stats().sstable_count;
    assert_eq!(tables, 3, "window 0 keeps two runs");
    let due = c.due();
    for i in 0..4 * due as usize {
        assert_eq!(c.scan_count(&ks[i % ks.len()]), 8);
    }
    c.assert_nothing_merges();
    assert_eq!(c.e.stats().sstable_count, tables);
    c.check();
}

/// Long range reads charge by the record as well: a read over three runs charges
/// two at its start and two more for every 1,024 records it read (scans and lending
/// visits alike), so a few long reads pay for the merge that short ones would take
/// hundreds of reads to.
#[test]
fn long_reads_charge_by_the_record() {
    let mut c = Case::new("long_reads_charge_by_the_record");
    let (ks, base) = (keys("mem"), c.base);
    for f in 0..3 {
        c.flush(&ks, base + f, 150);
    }
    let records = 3 * ks.len() as u64 * 150;
    let per_read = 2 + 2 * (records / 1024);
    assert!(
        per_read > 2,
        "the reads are long enough to charge by the record"
    );
    let due = c.due();
    let reads = due.div_ceil(per_read);
    assert!(
        reads * 2 < due,
        "by their starts alone, the reads would not be due"
    );
    let read = |i: u64| {
        let range = ScanRange::key_range(ks[0].as_str(), ks[ks.len() - 1].as_str());
        let n = if i % 2 == 0 {
            c.e.scan(range).unwrap().count() as u64
        } else {
            let mut n = 0;
            c.e.snapshot()
                .visit(range, 0, &mut |_, _, _| {
                    n += 1;
                    Ok(true)
                })
                .unwrap();
            n
        };
        assert_eq!(n, records);
    };
    for i in 0..reads - 1 {
        read(i);
    }
    assert_eq!(c.e.run_compactions().unwrap(), 0, "not paid for yet");
    read(reads - 1);
    assert_eq!(c.e.run_compactions().unwrap(), 1);
    assert_eq!(c.read_merges(), 1);
    c.check();
}
