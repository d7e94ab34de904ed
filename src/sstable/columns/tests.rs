//! Tests of the column reads: against the block iterator, packed runs, damaged
//! blocks, blocks of other shapes, and the first restart's guess.

use std::sync::Arc;

use super::*;
use crate::entry::Entry;
use crate::sstable::block::{BlockBuilder, BlockIter};

fn block(b: &mut BlockBuilder) -> Block {
    Block::parse(b.finish(), Arc::from("t"), 0).unwrap()
}

/// The points of `block` in `lo..=hi` as the block iterator reads them.
fn read(block: Block, lo: i64, hi: i64) -> Columns {
    let mut it = BlockIter::new(Arc::new(block));
    let mut c = Columns::default();
    while let Some(raw) = it.next_raw().unwrap() {
        if (lo..=hi).contains(&it.ts()) {
            c.ts.push(it.ts());
            let v: [u8; 8] = it.value(&raw).try_into().unwrap();
            c.vals.push(f64::from_le_bytes(v));
        }
    }
    c.n = c.ts.len();
    c
}

#[test]
fn columns_are_the_points_the_iterator_reads() {
    let mut rng = crate::util::test_rng("columns_are_the_points_the_iterator_reads");
    let key = b"cpu.host-7.user_seconds_total";
    for _ in 0..200 {
        let interval = [1, 3, 16][rng.usize(..3)];
        let mut b = BlockBuilder::new(interval);
        let n = rng.usize(1..600);
        let mut t = rng.i64(-1 << 40..1 << 40);
        // Deltas of random lengths; or regular (every entry of one shape, read by
        // `uniform`), now and then jittered or jumping.
        let regular = rng.bool();
        let step_bits = rng.u32(1..50);
        let step = rng.i64(1..1 << step_bits);
        let ts: Vec<i64> = (0..n)
            .map(|_| {
                t += match (regular, rng.u8(..20)) {
                    (false, _) => {
                        let bits = rng.u32(1..40);
                        rng.i64(1..1 << bits)
                    }
                    (true, 0) => rng.i64(1..1 << 45),
                    // (Never back in time: a series' points only go up.)
                    (true, 1..=3) => (step + rng.i64(-3..=3)).max(1),
                    (true, _) => step,
                };
                t
            })
            .collect();
        let vals: Vec<f64> = (0..n).map(|_| f64::from_bits(rng.u64(..))).collect();
        let expiry = rng.bool().then(|| rng.i64(..));
        b.add_run(key, &ts, &vals, expiry);
        let raw = b.finish();
        let (lo, hi) = match rng.u8(..3) {
            0 => (i64::MIN, i64::MAX),
            _ => {
                let a = ts[rng.usize(..n)] + rng.i64(-1..=1);
                let z = ts[rng.usize(..n)] + rng.i64(-1..=1);
                (a.min(z), a.max(z))
            }
        };
        // The index entry's span of ts, or a wrong one: a hint, never a rule.
        let span = match rng.u8(..4) {
            0 => (rng.i64(..), rng.i64(..)),
            1 => (ts[n - 1], ts[0]),
            _ => (ts[0], ts[n - 1]),
        };
        let parse = || Block::parse(raw.clone(), Arc::from("t"), 0).unwrap();
        let mut got = Columns::default();
        assert!(got.load(&parse(), key, (lo, hi), span).unwrap());
        let want = read(parse(), lo, hi);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(got.points().0, want.points().0);
        assert_eq!(bits(got.points().1), bits(want.points().1));
        // Packed, its runs decode to the same columns.
        let packed = crate::sstable::packed::pack(raw.clone(), interval).unwrap();
        if let Some(p) = &packed {
            let mut from_runs = Columns::default();
            assert!(from_runs.load_packed(p, ("t", 0), key, lo, hi).unwrap());
            assert_eq!(from_runs.points().0, got.points().0);
            assert_eq!(bits(from_runs.points().1), bits(got.points().1));
        }
        // Another key's block is not read as this one's.
        assert!(!got
            .load(&parse(), b"cpu.host-7.user", (lo, hi), span)
            .unwrap());
        if let Some(p) = &packed {
            let other = b"cpu.host-7.user";
            assert!(!got.load_packed(p, ("t", 0), other, lo, hi).unwrap());
        }
        // A cut or damaged block is an error or declined, never a panic.
        for cut in (4..raw.len()).step_by(37) {
            let mut bad = raw[..cut].to_vec();
            bad.extend_from_slice(&raw[raw.len() - 8..]);
            if let Ok(bl) = Block::parse(bad, Arc::from("t"), 0) {
                let _ = got.load(&bl, key, (lo, hi), span);
            }
        }
    }
}

