//! The fuzz harnesses (fuzz/src/lib.rs) on stable: each runs over its seeds, its
//! corpus and its past crashers (`fuzz/corpus/<target>`, `fuzz/regressions/<target>`),
//! then over random mutations of the seeds (`FLOWDB_FUZZ_MUTATIONS`, default 300 per
//! target; the seed is printed). The real fuzzing is `scripts/fuzz.sh` (cargo-fuzz).

mod common;
#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::Path;

/// A fuzz target: its name and its harness.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 7] = [
    ("wal", harness::wal),
    ("table", harness::table),
    ("manifest", harness::manifest),
    ("json_doc", harness::json_doc),
    ("jsondb_stored", harness::jsondb_stored),
    ("ops", harness::ops),
    ("numeric", harness::numeric),
];

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect()
}

fn mutate(rng: &mut fastrand::Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.usize(1..4) {
        match rng.u8(..5) {
            0 if !v.is_empty() => {
                let i = rng.usize(..v.len());
                v[i] ^= 1 << rng.u8(..8);
            }
            1 if !v.is_empty() => {
                let i = rng.usize(..v.len());
                v[i] = rng.u8(..);
            }
            2 => v.truncate(rng.usize(..=v.len())),
            3 => v.extend((0..rng.usize(1..16)).map(|_| rng.u8(..))),
            _ if v.len() > 1 => {
                let (a, b) = (rng.usize(..v.len()), rng.usize(..v.len()));
                let (a, b) = (a.min(b), a.max(b));
                v[a..b].reverse();
            }
            _ => v.push(rng.u8(..)),
        }
    }
    v
}

#[test]
fn fuzz_harnesses_over_corpus_crashers_and_mutations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let n: usize = std::env::var("FLOWDB_FUZZ_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut rng = common::rng("fuzz_corpus");
    let write_seeds = std::env::var("FLOWDB_FUZZ_WRITE_SEEDS").ok();
    for (name, run) in TARGETS {
        let mut inputs = harness::seeds(name);
        if let Some(dir) = &write_seeds {
            // scripts/fuzz.sh: start the libFuzzer corpus from the seeds.
            let dir = Path::new(dir).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            for (i, s) in inputs.iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i}")), s).unwrap();
            }
        }
        inputs.extend(files(&root.join("corpus").join(name)));
        let crashers = files(&root.join("regressions").join(name));
        for input in inputs.iter().chain(&crashers) {
            run(input);
        }
        for _ in 0..n {
            let base = &inputs[rng.usize(..inputs.len())];
            run(&mutate(&mut rng, base));
        }
        println!(
            "{name}: {} inputs, {} crashers, {n} mutations",
            inputs.len(),
            crashers.len()
        );
    }
}

/// The `wal` harness replays what it is given: its seed (the base database's log:
/// a record and six points logged as one operation) comes back through the open,
/// and an empty log loses exactly those.
#[test]
fn the_wal_harness_replays_its_input() {
    let seeds = harness::seeds("wal");
    assert_eq!(seeds.len(), 1, "the base database has one log segment");
    let (_fs, e) = harness::recover_log(&seeds[0]).expect("the seed log recovers");
    assert!(e.get("tail", 1).unwrap().is_some(), "the logged record");
    let p = e.get("p.2", 1).unwrap().expect("a logged point");
    assert_eq!(p.value, 2.5f64.to_le_bytes());
    let (_fs, e) = harness::recover_log(&[]).expect("an empty log recovers");
    assert!(e.get("tail", 1).unwrap().is_none());
    assert!(e.get("k00", 100).unwrap().is_some(), "the tables are kept");
}

/// Every error of opening the base database with `table` in place of its first
/// table and reading it every way the `table` harness does.
fn table_errors(table: &[u8]) -> Vec<String> {
    let e = match harness::open_replaced(".sst", table) {
        Ok(e) => e,
        Err(err) => return vec![err.to_string()],
    };
    let mut errs = Vec::new();
    match e.scan(flowdb::ScanRange::all()) {
        Ok(it) => errs.extend(it.filter_map(|r| r.err()).map(|e| e.to_string()).take(1)),
        Err(err) => errs.push(err.to_string()),
    }
    let hour = 3_600_000_000;
    let q = flowdb::Query::prefix("n");
    errs.extend(
        e.aggregate(q, hour, &flowdb::Agg::ALL)
            .err()
            .map(|e| e.to_string()),
    );
    errs.extend(e.trigger_compaction().err().map(|e| e.to_string()));
    errs
}

