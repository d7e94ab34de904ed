//! Cursors over one table: within [`Bounds`], forward (queries, scans, compaction)
//! or backward (`Bounds::reverse`); and backward over one key's versions (for
//! `get_latest` and `last_n`).
//!
//! This module is the table cursor; `block_offer` is how a forward cursor offers
//! the blocks it comes to whole to its reader first (aggregation), and `key_walk`
//! implements [`KeyWalk`]. The cursor types stay declared here for their codegen
//! unit (as in `block`).

mod block_offer;
mod key_walk;

pub(crate) use block_offer::{Ask, BlockOffer, Offered};

use std::sync::Arc;

use crate::config::ReadOptions;
use crate::entry::{cmp_key_ts, Entry, Kind};
use crate::error::Result;
use crate::range::{Bounds, KeyEnd};

use super::block::{Block, BlockIter, Decoded, Raw, Stack};
use super::columns::Columns;
use super::readahead::ReadAhead;
use super::reader::{BlockPlan, PartSlot, Table};

/// An entry lent from its block: key, ts, kind, expiry and value.
pub(crate) type LentEntry<'a> = (&'a [u8], i64, Kind, i64, &'a [u8]);

/// How [`TableCursor::visit_lent_below`] ended.
pub(crate) enum Below {
    /// The visitor stopped the walk.
    Stopped,
    /// No entry is left in bounds.
    Ended,
    /// The cursor is on the first entry not below the bound.
    Reached,
}

/// Yields the table's entries within bounds, in order, reading only planned blocks.
pub(crate) struct TableCursor {
    table: Arc<Table>,
    bounds: Arc<Bounds>,
    opts: ReadOptions,
    blocks: BlockPlan,
    /// A failure planning the blocks (reading an index partition), returned by the
    /// first `next_entry`.
    failed: Option<crate::error::Error>,
    /// The index partition of the block read last.
    part: PartSlot,
    next_block: usize,
    iter: Option<BlockIter>,
    /// Whether `iter`'s block is the plan's last: only its entries can lie past the
    /// end bound (every planned block starts at or before the end, so the entries of
    /// any but the last lie below the next one's first key), so only its are checked.
    last_block: bool,
    started: bool,
    /// Backwards: the entries in bounds of the block read last, in order (taken
    /// from the end, built only when taken).
    back: Option<Decoded>,
    /// The entry `next_lent` moved to.
    raw: Option<Raw>,
    /// A block offer ended the read (`Offered::Stop`).
    halted: bool,
    /// The points of the block offered last, as columns.
    cols: Columns,
    /// Bytes read ahead for blocks offered as columns.
    ahead: ReadAhead,
    /// The cached block after the one being read as columns, found and asked for
    /// ahead of its turn (`hold_next`).
    held: Option<(u32, Arc<Block>)>,
}

impl TableCursor {
    pub(crate) fn new(table: Arc<Table>, bounds: Arc<Bounds>, opts: ReadOptions) -> Self {
        let (blocks, failed) = match table.plan(&bounds, &opts) {
            Ok(p) => (p, None),
            Err(e) => (BlockPlan::Span(0..0), Some(e)),
        };
        TableCursor {
            table,
            bounds,
            opts,
            blocks,
            failed,
            part: None,
            next_block: 0,
            iter: None,
            last_block: false,
            started: false,
            back: None,
            raw: None,
            halted: false,
            cols: Columns::default(),
            ahead: ReadAhead::default(),
            held: None,
        }
    }

    /// True when no block of the table is within bounds: the cursor yields nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.failed.is_none() && self.blocks.get(0).is_none()
    }

    pub(crate) fn next_entry(&mut self) -> Result<Option<Entry>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.bounds.reverse {
            return self.prev_entry();
        }
        let Some(raw) = self.find_lent(None)? else {
            return Ok(None);
        };
        let Some(it) = &self.iter else {
            return Ok(None);
        };
        let mut e = it.build(raw);
        e.seq = self.table.meta.min_seq;
        Ok(Some(e))
    }
}

impl TableCursor {
    /// `next_entry`'s forward step without building the entry: moves to the next
    /// entry in bounds (false past the last); its key, ts, kind, expiry and value are
    /// [`lent`](Self::lent) until the next step. Forward bounds only.
    #[inline]
    pub(crate) fn next_lent(&mut self) -> Result<bool> {
        // What `decode` learned of the entry stays here, not in the return value:
        // a large `Result<Option<Raw>>` returned per record cost a store-forwarding
        // stall on every step.
        self.raw = self.find_lent(None)?;
        Ok(self.raw.is_some())
    }

    /// [`next_lent`](Self::next_lent), offering each block it comes to whole to
    /// `offer` first (see [`Offered`]); false past the last entry, or when an offer
    /// stopped the read ([`halted`](Self::halted)).
    pub(crate) fn next_lent_offering(&mut self, offer: &mut BlockOffer<'_>) -> Result<bool> {
        self.raw = self.find_lent(Some(offer))?;
        Ok(self.raw.is_some())
    }

