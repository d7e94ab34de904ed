//! Data blocks: entries in `(key, ts)` order, keys prefix-compressed against the
//! previous entry and timestamps delta-encoded, with restart points for binary search.
//!
//! ## Format (uncompressed)
//! Entries, then `restart offsets: u32 LE each`, then `restart count: u32 LE`. Each
//! entry: `shared: varint` (bytes shared with the previous key; 0 at a restart),
//! `unshared: varint`, the unshared key bytes, `ts: zigzag varint` (the delta from the
//! previous entry's ts; from 0 at a restart), `kind: u8` (0 put, 1 put with expiry,
//! 2 delete, 3 numeric point, 4 numeric point with expiry), for kinds 1 and 4
//! `expire_at - ts: zigzag varint` (wrapping), for puts `value: varint length +
//! bytes`, and for numeric points the `f64`'s 8 bytes (little-endian). Entry `i` is a
//! restart when `i % interval == 0`. Kinds 3 and 4 occur only in tables of format 3.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::entry::{cmp_key_ts, Entry, Kind};
use crate::error::{Error, Result};
use crate::util::coding::{get_u32_at, put_bytes, put_u32, put_varint, put_varint_i64, Decoder};

/// An entry's kind byte (the module docs' list, which packed blocks share): its kind,
/// and whether it carries an expiry (a delete never does).
pub(crate) const fn kind_byte(kind: Kind, expiring: bool) -> u8 {
    match (kind, expiring) {
        (Kind::Put, false) => 0,
        (Kind::Put, true) => 1,
        (Kind::Delete, _) => 2,
        (Kind::Num, false) => 3,
        (Kind::Num, true) => 4,
    }
}

/// The kind and expiry flag of a kind byte; `None` for no kind.
pub(crate) fn kind_of_byte(b: u8) -> Option<(Kind, bool)> {
    Some(match b {
        0 => (Kind::Put, false),
        1 => (Kind::Put, true),
        2 => (Kind::Delete, false),
        3 => (Kind::Num, false),
        4 => (Kind::Num, true),
        _ => return None,
    })
}

pub(crate) struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    interval: usize,
    count: usize,
    last_key: Vec<u8>,
    last_ts: i64,
    /// Whether a numeric point was added (the block may be packed: packed.rs).
    has_numbers: bool,
}

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
            self.last_key
                .iter()
                .zip(key)
                .take_while(|(a, b)| a == b)
                .count()
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

/// A decoded (decompressed) block, shared through the block cache.
pub(crate) struct Block {
    data: Vec<u8>,
    restarts_at: usize,
    num_restarts: usize,
    /// For error messages: the file and the block's offset in it.
    origin: Arc<str>,
    offset: u64,
}

impl Block {
    pub(crate) fn parse(data: Vec<u8>, origin: Arc<str>, offset: u64) -> Result<Block> {
        let bad = || Error::corruption(&origin, offset, "malformed block restart array");
        if data.len() < 4 {
            return Err(bad());
        }
        let n = get_u32_at(&data, data.len() - 4).ok_or_else(bad)? as usize;
        let restarts_at = (data.len() - 4)
            .checked_sub(n.checked_mul(4).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        if n == 0 {
            return Err(bad());
        }
        Ok(Block {
            data,
            restarts_at,
            num_restarts: n,
            origin,
            offset,
        })
    }

    pub(crate) fn memory(&self) -> usize {
        self.data.len() + 64
    }

    fn restart(&self, i: usize) -> usize {
        get_u32_at(&self.data, self.restarts_at + 4 * i).unwrap_or(u32::MAX) as usize
    }

    /// The entries' bytes and the restart offsets in them, ascending (for readers
    /// of one entry shape: columns.rs).
    pub(crate) fn entries(&self) -> (&[u8], impl Iterator<Item = usize> + '_) {
        let restarts = (0..self.num_restarts).map(|i| self.restart(i));
        (&self.data[..self.restarts_at], restarts)
    }

    /// The bytes of the restart offsets (the block's trailer but its count).
    pub(crate) fn restart_bytes(&self) -> &[u8] {
        let end = (self.restarts_at + 4 * self.num_restarts).min(self.data.len());
        &self.data[self.restarts_at.min(end)..end]
    }

    pub(crate) fn corrupt(&self, what: &str) -> Error {
        Error::corruption(
            &self.origin,
            self.offset,
            format!("malformed block entry: {what}"),
        )
    }
}

/// What `decode` learned of the entry it passed, besides key and ts (kept in the
/// iterator): enough to build the entry without decoding again.
#[derive(Clone, Copy)]
pub(crate) struct Raw {
    pub kind: Kind,
    pub expire_at: i64,
    value_at: usize,
    value_len: usize,
}

/// A position in a block, yielding owned entries forward. Decoding allocates
/// nothing; an `Entry` is built only for what is returned.
pub(crate) struct BlockIter {
    block: Arc<Block>,
    next_off: usize,
    next_restart: usize,
    key: Vec<u8>,
    ts: i64,
    /// The entry decoded by `seek` and not yet returned.
    pending: Option<Raw>,
}

impl BlockIter {
    pub(crate) fn new(block: Arc<Block>) -> Self {
        BlockIter {
            block,
            next_off: 0,
            next_restart: 0,
            key: Vec::new(),
            ts: 0,
            pending: None,
        }
    }

