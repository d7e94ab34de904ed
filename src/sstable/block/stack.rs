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

use super::{Raw, Repeat};

/// Entries decoded back, taken newest first (`pop`).
#[derive(Default)]
pub(crate) struct Stack {
    items: Vec<Item>,
    /// The header of the key's last entry decoded that repeats (if any): the entry
    /// after a restart of the key's next interval back often repeats it.
    pub(super) carried: Option<Repeat>,
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
