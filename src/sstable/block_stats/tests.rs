//! Tests of block_stats.rs: hour parts built point by point, and the statistics
//! sections' encoding, old and new, checked against malformed input.

use super::*;
use crate::sstable::format::BlockHandle;
use crate::sstable::props::{decode_index, encode_index, FenceKey};

/// The parts of points at `ts` (values 0, 1, 2, ...), kept for `count` points.
fn parts_of(ts: &[i64]) -> Option<Box<[HourPart]>> {
    let mut acc = PartsAcc::default();
    for (i, &t) in ts.iter().enumerate() {
        acc.push(t, i as f64);
    }
    acc.take(ts.len() as u64)
}

#[test]
fn parts_split_points_at_clock_hours() {
    let mut rng = crate::util::test_rng("parts_split_points_at_clock_hours");
    for _ in 0..500 {
        let start = match rng.u8(..4) {
            0 => i64::MIN,
            1 => i64::MAX - 3 * HOUR,
            _ => rng.i64(-1_000 * HOUR..1_000 * HOUR),
        };
        let n = rng.usize(1..1500);
        let mut ts = Vec::with_capacity(n);
        let mut t = start;
        for _ in 0..n {
            ts.push(t);
            t = t.saturating_add(rng.i64(0..HOUR / 200));
        }
        let mut want: Vec<(i64, Vec<f64>)> = Vec::new();
        for (i, &t) in ts.iter().enumerate() {
            let h = t.div_euclid(HOUR);
            match want.last_mut() {
                Some((wh, vs)) if *wh == h => vs.push(i as f64),
                _ => want.push((h, vec![i as f64])),
            }
        }
        let kept =
            (2..=MOST_PARTS).contains(&want.len()) && n as u64 >= PART_POINTS * want.len() as u64;
        match parts_of(&ts) {
            None => assert!(!kept, "{} hours, {n} points: parts expected", want.len()),
            Some(parts) => {
                assert!(kept, "{} hours, {n} points: no parts expected", want.len());
                assert_eq!(parts.len(), want.len());
                for (p, (h, vs)) in parts.iter().zip(&want) {
                    assert_eq!((p.hour, p.count), (*h, vs.len() as u64));
                    assert_eq!(p.sum, vs.iter().sum::<f64>());
                    assert_eq!(p.min, vs[0]);
                    assert_eq!(p.max, *vs.last().unwrap());
                }
            }
        }
    }
}

fn meta(first_ts: i64, last_ts: i64, entries: u32, parts: Option<Box<[HourPart]>>) -> BlockMeta {
    BlockMeta {
        first_key: FenceKey::from_slice(b"k"),
        first_ts,
        last_key: FenceKey::from_slice(b"k"),
        last_ts,
        handle: BlockHandle { offset: 0, len: 9 },
        min_ts: first_ts,
        max_ts: last_ts,
        entries,
        stats: Some(Box::new(BlockStats {
            sum: 1.0,
            min: -0.0,
            max: f64::from_bits(0x7ff8_0000_0000_0abc),
            first: 2.0,
            last: 3.0,
            increase: 4.0,
            min_expire: i64::MAX,
            parts,
        })),
    }
}

fn part(hour: i64, count: u64) -> HourPart {
    HourPart {
        hour,
        count,
        sum: count as f64,
        min: -0.0,
        max: f64::NAN,
    }
}

#[test]
fn statistics_of_format_4_tables_read_as_raw_bits() {
    let want = meta(-5, 9, 3, None);
    let mut bare = want.clone();
    bare.stats = None;
    let mut old = encode_index(std::slice::from_ref(&bare));
    // One block with statistics: block 0, flags 1 (expires; not scalars).
    put_varint(&mut old, 1);
    put_varint(&mut old, 0);
    old.push(EXPIRES);
    put_varint_i64(&mut old, -7);
    let s = want.stats.as_deref().unwrap();
    for v in s.values() {
        old.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    let mut want = want;
    want.stats.as_mut().unwrap().min_expire = -7;
    assert_eq!(decode_index(&old), Some(vec![want]));
    let short = encode_index(&[meta(-5, 9, 3, None)]);
    assert!(
        short.len() < old.len() - 20,
        "scalars: {} bytes",
        short.len()
    );
    // An unknown flag is refused.
    let at = encode_index(std::slice::from_ref(&bare)).len() + 2;
    old[at] |= 4;
    assert_eq!(decode_index(&old), None);
}

#[test]
fn parts_round_trip_and_are_checked() {
    let good = |parts: Vec<HourPart>| Some(parts.into_boxed_slice());
    let h = -3;
    let (first, last) = (h * HOUR + 5, (h + 2) * HOUR + 7);
    let metas = vec![
        meta(first, last, 300, good(vec![part(h, 100), part(h + 2, 200)])),
        meta(first, last, 300, None),
        meta(
            first,
            last,
            300,
            good(vec![part(h, 1), part(h + 1, 1), part(h + 2, 298)]),
        ),
    ];
    let encoded = encode_index(&metas);
    assert_eq!(decode_index(&encoded), Some(metas.clone()));
    // Bad parts, each written as the encoder writes them: refused.
    for (what, parts) in [
        ("one part", vec![part(h, 300)]),
        ("five parts", (0..5).map(|i| part(h + i, 60)).collect()),
        (
            "counts over the entries",
            vec![part(h, 300), part(h + 2, 1)],
        ),
        (
            "a part of no points",
            vec![part(h, 0), part(h + 1, 100), part(h + 2, 200)],
        ),
        (
            "not ending at the last ts's hour",
            vec![part(h, 100), part(h + 1, 200)],
        ),
        (
            "not starting at the first ts's hour",
            vec![part(h - 1, 100), part(h + 2, 200)],
        ),
        (
            "hours out of order",
            vec![part(h, 100), part(h + 2, 100), part(h + 2, 100)],
        ),
    ] {
        // Written as the encoder writes parts, past its checks.
        let mut bad = encode_index(&[meta(first, last, 300, None)]);
        put_varint(&mut bad, 1);
        put_varint(&mut bad, 0);
        encode_parts(&mut bad, &parts);
        assert_eq!(decode_index(&bad), None, "{what}");
    }
    // Parts of a block without statistics, or trailing bytes.
    let one = metas[..1].to_vec();
    let with = encode_index(&one);
    let mut two = vec![one[0].clone(), one[0].clone()];
    two[0].stats = None;
    two[1].stats.as_mut().unwrap().parts = None;
    let without = encode_index(&two[1..]);
    let section = &with[without.len()..];
    // Block 1's statistics, then the parts of block 0.
    let orphan = [&encode_index(&two)[..], section].concat();
    assert_eq!(decode_index(&orphan), None, "parts without statistics");
    two[0] = one[0].clone();
    two[0].stats.as_mut().unwrap().parts = None;
    assert!(decode_index(&[&encode_index(&two)[..], section].concat()).is_some());
    assert_eq!(
        decode_index(&[&without[..], &[0]].concat()),
        None,
        "no parts"
    );
    assert_eq!(decode_index(&[&with[..], &[0]].concat()), None, "trailing");
}