/// Given the block's span, `first_restart` finds the last restart at or before
/// `lo` (0 when none is), as a binary search does; given a wrong span, that one
/// or 0 (reading from the block's start is always right).
#[test]
fn the_first_restart_is_found_from_any_span() {
    let mut rng = crate::util::test_rng("the_first_restart_is_found_from_any_span");
    for _ in 0..300 {
        let n = rng.usize(1..400);
        let mut t = rng.i64(-1 << 40..1 << 40);
        let ts: Vec<i64> = (0..n)
            .map(|_| {
                t += [10, rng.i64(1..100), rng.i64(1..1 << 30)][rng.usize(..3)];
                t
            })
            .collect();
        let mut b = BlockBuilder::new([1, 4, 16][rng.usize(..3)]);
        b.add_run(b"k", &ts, &vec![0.0; n], None);
        let block = block(&mut b);
        let data = block.entries();
        let restarts: Vec<usize> = (0..block.restart_count())
            .map(|i| block.restart_offset(i))
            .collect();
        let lo = ts[rng.usize(..n)] + rng.i64(-20..20);
        let before = |r: &usize| restart_ts(data, *r).is_some_and(|t| t <= lo);
        let want = restarts.partition_point(before).max(1) - 1;
        let span = (ts[0], ts[n - 1]);
        assert_eq!(first_restart(&block, lo, span), want, "{lo}");
        for span in [(ts[n - 1], ts[0]), (rng.i64(..), rng.i64(..))] {
            // A wrong span costs reads, never the answer; one that puts `lo` at or
            // before the block's start reads from restart 0, as documented.
            let want = if lo <= span.0 { 0 } else { want };
            let got = first_restart(&block, lo, span);
            assert_eq!(got, want, "{span:?} {lo}");
        }
    }
}

#[test]
fn blocks_of_other_shapes_are_declined() {
    let entry = |key: &str, ts, kind, value: Vec<u8>| Entry {
        key: key.as_bytes().to_vec(),
        ts,
        seq: 0,
        kind,
        expire_at: i64::MAX,
        value,
    };
    let num = |key, ts| entry(key, ts, Kind::Num, 1.5f64.to_le_bytes().to_vec());
    let mut c = Columns::default();
    // Two series.
    let mut b = BlockBuilder::new(16);
    b.add(&num("a", 1));
    b.add(&num("b", 1));
    assert!(!c
        .load(&block(&mut b), b"a", (i64::MIN, i64::MAX), (1, 3))
        .unwrap());
    // A record of bytes, and a delete, among the points.
    for odd in [
        entry("a", 2, Kind::Put, vec![1; 8]),
        entry("a", 2, Kind::Delete, vec![]),
    ] {
        b.add(&num("a", 1));
        b.add(&odd);
        b.add(&num("a", 3));
        assert!(!c
            .load(&block(&mut b), b"a", (i64::MIN, i64::MAX), (1, 3))
            .unwrap());
    }
    b.add(&num("a", 1));
    b.add(&num("a", 3));
    assert!(c
        .load(&block(&mut b), b"a", (i64::MIN, i64::MAX), (1, 3))
        .unwrap());
    assert_eq!(c.points().0, [1, 3]);
    // Packed: a run of one series then another's.
    for (key, ts) in [("a", 0..10), ("b", 0..10)] {
        for t in ts {
            b.add(&num(key, t));
        }
    }
    let p = crate::sstable::packed::pack(b.finish(), 16)
        .unwrap()
        .unwrap();
    assert!(!c.load_packed(&p, ("t", 0), b"a", 0, 100).unwrap());
}

/// `gather_groups` reads a varint of one to eight bytes as `varint_at` does, its
/// bytes held little-endian in a word (the rest zero), for values at every length's
/// edges and between.
#[test]
fn gathered_groups_are_the_varint() {
    let mut rng = crate::util::test_rng("gathered_groups_are_the_varint");
    let mut values: Vec<u64> = (0..56).flat_map(|b| [(1 << b) - 1, 1 << b]).collect();
    values.push((1 << 56) - 1); // the largest of eight bytes
    values.extend((0..5000).map(|_| rng.u64(..1 << 56) >> rng.u32(0..56)));
    for v in values {
        let mut bytes = Vec::new();
        put_varint(&mut bytes, v);
        assert!(bytes.len() <= 8, "{v}");
        let mut word = [0u8; 8];
        word[..bytes.len()].copy_from_slice(&bytes);
        let x = u64::from_le_bytes(word);
        let got = match bytes.len() {
            1 => gather_groups::<1>(x),
            2 => gather_groups::<2>(x),
            3 => gather_groups::<3>(x),
            4 => gather_groups::<4>(x),
            5 => gather_groups::<5>(x),
            6 => gather_groups::<6>(x),
            7 => gather_groups::<7>(x),
            _ => gather_groups::<8>(x),
        };
        assert_eq!(got, v, "{v:#x}");
    }
}
