//! Seeking in a data block through its restart points (a search among them, binary
//! or galloping from where a ts lies in the block's span, then a short decode), and
//! one key's entries restart interval by interval from the end.

use std::cmp::Ordering;

use crate::entry::cmp_key_ts;
use crate::error::Result;
use crate::util::coding::{shared_prefix, Decoder};
use crate::util::search::{interval_guess, partition_point, partition_point_near};

#[cfg(test)]
use super::Decoded;
use super::{Block, BlockIter, Head, Repeat, Stack};

/// Compares a block's entries, decoded in order, with one key without building
/// theirs: each stores only the length it shares with the key before and the rest.
struct StoredKeys<'k> {
    key: &'k [u8],
    /// How many bytes the last entry's key shares with `key`.
    matched: usize,
    /// The last entry's key length, and its order against `key`.
    last_len: usize,
    last: Ordering,
}

impl<'k> StoredKeys<'k> {
    fn new(key: &'k [u8]) -> Self {
        StoredKeys {
            key,
            matched: 0,
            last_len: 0,
            last: Ordering::Less,
        }
    }

    /// The order of the next entry's key (`head`, of `block`) against `key`. An entry
    /// that stores nothing past the whole last key is that key again (one series'
    /// versions); one sharing more with the last key than that shares with `key`
    /// differs from `key` where the last did: both take the last one's order unread.
    /// Otherwise the entry agrees with `key` as far as it shares, and only its suffix
    /// is compared.
    #[inline(always)]
    fn order(&mut self, head: &Head, block: &Block) -> Result<Ordering> {
        if head.restart {
            (self.matched, self.last_len) = (0, 0);
        }
        if head.shared > self.last_len {
            return Err(block.corrupt("shared length past previous key"));
        }
        let again = !head.restart && head.suffix_len == 0 && head.shared == self.last_len;
        self.last_len = head.shared + head.suffix_len;
        if again || head.shared > self.matched {
            return Ok(self.last);
        }
        let suffix = head.suffix(block);
        let rest = &self.key[head.shared..];
        let same = shared_prefix(suffix, rest);
        self.matched = head.shared + same;
        self.last = match (suffix.get(same), rest.get(same)) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => suffix.len().cmp(&rest.len()),
        };
        Ok(self.last)
    }
}

impl BlockIter {
    /// Up to how many restarts (after the first) a search prefetches all of.
    const PREFETCHED_RESTARTS: usize = 32;

