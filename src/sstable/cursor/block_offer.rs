//! Block offers: a forward cursor offers each block of one series' points to its
//! reader first (aggregation takes it whole, or its points as columns).

use crate::error::Result;
use crate::sstable::columns::warm;
use crate::sstable::props::BlockMeta;
use crate::sstable::reader::{BlockPlan, Fetched};

use super::TableCursor;

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

impl TableCursor {
    /// Offers block `n` to `offer` when it holds only numeric points of one key and
    /// some of them within bounds: its index entry when all are, then its points in
    /// bounds as columns; true when taken (the cursor then skips it).
    pub(super) fn offer_block(&mut self, n: u32, offer: &mut BlockOffer<'_>) -> Result<bool> {
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
}
