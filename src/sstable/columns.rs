//! A block of one series' numeric points read as two columns, timestamps and values,
//! for aggregation: decoded in one pass over the block's bytes and folded slice by
//! slice, instead of handed point by point through a cursor and the merge
//! ([`TableCursor::next_lent_offering`](super::cursor::TableCursor::next_lent_offering)
//! offers such blocks).
//!
//! The pass knows the one shape such a block's entries take (docs/format.md, "Data
//! block"): the series' key whole at each restart and wholly shared between them, a
//! ts delta, kind 3 or 4 and the value's 8 bytes. Anything else, and the block is
//! left to the cursor.

use super::block::{kind_of_byte, Block};
use super::packed::{walk, Item};
use crate::entry::Kind;
use crate::error::Result;
use crate::util::coding::{put_varint, unzigzag, varint_at as varint};

/// The points of a block in `(ts, value)` columns; reused from block to block.
#[derive(Default)]
pub(crate) struct Columns {
    /// The first `n` of each hold the points. `load` writes them in place into
    /// buffers it only grows (pushes took a quarter of its loop); `load_packed`
    /// appends them.
    ts: Vec<i64>,
    vals: Vec<f64>,
    n: usize,
    /// The restart offsets of the block being read.
    restarts: Vec<usize>,
}

impl Columns {
    /// Replaces the columns with the points of `block` whose ts is in `lo..=hi`.
    /// False (the columns then hold nothing usable) when the block holds an entry
    /// that is not a numeric point of `key`: its index entry's statistics said it
    /// would not, so the caller reads it entry by entry instead.
    pub(crate) fn load(&mut self, block: &Block, key: &[u8], lo: i64, hi: i64) -> Result<bool> {
        self.n = 0;
        let (data, restarts) = block.entries();
        // An entry between restarts shares the whole key: `shared` is the key's
        // length and the suffix empty, two bytes compared at once for most keys.
        let mut between = Vec::with_capacity(12);
        put_varint(&mut between, key.len() as u64);
        between.push(0);
        // An entry takes at least 12 bytes.
        let most = data.len() / 12;
        if self.ts.len() < most {
            self.ts.resize(most, 0);
            self.vals.resize(most, 0.0);
        }
        self.restarts.clear();
        self.restarts.extend(restarts);
        // When `lo` falls inside the block (an hour of a series reads half a block),
        // start at the last restart at or before it: every entry before that is
        // older than `lo`.
        let before = |r: &usize| restart_ts(data, *r).is_some_and(|t| t <= lo);
        let from = match self.restarts.get(1).is_some_and(before) {
            true => self.restarts.partition_point(before) - 1,
            false => 0,
        };
        let mut restarts = self.restarts[from..].iter().copied();
        let (ts_out, vals_out) = (&mut self.ts[..most], &mut self.vals[..most]);
        let mut n = 0;
        let mut next_restart = restarts.next().unwrap_or(usize::MAX);
        let (mut at, mut ts) = (next_restart.min(data.len()), 0i64);
        if from == 0 {
            at = 0;
        }
        let bad = |what| block.corrupt(what);
        while at < data.len() {
            if at == next_restart {
                next_restart = restarts.next().unwrap_or(usize::MAX);
                let shared = varint(data, &mut at).ok_or_else(|| bad("shared length"))?;
                let len = varint(data, &mut at).ok_or_else(|| bad("key length"))?;
                let suffix = usize::try_from(len)
                    .ok()
                    .and_then(|n| data.get(at..at.checked_add(n)?))
                    .ok_or_else(|| bad("key"))?;
                if shared != 0 || suffix != key {
                    return Ok(false);
                }
                at += suffix.len();
                ts = 0;
            } else if matches_at(data, at, &between) {
                at += between.len();
            } else {
                return Ok(false);
            }
            let delta = varint(data, &mut at).ok_or_else(|| bad("ts"))?;
            ts = ts.wrapping_add(unzigzag(delta));
            let kind = data.get(at).copied().and_then(kind_of_byte);
            at += 1;
            match kind {
                Some((Kind::Num, false)) => {}
                Some((Kind::Num, true)) => {
                    varint(data, &mut at).ok_or_else(|| bad("expiry"))?;
                }
                _ => return Ok(false),
            }
            let v = data
                .get(at..at + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .ok_or_else(|| bad("value"))?;
            at += 8;
            if ts > hi {
                break;
            }
            if ts >= lo {
                if n == most {
                    return Err(bad("entries shorter than 12 bytes"));
                }
                ts_out[n] = ts;
                vals_out[n] = f64::from_le_bytes(v);
                n += 1;
            }
        }
        self.n = n;
        Ok(true)
    }
}

impl Columns {
    /// [`load`](Self::load) from a packed block's payload (packed.rs), read from
    /// `offset` of `name`: each run of `key` decoded by the codecs straight into the
    /// columns, no standard block built.
    pub(crate) fn load_packed(
        &mut self,
        packed: &[u8],
        (name, offset): (&str, u64),
        key: &[u8],
        lo: i64,
        hi: i64,
    ) -> Result<bool> {
        self.ts.clear();
        self.vals.clear();
        self.n = 0;
        let mut shaped = true;
        walk(packed, name, offset, |item| {
            let (k, ts, vals): (_, &[i64], &[f64]) = match item {
                Item::Run(k, ts, vals, _) => (k, ts, vals),
                Item::Entry(k, ts, Kind::Num, _, v) => match <[u8; 8]>::try_from(v) {
                    Ok(b) => (k, &[ts], &[f64::from_le_bytes(b)]),
                    Err(_) => (k, &[], &[]),
                },
                Item::Entry(..) => (&[][..], &[], &[]),
            };
            if k != key || ts.is_empty() {
                shaped = false;
                return false;
            }
            let from = ts.partition_point(|&t| t < lo);
            let to = ts.partition_point(|&t| t <= hi);
            if from < to {
                self.ts.extend_from_slice(&ts[from..to]);
                self.vals.extend_from_slice(&vals[from..to]);
            }
            true
        })?;
        self.n = self.ts.len();
        Ok(shaped)
    }