    fn at_restart(&mut self, r: usize) {
        self.next_off = self.block.restart(r);
        self.next_restart = r;
        self.key.clear();
        self.ts = 0;
        self.pending = None;
    }

    /// Decodes the entry at `next_off` into `key`/`ts`, if there is one.
    #[inline(always)]
    fn decode(&mut self) -> Result<Option<Raw>> {
        let b = &*self.block;
        if self.next_off >= b.restarts_at {
            return Ok(None);
        }
        if self.next_restart < b.num_restarts && self.next_off == b.restart(self.next_restart) {
            self.key.clear();
            self.ts = 0;
            self.next_restart += 1;
        }
        let mut d = Decoder::at(&b.data[..b.restarts_at], self.next_off);
        let shared = d.varint_usize().ok_or_else(|| b.corrupt("shared length"))?;
        let suffix = d.bytes().ok_or_else(|| b.corrupt("key"))?;
        if shared > self.key.len() {
            return Err(b.corrupt("shared length past previous key"));
        }
        self.key.truncate(shared);
        self.key.extend_from_slice(suffix);
        self.ts = self
            .ts
            .wrapping_add(d.varint_i64().ok_or_else(|| b.corrupt("ts"))?);
        let (kind, expiring) = d
            .u8()
            .and_then(kind_of_byte)
            .ok_or_else(|| b.corrupt("kind"))?;
        let expire_at = if expiring {
            let delta = d.varint_i64().ok_or_else(|| b.corrupt("expiry"))?;
            self.ts.wrapping_add(delta)
        } else {
            i64::MAX
        };
        let len = match kind {
            Kind::Put => d.varint_usize().ok_or_else(|| b.corrupt("value length"))?,
            Kind::Num => 8,
            Kind::Delete => 0,
        };
        let value_at = d.pos();
        d.take(len).ok_or_else(|| b.corrupt("value"))?;
        let value_len = len;
        self.next_off = d.pos();
        Ok(Some(Raw {
            kind,
            expire_at,
            value_at,
            value_len,
        }))
    }

    /// The entry `raw` was decoded from (with sequence 0), built: key and value copied.
    pub(crate) fn build(&self, raw: Raw) -> Entry {
        self.entry(self.key.clone(), self.ts, raw)
    }

    fn entry(&self, key: Vec<u8>, ts: i64, raw: Raw) -> Entry {
        Entry {
            key,
            ts,
            seq: 0,
            kind: raw.kind,
            expire_at: raw.expire_at,
            value: raw.value(&self.block).to_vec(),
        }
    }

    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>> {
        let raw = match self.pending.take() {
            Some(raw) => raw,
            None => match self.decode()? {
                Some(raw) => raw,
                None => return Ok(None),
            },
        };
        Ok(Some(self.build(raw)))
    }

    /// The next entry, not built: its key and ts are `key()`/`ts()` until the next
    /// step, its value `value(&raw)` (lent from the block).
    #[inline(always)]
    pub(crate) fn next_raw(&mut self) -> Result<Option<Raw>> {
        match self.pending.take() {
            Some(raw) => Ok(Some(raw)),
            None => self.decode(),
        }
    }

    /// The key of the entry `next_raw` returned last.
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    /// The ts of the entry `next_raw` returned last.
    pub(crate) fn ts(&self) -> i64 {
        self.ts
    }

    /// The value of an entry `next_raw` returned, where it lies in the block.
    pub(crate) fn value(&self, raw: &Raw) -> &[u8] {
        raw.value(&self.block)
    }

    /// The full key and ts of restart `r`'s first entry, read where they lie (an
    /// entry at a restart shares no prefix with the one before, and its ts is whole).
    #[inline]
    fn restart_key(&self, r: usize) -> Result<(&[u8], i64)> {
        let b = &*self.block;
        let mut d = Decoder::at(&b.data[..b.restarts_at], b.restart(r));
        match d.varint_usize() {
            Some(0) => {}
            Some(_) => return Err(b.corrupt("restart entry shares a prefix")),
            None => return Err(b.corrupt("empty restart")),
        }
        let key = d.bytes().ok_or_else(|| b.corrupt("key"))?;
        let ts = d.varint_i64().ok_or_else(|| b.corrupt("ts"))?;
        Ok((key, ts))
    }

