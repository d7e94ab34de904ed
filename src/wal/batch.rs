//! A write batch as the log stores it: the operations of one write call, numbered
//! from the batch's first sequence number.
//!
//! ## Format (one log record's payload)
//! `first_seq: u64 LE`, `count: varint`, then `count` operations, each a tag byte:
//! `0` put: `key: bytes`, `ts: zigzag varint`, `expire_at: zigzag varint`, `value: bytes`;
//! `1` delete: `key: bytes`, `ts: zigzag varint`;
//! `2` range delete: `start: bytes`, `end: bytes` (deletes `start <= key < end`; an
//! empty end: every key from `start`);
//! `3` time-range delete: as `2`, then `ts_lo`, `ts_hi` (zigzag varints; deletes only
//! records with `ts_lo <= ts <= ts_hi`). A range delete over all of time is written
//! as `2`;
//! `4` numeric point: `key: bytes`, `ts`, `expire_at` (zigzag varints), then the
//! `f64`'s 8 bytes (little-endian);
//! `5` numeric points (`Op::Points`, since 2026-12-03): `n: varint`, then per point
//! `shared: varint` (the leading bytes of the previous point's key it shares; 0 for
//! the first), `suffix: bytes` (the rest of its key), `ts` and `expire_at` as zigzag
//! varints of the difference from the previous point's (from 0 for the first;
//! wrapping), then the `f64`'s 8 bytes. One operation, `n` sequence numbers.
//! `bytes` is a varint length followed by the bytes. `count` is the number of
//! operations as written (a `5` counts once).

use crate::entry::{Entry, Kind, RangeTombstone};
use crate::record::Record;
use crate::util::coding::{put_bytes, put_u64, put_varint, put_varint_i64, shared_prefix, Decoder};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Put(Record),
    /// A numeric point: a put whose value is an `f64`'s 8 bytes (little-endian).
    Num(Record),
    /// Numeric points in columns (`Engine::write_points`): one sequence number per
    /// point. Logged as one `5` operation, each key by what it shares with the one
    /// before and each ts and expiry by its difference (a batch of 1,000 points of
    /// `node.h0001.…` keys at one ts takes 14 bytes a point, not 53: the synced
    /// ingest waits on fewer bytes).
    Points(Points),
    Delete {
        key: Vec<u8>,
        ts: i64,
    },
    /// `start <= key < end` (empty `end`: no upper bound), `ts_lo <= ts <= ts_hi`.
    DeleteRange {
        start: Vec<u8>,
        end: Vec<u8>,
        ts_lo: i64,
        ts_hi: i64,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WriteBatch {
    pub ops: Vec<Op>,
}

/// Numeric points in columns, their keys in one buffer: neither the batch nor the
/// memtable (`Memtable::insert_points`) allocates per point of a series it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Points {
    keys: Vec<u8>,
    /// Where each point's key ends in `keys`.
    ends: Vec<usize>,
    pub ts: Vec<i64>,
    pub expire_at: Vec<i64>,
    /// The values' bits.
    pub values: Vec<u64>,
}