    /// True when a block offer ended the read (`Offered::Stop`).
    pub(crate) fn halted(&self) -> bool {
        self.halted
    }

    /// Ends the walk: no block is left to read, and the buffers of the column
    /// reads go back to the thread's spare (a run's cursors live until the whole
    /// read ends).
    fn end(&mut self) -> Option<Raw> {
        self.blocks = BlockPlan::Span(0..0);
        self.iter = None;
        self.cols = Columns::default();
        self.ahead = ReadAhead::default();
        self.held = None;
        None
    }

    #[inline(always)]
    fn find_lent(&mut self, mut offer: Option<&mut BlockOffer<'_>>) -> Result<Option<Raw>> {
        // Tested before taken: a take copies the whole `Option` out each entry.
        if self.failed.is_some() {
            return Err(self.failed.take().expect("failed"));
        }
        debug_assert!(!self.bounds.reverse);
        loop {
            let it = match &mut self.iter {
                Some(it) => it,
                None => {
                    let Some(n) = self.blocks.get(self.next_block) else {
                        return Ok(self.end());
                    };
                    if let Some(offer) = offer.as_deref_mut() {
                        if self.offer_block(n, offer)? {
                            continue;
                        }
                    }
                    self.next_block += 1;
                    self.last_block = self.blocks.get(self.next_block).is_none();
                    let block = self.table.read_block(n, &mut self.part, &self.opts)?;
                    let mut it = BlockIter::new(block);
                    if !self.started {
                        let b = &*self.bounds;
                        it.seek(&b.start, b.ts_floor(&b.start))?;
                        self.started = true;
                    }
                    self.iter.insert(it)
                }
            };
            let b = &*self.bounds;
            let Some(raw) = it.next_raw()? else {
                self.iter = None;
                continue;
            };
            let (key, ts) = (it.key(), it.ts());
            if self.last_block && b.key_past_end(key) {
                return Ok(self.end());
            }
            let lo = b.ts_floor(key);
            if ts < lo {
                let key = key.to_vec();
                it.seek(&key, lo)?;
                continue;
            }
            if ts > b.ts_hi {
                if matches!(&b.end, KeyEnd::Included(k) if k.as_slice() == key) {
                    return Ok(self.end());
                }
                let mut next = key.to_vec();
                next.push(0);
                it.seek(&next, b.ts_lo)?;
                continue;
            }
            return Ok(Some(raw));
        }
    }

    /// The sequence every entry of the table takes (its smallest).
    pub(crate) fn seq(&self) -> u64 {
        self.table.meta.min_seq
    }

