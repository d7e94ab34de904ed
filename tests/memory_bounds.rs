//! Memory bounded by configuration, not by data (docs/design.md, "Memory"): with a
//! database whose block index alone would be more than 20 times the index budget,
//! the metadata the engine holds stays within `index_memory_budget_mb` and the block
//! cache within `block_cache_capacity_mb`, while every read still answers.

mod common;

use flowdb::{Config, Engine, Record, ScanRange};

fn gauge(e: &Engine, name: &str) -> u64 {
    e.metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from the metrics"))
}

#[test]
fn metadata_memory_follows_the_budget_not_the_data() {
    const MIB: u64 = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        // One entry per block: the most index per byte of data.
        block_size: 1,
        index_memory_budget_mb: 1,
        block_cache_capacity_mb: 1,
        memtable_size_mb: 4,
        ..common::small_config(dir.path())
    };
    let e = Engine::open(config).unwrap();
    let (series, points) = (450, 500);
    for p in 0..points {
        let batch: Vec<Record> = (0..series)
            .map(|s| Record::new(format!("s{s:04}"), p, vec![(s % 251) as u8; 16]))
            .collect();
        e.write_batch(&batch).unwrap();
    }
    e.flush().unwrap();
    e.trigger_compaction().unwrap();
    let s = e.stats();
    assert_eq!(s.sstable_count, 1);
    // The whole index, were it held: about 100 bytes per block entry.
    let whole_index = s.block_meta_index_entries as u64 * 100;
    assert!(
        whole_index > 20 * MIB,
        "the database is too small for this test: {} blocks",
        s.block_meta_index_entries
    );
    // Reads of every kind, so partitions and blocks pass through the cache.
    for p in (0..points).step_by(7) {
        for s in (0..series).step_by(13) {
            let r = e.get(&format!("s{s:04}"), p).unwrap().unwrap();
            assert_eq!(r.value, vec![(s % 251) as u8; 16]);
        }
    }
    for s in (0..series).step_by(17) {
        assert_eq!(
            e.get_latest(&format!("s{s:04}")).unwrap().unwrap().ts,
            points - 1
        );
    }
    let window = e
        .scan(ScanRange::time_range(100, 109))
        .unwrap()
        .filter(|r| r.as_ref().is_ok_and(|r| r.value.len() == 16))
        .count();
    assert_eq!(window, 10 * series as usize);
    let held = gauge(&e, "flowdb_index_memory_bytes");
    assert!(held <= MIB, "index memory {held} over its 1 MiB budget");
    let cached = gauge(&e, "flowdb_block_cache_bytes");
    assert!(
        cached <= MIB,
        "block cache {cached} over its 1 MiB capacity"
    );
    e.shutdown().unwrap();
}

/// `Tuning::memtables_in_block_cache`: the memtables' bytes come off the block
/// cache's capacity as they grow (never below an eighth of it), the cache evicts
/// down to it, and the capacity comes back when a flush empties them. Without the
/// setting the capacity stays as configured.
#[test]
fn memtables_charged_to_the_cache_shrink_it_until_flushed() {
    const MIB: u64 = 1 << 20;
    for charged in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            block_cache_capacity_mb: 16,
            memtable_size_mb: 64,
            ..common::small_config(dir.path())
        };
        let mut tuning = flowdb::Tuning::default();
        tuning.memtables_in_block_cache = charged;
        let e = Engine::open_with(config, tuning).unwrap();
        let value = |s: u32, p: i64| format!("{s}@{p}:{}", "x".repeat(200)).into_bytes();
        let write = |from: i64, to: i64| {
            for p in from..to {
                let batch: Vec<Record> = (0..100)
                    .map(|s| Record::new(format!("s{s:03}"), p, value(s, p)))
                    .collect();
                e.write_batch(&batch).unwrap();
            }
        };
        // About 40 MiB of tables, read whole so the cache fills to its capacity.
        write(0, 2_000);
        e.flush().unwrap();
        let read_all = |points: usize| {
            let mut n = 0;
            for r in e.scan(ScanRange::all()).unwrap() {
                r.unwrap();
                n += 1;
            }
            assert_eq!(n, 100 * points);
        };
        read_all(2_000);
        assert_eq!(gauge(&e, "flowdb_block_cache_capacity_bytes"), 16 * MIB);
        // About 8 MiB more in the memtable: the capacity follows it (in steps of a
        // MiB), and what the cache holds stays within the capacity.
        write(2_000, 2_300);
        let mem = gauge(&e, "flowdb_memtable_bytes");
        assert!(mem > 4 * MIB, "memtable {mem}");
        read_all(2_300);
        let cap = gauge(&e, "flowdb_block_cache_capacity_bytes");
        let held = gauge(&e, "flowdb_block_cache_bytes");
        match charged {
            true => {
                let want = 16 * MIB - mem;
                assert!(cap.abs_diff(want) <= MIB, "capacity {cap}, memtables {mem}");
                assert!(
                    held <= cap + MIB / 2,
                    "cache holds {held} over its capacity {cap}"
                );
            }
            false => assert_eq!(cap, 16 * MIB),
        }
        // Memtables past the whole cache leave it an eighth.
        write(2_300, 3_300);
        let cap = gauge(&e, "flowdb_block_cache_capacity_bytes");
        match charged {
            true => assert_eq!(
                cap,
                2 * MIB,
                "memtables {}",
                gauge(&e, "flowdb_memtable_bytes")
            ),
            false => assert_eq!(cap, 16 * MIB),
        }
        // A flush empties the memtables: the whole capacity comes back.
        e.flush().unwrap();
        assert_eq!(gauge(&e, "flowdb_memtable_bytes"), 0);
        assert_eq!(gauge(&e, "flowdb_block_cache_capacity_bytes"), 16 * MIB);
        e.shutdown().unwrap();
    }
}