impl Points {
    pub(crate) fn with_capacity(n: usize, key_bytes: usize) -> Points {
        Points {
            keys: Vec::with_capacity(key_bytes),
            ends: Vec::with_capacity(n),
            ts: Vec::with_capacity(n),
            expire_at: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, key: &[u8], ts: i64, expire_at: i64, value: f64) {
        self.keys.extend_from_slice(key);
        self.push_rest(ts, expire_at, value.to_bits());
    }

    /// Adds a point whose key is the last point's first `shared` bytes and then
    /// `suffix` (as the log writes it); `None` when there are not that many.
    fn push_shared(
        &mut self,
        (shared, suffix): (usize, &[u8]),
        ts: i64,
        expire_at: i64,
        bits: u64,
    ) -> Option<()> {
        let n = self.len();
        let start = n.checked_sub(2).map_or(0, |i| self.ends[i]);
        let end = start
            .checked_add(shared)
            .filter(|&e| e <= self.keys.len())?;
        self.keys.extend_from_within(start..end);
        self.keys.extend_from_slice(suffix);
        self.push_rest(ts, expire_at, bits);
        Some(())
    }

    fn push_rest(&mut self, ts: i64, expire_at: i64, bits: u64) {
        self.ends.push(self.keys.len());
        self.ts.push(ts);
        self.expire_at.push(expire_at);
        self.values.push(bits);
    }

    /// Writes the points as the log's `5` operation.
    fn encode(&self, buf: &mut Vec<u8>) {
        buf.push(5);
        put_varint(buf, self.len() as u64);
        let (mut key, mut ts, mut expire_at): (&[u8], i64, i64) = (&[], 0, 0);
        for i in 0..self.len() {
            let k = self.key(i);
            let shared = shared_prefix(k, key);
            put_varint(buf, shared as u64);
            put_bytes(buf, &k[shared..]);
            put_varint_i64(buf, self.ts[i].wrapping_sub(ts));
            put_varint_i64(buf, self.expire_at[i].wrapping_sub(expire_at));
            buf.extend_from_slice(&self.values[i].to_le_bytes());
            (key, ts, expire_at) = (k, self.ts[i], self.expire_at[i]);
        }
    }

    /// Reads a `5` operation after its tag; `None` when malformed.
    fn decode(d: &mut Decoder<'_>) -> Option<Points> {
        let n = d.varint_usize()?;
        // A point takes at least 12 bytes: no more room than the payload could hold.
        let mut p = Points::with_capacity(n.min(d.remaining() / 12), 0);
        let (mut ts, mut expire_at) = (0i64, 0i64);
        for _ in 0..n {
            let shared = d.varint_usize()?;
            let suffix = d.bytes()?;
            ts = ts.wrapping_add(d.varint_i64()?);
            expire_at = expire_at.wrapping_add(d.varint_i64()?);
            let bits = d.u64()?;
            p.push_shared((shared, suffix), ts, expire_at, bits)?;
        }
        Some(p)
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Point `i`'s key.
    pub(crate) fn key(&self, i: usize) -> &[u8] {
        let start = match i {
            0 => 0,
            i => self.ends[i - 1],
        };
        &self.keys[start..self.ends[i]]
    }
}

impl WriteBatch {
    /// The number of operations, a point of `Op::Points` each (and each its own
    /// sequence number).
    pub(crate) fn len(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Points(p) => p.len(),
                _ => 1,
            })
            .sum()
    }