/// The `table` harness recomputes the checksums of a damaged table (for half of its
/// inputs), so the damage reaches the decoders: a byte changed anywhere in a base
/// table's blocks, once repaired, never fails its own block's checksum (a damaged
/// block handle may still point at bytes that fail one), most such changes are
/// refused by a decoder or read, and none panics.
#[test]
fn the_table_harness_takes_damage_past_the_checksums() {
    let seeds = harness::seeds("table");
    assert!(!seeds.is_empty());
    let (mut by_decoders, mut by_checksums) = (0, 0);
    for (t, seed) in seeds.iter().enumerate() {
        let mut same = seed.clone();
        harness::repair_table(&mut same);
        assert_eq!(&same, seed, "repairing an undamaged table changes nothing");
        assert!(table_errors(seed).is_empty(), "table {t} reads whole");
        let frames = harness::repair::frames(seed);
        assert_eq!(
            frames.last().map(|f| f.1 + 4),
            Some(seed.len() - 64),
            "blocks end to end"
        );
        // Every 7th byte of its blocks.
        for (start, end) in frames {
            for at in (start..end).step_by(7) {
                let mut damaged = seed.clone();
                damaged[at] ^= 0xa5;
                harness::repair_table(&mut damaged);
                for err in table_errors(&damaged) {
                    if err.contains("checksum mismatch") {
                        assert!(
                            !err.contains(&format!("at offset {start}:")),
                            "table {t}, byte {at}: its repaired block failed its checksum: {err}"
                        );
                        by_checksums += 1;
                    } else {
                        by_decoders += 1;
                    }
                }
                harness::table(&damaged);
            }
        }
    }
    assert!(
        by_decoders > 4 * by_checksums,
        "{by_decoders} refused by decoders, {by_checksums} by checksums"
    );
}

/// The `wal` harness does the same for the log: a byte of a record's payload changed
/// and the record's checksum recomputed is replayed or refused as a malformed batch,
/// never dropped as a torn tail.
#[test]
fn the_wal_harness_takes_damage_past_the_checksums() {
    let seed = harness::seeds("wal").remove(0);
    let payloads = harness::repair::log_records(&seed);
    assert!(payloads.len() >= 2, "a record and the points' record");
    let (mut malformed, mut replayed) = (0, 0);
    for at in payloads.into_iter().flatten() {
        let mut damaged = seed.clone();
        damaged[at] ^= 0xa5;
        harness::repair::log(&mut damaged);
        match harness::recover_log(&damaged) {
            Ok(_) => replayed += 1,
            Err(err) => {
                let err = err.to_string();
                assert!(
                    err.contains("malformed batch"),
                    "byte {at}: a repaired record refused for another reason: {err}"
                );
                malformed += 1;
            }
        }
        harness::wal(&damaged);
    }
    assert!(
        malformed > 0 && replayed > 0,
        "{malformed} refused, {replayed} replayed"
    );
}

/// The `manifest` harness does the same for the manifest: a byte of its payload
/// changed and its checksum recomputed reaches the manifest's decoder.
#[test]
fn the_manifest_harness_takes_damage_past_the_checksum() {
    let seed = harness::seeds("manifest").remove(0);
    let mut refused = 0;
    for at in 16..seed.len() {
        let mut damaged = seed.clone();
        damaged[at] ^= 0xa5;
        harness::repair::manifest(&mut damaged);
        if let Err(err) = harness::open_replaced("MANIFEST", &damaged) {
            let err = err.to_string();
            assert!(!err.contains("checksum mismatch"), "byte {at}: {err}");
            refused += 1;
        }
        harness::manifest(&damaged);
    }
    assert!(refused > 0, "no damaged manifest was refused");
}
