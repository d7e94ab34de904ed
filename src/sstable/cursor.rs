//! Cursors over one table: within [`Bounds`], forward (queries, scans, compaction)
//! or backward (`Bounds::reverse`); and backward over one key's versions (for
//! `get_latest` and `last_n`).

use std::sync::Arc;

use crate::config::ReadOptions;
use crate::entry::{Entry, Kind};
use crate::error::Result;
use crate::range::{Bounds, KeyEnd};

use super::block::{Block, BlockIter, Decoded, Lent, Raw};
use super::columns::{warm, Columns};
use super::props::BlockMeta;
use super::readahead::ReadAhead;
use super::reader::{BlockPlan, Fetched, PartSlot, Table};

/// An entry lent from its block: key, ts, kind, expiry and value.
pub(crate) type LentEntry<'a> = (&'a [u8], i64, Kind, i64, &'a [u8]);

/// What a reader did with a block offered to it: a block holding only numeric
/// points of one key, some within the cursor's bounds, before the cursor reads it
/// ([`TableCursor::next_lent_offering`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offered {
    /// Not taken as offered; its points may be.
    Declined,
    /// Not taken, nor would its points be (another source's entry among them, a
    /// point expired): the cursor reads its entries, without loading it as columns.
    Refused,
    /// Taken whole: the cursor skips the block.
    Taken,
    /// Taken, and the read ends there.
    Stop,
}

/// How a block is offered ([`BlockOffer`]).
pub(crate) enum Ask<'a> {
    /// Whether its points would be taken, before they are loaded: never taken, the
    /// answer is `Declined` (yes) or `Refused`.
    Check,
    /// As its index entry alone (all its points are within bounds).
    Whole,
    /// As its points within bounds, in columns: timestamps and values.
    Points(&'a [i64], &'a [f64]),
}