    fn at_restart(&mut self, r: usize) {
        self.restart_next(r);
        self.next_off = self.next_restart_at;
        self.key.clear();
        self.ts = 0;
        self.pending = None;
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

    /// The last restart whose first entry is `< (key, ts)`, or `<=` when `or_at`
    /// (or 0). `span`: the block holds `key`'s entries alone, with ts from `span.0`
    /// to `span.1` (its index entry says so), and the search starts where `ts` lies
    /// in it.
    fn restart_before(
        &self,
        key: &[u8],
        ts: i64,
        or_at: bool,
        span: Option<(i64, i64)>,
    ) -> Result<usize> {
        let mut err = None;
        // Whether restart `r + 1` is before: restart 0 is the answer when none is,
        // so it is never read. After an error, no more are read.
        let before = |r: usize| match err.is_none().then(|| self.restart_key(r + 1)) {
            None => false,
            Some(Ok((k, t))) => match cmp_key_ts(k, t, key, ts) {
                Ordering::Less => true,
                Ordering::Equal => or_at,
                Ordering::Greater => false,
            },
            Some(Err(e)) => {
                err = Some(e);
                false
            }
        };
        let n = self.block.num_restarts.saturating_sub(1);
        // The search's probes wait on each other, each read a cache miss when the
        // block is not in the CPU's caches: in a block of few restarts, every
        // restart's entry is asked for at once, so the misses overlap.
        if n <= Self::PREFETCHED_RESTARTS {
            for r in 1..=n {
                let at = self.block.restart(r).min(self.block.restarts_at);
                crate::util::prefetch(self.block.data.as_ptr().wrapping_add(at));
            }
        }
        let r = match span {
            Some(span) => partition_point_near(n, interval_guess(n + 1, ts, span), before),
            None => partition_point(n, before),
        };
        match err {
            Some(e) => Err(e),
            None => Ok(r),
        }
    }

    /// Where a run of repeated entries from `from` must stop: before the next
    /// restart (whose entry stores its key and ts whole, and may hold the same bytes
    /// as a repeated header), or at `end` (at most the block's entries); `from`
    /// itself when it is a restart (no entry there repeats).
    fn run_stop(&self, from: usize, end: usize) -> usize {
        let end = end.min(self.block.restarts_at);
        match self.next_restart_at {
            r if r == from => from,
            r if r > from => end.min(r),
            _ => end,
        }
    }

    /// Positions so that the next entry is the first `>= (key, ts)`.
    pub(crate) fn seek(&mut self, key: &[u8], ts: i64) -> Result<()> {
        self.seek_in_span(key, ts, None)
    }

    /// [`seek`](Self::seek) in a block that holds `key`'s entries alone, with ts
    /// from `span.0` to `span.1` (when `Some`): the restart is searched from where
    /// `ts` lies in the span, two restarts read for points at a regular interval
    /// instead of a binary search's seven in a block of 2,000 points.
    pub(crate) fn seek_in_span(
        &mut self,
        key: &[u8],
        ts: i64,
        span: Option<(i64, i64)>,
    ) -> Result<()> {
        // A restart whose first entry is the one sought is where the scan starts
        // (exact point reads land on one in 16 times: no whole interval before it).
        let r = self.restart_before(key, ts, true, span)?;
        self.at_restart(r);
        // The entries are compared with `key` as they are stored (`StoredKeys`); the
        // key found is built once, from `key` and its suffix (a document read scanned
        // ~8 entries, building each key).
        let mut keys = StoredKeys::new(key);
        loop {
            let (start, before) = (self.next_off, self.ts);
            let Some((head, raw)) = self.decode_head()? else {
                return Ok(());
            };
            let order = keys.order(&head, &self.block)?;
            if order.then(self.ts.cmp(&ts)) != Ordering::Less {
                // Not before `key`: it shares `head.shared` bytes with `key` (the
                // entries before were before it: see `StoredKeys::order`).
                self.key.clear();
                self.key.extend_from_slice(&key[..head.shared]);
                self.key.extend_from_slice(head.suffix(&self.block));
                self.pending = Some(raw);
                return Ok(());
            }
            // An entry of the key before `ts` that stores none of it (a series'
            // point past a restart): the entries after it that repeat its header
            // (block/repeat.rs) are passed by comparison while their ts stays below
            // `ts`, as this loop would pass them (`keys.order` unchanged by them).
            if order == Ordering::Equal && !head.restart && head.suffix_len == 0 {
                let delta = self.ts.wrapping_sub(before);
                if let Some(rep) = Repeat::of(&self.block, start, &head, &raw, delta) {
                    let stop = self.run_stop(self.next_off, self.block.restarts_at);
                    if let Some(after) = rep.skip(&self.block, self.next_off, stop, self.ts, ts) {
                        (self.next_off, self.ts) = after;
                    }
                }
            }
        }
    }

    /// Every entry of `key` in the block, ascending, decoded but not yet built.
    #[cfg(test)]
    pub(crate) fn collect_key(&mut self, key: &[u8]) -> Result<Decoded> {
        self.seek(key, i64::MIN)?;
        self.collect_while(|k, _| k == key)
    }

    /// The block's last restart interval: where the entries of a key the block ends
    /// with end (when its first entry is `(key, i64::MAX)`, the key's versions go
    /// on in the interval before, as `key_in_interval` reports).
    pub(crate) fn last_restart(&self) -> usize {
        self.block.num_restarts - 1
    }

    /// The restart interval where `key`'s entries end: the last restart whose first
    /// entry is before `(key, i64::MAX)` (where a backward walk over the key starts).
    pub(crate) fn last_interval_of(&self, key: &[u8]) -> Result<usize> {
        self.restart_before(key, i64::MAX, false, None)
    }

    /// The offset up to which every entry of the block lies below `(key, ts)`: the
    /// start of the last restart whose first entry does (0 when none does, or a
    /// restart cannot be read). An entry that ends there or before is below, with
    /// no comparison: a merge's run compares only the entries past it.
    pub(crate) fn below_until(&self, key: &[u8], ts: i64) -> usize {
        match self.restart_before(key, ts, false, None) {
            Ok(r) => self.block.restart_offset(r).min(self.block.restarts_at),
            Err(_) => 0,
        }
    }

    /// Asks for the bytes of restart interval `r` (a hint; nothing is read). A walk
    /// back over a key decodes an interval while the one before it comes in: each
    /// interval back starts a new stream the hardware's prefetch has not seen.
    pub(crate) fn prefetch_interval(&self, r: usize) {
        let lines = self.interval_lines(r);
        for at in lines.step_by(64) {
            crate::util::prefetch(at as *const u8);
        }
    }

    /// The addresses of the cache lines restart interval `r` lies on, from the
    /// start of its first line (empty when there is no such interval).
    pub(crate) fn interval_lines(&self, r: usize) -> std::ops::Range<usize> {
        let b = &self.block;
        if r >= b.num_restarts {
            return 0..0;
        }
        let end = match r + 1 < b.num_restarts {
            true => b.restart(r + 1),
            false => b.restarts_at,
        };
        let end = end.min(b.restarts_at);
        let Some(bytes) = b.data.get(b.restart(r)..end) else {
            return 0..0;
        };
        let at = bytes.as_ptr() as usize;
        (at & !63)..at + bytes.len()
    }

    /// The entries of `key` in restart interval `r` (from restart `r` to the next;
    /// for the `last` interval of the key, on until the key ends, as an entry
    /// `(key, i64::MAX)` may begin the next interval), ascending, decoded but not
    /// built, into `out` (cleared first: a walk reuses one buffer); and whether the
    /// key's entries may go on in interval `r - 1` (the interval starts with `key`
    /// and is not the first). A backward walk over one key decodes interval after
    /// interval from the end, so reading its last `n` points decodes about `n`
    /// entries, not the block's. The entries' keys are compared as stored (as
    /// `seek_in_span` does; one series' entries share the whole key and store none
    /// of it), not built: the iterator is left at the block's end. `out.carried` is
    /// read and replaced: the repeated header of the interval after this one comes
    /// in (armed only past this interval's restart entry), this interval's goes out
    /// for the interval before. `whole`: every entry of the block is the key's (the
    /// index says it starts and ends with it), so none is compared with it.
    pub(crate) fn key_in_interval(
        &mut self,
        key: &[u8],
        r: usize,
        (last, whole): (bool, bool),
        out: &mut Stack,
    ) -> Result<bool> {
        self.at_restart(r);
        out.clear();
        let end = match r + 1 < self.block.num_restarts && !last {
            true => self.block.restart(r + 1),
            false => self.block.restarts_at,
        };
        let end = end.min(self.block.restarts_at);
        let mut starts_with_key = None;
        let mut keys = StoredKeys::new(key);
        // The header of the key's entry decoded last, which its next may repeat;
        // at first the one carried from the interval after this (which the entry
        // after this interval's restart may repeat), for no entry before the key's.
        let mut repeat = out.carried.take();
        if let Some(r) = repeat.as_mut() {
            r.end_at(usize::MAX);
        }
        while self.next_off < end {
            let start = self.next_off;
            // Never at a restart, whose entry holds its key and ts whole; a run of
            // repeats stops before the next (`run_stop`).
            if let Some(rep) = repeat.as_mut() {
                let stop = self.run_stop(start, end);
                if let Some(after) = rep.run(&self.block, start, stop, self.ts, out) {
                    // The key again (its whole key shared, nothing stored past it),
                    // as `keys.order` would find, leaving it as it was.
                    (self.next_off, self.ts) = after;
                    continue;
                }
            }
            let before = self.ts;
            let Some((head, raw)) = self.decode_head()? else {
                break;
            };
            let is_key = whole || keys.order(&head, &self.block)? == Ordering::Equal;
            starts_with_key.get_or_insert(is_key);
            if is_key {
                out.push(self.ts, raw);
                // Changed where it lies (moved, its ~100 bytes were 5% of `last_n`).
                match (head.restart, repeat.as_mut()) {
                    (true, Some(r)) => r.end_at(self.next_off),
                    (true, None) => {}
                    (false, _) => {
                        let delta = self.ts.wrapping_sub(before);
                        repeat = Repeat::of(&self.block, start, &head, &raw, delta);
                    }
                }
            } else if !out.is_empty() {
                break; // past the key
            }
        }
        out.carried = repeat;
        self.key.clear();
        self.next_off = self.block.restarts_at;
        self.pending = None;
        Ok(r > 0 && starts_with_key == Some(true))
    }
}

#[cfg(test)]
mod tests {

