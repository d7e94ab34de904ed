//! Which blocks of a table a scan must read: the key span from the top-level index,
//! the key map or one partition at each end, pruned by time through each partition's
//! ts range and then each block's.

use std::ops::Range;

use crate::config::ReadOptions;
use crate::error::Result;
use crate::range::{Bounds, KeyEnd};
use crate::util::key_order;

use super::reader::{BlockPlan, Table};

impl Table {
    /// Blocks whose key range may meet the key bounds.
    fn key_span(&self, b: &Bounds, opts: &ReadOptions) -> Result<Range<usize>> {
        // A mapped start key's first block is where the span starts; a mapped end
        // key's last block is where it ends (the next block starts above the key).
        let lo = match self.mapped(&b.start)? {
            Some((first, _)) => first,
            None => self.search(&b.start, i64::MIN, &mut None, opts)?,
        };
        let hi = match &b.end {
            KeyEnd::Unbounded => self.index.len(),
            KeyEnd::Included(e) => match self.mapped(e)? {
                Some((_, last)) => last + 1,
                None => self.blocks_starting_by(e, true, opts)?,
            },
            KeyEnd::Excluded(e) => self.blocks_starting_by(e, false, opts)?,
        };
        Ok(lo..hi.max(lo))
    }

    /// The number of blocks whose first key is `<= end` (`< end` when not
    /// `inclusive`): whole partitions from the top level, then one partition.
    fn blocks_starting_by(&self, end: &[u8], inclusive: bool, opts: &ReadOptions) -> Result<usize> {
        let p = self.index.partitions_starting_by(end, inclusive);
        if p == 0 {
            return Ok(0);
        }
        // Every block before partition p - 1 starts before end; count its blocks that do.
        let last = p - 1;
        let part = self.partition(last, opts)?;
        let (lo, hi) = (self.index.start(last), self.index.start(last + 1));
        let n = part.blocks(lo, hi).partition_point(|m| {
            let c = key_order::compare(&m.first_key, end);
            if inclusive {
                c.is_le()
            } else {
                c.is_lt()
            }
        });
        Ok(lo + n)
    }

    /// Whether the table's key range meets the bounds' (no I/O: a run's table, or a
    /// table of another window, often holds none of a one-series read's key).
    fn meets_keys(&self, b: &Bounds) -> bool {
        self.key_range()
            .is_some_and(|(first, last)| !b.key_before_start(last) && !b.key_past_end(first))
    }

    /// For bounds over one key that the key map knows: the blocks that may hold its
    /// records from `ts_lo` to `ts_hi`, by two searches of the key's blocks by ts (as
    /// `get` searches them), not a check of each block of the key. `None` for other
    /// bounds.
    fn one_series_span(&self, b: &Bounds, opts: &ReadOptions) -> Result<Option<Range<usize>>> {
        let key = b.start.as_slice();
        if !matches!(&b.end, KeyEnd::Included(e) if e.as_slice() == key) {
            return Ok(None);
        }
        let Some((lo, hi)) = self.mapped(key)? else {
            return Ok(None);
        };
        let mut slot = None;
        // The first block ending at or after (key, ts_lo), and the first from there
        // ending at or after (key, ts_hi): the last needed, unless it starts after it.
        let first = self.search_mapped(key, b.ts_lo, (lo, hi), &mut slot, opts)?;
        if first > hi {
            return Ok(Some(0..0));
        }
        let last = self
            .search_mapped(key, b.ts_hi, (first, hi), &mut slot, opts)?
            .min(hi);
        let m = self.block_meta(last, &mut slot, opts)?;
        let end = match m.starts_after(key, b.ts_hi) {
            true => last,
            false => last + 1,
        };
        Ok(Some(first..end.max(first)))
    }

    /// The blocks a scan over `b` must read, ascending: the key span, pruned by time
    /// through each partition's ts range and then each block's (for one mapped key,
    /// `one_series_span`). When every ts of the table is inside the window, the span
    /// is kept whole.
    pub(crate) fn plan(&self, b: &Bounds, opts: &ReadOptions) -> Result<BlockPlan> {
        if b.is_empty()
            || b.ts_lo > self.props.max_ts
            || b.ts_hi < self.props.min_ts
            || !self.meets_keys(b)
        {
            return Ok(BlockPlan::Span(0..0));
        }
        let whole_table_in_window = b.ts_lo <= self.props.min_ts && self.props.max_ts <= b.ts_hi;
        if b.time_restricted() && !whole_table_in_window {
            if let Some(r) = self.one_series_span(b, opts)? {
                return Ok(BlockPlan::Span(r.start as u32..r.end as u32));
            }
        }
        let span = self.key_span(b, opts)?;
        if !b.time_restricted() || whole_table_in_window || span.is_empty() {
            return Ok(BlockPlan::Span(span.start as u32..span.end as u32));
        }
        let mut list = Vec::new();
        let (p0, p1) = (
            self.index.partition_of(span.start),
            self.index.partition_of(span.end - 1),
        );
        for p in p0..=p1 {
            if !self.index.top()[p].overlaps_time(b.ts_lo, b.ts_hi) {
                continue;
            }
            let part = self.partition(p, opts)?;
            let (lo, hi) = (
                span.start.max(self.index.start(p)),
                span.end.min(self.index.start(p + 1)),
            );
            for (i, m) in part.blocks(lo, hi).iter().enumerate() {
                if m.overlaps_time(b.ts_lo, b.ts_hi) {
                    list.push((lo + i) as u32);
                }
            }
        }
        Ok(BlockPlan::List(list))
    }
}
