//! The layers use only the public API of the layer below (docs/design.md, "Layers"):
//! JsonDB (`src/jsondb`) is built on the engine's public API alone — the same
//! `Engine`, `Snapshot`, `WriteBatch`, `ScanRange` and errors a Rust user has — so
//! anything the document layer needs, a user can have too. This test reads the
//! sources and fails on any path into the engine's internals.

use std::path::Path;

/// Crate modules that are the engine's internals (their public items, if any, are
/// re-exported at the crate root, and that is the path to use).
const INTERNAL: [&str; 12] = [
    "wal", "version", "memtable", "sstable", "manifest", "iterator", "range", "entry", "cache",
    "lock", "config", "util",
];

/// Test-only helpers a layer's unit tests may use.
const TEST_HELPERS: [&str; 1] = ["crate::util::test_rng"];

/// Every `.rs` file under `dir`, in subdirectories too.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn jsondb_uses_only_the_public_engine_api() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/jsondb");
    let mut offences = Vec::new();
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for m in INTERNAL {
                let needle = format!("crate::{m}::");
                if code.contains(&needle) && !TEST_HELPERS.iter().any(|h| code.contains(h)) {
                    offences.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
            // `crate::engine::X` is fine for public items; internals of the engine
            // module are `pub(crate)` and named here.
            for private in ["Inner", "stats::", "WalState", "CommitQueue"] {
                if code.contains(&format!("crate::engine::{private}")) {
                    offences.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "src/jsondb reaches past the public engine API:\n{}",
        offences.join("\n")
    );
}