    use crate::entry::Kind;
    use crate::sstable::block::test_support::{build, entry};
    use crate::sstable::block::BlockIter;

    /// In a block of one key's entries, a seek from the span finds what a seek
    /// without it finds, for every ts (between entries, before and after them all),
    /// whatever the span says: evenly spaced or not, a span that is wrong.
    #[test]
    fn seek_in_span_is_seek() {
        let mut rng = crate::util::test_rng("seek_in_span_is_seek");
        for _ in 0..200 {
            let mut ts = rng.i64(-1000..1000);
            let es: Vec<_> = (0..rng.usize(1..120))
                .map(|_| {
                    ts += match rng.u8(..4) {
                        0 => rng.i64(1..1000),
                        _ => 10,
                    };
                    entry("k", ts, Kind::Put, i64::MAX)
                })
                .collect();
            let block = build(&es);
            let (first, last) = (es[0].ts, es[es.len() - 1].ts);
            let spans = [
                (first, last),
                (first, first),
                (last, first),
                (rng.i64(..), rng.i64(..)),
            ];
            for _ in 0..40 {
                let want_ts = rng.i64(first - 20..=last + 20);
                let key = ["k", "j", "l"][rng.usize(..3)];
                let mut plain = BlockIter::new(block.clone());
                plain.seek(key.as_bytes(), want_ts).unwrap();
                let want = plain.next_entry().unwrap();
                for span in spans {
                    let mut it = BlockIter::new(block.clone());
                    it.seek_in_span(key.as_bytes(), want_ts, Some(span))
                        .unwrap();
                    assert_eq!(it.next_entry().unwrap(), want, "{key}@{want_ts} {span:?}");
                }
            }
        }
    }

