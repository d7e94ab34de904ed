//! Cursors over one table: within [`Bounds`], forward (queries, scans, compaction)
//! or backward (`Bounds::reverse`); and backward over one key's versions (for
//! `get_latest` and `last_n`).

use std::sync::Arc;

use crate::config::ReadOptions;
use crate::entry::Entry;
use crate::error::Result;
use crate::range::{Bounds, KeyEnd};

use super::block::BlockIter;
use super::reader::{BlockPlan, PartSlot, Table};

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
    /// from the end).
    back: Vec<Entry>,
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
            back: Vec::new(),
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
        let b = &*self.bounds;
        loop {
            let it = match &mut self.iter {
                Some(it) => it,
                None => {
                    let Some(n) = self.blocks.get(self.next_block) else {
                        return Ok(None);
                    };
                    self.next_block += 1;
                    let block = self.table.read_block(n, &mut self.part, &self.opts)?;
                    let mut it = BlockIter::new(block);
                    if !self.started {
                        it.seek(&b.start, b.ts_floor(&b.start))?;
                        self.started = true;
                    }
                    self.iter.insert(it)
                }
            };
            let Some(mut e) = it.next_entry()? else {
                self.iter = None;
                continue;
            };
            if b.key_past_end(&e.key) {
                self.blocks = BlockPlan::Span(0..0);
                self.iter = None;
                return Ok(None);
            }
            let lo = b.ts_floor(&e.key);
            if e.ts < lo {
                it.seek(&e.key, lo)?;
                continue;
            }
            if e.ts > b.ts_hi {
                if matches!(&b.end, KeyEnd::Included(k) if *k == e.key) {
                    self.blocks = BlockPlan::Span(0..0);
                    self.iter = None;
                    return Ok(None);
                }
                let mut next = e.key;
                next.push(0);
                it.seek(&next, b.ts_lo)?;
                continue;
            }
            e.seq = self.table.meta.min_seq;
            return Ok(Some(e));
        }
    }
}

impl TableCursor {
    /// The next entry backwards: the planned blocks from the last, each block's
    /// entries in bounds decoded at once and handed out from the end.
    fn prev_entry(&mut self) -> Result<Option<Entry>> {
        let b = &*self.bounds;
        loop {
            if let Some(e) = self.back.pop() {
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
            while let Some(mut e) = it.next_entry()? {
                if b.key_past_end(&e.key) {
                    break;
                }
                if (b.ts_lo..=b.ts_ceiling(&e.key)).contains(&e.ts) {
                    e.seq = self.table.meta.min_seq;
                    self.back.push(e);
                }
            }
        }
    }
}

/// Walks one key's entries in a table from the greatest ts down. The first step reads
/// only the key's last entry (usually all `get_latest` needs); later steps decode the
/// key's entries block by block.
pub(crate) struct KeyWalk {
    table: Arc<Table>,
    key: Vec<u8>,
    opts: ReadOptions,
    buf: Vec<Entry>,
    /// The index partition of the block read last.
    part: PartSlot,
    next_block: Option<usize>,
    /// The ts of the entry returned by the fast first step, if it was taken.
    first_ts: Option<i64>,
}

impl KeyWalk {
    /// A walk from `last`, the table's last block that can hold `key`
    /// (`Table::last_block_of_key`).
    /// `part` is the slot `last_block_of_key` used (it holds `last`'s partition).
    pub(crate) fn new(
        table: Arc<Table>,
        key: &[u8],
        last: usize,
        part: PartSlot,
        opts: ReadOptions,
    ) -> Self {
        KeyWalk {
            table,
            key: key.to_vec(),
            opts,
            buf: Vec::new(),
            part,
            next_block: Some(last),
            first_ts: None,
        }
    }

    pub(crate) fn next_desc(&mut self) -> Result<Option<Entry>> {
        if self.first_ts.is_none() && self.buf.is_empty() {
            if let Some(b) = self.next_block {
                if let Some(e) =
                    self.table
                        .last_of_key_in_block(&self.key, b, &mut self.part, &self.opts)?
                {
                    self.first_ts = Some(e.ts);
                    return Ok(Some(e));
                }
            }
        }
        loop {
            if let Some(e) = self.buf.pop() {
                return Ok(Some(e));
            }
            let Some(b) = self.next_block.take() else {
                return Ok(None);
            };
            let (mut entries, more) =
                self.table
                    .key_entries_in_block(&self.key, b, &mut self.part, &self.opts)?;
            if let Some(ts) = self.first_ts.take() {
                // Already returned by the fast step.
                entries.retain(|e| e.ts < ts);
            }
            self.buf = entries;
            if more {
                self.next_block = Some(b - 1);
            }
        }
    }
}
