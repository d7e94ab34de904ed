//! Entries that repeat the header of the entry before: a series at a regular
//! interval with values of one size stores, between restarts, entries whose bytes up
//! to the value are the same from one to the next (the whole key shared, the same ts
//! delta, kind, expiry distance and value length; a header of up to 16 bytes). Such
//! an entry is decoded by one comparison with its predecessor's header instead of by
//! its three to five varints (a backward walk's decoding of one key's interval,
//! `key_in_interval`).

use crate::entry::Kind;
use crate::util::coding::Decoder;

use super::{kind_of_byte, Block, Head, Raw, Stack};

/// The header of an entry that shares its whole key with the one before: its bytes
/// up to the value (at most 16), and what they decode to.
#[derive(Clone, Copy)]
pub(super) struct Repeat {
    /// Where the entry ends: the entry there may repeat it.
    end: usize,
    /// The header's bytes (little-endian) and the mask of its length.
    bytes: u128,
    mask: u128,
    /// The header's length, the ts delta, the expiry's distance from the ts (when it
    /// expires), kind and value length.
    len: usize,
    delta: i64,
    expiry: Option<i64>,
    kind: Kind,
    value_len: usize,
}

impl Repeat {
    /// The header of the entry of `block` from `start` to `raw`'s value, decoded
    /// already as `head` (its ts delta `delta`), when the next entry may repeat it:
    /// it shares its whole key and stores none of it, is not at a restart, and its
    /// header is at most 16 bytes with 16 to read from `start`. Out of line: a
    /// series' walk takes it once an interval.
    #[inline(never)]
    pub(super) fn of(
        block: &Block,
        start: usize,
        head: &Head,
        raw: &Raw,
        delta: i64,
    ) -> Option<Self> {
        if head.restart || head.suffix_len != 0 {
            return None;
        }
        let len = raw.value_at.checked_sub(start).filter(|&n| n <= 16)?;
        let bytes = block.data.get(start..start + 16)?;
        // The expiry's distance, as stored (an expiring entry's may be any i64).
        let mut d = Decoder::at(&block.data[..raw.value_at], start);
        let (_shared, _suffix, _delta) = (d.varint()?, d.varint()?, d.varint()?);
        let (_, expiring) = d.u8().and_then(kind_of_byte)?;
        let expiry = match expiring {
            true => Some(d.varint_i64()?),
            false => None,
        };
        let mask = u128::MAX >> (128 - 8 * len);
        Some(Repeat {
            end: raw.value_at + raw.value_len,
            bytes: u128::from_le_bytes(bytes.try_into().ok()?) & mask,
            mask,
            len,
            delta,
            expiry,
            kind: raw.kind,
            value_len: raw.value_len,
        })
    }

    /// This header for the entry after the one ending at `end` (a restart entry of
    /// the same key, whose successor may repeat the header carried from the
    /// interval after it).
    #[inline(always)]
    pub(super) fn end_at(&mut self, end: usize) {
        self.end = end;
    }

    /// Whether the entry at `at` of `block` begins with this header's bytes (one
    /// masked 16-byte comparison; false with fewer than 16 bytes to read).
    #[inline(always)]
    fn repeated_at(&self, block: &Block, at: usize) -> bool {
        let bytes = block.data.get(at..at + 16).and_then(|b| b.try_into().ok());
        bytes.is_some_and(|b| u128::from_le_bytes(b) & self.mask == self.bytes)
    }

    /// The entries from `start` of `block` on (each ending by `stop`), the ts before
    /// them `ts`, passed while they repeat this header's bytes and their ts stays
    /// below `below`: the offset and ts after the last passed, `None` when none is
    /// (a seek decodes from there: `seek_in_span`). `start` must be where this
    /// header's entry ends, and `stop` must not pass the block's entries or its
    /// next restart.
    #[inline(always)]
    pub(super) fn skip(
        &self,
        block: &Block,
        start: usize,
        stop: usize,
        ts: i64,
        below: i64,
    ) -> Option<(usize, i64)> {
        let stride = self.len + self.value_len;
        let (mut at, mut ts_at) = (start, ts);
        while at + stride <= stop {
            let next = ts_at.wrapping_add(self.delta);
            if next >= below {
                break;
            }
            if !self.repeated_at(block, at) {
                break;
            }
            (at, ts_at) = (at + stride, next);
        }
        #[cfg(test)]
        tests::HITS.with(|h| h.set(h.get() + ((at - start) / stride.max(1)) as u64));
        (at != start).then_some((at, ts_at))
    }

