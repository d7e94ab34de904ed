//! Building a data block: entries added in order, keys prefix-compressed and
//! timestamps delta-encoded between restarts, then the restart array.

#[cfg(test)]
use crate::entry::Entry;
use crate::entry::Kind;
use crate::util::coding::{put_bytes, put_u32, put_varint, put_varint_i64, shared_prefix};

use super::{kind_byte, BlockBuilder};

impl BlockBuilder {
    pub(crate) fn new(interval: usize) -> Self {
        BlockBuilder {
            buf: Vec::new(),
            restarts: Vec::new(),
            interval,
            count: 0,
            last_key: Vec::new(),
            last_ts: 0,
            has_numbers: false,
        }
    }

    pub(crate) fn has_numbers(&self) -> bool {
        self.has_numbers
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(crate) fn estimated_size(&self) -> usize {
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    #[cfg(test)]
    pub(crate) fn add(&mut self, e: &Entry) {
        self.add_parts(&e.key, e.ts, e.kind, e.expire_at, &e.value);
    }

    /// `add` of an entry given by its parts (nothing built).
    pub(crate) fn add_parts(
        &mut self,
        key: &[u8],
        ts: i64,
        kind: Kind,
        expire_at: i64,
        value: &[u8],
    ) {
        let shared = if self.count % self.interval == 0 {
            self.restarts.push(self.buf.len() as u32);
            self.last_ts = 0;
            0
        } else {
            shared_prefix(&self.last_key, key)
        };
        put_varint(&mut self.buf, shared as u64);
        put_bytes(&mut self.buf, &key[shared..]);
        put_varint_i64(&mut self.buf, ts.wrapping_sub(self.last_ts));
        // Writes check that a number's value is its 8 bytes (`Engine::write_points`).
        debug_assert!(kind != Kind::Num || value.len() == 8);
        self.has_numbers |= kind == Kind::Num;
        let expiring = expire_at != i64::MAX;
        self.buf.push(kind_byte(kind, expiring));
        if expiring && kind != Kind::Delete {
            put_varint_i64(&mut self.buf, expire_at.wrapping_sub(ts));
        }
        match kind {
            Kind::Put => put_bytes(&mut self.buf, value),
            Kind::Num => self.buf.extend_from_slice(value),
            Kind::Delete => {}
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.last_ts = ts;
        self.count += 1;
    }

    /// [`add_parts`](Self::add_parts) of each point of a run of one key (`ts[i]`,
    /// `vals[i]`, each expiring `expiry` after its ts, or never), as unpacking a
    /// packed run does: after the first point, the key is known to repeat, so it is
    /// neither compared nor copied again.
    pub(crate) fn add_run(&mut self, key: &[u8], ts: &[i64], vals: &[f64], expiry: Option<i64>) {
        let exp = |t: i64| expiry.map_or(i64::MAX, |d| t.wrapping_add(d));
        let (Some(&t0), Some(v0)) = (ts.first(), vals.first()) else {
            return;
        };
        self.add_parts(key, t0, Kind::Num, exp(t0), &v0.to_le_bytes());
        self.buf
            .reserve((ts.len() - 1) * (20 + key.len() / self.interval));
        for (&t, v) in ts.iter().zip(vals).skip(1) {
            let shared = if self.count % self.interval == 0 {
                self.restarts.push(self.buf.len() as u32);
                self.last_ts = 0;
                0
            } else {
                key.len()
            };
            put_varint(&mut self.buf, shared as u64);
            put_bytes(&mut self.buf, &key[shared..]);
            put_varint_i64(&mut self.buf, t.wrapping_sub(self.last_ts));
            let e = exp(t);
            let expiring = e != i64::MAX;
            self.buf.push(kind_byte(Kind::Num, expiring));
            if expiring {
                put_varint_i64(&mut self.buf, e.wrapping_sub(t));
            }
            self.buf.extend_from_slice(&v.to_le_bytes());
            self.last_ts = t;
            self.count += 1;
        }
    }

    /// The finished block bytes; the builder is reset for the next block.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        for r in &self.restarts {
            put_u32(&mut out, *r);
        }
        put_u32(&mut out, self.restarts.len() as u32);
        self.restarts.clear();
        self.count = 0;
        self.last_key.clear();
        self.last_ts = 0;
        self.has_numbers = false;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sstable::block::test_support::entry;

    /// `add_run` writes the bytes `add_parts` would, point by point: after an entry
    /// of another key, across restarts, with and without an expiry (one reaching
    /// `i64::MAX`: never, as `add_parts` has it).
    #[test]
    fn add_run_is_add_parts_point_by_point() {
        for (n, expiry) in [
            (1, None),
            (40, None),
            (37, Some(5)),
            (20, Some(i64::MAX - 100)),
        ] {
            let ts: Vec<i64> = (0..n).map(|i| 100 + i * 7 - (i % 3)).collect();
            let vals: Vec<f64> = (0..n).map(|i| i as f64 * -0.5).collect();
            let (mut a, mut b) = (BlockBuilder::new(16), BlockBuilder::new(16));
            for x in [&mut a, &mut b] {
                x.add(&entry("cpu.a", 1, Kind::Put, i64::MAX));
            }
            a.add_run(b"cpu.b", &ts, &vals, expiry);
            for (&t, v) in ts.iter().zip(&vals) {
                let exp = expiry.map_or(i64::MAX, |d| t.wrapping_add(d));
                b.add_parts(b"cpu.b", t, Kind::Num, exp, &v.to_le_bytes());
            }
            assert_eq!(a.finish(), b.finish(), "{n} points, expiry {expiry:?}");
        }
    }
}
