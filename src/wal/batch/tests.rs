//! Tests of batch.rs: batches round-trip, points logged as one operation, and
//! damaged records refused rather than misread.

use super::*;

#[test]
fn round_trip() {
    let b = WriteBatch {
        ops: vec![
            Op::Put(Record::new("k", -5, b"v".to_vec()).with_expire_at(99)),
            Op::Delete {
                key: b"d".to_vec(),
                ts: i64::MIN,
            },
            Op::DeleteRange {
                start: b"a".to_vec(),
                end: b"b".to_vec(),
                ts_lo: i64::MIN,
                ts_hi: i64::MAX,
            },
            Op::DeleteRange {
                start: b"c".to_vec(),
                end: Vec::new(),
                ts_lo: -7,
                ts_hi: 40,
            },
        ],
    };
    let mut buf = Vec::new();
    b.encode(42, &mut buf);
    assert_eq!(WriteBatch::decode(&buf), Some((42, b.clone())));
    assert_eq!(WriteBatch::decode(&buf[..buf.len() - 1]), None);
    let (es, rs) = b.into_entries(42);
    assert_eq!(es[1].seq, 43);
    assert_eq!(rs[0].seq, 44);
}

/// Points in columns are logged as one `5` operation and read back as such, one
/// sequence number a point; their entries are those of the same points logged
/// as `4` records one by one (the form logs held before `5`).
#[test]
fn points_log_as_one_operation() {
    let mut p = Points::with_capacity(2, 4);
    p.push(b"ab", 5, 77, -0.0);
    p.push(b"c", -1, i64::MAX, f64::from_bits(0x7ff0_0000_0000_0001));
    let around = |op: Op| WriteBatch {
        ops: vec![
            Op::Delete {
                key: b"d".to_vec(),
                ts: 1,
            },
            op,
            Op::Delete {
                key: b"e".to_vec(),
                ts: 2,
            },
        ],
    };
    let b = around(Op::Points(p.clone()));
    assert_eq!(b.len(), 4);
    let mut buf = Vec::new();
    b.encode(10, &mut buf);
    // The header counts operations as written: the points are one.
    assert_eq!(buf[8], 3);
    let (first, read) = WriteBatch::decode(&buf).unwrap();
    assert_eq!((first, read.len()), (10, 4));
    assert_eq!(read, b);
    let (es, _, points) = b.clone().into_parts(10);
    assert_eq!((es[0].seq, es[1].seq), (10, 13));
    assert_eq!(points, vec![(11, p.clone())]);
    // A log of the same points as `4` records reads back to the same entries,
    // sequence numbers included.
    let mut old = around(Op::Delete {
        key: b"d".to_vec(),
        ts: 1,
    });
    old.ops.splice(
        1..2,
        (0..p.len()).map(|i| {
            let value = p.values[i].to_le_bytes().to_vec();
            Op::Num(Record::new(p.key(i), p.ts[i], value).with_expire_at(p.expire_at[i]))
        }),
    );
    let mut old_buf = Vec::new();
    old.encode(10, &mut old_buf);
    let (_, old_read) = WriteBatch::decode(&old_buf).unwrap();
    assert!(matches!(old_read.ops[1], Op::Num(_)), "{old_read:?}");
    let sorted = |(mut es, rs): (Vec<Entry>, Vec<RangeTombstone>)| {
        es.sort_by_key(|e| e.seq);
        (es, rs)
    };
    assert_eq!(
        sorted(read.into_entries(10)),
        sorted(old_read.into_entries(10))
    );
}

