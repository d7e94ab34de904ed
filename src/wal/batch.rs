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
//! `f64`'s 8 bytes (little-endian).
//! `bytes` is a varint length followed by the bytes.

use crate::entry::{Entry, Kind, RangeTombstone};
use crate::record::Record;
use crate::util::coding::{put_bytes, put_u64, put_varint, put_varint_i64, Decoder};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Put(Record),
    /// A numeric point: a put whose value is an `f64`'s 8 bytes (little-endian).
    Num(Record),
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

impl WriteBatch {
    pub(crate) fn len(&self) -> usize {
        self.ops.len()
    }

    pub(crate) fn payload_bytes(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Put(r) | Op::Num(r) => r.key.len() + r.value.len() + 24,
                Op::Delete { key, .. } => key.len() + 12,
                Op::DeleteRange { start, end, .. } => start.len() + end.len() + 24,
            })
            .sum()
    }

    pub(crate) fn encode(&self, first_seq: u64, buf: &mut Vec<u8>) {
        put_u64(buf, first_seq);
        put_varint(buf, self.ops.len() as u64);
        for op in &self.ops {
            match op {
                Op::Put(r) => {
                    buf.push(0);
                    put_bytes(buf, &r.key);
                    put_varint_i64(buf, r.ts);
                    put_varint_i64(buf, r.expire_at);
                    put_bytes(buf, &r.value);
                }
                Op::Num(r) => {
                    buf.push(4);
                    put_bytes(buf, &r.key);
                    put_varint_i64(buf, r.ts);
                    put_varint_i64(buf, r.expire_at);
                    buf.extend_from_slice(&r.value);
                }
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
        let mut entries = Vec::with_capacity(self.ops.len());
        let mut ranges = Vec::new();
        for (i, op) in self.ops.into_iter().enumerate() {
            let seq = first_seq + i as u64;
            match op {
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
        }
        (entries, ranges)
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
}