    /// The entries from `start` of `block` on (each ending by `stop`), the ts
    /// before them `ts`, when the first is the one after this header's entry and
    /// they repeat its header byte for byte: put on `out` as one run (their keys are
    /// the one before), and the offset after them and the last one's ts returned;
    /// the repeat then describes the last (its successor may repeat it in turn).
    /// `None` when the entry at `start` does not repeat it: the caller decodes it.
    /// `stop` must not pass the block's entries or its next restart.
    #[inline(always)]
    pub(super) fn run(
        &mut self,
        block: &Block,
        start: usize,
        stop: usize,
        ts: i64,
        out: &mut Stack,
    ) -> Option<(usize, i64)> {
        if start != self.end {
            return None;
        }
        let stride = self.len + self.value_len;
        // Every entry passed ends by `stop` and has 16 bytes to read from its
        // start: both bounds as one, so the loop reads without a check per entry
        // (~20 instructions an entry with them, a third of `last_n`'s decoding).
        let data = &block.data;
        let bound = stop.checked_sub(stride)?.min(data.len().checked_sub(16)?);
        let (mut at, mut count) = (start, 0usize);
        while at <= bound {
            // SAFETY: at + 16 <= data.len() (`bound`); an unaligned read of 16 bytes.
            let bytes = unsafe { data.as_ptr().add(at).cast::<[u8; 16]>().read_unaligned() };
            if u128::from_le_bytes(bytes) & self.mask != self.bytes {
                break;
            }
            at += stride;
            count += 1;
        }
        if count == 0 {
            return None;
        }
        #[cfg(test)]
        tests::HITS.with(|h| h.set(h.get() + count as u64));
        self.end = at;
        let first = ts.wrapping_add(self.delta);
        let steps = (self.delta, stride, count);
        let value_at = start + self.len;
        out.push_run(
            first,
            value_at,
            steps,
            self.kind,
            self.value_len,
            self.expiry,
        );
        let last = first.wrapping_add(((count - 1) as i64).wrapping_mul(self.delta));
        Some((at, last))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::test_support::walk_back;
    use super::super::{Block, BlockBuilder, BlockIter, Stack};
    use crate::entry::{Entry, Kind};

    thread_local! {
        /// Entries passed by a repeated header on this thread (`Repeat::run`, `skip`).
        pub(super) static HITS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// A put of `key` at `ts` that never expires, its value `len` bytes.
    fn put(key: &str, ts: i64, len: usize) -> Entry {
        Entry {
            key: key.as_bytes().to_vec(),
            ts,
            seq: 0,
            kind: Kind::Put,
            expire_at: i64::MAX,
            value: vec![7; len],
        }
    }

    /// What a forward read decodes of `block`, `key`'s entries newest first (the
    /// reference: a tombstone keeps no expiry, for one).
    fn forward(block: &Arc<Block>, key: &[u8]) -> Vec<(i64, Kind, i64, Vec<u8>)> {
        let mut it = BlockIter::new(block.clone());
        let mut all = Vec::new();
        while let Some(e) = it.next_entry().unwrap() {
            if e.key == key {
                all.push((e.ts, e.kind, e.expire_at, e.value));
            }
        }
        all.reverse();
        all
    }

    /// A restart's entry stores its ts whole; here its bytes are those of the
    /// repeated header before it (the empty key shares nothing, and the whole ts
    /// `i64::MAX` is the delta from -1 to it), and it is read as a restart all the
    /// same: the walk of the key's last interval goes on past the next restart.
    #[test]
    fn a_restart_is_never_a_repeat() {
        let mut b = BlockBuilder::new(2);
        for ts in [i64::MIN, -1, i64::MAX] {
            b.add(&put("", ts, 4));
        }
        let block = Arc::new(Block::parse(b.finish(), Arc::from("t"), 0).unwrap());
        assert_eq!(walk_back(&block, b""), forward(&block, b""));
        assert_eq!(walk_back(&block, b"")[0].0, i64::MAX);
        // Nor is a restart passed by a seek: at ts -100, -50 | 50 the restart's whole
        // ts 50 stores the bytes of the delta 50 before it.
        let mut b = BlockBuilder::new(2);
        for ts in [-100, -50, 50] {
            b.add(&put("", ts, 4));
        }
        let block = Arc::new(Block::parse(b.finish(), Arc::from("t"), 0).unwrap());
        let mut it = BlockIter::new(block);
        it.seek(b"", 10).unwrap();
        assert_eq!(it.next_entry().unwrap().map(|e| e.ts), Some(50));
    }

    /// A key's entries walked back interval by interval (repeated headers decoded by
    /// one comparison) are the entries a forward read decodes, ts, kind, expiry and
    /// value, newest first: series at a regular interval (every header repeats) or
    /// jittered, expiring at a fixed distance or not, values of one size or not,
    /// tombstones and points among them, and the empty key.
    #[test]
    fn repeated_headers_decode_as_the_entries() {
        let mut rng = crate::util::test_rng("repeated_headers_decode_as_the_entries");
        HITS.with(|h| h.set(0));
        for _ in 0..400 {
            let (keys, es, block) = random_series(&mut rng);
            for key in &keys {
                let want = forward(&block, key.as_bytes());
                let stored = es.iter().filter(|e| e.key == key.as_bytes()).count();
                assert_eq!(want.len(), stored);
                assert_eq!(walk_back(&block, key.as_bytes()), want, "key {key:?}");
            }
        }
        // Most entries of the regular series were decoded from repeated headers.
        assert!(HITS.with(|h| h.get()) > 1000);
    }

    /// A seek passes entries that repeat the header before them by comparison
    /// (`Repeat::skip`) and lands where a walk over the entries would: on the first
    /// `>= (key, ts)`, for ts at, between, before and after the entries, and keys
    /// around them.
    #[test]
    fn a_seek_passes_repeated_entries_as_a_walk_would() {
        let mut rng = crate::util::test_rng("a_seek_passes_repeated_entries_as_a_walk_would");
        HITS.with(|h| h.set(0));
        for _ in 0..200 {
            let (keys, es, block) = random_series(&mut rng);
            for _ in 0..60 {
                let key = ["", "a", "b", "cpu.host-1", "cpu.host-2"][rng.usize(..5)];
                let e = &es[rng.usize(..es.len())];
                let ts = match rng.u8(..4) {
                    0 => e.ts,
                    1 => e.ts.wrapping_add(rng.i64(-3..3)),
                    2 => rng.i64(..),
                    _ => e.ts.wrapping_add(rng.i64(-20_000_000..20_000_000)),
                };
                let at = es.partition_point(|e| (e.key.as_slice(), e.ts) < (key.as_bytes(), ts));
                let mut it = BlockIter::new(block.clone());
                it.seek(key.as_bytes(), ts).unwrap();
                let got = it.next_entry().unwrap();
                assert_eq!(got.as_ref(), es.get(at), "{key:?}@{ts} in {keys:?}");
            }
        }
        assert!(HITS.with(|h| h.get()) > 1000);
    }

    /// A block of up to three keys' series: each regular or jittered, at one of
    /// several steps, expiring or not, values of one size with tombstones, points
    /// and other sizes among them; restarts every 1, 4 or 16 entries. The keys, the
    /// entries in order, the block.
    fn random_series(rng: &mut fastrand::Rng) -> (Vec<&'static str>, Vec<Entry>, Arc<Block>) {
        let mut keys: Vec<&str> = ["", "a", "cpu.host-1"]
            .into_iter()
            .filter(|_| rng.bool())
            .collect();
        if keys.is_empty() {
            keys.push("");
        }
        let mut es = Vec::new();
        for key in &keys {
            let step = [1, 1000, 1_000_000, 15_000_000][rng.usize(..4)];
            let jitter = rng.u8(..3) == 0;
            let ttl = [None, Some(rng.i64(..)), Some(3600)][rng.usize(..3)];
            let size = [0, 8, 128, 300][rng.usize(..4)];
            let mut ts = rng.i64(-1 << 40..1 << 40);
            for _ in 0..rng.usize(1..80) {
                ts += step + if jitter { rng.i64(0..5) } else { 0 };
                let kind = match rng.u8(..20) {
                    0 => Kind::Delete,
                    1 => Kind::Num,
                    _ => Kind::Put,
                };
                let value = match kind {
                    Kind::Delete => vec![],
                    Kind::Num => rng.f64().to_le_bytes().to_vec(),
                    Kind::Put if rng.u8(..10) == 0 => vec![7; rng.usize(0..200)],
                    Kind::Put => vec![rng.u8(..); size],
                };
                // (A tombstone stores no expiry.)
                let expire_at = match kind {
                    Kind::Delete => i64::MAX,
                    _ => ttl.map_or(i64::MAX, |t| ts.wrapping_add(t)),
                };
                let (key, seq) = (key.as_bytes().to_vec(), 0);
                es.push(Entry {
                    key,
                    ts,
                    seq,
                    kind,
                    expire_at,
                    value,
                });
            }
        }
        let mut b = BlockBuilder::new([1, 4, 16][rng.usize(..3)]);
        for e in &es {
            b.add(e);
        }
        let block = Arc::new(Block::parse(b.finish(), Arc::from("t"), 0).unwrap());
        (keys, es, block)
    }

    /// A header carried from another interval (or block) is tried only after the
    /// key's restart entry: with its end left where an entry of the key before
    /// begins ("a", the same length and header as "b"'s), that entry would pass for
    /// one of "b".
    #[test]
    fn a_carried_header_waits_for_the_keys_restart() {
        let mut b = BlockBuilder::new(16);
        for key in ["a", "b"] {
            for i in 0..24 {
                b.add(&put(key, 1000 + 10 * i, 8));
            }
        }
        let block = Arc::new(Block::parse(b.finish(), Arc::from("t"), 0).unwrap());
        let fresh = |r: usize, stack: &mut Stack| {
            let mut it = BlockIter::new(block.clone());
            it.key_in_interval(b"b", r, (r + 1 == block.num_restarts, false), stack)
                .unwrap();
            std::iter::from_fn(|| stack.pop().map(|(ts, raw)| (ts, raw.value_at)))
                .collect::<Vec<_>>()
        };
        let mut stack = Stack::default();
        fresh(block.num_restarts - 1, &mut stack);
        let carried = stack.carried.expect("b's entries repeat");
        for r in 0..block.num_restarts {
            let want = fresh(r, &mut Stack::default());
            for at in 0..block.restarts_at {
                let mut stack = Stack::default();
                let mut carried = carried;
                carried.end_at(at);
                stack.carried = Some(carried);
                assert_eq!(fresh(r, &mut stack), want, "interval {r}, carried end {at}");
            }
        }
    }
}
