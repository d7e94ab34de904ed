//! What a backward walk has decoded of one key's entries and not yet handed out,
//! newest on top (`BlockIter::key_in_interval` fills it an interval at a time).
//!
//! An entry is kept as where its value lies, its ts, kind and expiry. A run of
//! entries whose headers repeat (block/repeat.rs: a series at a regular interval,
//! values of one size) is kept as one item: its first entry and the steps between
//! them, each entry worked out as it is taken. So a regular series' points are not
//! written out one by one and read back, only checked (one comparison each) and
//! counted.

use crate::entry::Kind;

use super::{Block, Raw, Repeat};

/// Entries decoded back, taken newest first (`pop`).
#[derive(Default)]
pub(crate) struct Stack {
    items: Vec<Item>,
    /// The header of the key's last entry decoded that repeats (if any): the entry
    /// after a restart of the key's next interval back often repeats it.
    pub(super) carried: Option<Repeat>,
}

/// How `Stack::drain` ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Drained {
    /// `f` returned true for the last entry handed.
    Stopped,
    /// The next entry's ts is at or below the bound (left on top).
    Below,
    /// Every entry was handed.
    Empty,
}

/// `count` entries from the oldest at `value_at` with `ts`, each the one before
/// moved on by `stride` bytes and `ts_step` (a lone entry: `count` 1).
#[derive(Clone, Copy)]
struct Item {
    ts: i64,
    value_at: usize,
    ts_step: i64,
    stride: usize,
    count: usize,
    kind: Kind,
    value_len: usize,
    /// The entries' `expire_at`, or when `relative`, its distance from their ts.
    expire: i64,
    relative: bool,
}

impl Stack {
    /// Empty, with room for `n` items (an interval's usual few: a restart, a run, an
    /// entry or two; on the stack instead, as a `SmallVec`, pushes and pops cost
    /// more than the allocation saved).
    pub(crate) fn with_capacity(n: usize) -> Self {
        Stack {
            items: Vec::with_capacity(n),
            carried: None,
        }
    }

    /// Drops the entries not taken (the carried header is kept).
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many entries are left to take.
    pub(crate) fn len(&self) -> usize {
        self.items.iter().map(|i| i.count).sum()
    }

    /// Puts one entry on top.
    #[inline(always)]
    pub(super) fn push(&mut self, ts: i64, raw: Raw) {
        self.items.push(Item {
            ts,
            value_at: raw.value_at,
            ts_step: 0,
            stride: 0,
            count: 1,
            kind: raw.kind,
            value_len: raw.value_len,
            expire: raw.expire_at,
            relative: false,
        });
    }