/// Random points (keys sharing prefixes or not, ts and expiries anywhere in
/// i64, NaN payloads) come back bit for bit; every cut of the payload, and a
/// shared length past the previous key, is malformed rather than misread.
#[test]
fn points_round_trip_and_refuse_damage() {
    let mut rng = crate::util::test_rng("points_round_trip_and_refuse_damage");
    let edge = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
    for _ in 0..300 {
        let n = rng.usize(0..40);
        let mut p = Points::with_capacity(n, 0);
        let mut key = b"node.h0001.cpu".to_vec();
        for _ in 0..n {
            match rng.u8(..4) {
                0 => key.truncate(rng.usize(..=key.len())),
                1 => key = (0..rng.usize(1..20)).map(|_| rng.u8(..)).collect(),
                _ => {}
            }
            key.push(rng.u8(..));
            let mut i64_any = || match rng.bool() {
                true => edge[rng.usize(..edge.len())],
                false => rng.i64(..),
            };
            let (ts, expire_at) = (i64_any(), i64_any());
            p.push(&key, ts, expire_at, f64::from_bits(rng.u64(..)));
        }
        let b = WriteBatch {
            ops: vec![Op::Points(p)],
        };
        let mut buf = Vec::new();
        b.encode(7, &mut buf);
        assert_eq!(WriteBatch::decode(&buf), Some((7, b.clone())));
        for cut in 0..buf.len() {
            assert_eq!(WriteBatch::decode(&buf[..cut]), None, "cut at {cut}");
        }
    }
    // Two points: the second says it shares 3 bytes of a 2-byte key.
    let mut buf = Vec::new();
    put_u64(&mut buf, 1);
    buf.extend_from_slice(&[1, 5, 2, 0, 2, b'a', b'b', 0, 0]);
    buf.extend_from_slice(&[0; 8]);
    let good = buf.len();
    buf.extend_from_slice(&[3, 0, 0, 0]);
    buf.extend_from_slice(&[0; 8]);
    assert_eq!(WriteBatch::decode(&buf), None);
    buf[good] = 2;
    let (_, read) = WriteBatch::decode(&buf).unwrap();
    let Op::Points(p) = &read.ops[0] else {
        panic!("not points: {read:?}")
    };
    assert_eq!((p.key(0), p.key(1)), (&b"ab"[..], &b"ab"[..]));
}
/// Points whose keys break a write's rules, or together pass the bound, are
/// malformed: an empty key, one over `MAX_KEY_LEN` (made of a shared prefix and a
/// suffix), and keys repeated past `keys_most`.
#[test]
fn points_refuse_keys_no_write_makes() {
    let decode = |ops: &[u8], keys_most: usize| Points::decode(&mut Decoder::new(ops), keys_most);
    // One point: `shared`, `suffix` as bytes, ts, expiry, 8 value bytes.
    let point = |shared: usize, suffix: &[u8]| {
        let mut b = Vec::new();
        put_varint(&mut b, shared as u64);
        put_bytes(&mut b, suffix);
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&[0; 8]);
        b
    };
    let points = |ps: &[Vec<u8>]| {
        let mut b = Vec::new();
        put_varint(&mut b, ps.len() as u64);
        ps.iter().for_each(|p| b.extend_from_slice(p));
        b
    };
    assert!(decode(&points(&[point(0, b"k")]), 1).is_some());
    assert_eq!(decode(&points(&[point(0, b"")]), 1 << 20), None);
    let big = vec![7u8; MAX_KEY_LEN];
    assert!(decode(&points(&[point(0, &big)]), 1 << 20).is_some());
    let over = points(&[point(0, &big), point(MAX_KEY_LEN, b"x")]);
    assert_eq!(decode(&over, 1 << 20), None);
    // Ten points of one 64 KiB key: 655,360 bytes of keys from ~65 KiB of log.
    let mut ten = vec![point(0, &big)];
    ten.extend((1..10).map(|_| point(MAX_KEY_LEN, b"")));
    let ten = points(&ten);
    assert_eq!(decode(&ten, 10 * MAX_KEY_LEN).map(|p| p.len()), Some(10));
    assert_eq!(decode(&ten, 10 * MAX_KEY_LEN - 1), None);
}

/// Every byte of a valid `5` record changed (to 0, 0xff, and with its low and top
/// bits flipped): decoding never panics, and what it reads holds only keys a
/// write could make, no more key bytes than the bound allows.
#[test]
fn points_damaged_byte_by_byte_decode_safely() {
    let mut p = Points::with_capacity(6, 0);
    for (i, key) in ["node.h0001.cpu", "node.h0001.mem", "node.h0002.cpu", "x"]
        .iter()
        .enumerate()
    {
        p.push(key.as_bytes(), 1_000 * i as i64, i64::MAX, i as f64 / 3.0);
    }
    let b = WriteBatch {
        ops: vec![Op::Points(p)],
    };
    let mut buf = Vec::new();
    b.encode(3, &mut buf);
    for at in 0..buf.len() {
        let was = buf[at];
        for changed in [0, 0xff, was ^ 1, was ^ 0x80] {
            buf[at] = changed;
            if let Some((_, read)) = WriteBatch::decode(&buf) {
                for op in &read.ops {
                    if let Op::Points(p) = op {
                        assert!(p.keys.len() <= buf.len() * MAX_KEY_LEN);
                        for i in 0..p.len() {
                            assert!((1..=MAX_KEY_LEN).contains(&p.key(i).len()));
                        }
                    }
                }
            }
        }
        buf[at] = was;
    }
    assert_eq!(WriteBatch::decode(&buf), Some((3, b)));
}
