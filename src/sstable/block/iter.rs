//! Reading a data block forward: decoding its entries one by one (allocating
//! nothing), and what a read keeps of them unbuilt (`Raw`, `Decoded`, `Lent`).

use std::cell::Cell;
use std::sync::Arc;

use crate::entry::{Entry, Kind};
use crate::error::Result;
use crate::util::coding::Decoder;

use super::{kind_of_byte, Block, BlockIter, Decoded, Head, Lent, Raw};

thread_local! {
    /// The key buffer of the thread's last block iterator, for its next one: a point
    /// read makes an iterator for one seek, and allocating and freeing its key was
    /// about 300 of the 4,000 instructions of a document read (callgrind).
    static SPARE_KEY: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

impl BlockIter {
    pub(crate) fn new(block: Arc<Block>) -> Self {
        let mut key = SPARE_KEY.with(Cell::take);
        key.clear();
        BlockIter {
            // A block's first entry is its first restart (a parsed block has one).
            block,
            next_off: 0,
            next_restart: 0,
            next_restart_at: 0,
            key,
            ts: 0,
            pending: None,
        }
    }

    /// Makes restart `r` the next one decoding meets.
    #[inline(always)]
    pub(super) fn restart_next(&mut self, r: usize) {
        self.next_restart = r;
        self.next_restart_at = self.block.restart_offset(r);
    }

    /// Decodes the entry at `next_off` into `key`/`ts`, if there is one.
    #[inline(always)]
    pub(super) fn decode(&mut self) -> Result<Option<Raw>> {
        let Some((head, raw)) = self.decode_head()? else {
            return Ok(None);
        };
        if head.restart {
            self.key.clear();
        }
        if head.shared > self.key.len() {
            return Err(self.block.corrupt("shared length past previous key"));
        }
        self.key.truncate(head.shared);
        append_suffix(
            &mut self.key,
            &self.block.data,
            head.suffix_at,
            head.suffix_len,
        );
        Ok(Some(raw))
    }

    /// Decodes the entry at `next_off` all but its key: `ts` is set, the key is left
    /// as where its suffix lies and how much it shares with the key before (which the
    /// caller checks and builds, or compares without building: `seek_in_span`).
    #[inline(always)]
    pub(super) fn decode_head(&mut self) -> Result<Option<(Head, Raw)>> {
        if self.next_off >= self.block.restarts_at {
            return Ok(None);
        }
        let restart = self.next_off == self.next_restart_at;
        if restart {
            self.ts = 0;
            self.restart_next(self.next_restart + 1);
        }
        let b = &*self.block;
        let mut d = Decoder::at(&b.data[..b.restarts_at], self.next_off);
        let shared = d.varint_usize().ok_or_else(|| b.corrupt("shared length"))?;
        let suffix_len = d.bytes().ok_or_else(|| b.corrupt("key"))?.len();
        let suffix_at = d.pos() - suffix_len;
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
        self.next_off = d.pos();
        let head = Head {
            restart,
            shared,
            suffix_at,
            suffix_len,
        };
        let raw = Raw {
            kind,
            expire_at,
            value_at,
            value_len: len,
        };
        Ok(Some((head, raw)))
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

    #[cfg(test)]
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
        // Tested before taken: a take copies the whole `Option` out each entry.
        if self.pending.is_some() {
            return Ok(self.pending.take());
        }
        self.decode()
    }

    /// The key of the entry `next_raw` returned last.
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    /// Where the entry `next_raw` returned last ends in the block.
    pub(crate) fn decoded_to(&self) -> usize {
        self.next_off
    }

    /// The ts of the entry `next_raw` returned last.
    pub(crate) fn ts(&self) -> i64 {
        self.ts
    }

    /// The value of an entry `next_raw` returned, where it lies in the block.
    pub(crate) fn value(&self, raw: &Raw) -> &[u8] {
        raw.value(&self.block)
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

/// Appends `data[at..at + n]` (an entry's key suffix) to `key`. A suffix is mostly a
/// few bytes (a document's primary key, a series' none), and a call to `memcpy` for
/// each was about 15 instructions of every entry a forward read decoded (callgrind
/// on an index scan): up to 16 bytes are copied as 16 where the block has them, and
/// only `n` kept.
#[inline(always)]
fn append_suffix(key: &mut Vec<u8>, data: &[u8], at: usize, n: usize) {
    if n <= 16 {
        if let Some(src) = data.get(at..).and_then(|d| d.first_chunk::<16>()) {
            key.reserve(16);
            let old = key.len();
            // SAFETY: `reserve` made room for 16 bytes past `old`, written here
            // unaligned, of which the first `n <= 16` are kept.
            unsafe {
                key.as_mut_ptr()
                    .add(old)
                    .cast::<[u8; 16]>()
                    .write_unaligned(*src);
                key.set_len(old + n);
            }
            return;
        }
    }
    key.extend_from_slice(&data[at..at + n]);
}

impl Head {
    /// The part of the entry's key it stores (past what it shares).
    #[inline(always)]
    pub(super) fn suffix<'b>(&self, block: &'b Block) -> &'b [u8] {
        &block.data[self.suffix_at..self.suffix_at + self.suffix_len]
    }
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

impl Drop for BlockIter {
    fn drop(&mut self) {
        // Keys are short; a buffer grown past a few KiB is not worth keeping.
        if self.key.capacity() <= 4096 {
            let key = std::mem::take(&mut self.key);
            // `try_with`: a thread's last iterator may drop after its spare is gone.
            let _ = SPARE_KEY.try_with(|s| s.set(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sstable::block::test_support::{build, entry};

    /// Every entry that ends at or before `below_until(key, ts)` lies below
    /// `(key, ts)`, and the bound passes most of the entries below (all but the
    /// last interval's), for targets before, among and past a block's keys.
    #[test]
    fn entries_up_to_below_until_are_below() {
        let mut rng = crate::util::test_rng("entries_up_to_below_until_are_below");
        let keys = ["a", "b", "b1", "c", "d", "dd"];
        for _ in 0..100 {
            let mut es: Vec<_> = (0..rng.usize(1..150))
                .map(|_| (keys[rng.usize(..keys.len())], rng.i64(0..50)))
                .collect();
            es.sort();
            es.dedup();
            let es: Vec<_> = es
                .iter()
                .map(|&(k, t)| entry(k, t, Kind::Put, i64::MAX))
                .collect();
            let block = build(&es);
            for _ in 0..30 {
                let (key, ts) = (
                    ["0", "a", "b", "b0", "c", "dd", "e"][rng.usize(..7)],
                    rng.i64(-1..52),
                );
                let it = BlockIter::new(block.clone());
                let until = it.below_until(key.as_bytes(), ts);
                let mut it = BlockIter::new(block.clone());
                let (mut passed, mut below) = (0, 0);
                while it.next_raw().unwrap().is_some() {
                    let lt =
                        crate::entry::cmp_key_ts(it.key(), it.ts(), key.as_bytes(), ts).is_lt();
                    below += usize::from(lt);
                    if it.decoded_to() <= until {
                        assert!(lt, "{:?}@{} passed for {key}@{ts}", it.key(), it.ts());
                        passed += 1;
                    }
                }
                // Only the interval where the target falls is left to compare.
                assert!(
                    below - passed <= 4,
                    "{below} below, {passed} passed, {key}@{ts}"
                );
            }
        }
    }

    /// A key suffix comes out as its bytes, whether copied as 16 (the block has 16
    /// from its start) or as itself (the suffix ends within 16 of the data's end, or
    /// is longer than 16), onto keys of any length and spare capacity.
    #[test]
    fn suffixes_append_as_their_bytes() {
        let data: Vec<u8> = (0..48u8).map(|b| b.wrapping_mul(37)).collect();
        for at in 0..=data.len() {
            for n in 0..=(data.len() - at).min(20) {
                for (key_len, spare) in [(0, 0), (3, 0), (5, 30), (17, 1)] {
                    let mut key = Vec::with_capacity(key_len + spare);
                    key.extend((0..key_len).map(|i| i as u8));
                    let mut want = key.clone();
                    want.extend_from_slice(&data[at..at + n]);
                    append_suffix(&mut key, &data, at, n);
                    assert_eq!(key, want, "at {at}, n {n}, key {key_len}");
                }
            }
        }
    }

    /// A restart array that does not start at 0, or whose offsets do not ascend
    /// inside the entries, is refused when the block is parsed: forward decoding
    /// never reads restart 0, so a wrong one would otherwise pass unnoticed, and
    /// `below_until` (which trusts it) would let a merge's run lend entries past its
    /// bound without comparing them (found by review, session 38).
    #[test]
    fn restart_arrays_out_of_order_are_refused() {
        let es: Vec<_> = ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .map(|k| entry(k, 1, Kind::Put, i64::MAX))
            .collect();
        let good = build(&es);
        assert!(good.num_restarts > 1);
        let at = good.restarts_at;
        let set = |r: usize, v: usize| {
            let mut data = good.data.clone();
            data[at + 4 * r..at + 4 * r + 4].copy_from_slice(&(v as u32).to_le_bytes());
            Block::parse(data, Arc::from("t"), 0)
        };
        let second = good.restart(1);
        for (r, v) in [(0, at), (0, 1), (1, 0), (1, at), (1, at + 7)] {
            assert!(set(r, v).is_err(), "restart {r} at {v}");
        }
        assert!(set(1, second).is_ok());
        // On the valid block, every entry ending by `below_until` is below.
        let until = BlockIter::new(good.clone()).below_until(b"a", 0);
        let mut it = BlockIter::new(good);
        it.next_raw().unwrap().unwrap();
        assert!(it.decoded_to() > until);
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
                    let b = Arc::new(b);
                    let mut it = BlockIter::new(b.clone());
                    let _ = it.seek(b"key", 5);
                    for _ in 0..40 {
                        if !matches!(it.next_entry(), Ok(Some(_))) {
                            break;
                        }
                    }
                    // Walked back (repeated headers decoded by comparison), every
                    // value handed out lies in the block.
                    let mut it = BlockIter::new(b.clone());
                    let mut items = crate::sstable::block::Stack::default();
                    for r in 0..b.num_restarts {
                        if it
                            .key_in_interval(
                                b"key",
                                r,
                                (r + 1 == b.num_restarts, false),
                                &mut items,
                            )
                            .is_ok()
                        {
                            while let Some((_, raw)) = items.pop() {
                                let _ = raw.value(&b);
                            }
                        }
                    }
                }
            }
        }
    }
}
