//! Tables against a model: the same entries written as a format 1 table (one whole
//! index) and as format 2 tables with partitions of 1, 2, 3 and 128 blocks, with and
//! without room for the bloom filter in the index budget, must answer every read the
//! way a sorted list of the entries does (seed printed).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{BlockCompression, ReadOptions};
use crate::entry::{Entry, Kind};
use crate::fs::{FileSystem, OsFs};
use crate::range::{Bounds, KeyEnd};

use super::builder::{TableBuilder, TableOptions};
use super::cache::BlockCache;
use super::cursor::{KeyWalk, TableCursor};
use super::reader::{IndexBudget, Table, TableContext, TableMeta};

type Model = BTreeMap<(Vec<u8>, i64), Entry>;

fn entries(rng: &mut fastrand::Rng) -> Model {
    let shape = rng.u8(0..4);
    entries_shaped(rng, shape)
}

/// Random series of one shape: 0 short (a few points each: never a key map), 1 of
/// medium length, 2 long (many blocks each: a key map), 3 a mix of the three.
fn entries_shaped(rng: &mut fastrand::Rng, shape: u8) -> Model {
    let mut m = Model::new();
    let series = rng.usize(1..40);
    for s in 0..series {
        let key = format!("k{:03}", s * 3).into_bytes();
        let points = match if shape < 3 { shape } else { rng.u8(0..3) } {
            0 => rng.usize(1..4),
            1 => rng.usize(1..60),
            _ => rng.usize(100..400),
        };
        let mut ts = rng.i64(-1000..1000);
        for _ in 0..points {
            ts += rng.i64(1..50);
            let delete = rng.u8(0..20) == 0;
            // Tombstones carry no value.
            let value = if delete {
                Vec::new()
            } else {
                vec![rng.u8(..); rng.usize(0..40)]
            };
            m.insert(
                (key.clone(), ts),
                Entry {
                    key: key.clone(),
                    ts,
                    seq: 0,
                    kind: if delete { Kind::Delete } else { Kind::Put },
                    expire_at: i64::MAX,
                    value,
                },
            );
        }
    }
    m
}

fn write(
    ctx: &Arc<TableContext>,
    id: u64,
    m: &Model,
    version: u32,
    partition: usize,
) -> Arc<Table> {
    let opts = TableOptions {
        block_size: 128,
        restart_interval: 4,
        bloom_bits_per_key: 10,
        zstd_level: -1,
        // Every codec in turn, so each is read back through every path here (LZ4
        // makes a table format 4, which has a partitioned index: not with format 1).
        compression: match id % 3 {
            1 if version >= 2 => BlockCompression::Lz4,
            2 => BlockCompression::None,
            _ => BlockCompression::Zstd,
        },
        partition_blocks: partition,
        format_version: version,
    };
    let mut b = TableBuilder::create(&ctx.fs, super::table_path(&ctx.dir, id), opts).unwrap();
    for e in m.values() {
        b.add(e).unwrap();
    }
    let built = b.finish().unwrap();
    let meta = TableMeta {
        id,
        level: 0,
        min_seq: 7,
        max_seq: 7,
        size: built.size,
    };
    Arc::new(Table::open(ctx, meta).unwrap())
}

/// The entries in bounds, in order; read backwards too, they must be the same ones
/// in the opposite order.
fn scan(t: &Arc<Table>, b: Bounds) -> Vec<(Vec<u8>, i64)> {
    let read = |b: Bounds| {
        let mut c = TableCursor::new(t.clone(), Arc::new(b), ReadOptions::default());
        let mut out = Vec::new();
        while let Some(e) = c.next_entry().unwrap() {
            out.push((e.key, e.ts));
        }
        out
    };
    let out = read(b.clone());
    let mut back = read(Bounds { reverse: true, ..b });
    back.reverse();
    assert_eq!(back, out, "a backward read differs");
    out
}

/// A key's versions as a backward walk lends them: ts and value, newest first. The
/// same whatever the walk is told its reader wants (which decides only what it reads
/// ahead: intervals prefetched, the block before entered early).
fn latest_walk(t: &Arc<Table>, key: &[u8]) -> Vec<(i64, Vec<u8>)> {
    let walk = |want: usize| {
        let mut part = None;
        let Some(last) = t
            .last_block_of_key(key, &mut part, &ReadOptions::default())
            .unwrap()
        else {
            return Vec::new();
        };
        let mut w = KeyWalk::new(t.clone(), key, (last, part), want, ReadOptions::default());
        let mut out = Vec::new();
        while let Some((ts, _, _, value)) = w.next_desc().unwrap() {
            out.push((ts, value.bytes().to_vec()));
        }
        out
    };
    let out = walk(usize::MAX);
    for want in [0, 1, 3, 17] {
        assert_eq!(walk(want), out, "told it wants {want}");
    }
    out
}

