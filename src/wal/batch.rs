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
use crate::record::{Record, MAX_KEY_LEN};
use crate::util::coding::{put_bytes, put_u64, put_varint, put_varint_i64, shared_prefix, Decoder};

/// The largest batch (by `payload_bytes`, at least its encoded size less a fifth) the
/// log takes: a batch is one log record, whose length field is 32 bits. Decoding
/// holds a record to it too, so no record makes replay allocate more.
pub(crate) const MAX_BATCH_BYTES: usize = 3 << 30;
const _: () = assert!(MAX_BATCH_BYTES / 4 * 5 < u32::MAX as usize);

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
    /// `suffix` (as the log writes it); `None` when there are not that many, or the
    /// key is not one a write takes (empty, over `MAX_KEY_LEN`), or the keys together
    /// would pass `keys_most` bytes.
    fn push_shared(
        &mut self,
        (shared, suffix): (usize, &[u8]),
        (ts, expire_at, bits): (i64, i64, u64),
        keys_most: usize,
    ) -> Option<()> {
        let len = shared.checked_add(suffix.len())?;
        if len == 0 || len > MAX_KEY_LEN || self.keys.len() + len > keys_most {
            return None;
        }
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

    /// Reads a `5` operation after its tag; `None` when malformed, or when its keys
    /// would take more than `keys_most` bytes (`MAX_BATCH_BYTES` for the log: a key
    /// written as a few bytes can repeat one of 64 KiB, and a record must not ask
    /// replay for more memory than a batch the engine accepts).
    fn decode(d: &mut Decoder<'_>, keys_most: usize) -> Option<Points> {
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
            p.push_shared((shared, suffix), (ts, expire_at, bits), keys_most)?;
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
                5 => Op::Points(Points::decode(&mut d, MAX_BATCH_BYTES)?),
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
mod tests;