    /// The points' timestamps and values.
    pub(crate) fn points(&self) -> (&[i64], &[f64]) {
        (&self.ts[..self.n], &self.vals[..self.n])
    }
}

/// The ts of the entry at restart offset `at` (its whole key, then its ts from 0).
fn restart_ts(data: &[u8], mut at: usize) -> Option<i64> {
    let _shared = varint(data, &mut at)?;
    let len = usize::try_from(varint(data, &mut at)?).ok()?;
    at = at.checked_add(len)?;
    Some(unzigzag(varint(data, &mut at)?))
}

/// Whether `data[at..]` begins with `pat`: as one two-byte compare for a key
/// shorter than 128 bytes (a call to `memcmp` per entry took a fifth of the loop).
#[inline(always)]
fn matches_at(data: &[u8], at: usize, pat: &[u8]) -> bool {
    match (pat, data.get(at..at + 2)) {
        (&[a, b], Some(&[x, y])) => (a, b) == (x, y),
        _ => data.get(at..at + pat.len()) == Some(pat),
    }
}

#[cfg(test)]
mod tests {
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
            let ts: Vec<i64> = (0..n)
                .map(|_| {
                    let bits = rng.u32(1..40);
                    t += rng.i64(1..1 << bits);
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
            let parse = || Block::parse(raw.clone(), Arc::from("t"), 0).unwrap();
            let mut got = Columns::default();
            assert!(got.load(&parse(), key, lo, hi).unwrap());
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
            assert!(!got.load(&parse(), b"cpu.host-7.user", lo, hi).unwrap());
            if let Some(p) = &packed {
                let other = b"cpu.host-7.user";
                assert!(!got.load_packed(p, ("t", 0), other, lo, hi).unwrap());
            }
            // A cut or damaged block is an error or declined, never a panic.
            for cut in (4..raw.len()).step_by(37) {
                let mut bad = raw[..cut].to_vec();
                bad.extend_from_slice(&raw[raw.len() - 8..]);
                if let Ok(bl) = Block::parse(bad, Arc::from("t"), 0) {
                    let _ = got.load(&bl, key, lo, hi);
                }
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
        assert!(!c.load(&block(&mut b), b"a", i64::MIN, i64::MAX).unwrap());
        // A record of bytes, and a delete, among the points.
        for odd in [
            entry("a", 2, Kind::Put, vec![1; 8]),
            entry("a", 2, Kind::Delete, vec![]),
        ] {
            b.add(&num("a", 1));
            b.add(&odd);
            b.add(&num("a", 3));
            assert!(!c.load(&block(&mut b), b"a", i64::MIN, i64::MAX).unwrap());
        }
        b.add(&num("a", 1));
        b.add(&num("a", 3));
        assert!(c.load(&block(&mut b), b"a", i64::MIN, i64::MAX).unwrap());
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
}