    /// Puts on top `count` (at least 1) entries of one repeated header: the oldest
    /// at `ts` with its value at `value_at`, each next `ts_step` and `stride` bytes
    /// on; they expire `expiry` after their ts, or never.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn push_run(
        &mut self,
        ts: i64,
        value_at: usize,
        (ts_step, stride, count): (i64, usize, usize),
        kind: Kind,
        value_len: usize,
        expiry: Option<i64>,
    ) {
        self.items.push(Item {
            ts,
            value_at,
            ts_step,
            stride,
            count,
            kind,
            value_len,
            expire: expiry.unwrap_or(i64::MAX),
            relative: expiry.is_some(),
        });
    }

    /// Hands `f` the entries newest first as `(ts, kind, expire_at, value)`, each
    /// value lent from `block` (the one they were decoded from), while their ts is
    /// above `above`, taking each handed; stops after one for which `f` returns
    /// true. A run is handed out in one loop: its values' bounds checked once, no
    /// item written back until it stops (taken one by one with `pop_if`, the
    /// bookkeeping was ~25 instructions a version of `last_n`'s ~220).
    #[inline(always)]
    pub(crate) fn drain(
        &mut self,
        block: &Block,
        above: i64,
        mut f: impl FnMut(i64, Kind, i64, &[u8]) -> bool,
    ) -> Drained {
        while let Some(item) = self.items.last_mut() {
            let (ts, value_at, stride, count, value_len) = (
                item.ts,
                item.value_at,
                item.stride,
                item.count,
                item.value_len,
            );
            let (ts_step, kind, expire, relative) =
                (item.ts_step, item.kind, item.expire, item.relative);
            // The run's values, from the oldest's start to the newest's end: in the
            // block, as `Raw::value` would find each (it panics otherwise too).
            let values = &block.data[value_at..value_at + (count - 1) * stride + value_len];
            let mut k = count;
            while k > 0 {
                k -= 1;
                let ts = ts.wrapping_add((k as i64).wrapping_mul(ts_step));
                if ts <= above {
                    item.count = k + 1;
                    return Drained::Below;
                }
                let expire_at = match relative {
                    true => ts.wrapping_add(expire),
                    false => expire,
                };
                // SAFETY: k < count, so k * stride + value_len is at most
                // (count - 1) * stride + value_len, the length of `values`.
                let value = unsafe { values.get_unchecked(k * stride..k * stride + value_len) };
                if f(ts, kind, expire_at, value) {
                    item.count = k;
                    if k == 0 {
                        self.items.pop();
                    }
                    return Drained::Stopped;
                }
            }
            self.items.pop();
        }
        Drained::Empty
    }

    /// The newest entry, taken: its ts and where it lies.
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<(i64, Raw)> {
        self.pop_if(|_| true)
    }

    /// The newest entry, taken when `take(its ts)`; else left on top.
    #[inline(always)]
    pub(crate) fn pop_if(&mut self, take: impl FnOnce(i64) -> bool) -> Option<(i64, Raw)> {
        let item = self.items.last_mut()?;
        let k = item.count - 1;
        let ts = item.ts.wrapping_add((k as i64).wrapping_mul(item.ts_step));
        if !take(ts) {
            return None;
        }
        let raw = Raw {
            kind: item.kind,
            expire_at: match item.relative {
                true => ts.wrapping_add(item.expire),
                false => item.expire,
            },
            value_at: item.value_at + k * item.stride,
            value_len: item.value_len,
        };
        item.count = k;
        if k == 0 {
            self.items.pop();
        }
        Some((ts, raw))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{Block, BlockBuilder, BlockIter};
    use super::{Drained, Stack};
    use crate::entry::{Entry, Kind};

    /// `drain` hands out what `pop_if` takes one by one, in the same order, stops
    /// where `f` asks or at the bound, and leaves the rest as `pop` would find it:
    /// runs of repeated headers (regular series), lone entries, deletes and
    /// expiring entries (expiry relative to the ts in a run), every bound and stop.
    #[test]
    fn drain_hands_out_what_pops_take() {
        let mut rng = crate::util::test_rng("drain_hands_out_what_pops_take");
        for _ in 0..300 {
            let mut b = BlockBuilder::new([1, 4, 16][rng.usize(..3)]);
            let (mut ts, n) = (rng.i64(-50..50), rng.usize(1..80));
            let mut es = Vec::new();
            for _ in 0..n {
                ts += match rng.u8(..5) {
                    0 => rng.i64(1..30),
                    _ => 10,
                };
                let (kind, expire_at) = match rng.u8(..8) {
                    0 => (Kind::Delete, i64::MAX),
                    1 => (Kind::Put, ts + 100),
                    2 => (Kind::Put, ts - 5),
                    _ => (Kind::Put, i64::MAX),
                };
                let len = if kind == Kind::Put {
                    [8, 8, 8, 3][rng.usize(..4)]
                } else {
                    0
                };
                es.push(Entry {
                    key: b"k".to_vec(),
                    ts,
                    seq: 0,
                    kind,
                    expire_at,
                    value: (0..len).map(|_| rng.u8(..)).collect(),
                });
            }
            for e in &es {
                b.add(e);
            }
            let block = Arc::new(Block::parse(b.finish(), Arc::from("t"), 0).unwrap());
            let mut it = BlockIter::new(block.clone());
            let r = it.last_interval_of(b"k").unwrap();
            let (mut a, mut want) = (Stack::default(), Stack::default());
            it.key_in_interval(b"k", r, (true, false), &mut a).unwrap();
            let mut it = BlockIter::new(block.clone());
            it.key_in_interval(b"k", r, (true, false), &mut want)
                .unwrap();
            let above = rng.i64(ts - 200..ts + 5);
            let stop_after = rng.usize(0..20);
            let mut got = Vec::new();
            let how = a.drain(&block, above, |ts, kind, exp, v| {
                got.push((ts, kind, exp, v.to_vec()));
                got.len() > stop_after
            });
            let mut expect = Vec::new();
            let expect_how = loop {
                match want.pop_if(|ts| ts > above) {
                    Some((ts, raw)) => {
                        expect.push((ts, raw.kind, raw.expire_at, raw.value(&block).to_vec()));
                        if expect.len() > stop_after {
                            break Drained::Stopped;
                        }
                    }
                    None if want.is_empty() => break Drained::Empty,
                    None => break Drained::Below,
                }
            };
            assert_eq!(
                (how, &got),
                (expect_how, &expect),
                "above {above}, stop after {stop_after}"
            );
            assert_eq!(a.len(), want.len());
            while let Some((ts, raw)) = want.pop() {
                let (t, r) = a.pop().unwrap();
                assert_eq!(
                    (t, r.kind, r.expire_at, r.value_at),
                    (ts, raw.kind, raw.expire_at, raw.value_at)
                );
            }
        }
    }
}