/// Offered each such block, by its key and index entry (with its statistics): first
/// `Whole` when all its points are within bounds, else `Check`; then, unless taken or
/// refused, as `Points`.
pub(crate) type BlockOffer<'a> = dyn FnMut(&[u8], &BlockMeta, Ask<'_>) -> Offered + 'a;

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

    /// Offers block `n` to `offer` when it holds only numeric points of one key and
    /// some of them within bounds: its index entry when all are, then its points in
    /// bounds as columns; true when taken (the cursor then skips it).
    fn offer_block(&mut self, n: u32, offer: &mut BlockOffer<'_>) -> Result<bool> {
        let m = self
            .table
            .block_meta(n as usize, &mut self.part, &self.opts)?;
        let b = &*self.bounds;
        let key = &m.first_key[..];
        if m.stats.is_none() || b.key_before_start(key) || b.key_past_end(key) {
            return Ok(false);
        }
        let (lo, hi) = (b.ts_floor(key), b.ts_hi);
        // Wholly outside the time bounds: reading entries seeks past it.
        if m.last_ts < lo || m.first_ts > hi {
            return Ok(false);
        }
        let whole = m.first_ts >= lo && m.last_ts <= hi;
        let mut offered = offer(key, m, if whole { Ask::Whole } else { Ask::Check });
        if offered == Offered::Declined {
            let block = match self.held.take() {
                Some((i, b)) if i == n => {
                    self.ahead.streaming(n);
                    self.table.counted_read();
                    Fetched::Block(b)
                }
                _ => {
                    let (part, opts) = (&mut self.part, &self.opts);
                    let fetched =
                        self.table
                            .read_block_or_packed(n, part, opts, &mut self.ahead)?;
                    if let Fetched::Block(b) = &fetched {
                        warm(b);
                    }
                    fetched
                }
            };
            self.hold_next(n, hi, whole);
            let m = self
                .table
                .block_meta(n as usize, &mut self.part, &self.opts)?;
            let key = &m.first_key[..];
            let shaped = match block {
                Fetched::Block(b) => self.cols.load(&b, key, (lo, hi), (m.first_ts, m.last_ts))?,
                Fetched::Packed(p, at) => {
                    let origin = (&self.table.name()[..], at);
                    self.cols.load_packed(&p, origin, key, lo, hi)?
                }
            };
            if !shaped {
                return Ok(false);
            }
            let (ts, vals) = self.cols.points();
            offered = offer(&m.first_key, m, Ask::Points(ts, vals));
        }
        let taken = matches!(offered, Offered::Taken | Offered::Stop);
        if taken {
            self.next_block += 1;
            self.started = true;
        }
        if offered == Offered::Stop {
            self.halted = true;
            self.blocks = BlockPlan::Span(0..0);
        }
        Ok(taken)
    }

    /// Finds the block after `n`, the one being read as columns, in the cache and
    /// asks for its first bytes, when it may be read as columns too (one series'
    /// points from before `hi`, in `n`'s index partition): the misses of finding it
    /// and of its first bytes then overlap this block's reading (a day's
    /// aggregation reads a thousand series' blocks, most of them outside the CPU's
    /// caches). A hint: a failure leaves the block to be read in its turn. A next
    /// block wholly in bounds is held only when this one, wholly in bounds too, was
    /// refused whole (`whole`): otherwise it may well be taken from its statistics
    /// (a day's buckets over blocks of a few hours), and holding it was a lookup
    /// and a prefetch for nothing (7–11% of such a query).
    fn hold_next(&mut self, n: u32, hi: i64, whole: bool) {
        let Some(next) = self.blocks.get(self.next_block + 1) else {
            return;
        };
        if !self.table.same_partition(next, n) {
            return;
        }
        let Ok(m) = self
            .table
            .block_meta(next as usize, &mut self.part, &self.opts)
        else {
            return;
        };
        if m.stats.is_none() || m.first_ts > hi || self.bounds.key_past_end(&m.first_key) {
            return;
        }
        let next_whole = m.first_ts >= self.bounds.ts_floor(&m.first_key) && m.last_ts <= hi;
        if next_whole && !whole {
            return;
        }
        let Some(b) = self.table.cached_ahead(next) else {
            return;
        };
        warm(&b);
        self.held = Some((next, b));
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
        if let Some(e) = self.failed.take() {
            return Err(e);
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
            if b.key_past_end(key) {
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
        f: &mut dyn FnMut(LentEntry<'_>) -> Result<bool>,
        mut offer: Option<&mut BlockOffer<'_>>,
    ) -> Result<bool> {
        while let Some(raw) = self.find_lent(offer.as_deref_mut())? {
            let Some(it) = &self.iter else {
                break;
            };
            if !f((it.key(), it.ts(), raw.kind, raw.expire_at, it.value(&raw)))? {
                return Ok(false);
            }
        }
        self.raw = None;
        Ok(!self.halted)
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

/// Where [`KeyWalk::drain_desc`] hands versions: `(ts, kind, expire_at, value)`,
/// returning true to stop.
pub(crate) type VersionSink<'f> = dyn FnMut(i64, Kind, i64, &[u8]) -> bool + 'f;

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
    buf: Vec<(i64, Raw)>,
    from: Option<Arc<Block>>,
    /// The block being walked, the interval to decode next in it (and whether it is
    /// the key's last in the block), and whether earlier blocks may hold more of the
    /// key.
    block: Option<(BlockIter, usize, bool, bool)>,
    /// The index partition of the block read last.
    part: PartSlot,
    next_block: Option<usize>,
}

impl<'k> KeyWalk<'k> {
    /// The sequence of every version the walk returns.
    pub(crate) fn seq(&self) -> u64 {
        self.table.meta.min_seq
    }

    /// A walk from `last`, the table's last block that can hold `key`
    /// (`Table::last_block_of_key`).
    /// `part` is the slot `last_block_of_key` used (it holds `last`'s partition).
    pub(crate) fn new(
        table: Arc<Table>,
        key: &'k [u8],
        last: usize,
        part: PartSlot,
        opts: ReadOptions,
    ) -> Self {
        KeyWalk {
            table,
            key,
            opts,
            buf: Vec::with_capacity(16), // an interval's entries (the usual restart interval)
            from: None,
            block: None,
            part,
            next_block: Some(last),
        }
    }

    /// The next version back: its ts, kind and expiry, and its value lent from the
    /// block (its sequence is the table's: `seq`). The common step, an entry of the
    /// interval decoded already, is inlined into the caller: returned from a call,
    /// the version came back through memory written in 8-byte stores and copied in
    /// 16-byte loads, a store-forwarding stall per version (docs/design.md, "Reads").
    #[inline]
    pub(crate) fn next_desc(&mut self) -> Result<Option<(i64, Kind, i64, Lent)>> {
        if let (Some((ts, raw)), Some(from)) = (self.buf.pop(), &self.from) {
            return Ok(Some((ts, raw.kind, raw.expire_at, Lent::of(from, &raw))));
        }
        self.next_desc_decoding()
    }

    /// `next_desc` once the decoded interval is used up: decodes the next one back.
    #[inline(never)]
    fn next_desc_decoding(&mut self) -> Result<Option<(i64, Kind, i64, Lent)>> {
        loop {
            if let (Some((ts, raw)), Some(from)) = (self.buf.pop(), &self.from) {
                return Ok(Some((ts, raw.kind, raw.expire_at, Lent::of(from, &raw))));
            }
            if !self.decode_back()? {
                return Ok(None);
            }
        }
    }

    /// Hands `f` each version back from here as `(ts, kind, expire_at, value)`, the
    /// value where it lies in its block, while its ts is above `above`, until `f`
    /// returns true (then true: the walk goes on after that version). False once a
    /// version at or below `above` is next (left for `next_desc`) or the walk ends.
    /// No version is copied out: a walk left alone drains this way.
    pub(crate) fn drain_desc(&mut self, above: i64, f: &mut VersionSink<'_>) -> Result<bool> {
        loop {
            if let Some(from) = &self.from {
                while let Some(&(ts, raw)) = self.buf.last() {
                    if ts <= above {
                        return Ok(false);
                    }
                    self.buf.pop();
                    if f(ts, raw.kind, raw.expire_at, raw.value(from)) {
                        return Ok(true);
                    }
                }
            }
            if !self.decode_back()? {
                return Ok(false);
            }
        }
    }

    /// Decodes the key's next interval back into `buf` (the next in this block, or
    /// the last of the block before); false when the walk has no more.
    fn decode_back(&mut self) -> Result<bool> {
        if let Some((it, r, last, earlier)) = &mut self.block {
            // `buf` and `from` change together: a failed decode leaves no
            // entries to lend from the wrong block.
            self.from = Some(it.block().clone());
            let more = match it.key_in_interval(self.key, *r, *last, &mut self.buf) {
                Ok(more) => more,
                Err(e) => {
                    self.buf.clear();
                    return Err(e);
                }
            };
            *last = false;
            match more {
                true => *r -= 1,
                false => {
                    if *earlier {
                        self.next_block = self.next_block.map(|b| b - 1);
                    } else {
                        self.next_block = None;
                    }
                    self.block = None;
                }
            }
            return Ok(true);
        }
        let Some(b) = self.next_block else {
            return Ok(false);
        };
        match self
            .table
            .key_block(self.key, b, &mut self.part, &self.opts)?
        {
            Some((block, earlier)) => {
                let it = BlockIter::new(block);
                let r = it.last_interval_of(self.key)?;
                self.block = Some((it, r, true, earlier));
                Ok(true)
            }
            None => {
                self.next_block = None; // the walk is over: not looked up again
                Ok(false)
            }
        }
    }
}