    /// Seeks among keys that share prefixes of every length (a key the prefix of the
    /// next, keys differing in their last byte, one key's versions across restarts)
    /// land on the first entry `>= (key, ts)` a plain walk finds, for keys and ts
    /// present and absent, and the walk on from there reads the same entries.
    #[test]
    fn seek_compares_stored_suffixes_as_whole_keys() {
        let mut rng = crate::util::test_rng("seek_compares_stored_suffixes_as_whole_keys");
        let word = |rng: &mut fastrand::Rng| -> String {
            (0..rng.usize(0..6))
                .map(|_| ['a', 'b', 'c'][rng.usize(..3)])
                .collect()
        };
        for _ in 0..300 {
            let mut es: Vec<_> = (0..rng.usize(1..60))
                .map(|_| entry(&word(&mut rng), rng.i64(-3..3), Kind::Put, i64::MAX))
                .collect();
            es.sort_by(|a, b| (&a.key, a.ts).cmp(&(&b.key, b.ts)));
            es.dedup_by(|a, b| (&a.key, a.ts) == (&b.key, b.ts));
            let block = build(&es);
            for _ in 0..30 {
                let (key, ts) = (word(&mut rng), rng.i64(-4..4));
                let at = es.partition_point(|e| (e.key.as_slice(), e.ts) < (key.as_bytes(), ts));
                let mut it = BlockIter::new(block.clone());
                it.seek(key.as_bytes(), ts).unwrap();
                let mut got = Vec::new();
                while let Some(e) = it.next_entry().unwrap() {
                    got.push(e);
                }
                assert_eq!(
                    got,
                    es[at..],
                    "seek {key:?}@{ts} in {:?}",
                    es.iter()
                        .map(|e| (String::from_utf8_lossy(&e.key), e.ts))
                        .collect::<Vec<_>>()
                );
                // The key's entries walked back from where they end.
                let back = walk_back(&block, key.as_bytes());
                let want: Vec<i64> = es
                    .iter()
                    .rev()
                    .filter(|e| e.key == key.as_bytes())
                    .map(|e| e.ts)
                    .collect();
                assert_eq!(back, want, "walk back {key:?}");
            }
        }
    }

    /// The ts of `key`'s entries in `block`, walked back interval by interval from
    /// where they end, as a newest-first read does.
    fn walk_back(block: &std::sync::Arc<super::super::Block>, key: &[u8]) -> Vec<i64> {
        let back = crate::sstable::block::test_support::walk_back(block, key);
        back.into_iter().map(|(ts, ..)| ts).collect()
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
            let back = walk_back(&block, k.as_bytes());
            let want: Vec<i64> = match k {
                "aa" => vec![],
                _ => vec![i64::MAX, 7, 0, -3, i64::MIN],
            };
            assert_eq!(back, want, "{k}");
        }
    }

    /// A prefetch is a hint: every interval of a block, those past its last, and
    /// those of a block whose restart offsets are garbage (out of the block, out of
    /// order) are asked for without a panic, and the block reads as before.
    #[test]
    fn prefetch_interval_is_only_a_hint() {
        let es: Vec<_> = (0..40)
            .map(|ts| entry("k", ts, Kind::Put, i64::MAX))
            .collect();
        let block = build(&es);
        let before = walk_back(&block, b"k");
        assert_eq!(before.len(), 40);
        let it = BlockIter::new(block.clone());
        for r in 0..block.num_restarts + 3 {
            it.prefetch_interval(r);
        }
        assert_eq!(walk_back(&block, b"k"), before);
        let mut data = block.data.clone();
        for (i, garbage) in [u32::MAX, 0, 7, u32::MAX / 2]
            .into_iter()
            .cycle()
            .take(block.num_restarts)
            .enumerate()
        {
            let at = block.restarts_at + 4 * i;
            data[at..at + 4].copy_from_slice(&garbage.to_le_bytes());
        }
        // `Block::parse` refuses such an array; made directly, the hint still
        // reads nothing.
        assert!(super::Block::parse(data.clone(), std::sync::Arc::from("t"), 0).is_err());
        let bad = super::Block {
            data,
            restarts_at: block.restarts_at,
            num_restarts: block.num_restarts,
            origin: std::sync::Arc::from("t"),
            offset: 0,
        };
        let it = BlockIter::new(std::sync::Arc::new(bad));
        for r in 0..block.num_restarts + 3 {
            it.prefetch_interval(r);
        }
    }
}