    /// The last restart whose first entry is `< (key, ts)` (or 0).
    fn restart_before(&self, key: &[u8], ts: i64) -> Result<usize> {
        let (mut lo, mut hi) = (0usize, self.block.num_restarts);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            let (k, t) = self.restart_key(mid)?;
            if cmp_key_ts(k, t, key, ts) == Ordering::Less {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Positions so that the next entry is the first `>= (key, ts)`.
    pub(crate) fn seek(&mut self, key: &[u8], ts: i64) -> Result<()> {
        let r = self.restart_before(key, ts)?;
        self.at_restart(r);
        while let Some(raw) = self.decode()? {
            if cmp_key_ts(&self.key, self.ts, key, ts) != Ordering::Less {
                self.pending = Some(raw);
                return Ok(());
            }
        }
        Ok(())
    }

    /// Every entry of `key` in the block, ascending, decoded but not yet built.
    #[cfg(test)]
    pub(crate) fn collect_key(&mut self, key: &[u8]) -> Result<Decoded> {
        self.seek(key, i64::MIN)?;
        self.collect_while(|k, _| k == key)
    }

    /// The restart interval where `key`'s entries end: the last restart whose first
    /// entry is before `(key, i64::MAX)` (where a backward walk over the key starts).
    pub(crate) fn last_interval_of(&self, key: &[u8]) -> Result<usize> {
        self.restart_before(key, i64::MAX)
    }

    /// The entries of `key` in restart interval `r` (from restart `r` to the next;
    /// for the `last` interval of the key, on until the key ends, as an entry
    /// `(key, i64::MAX)` may begin the next interval), ascending, decoded but not
    /// built, into `out` (cleared first: a walk reuses one buffer); and whether the
    /// key's entries may go on in interval `r - 1` (the interval starts with `key`
    /// and is not the first). A backward walk over one key decodes interval after
    /// interval from the end, so reading its last `n` points decodes about `n`
    /// entries, not the block's.
    pub(crate) fn key_in_interval(
        &mut self,
        key: &[u8],
        r: usize,
        last: bool,
        out: &mut Vec<(i64, Raw)>,
    ) -> Result<bool> {
        self.at_restart(r);
        out.clear();
        let end = match r + 1 < self.block.num_restarts && !last {
            true => self.block.restart(r + 1),
            false => self.block.restarts_at,
        };
        let mut starts_with_key = None;
        while self.next_off < end {
            let Some(raw) = self.decode()? else { break };
            let is_key = self.key == key;
            starts_with_key.get_or_insert(is_key);
            if is_key {
                out.push((self.ts, raw));
            } else if !out.is_empty() {
                break; // past the key
            }
        }
        Ok(r > 0 && starts_with_key == Some(true))
    }

    /// The block this iterator reads.
    pub(crate) fn block(&self) -> &Arc<Block> {
        &self.block
    }

    /// The entries from here on while `keep(key, ts)` holds, decoded but not built:
    /// their keys gathered in one buffer (a run of one key's entries stores it once),
    /// their values left in the block. An `Entry` is built only when taken
    /// (`Decoded::pop`), so a backward read that stops early allocates nothing for the
    /// entries it does not return.
    pub(crate) fn collect_while(
        &mut self,
        mut keep: impl FnMut(&[u8], i64) -> bool,
    ) -> Result<Decoded> {
        let mut out = Decoded {
            block: self.block.clone(),
            keys: Vec::new(),
            items: Vec::new(),
        };
        loop {
            let raw = match self.pending.take() {
                Some(raw) => raw,
                None => match self.decode()? {
                    Some(raw) => raw,
                    None => break,
                },
            };
            if !keep(&self.key, self.ts) {
                break;
            }
            let span = match out.items.last() {
                Some(&(at, len, _, _)) if out.keys[at..at + len] == self.key[..] => (at, len),
                _ => {
                    out.keys.extend_from_slice(&self.key);
                    (out.keys.len() - self.key.len(), self.key.len())
                }
            };
            out.items.push((span.0, span.1, self.ts, raw));
        }
        Ok(out)
    }
}

/// Entries of one block decoded in order but not yet built (`BlockIter::collect_while`),
/// taken from the end.
pub(crate) struct Decoded {
    block: Arc<Block>,
    keys: Vec<u8>,
    /// Per entry: where its key is in `keys` (start, length), its ts, the rest.
    items: Vec<(usize, usize, i64, Raw)>,
}

/// A value left in its block (a backward walk lends it instead of copying it).
pub(crate) struct Lent {
    block: Arc<Block>,
    at: usize,
    len: usize,
}

impl Raw {
    /// The value of this entry, decoded from `block`.
    pub(crate) fn value<'b>(&self, block: &'b Block) -> &'b [u8] {
        &block.data[self.value_at..self.value_at + self.value_len]
    }
}

impl Lent {
    /// The value of an entry `raw` decoded from `block`.
    pub(crate) fn of(block: &Arc<Block>, raw: &Raw) -> Lent {
        Lent {
            block: block.clone(),
            at: raw.value_at,
            len: raw.value_len,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.block.data[self.at..self.at + self.len]
    }
}

impl Decoded {
    /// The last entry, built (with sequence 0).
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        let (at, len, ts, raw) = self.items.pop()?;
        Some(Entry {
            key: self.keys[at..at + len].to_vec(),
            ts,
            seq: 0,
            kind: raw.kind,
            expire_at: raw.expire_at,
            value: raw.value(&self.block).to_vec(),
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Keeps only the entries `keep(key, ts)` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&[u8], i64) -> bool) {
        let keys = &self.keys;
        self.items
            .retain(|&(at, len, ts, _)| keep(&keys[at..at + len], ts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(k: &str, ts: i64, kind: Kind, exp: i64) -> Entry {
        Entry {
            key: k.as_bytes().to_vec(),
            ts,
            seq: 0,
            kind,
            expire_at: exp,
            value: if kind == Kind::Put {
                format!("{k}@{ts}").into_bytes()
            } else {
                vec![]
            },
        }
    }

    fn build(entries: &[Entry]) -> Arc<Block> {
        let mut b = BlockBuilder::new(4);
        for e in entries {
            b.add(e);
        }
        Arc::new(Block::parse(b.finish(), Arc::from("t"), 0).unwrap())
    }

    #[test]
    fn round_trip_and_seek() {
        let mut es = Vec::new();
        for k in ["a", "ab", "abc", "b"] {
            for ts in [i64::MIN, -3, 0, 7, i64::MAX] {
                let kind = if ts == 0 { Kind::Delete } else { Kind::Put };
                let exp = if ts == 7 { i64::MIN } else { i64::MAX };
                es.push(entry(k, ts, kind, exp));
            }
        }
        let block = build(&es);
        let mut it = BlockIter::new(block.clone());
        let mut got = Vec::new();
        while let Some(e) = it.next_entry().unwrap() {
            got.push(e);
        }
        assert_eq!(got, es);
        for (i, e) in es.iter().enumerate() {
            let mut it = BlockIter::new(block.clone());
            it.seek(&e.key, e.ts).unwrap();
            assert_eq!(it.next_entry().unwrap().as_ref(), Some(e), "seek {i}");
        }
        let mut it = BlockIter::new(block.clone());
        it.seek(b"c", 0).unwrap();
        assert!(it.next_entry().unwrap().is_none());
        let mut it = BlockIter::new(block.clone());
        assert_eq!(it.collect_key(b"ab").unwrap().len(), 5);
        // Walking a key backwards interval by interval (restarts every 4 entries)
        // meets its entries exactly once each, newest first.
        for k in ["a", "ab", "abc", "b", "aa"] {
            let mut it = BlockIter::new(block.clone());
            let mut r = it.last_interval_of(k.as_bytes()).unwrap();
            let mut back = Vec::new();
            let mut last = true;
            let mut items = Vec::new();
            loop {
                let more = it
                    .key_in_interval(k.as_bytes(), r, last, &mut items)
                    .unwrap();
                last = false;
                back.extend(items.iter().rev().map(|&(ts, _)| ts));
                if !more {
                    break;
                }
                r -= 1;
            }
            let want: Vec<i64> = match k {
                "aa" => vec![],
                _ => vec![i64::MAX, 7, 0, -3, i64::MIN],
            };
            assert_eq!(back, want, "{k}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let es: Vec<_> = (0..20)
            .map(|i| entry("key", i, Kind::Put, i64::MAX))
            .collect();
        let good = build(&es).data.clone();
        for i in 0..good.len() {
            for bit in [0x01u8, 0x80] {
                let mut d = good.clone();
                d[i] ^= bit;
                if let Ok(b) = Block::parse(d, Arc::from("t"), 0) {
                    let mut it = BlockIter::new(Arc::new(b));
                    let _ = it.seek(b"key", 5);
                    for _ in 0..40 {
                        if !matches!(it.next_entry(), Ok(Some(_))) {
                            break;
                        }
                    }
                }
            }
        }
    }

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