    /// Every entry in bounds from here on, forward, lent to `f` (key, ts, kind,
    /// expiry, value); false when `f` stopped the walk. The loop lives here, beside
    /// the step it repeats, so the step is inlined into it (across modules it was
    /// a call per record: measured 0.44 against 0.76 ms per 10,000 records).
    ///
    /// With `offer`, each block it comes to is offered whole first ([`Offered`]);
    /// false too when an offer stopped the walk.
    pub(crate) fn visit_lent(
        &mut self,
        f: &mut impl FnMut(LentEntry<'_>) -> Result<bool>,
        offer: Option<&mut BlockOffer<'_>>,
    ) -> Result<bool> {
        // With no bound, the walk is never `Reached`.
        Ok(match self.lend(None, f, offer)? {
            Below::Stopped => false,
            Below::Ended | Below::Reached => !self.halted,
        })
    }

    /// [`visit_lent`](Self::visit_lent) of the entries below `(key, ts)` of `below`
    /// (all of them with `None`), a merge's run of one source: at the first entry
    /// not below, the cursor stays on it ([`lent`](Self::lent)) and the walk returns
    /// [`Below::Reached`]. Forward bounds, no block offers.
    pub(crate) fn visit_lent_below(
        &mut self,
        below: Option<(&[u8], i64)>,
        f: &mut impl FnMut(LentEntry<'_>) -> Result<bool>,
    ) -> Result<Below> {
        self.lend(below, f, None)
    }

    /// The loop of both visits: entries lent to `f` while below `below` (all with
    /// `None`), each block offered first with `offer`.
    #[inline(always)]
    fn lend(
        &mut self,
        below: Option<(&[u8], i64)>,
        f: &mut impl FnMut(LentEntry<'_>) -> Result<bool>,
        mut offer: Option<&mut BlockOffer<'_>>,
    ) -> Result<Below> {
        // The block (by its place in the plan) last checked against `below`,
        // whether it ends below it (then none of its entries needs comparing: a
        // merge's run of one table is mostly whole blocks), and else up to where
        // its entries surely lie below (`below_until`: only those past it are
        // compared, one interval's, where a run of index entries ends mid-block).
        let (mut checked, mut clear, mut safe_to) = (usize::MAX, false, 0);
        while let Some(raw) = self.find_lent(offer.as_deref_mut())? {
            if let Some((k, t)) = below {
                if checked != self.next_block {
                    checked = self.next_block;
                    clear = self.block_ends_below(k, t);
                    safe_to = match (&self.iter, clear) {
                        (Some(it), false) => it.below_until(k, t),
                        _ => 0,
                    };
                }
            }
            let Some(it) = &self.iter else {
                break;
            };
            let (key, ts) = (it.key(), it.ts());
            if !clear
                && it.decoded_to() > safe_to
                && below.is_some_and(|(k, t)| !cmp_key_ts(key, ts, k, t).is_lt())
            {
                self.raw = Some(raw);
                return Ok(Below::Reached);
            }
            if !f((key, ts, raw.kind, raw.expire_at, it.value(&raw)))? {
                self.raw = None;
                return Ok(Below::Stopped);
            }
        }
        self.raw = None;
        Ok(Below::Ended)
    }

    /// Whether the block being read (the plan's `next_block - 1`th) ends below
    /// `(key, ts)`: its last entry, as its index entry records it, lies below. False
    /// when that cannot be told (no block, an index partition that fails to load).
    #[inline(never)]
    fn block_ends_below(&mut self, key: &[u8], ts: i64) -> bool {
        let Some(n) = self
            .next_block
            .checked_sub(1)
            .and_then(|i| self.blocks.get(i))
        else {
            return false;
        };
        self.table
            .block_meta(n as usize, &mut self.part, &self.opts)
            .is_ok_and(|m| cmp_key_ts(&m.last_key, m.last_ts, key, ts).is_lt())
    }

    /// The entry `next_lent` moved to: key, ts, kind, expiry and value.
    #[inline]
    pub(crate) fn lent(&self) -> Option<LentEntry<'_>> {
        match (&self.iter, &self.raw) {
            (Some(it), Some(raw)) => {
                Some((it.key(), it.ts(), raw.kind, raw.expire_at, it.value(raw)))
            }
            _ => None,
        }
    }
}

impl TableCursor {
    /// The next entry backwards: the planned blocks from the last, each block's
    /// entries in bounds decoded at once and handed out from the end.
    fn prev_entry(&mut self) -> Result<Option<Entry>> {
        let b = &*self.bounds;
        loop {
            if let Some(mut e) = self.back.as_mut().and_then(Decoded::pop) {
                e.seq = self.table.meta.min_seq;
                return Ok(Some(e));
            }
            let left = self.blocks.len() - self.next_block;
            let Some(n) = left.checked_sub(1).and_then(|i| self.blocks.get(i)) else {
                return Ok(None);
            };
            self.next_block += 1;
            let block = self.table.read_block(n, &mut self.part, &self.opts)?;
            let mut it = BlockIter::new(block);
            it.seek(&b.start, b.ts_lo)?;
            let mut entries = it.collect_while(|key, _| !b.key_past_end(key))?;
            entries.retain(|key, ts| (b.ts_lo..=b.ts_ceiling(key)).contains(&ts));
            self.back = Some(entries);
        }
    }
}

/// A block a `KeyWalk` is in.
struct Entered {
    it: BlockIter,
    /// The interval to decode next.
    r: usize,
    /// Whether that is the key's last in the block.
    last: bool,
    /// Whether earlier blocks may hold more of the key.
    earlier: bool,
    /// Whether every entry of the block is the key's (its first and last are).
    whole: bool,
}

/// Walks one key's entries in a table from the greatest ts down: block by block from
/// the last that can hold the key, and in each block one restart interval at a time
/// from the end, so the first step decodes at most an interval (usually all
/// `get_latest` needs) and `last_n` decodes about `n` entries. The key is borrowed
/// and one buffer takes every interval's entries, so stepping from interval to
/// interval allocates nothing.
pub(crate) struct KeyWalk<'k> {
    table: Arc<Table>,
    key: &'k [u8],
    opts: ReadOptions,
    /// The entries of the interval decoded last (ts and where each lies in `from`),
    /// taken from the end.
    buf: Stack,
    from: Option<Arc<Block>>,
    /// The block being walked.
    block: Option<Entered>,
    /// The block before, entered early (its first interval to decode prefetched)
    /// while the reader wants more than this block's last interval gave.
    ahead: Option<Entered>,
    /// The index partition of the block read last.
    part: PartSlot,
    next_block: Option<usize>,
    /// About how many more versions the reader may take (less those decoded): the
    /// interval before is prefetched while it is above zero.
    want: usize,
    /// The lines of the interval before still to ask for, a few as each version
    /// is handed out.
    pf: std::ops::Range<usize>,
}
