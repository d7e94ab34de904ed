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