/// A backward walk that starts in a block ending with its key starts at the block's
/// last restart without searching; every version must still come back, in order,
/// wherever the restarts fall, also when the last restart's first entry is
/// `(key, i64::MAX)` (a restart before it holds the key's other versions).
#[test]
fn walks_from_blocks_ending_with_the_key_read_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Arc::new(TableContext {
        fs: Arc::new(OsFs) as Arc<dyn FileSystem>,
        dir: dir.path().to_path_buf(),
        cache: Arc::new(BlockCache::new(1 << 20)),
        budget: Arc::new(IndexBudget::new(usize::MAX)),
    });
    let put = |key: &[u8], ts: i64| Entry {
        key: key.to_vec(),
        ts,
        seq: 0,
        kind: Kind::Put,
        expire_at: i64::MAX,
        value: vec![ts as u8; 5],
    };
    let mut id = 100;
    for before in 0..5 {
        for n in 1..14 {
            for max in [false, true] {
                let mut m = Model::new();
                for ts in 0..before {
                    m.insert((b"a".to_vec(), ts), put(b"a", ts));
                }
                for ts in (0..n).chain(max.then_some(i64::MAX)) {
                    m.insert((b"k".to_vec(), ts), put(b"k", ts));
                }
                for (version, partition) in [(1, 1), (2, 1), (2, 128)] {
                    id += 1;
                    let t = write(&ctx, id, &m, version, partition);
                    for k in [&b"a"[..], b"k"] {
                        let want: Vec<(i64, Vec<u8>)> = m
                            .range((k.to_vec(), i64::MIN)..=(k.to_vec(), i64::MAX))
                            .rev()
                            .map(|((_, ts), e)| (*ts, e.value.clone()))
                            .collect();
                        let what = format!("{before} before, {n} of k, max {max}, {version}");
                        assert_eq!(latest_walk(&t, k), want, "{what}: walk of {k:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn partitioned_and_whole_indexes_read_like_the_model() {
    let mut rng = crate::util::test_rng("partitioned_and_whole_indexes_read_like_the_model");
    let dir = tempfile::tempdir().unwrap();
    let mut id = 0;
    let (mut with_map, mut without_map) = (0, 0);
    for round in 0..12 {
        // Each shape in turn, so both the key map path and the bloom-and-search path
        // run whatever the seed.
        let m = entries_shaped(&mut rng, round % 4);
        // Room for every filter, or for none (filters then come through the cache).
        let budget = if round % 2 == 0 { usize::MAX } else { 0 };
        let ctx = Arc::new(TableContext {
            fs: Arc::new(OsFs) as Arc<dyn FileSystem>,
            dir: dir.path().to_path_buf(),
            cache: Arc::new(BlockCache::new(if round % 3 == 0 { 0 } else { 1 << 20 })),
            budget: Arc::new(IndexBudget::new(budget)),
        });
        let keys: Vec<Vec<u8>> = m.keys().map(|(k, _)| k.clone()).collect();
        for (version, partition) in [(1, 0), (2, 1), (2, 2), (2, 3), (2, 128)] {
            id += 1;
            let t = write(&ctx, id, &m, version, partition.max(1));
            let what = format!("round {round}, format {version}, partitions of {partition}");
            if version == 2 {
                if t.props.key_map.is_some() {
                    with_map += 1;
                } else {
                    without_map += 1;
                }
            }
            let ro = ReadOptions::default();
            // Point reads of every entry and of absent ones around them.
            for ((k, ts), e) in m.iter().step_by(3) {
                let got = t.get(k, *ts, &ro).unwrap().unwrap();
                assert_eq!(
                    (got.kind, &got.value, got.seq),
                    (e.kind, &e.value, 7),
                    "{what}"
                );
                assert!(
                    t.get(k, ts + 1, &ro).unwrap().is_none()
                        || m.contains_key(&(k.clone(), ts + 1)),
                    "{what}"
                );
            }
            assert!(t.get(b"k0011", 5, &ro).unwrap().is_none(), "{what}");
            // Newest-first walks of single keys.
            for k in keys
                .iter()
                .step_by(50)
                .chain([&b"k999".to_vec(), &b"a".to_vec()])
            {
                let want: Vec<(i64, Vec<u8>)> = m
                    .range((k.clone(), i64::MIN)..=(k.clone(), i64::MAX))
                    .rev()
                    .map(|((_, ts), e)| (*ts, e.value.clone()))
                    .collect();
                assert_eq!(latest_walk(&t, k), want, "{what}: walk of {k:?}");
            }
            // Scans over random key and time ranges; every other one over one key
            // (a mapped key's window is planned by searching its blocks by ts), some
            // of them narrow.
            for i in 0..60 {
                let a = rng.usize(0..130);
                let b = if i % 2 == 0 { a } else { rng.usize(0..130) };
                let (lo, hi) = (format!("k{:03}", a.min(b)), format!("k{:03}", a.max(b)));
                let (t0, t1) = (rng.i64(-1200..12000), rng.i64(-1200..12000));
                let (t0, t1) = match i % 4 {
                    0 => (t0, t0 + rng.i64(0..40)),
                    _ => (t0.min(t1), t0.max(t1)),
                };
                let bounds = Bounds::key_range(lo.as_bytes(), hi.as_bytes()).with_time(t0, t1);
                let want: Vec<(Vec<u8>, i64)> = m
                    .keys()
                    .filter(|(k, ts)| {
                        k.as_slice() >= lo.as_bytes()
                            && k.as_slice() <= hi.as_bytes()
                            && (t0..=t1).contains(ts)
                    })
                    .cloned()
                    .collect();
                assert_eq!(scan(&t, bounds), want, "{what}: {lo}..={hi} @ {t0}..={t1}");
            }
            // Key ranges over all time, ending included or excluded at a key in the
            // table, between keys, or past them: only the plan's last block is
            // checked against the end (TableCursor::last_block), so an end at each
            // kind of place is read.
            for i in 0..40 {
                let (a, b) = (rng.usize(0..125), rng.usize(0..135));
                let lo = format!("k{:03}", a.min(b));
                let hi = match i % 3 {
                    0 => format!("k{:03}", a.max(b)),
                    1 => format!("k{:03}!", a.max(b)),
                    _ => format!("k{:03}", a.max(b) + 1),
                };
                let excluded = i % 2 == 0;
                let mut bounds = Bounds::key_range(lo.as_bytes(), hi.as_bytes());
                if excluded {
                    bounds.end = KeyEnd::Excluded(hi.clone().into_bytes());
                }
                let want: Vec<(Vec<u8>, i64)> = m
                    .keys()
                    .filter(|(k, _)| {
                        let k = k.as_slice();
                        k >= lo.as_bytes() && (k < hi.as_bytes() || !excluded && k == hi.as_bytes())
                    })
                    .cloned()
                    .collect();
                let ends = if excluded { "excluded" } else { "included" };
                assert_eq!(scan(&t, bounds), want, "{what}: {lo}..{hi} ({ends})");
            }
            let all: Vec<(Vec<u8>, i64)> = m.keys().cloned().collect();
            assert_eq!(scan(&t, Bounds::all()), all, "{what}: everything");
            let first = m.keys().next().unwrap().0.clone();
            assert!(t.may_hold(&first, m.keys().next().unwrap().1), "{what}");
            assert_eq!(
                t.key_range().map(|(a, _)| a.to_vec()),
                Some(first),
                "{what}"
            );
        }
    }
    // Series-shaped and document-shaped tables both came up (the key map path and
    // the bloom-and-search path both ran).
    assert!(
        with_map > 0 && without_map > 0,
        "{with_map} tables with a key map, {without_map} without"
    );
}

/// `verify` reads every block of a table: with whole and partitioned indexes, in
/// stretches of the default size and of one partition (partitions then also read
/// alone, their blocks after the pass), a flipped byte anywhere in the file is found
/// (by opening the table, or by `verify`; every byte of a small table, a byte in each
/// of 1,000 stretches of a larger one), and a sound table counts every block.
#[test]
fn verify_finds_a_flipped_byte_anywhere() {
    use super::check::Stretches;
    let mut rng = crate::util::test_rng("verify_finds_a_flipped_byte_anywhere");
    let dir = tempfile::tempdir().unwrap();
    let ctx = Arc::new(TableContext {
        fs: Arc::new(OsFs) as Arc<dyn FileSystem>,
        dir: dir.path().to_path_buf(),
        cache: Arc::new(BlockCache::new(0)),
        budget: Arc::new(IndexBudget::new(usize::MAX)),
    });
    let m = entries(&mut rng);
    let cuts = [
        Stretches::DEFAULT,
        Stretches {
            target: 1,
            max_span: 300,
        },
    ];
    for (id, (version, partition)) in [(1, 1), (2, 1), (2, 3), (2, 128)].into_iter().enumerate() {
        let t = write(&ctx, id as u64 + 1, &m, version, partition);
        let path = super::table_path(dir.path(), t.meta.id);
        let meta = t.meta;
        let (data_blocks, parts) = (t.index.len() as u64, t.index.paged_partitions() as u64);
        let others = [t.props.key_map, t.props.series].iter().flatten().count() as u64;
        for cut in cuts {
            let what = format!("format {version}, partitions of {partition}, {cut:?}");
            let (blocks, bytes) = t.verify_in(cut).unwrap();
            assert_eq!(blocks, data_blocks + parts + others, "{what}");
            assert!(bytes > 0 && bytes < meta.size, "{what}");
        }
        drop(t);
        // Every byte of a small table; of a larger one, one random byte in each of
        // 1,000 equal stretches (a block or trailer in each, with a table of a
        // thousand blocks).
        let sound = std::fs::read(&path).unwrap();
        let stride = sound.len().div_ceil(1000);
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        for start in (0..sound.len()).step_by(stride) {
            use std::os::unix::fs::FileExt;
            let at = start + rng.usize(..stride.min(sound.len() - start));
            file.write_all_at(&[sound[at] ^ (1 << rng.u8(0..8))], at as u64)
                .unwrap();
            for cut in cuts {
                let found = Table::open(&ctx, meta).and_then(|t| t.verify_in(cut));
                assert!(
                    found.is_err(),
                    "format {version}, partitions of {partition}, {cut:?}: byte {at} of {}",
                    sound.len()
                );
            }
            file.write_all_at(&sound[at..=at], at as u64).unwrap();
        }
    }
}

/// A partition the budget seemed to have room for by its estimate but not by its
/// real size (blocks of points carry statistics the estimate leaves out) is cached:
/// it was once neither pinned nor cached, read from disk at every lookup.
#[test]
fn a_partition_that_does_not_fit_after_all_is_cached() {
    let dir = tempfile::tempdir().unwrap();
    let context = |budget: usize| {
        Arc::new(TableContext {
            fs: Arc::new(OsFs) as Arc<dyn FileSystem>,
            dir: dir.path().to_path_buf(),
            cache: Arc::new(BlockCache::new(1 << 20)),
            budget: Arc::new(IndexBudget::new(budget)),
        })
    };
    let mut m = Model::new();
    for k in 0..4 {
        let key = format!("s{k}").into_bytes();
        for ts in 0..600i64 {
            let value = ((ts % 17) as f64 * 0.25).to_le_bytes().to_vec();
            let e = Entry {
                key: key.clone(),
                ts: ts * 10,
                seq: 0,
                kind: Kind::Num,
                expire_at: i64::MAX,
                value,
            };
            m.insert((key.clone(), ts * 10), e);
        }
    }
    let t = write(&context(usize::MAX), 1, &m, 2, 8);
    let meta = t.meta;
    drop(t);
    // What the table charges besides partitions (its top level, filter and key
    // map), then room for one partition by its estimate.
    let probe = context(usize::MAX);
    let t = Table::open(&probe, meta).unwrap();
    assert!(t.mapped(b"s1").unwrap().is_some(), "a key map");
    let opened = probe.budget.used();
    drop(t);
    let ctx = context(opened + super::index::IndexPart::estimate(8) + 16);
    let t = Table::open(&ctx, meta).unwrap();
    let ro = ReadOptions::default();
    assert!(t.get(b"s1", 3000, &ro).unwrap().is_some());
    let after_first = ctx.cache.counts();
    assert!(t.get(b"s1", 3000, &ro).unwrap().is_some());
    let after_second = ctx.cache.counts();
    assert_eq!(
        after_second.1, after_first.1,
        "the second lookup missed the cache (hits, misses: {after_first:?} -> {after_second:?})"
    );
}