    pub(crate) fn payload_bytes(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Points(p) => p.keys.len() + 32 * p.len(),
                Op::Put(r) | Op::Num(r) => r.key.len() + r.value.len() + 24,
                Op::Delete { key, .. } => key.len() + 12,
                Op::DeleteRange { start, end, .. } => start.len() + end.len() + 24,
            })
            .sum()
    }

    pub(crate) fn encode(&self, first_seq: u64, buf: &mut Vec<u8>) {
        put_u64(buf, first_seq);
        put_varint(buf, self.ops.len() as u64);
        let num = |buf: &mut Vec<u8>, key: &[u8], ts: i64, expire_at: i64, value: &[u8]| {
            buf.push(4);
            put_bytes(buf, key);
            put_varint_i64(buf, ts);
            put_varint_i64(buf, expire_at);
            buf.extend_from_slice(value);
        };
        for op in &self.ops {
            match op {
                Op::Points(p) => p.encode(buf),
                Op::Put(r) => {
                    buf.push(0);
                    put_bytes(buf, &r.key);
                    put_varint_i64(buf, r.ts);
                    put_varint_i64(buf, r.expire_at);
                    put_bytes(buf, &r.value);
                }
                Op::Num(r) => num(buf, &r.key, r.ts, r.expire_at, &r.value),
                Op::Delete { key, ts } => {
                    buf.push(1);
                    put_bytes(buf, key);
                    put_varint_i64(buf, *ts);
                }
                Op::DeleteRange {
                    start,
                    end,
                    ts_lo,
                    ts_hi,
                } => {
                    let all_time = (*ts_lo, *ts_hi) == (i64::MIN, i64::MAX);
                    buf.push(if all_time { 2 } else { 3 });
                    put_bytes(buf, start);
                    put_bytes(buf, end);
                    if !all_time {
                        put_varint_i64(buf, *ts_lo);
                        put_varint_i64(buf, *ts_hi);
                    }
                }
            }
        }
    }

    /// `(first_seq, batch)`, or `None` when the payload is malformed.
    pub(crate) fn decode(payload: &[u8]) -> Option<(u64, WriteBatch)> {
        let mut d = Decoder::new(payload);
        let first_seq = d.u64()?;
        let count = d.varint_usize()?;
        let mut ops = Vec::with_capacity(count.min(payload.len()));
        for _ in 0..count {
            let op = match d.u8()? {
                0 => {
                    let key = d.bytes()?.to_vec();
                    let ts = d.varint_i64()?;
                    let expire_at = d.varint_i64()?;
                    let value = d.bytes()?.to_vec();
                    Op::Put(Record {
                        key,
                        ts,
                        expire_at,
                        value,
                    })
                }
                4 => Op::Num(Record {
                    key: d.bytes()?.to_vec(),
                    ts: d.varint_i64()?,
                    expire_at: d.varint_i64()?,
                    value: d.take(8)?.to_vec(),
                }),
                5 => Op::Points(Points::decode(&mut d)?),
                1 => Op::Delete {
                    key: d.bytes()?.to_vec(),
                    ts: d.varint_i64()?,
                },
                tag @ (2 | 3) => {
                    let start = d.bytes()?.to_vec();
                    let end = d.bytes()?.to_vec();
                    let (ts_lo, ts_hi) = match tag {
                        2 => (i64::MIN, i64::MAX),
                        _ => (d.varint_i64()?, d.varint_i64()?),
                    };
                    Op::DeleteRange {
                        start,
                        end,
                        ts_lo,
                        ts_hi,
                    }
                }
                _ => return None,
            };
            ops.push(op);
        }
        d.is_empty().then_some((first_seq, WriteBatch { ops }))
    }

    /// The memtable form: operation `i` gets sequence `first_seq + i`.
    pub(crate) fn into_entries(self, first_seq: u64) -> (Vec<Entry>, Vec<RangeTombstone>) {
        let (mut entries, ranges, points) = self.into_parts(first_seq);
        for (first, p) in points {
            for i in 0..p.len() {
                entries.push(Entry {
                    key: p.key(i).to_vec(),
                    ts: p.ts[i],
                    seq: first + i as u64,
                    kind: Kind::Num,
                    expire_at: p.expire_at[i],
                    value: p.values[i].to_le_bytes().to_vec(),
                });
            }
        }
        (entries, ranges)
    }

    /// The memtable form, points in columns apart (with the sequence of their
    /// first): operation `i` gets sequence `first_seq + i`.
    pub(crate) fn into_parts(
        self,
        first_seq: u64,
    ) -> (Vec<Entry>, Vec<RangeTombstone>, Vec<(u64, Points)>) {
        let mut entries = Vec::with_capacity(self.ops.len());
        let mut ranges = Vec::new();
        let mut points = Vec::new();
        let mut seq = first_seq;
        for op in self.ops {
            let n = match &op {
                Op::Points(p) => p.len() as u64,
                _ => 1,
            };
            match op {
                Op::Points(p) => points.push((seq, p)),
                Op::Put(r) => entries.push(entry(r, seq, Kind::Put)),
                Op::Num(r) => entries.push(entry(r, seq, Kind::Num)),
                Op::Delete { key, ts } => entries.push(Entry {
                    key,
                    ts,
                    seq,
                    kind: Kind::Delete,
                    expire_at: i64::MAX,
                    value: Vec::new(),
                }),
                Op::DeleteRange {
                    start,
                    end,
                    ts_lo,
                    ts_hi,
                } => ranges.push(RangeTombstone {
                    start,
                    end,
                    ts_lo,
                    ts_hi,
                    seq,
                }),
            }
            seq += n;
        }
        (entries, ranges, points)
    }
}

/// The memtable entry of a put or numeric point `r` with sequence `seq`.
fn entry(r: Record, seq: u64, kind: Kind) -> Entry {
    Entry {
        key: r.key,
        ts: r.ts,
        seq,
        kind,
        expire_at: r.expire_at,
        value: r.value,
    }
}

#[cfg(test)]
mod tests {
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
            let cut = rng.usize(0..buf.len());
            assert_eq!(WriteBatch::decode(&buf[..cut]), None, "cut at {cut}");
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
}
