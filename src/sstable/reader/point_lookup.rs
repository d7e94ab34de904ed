//! Point lookups in a table: `get` of one `(key, ts)` (bloom or key map, then one
//! block), and the blocks a backward walk over one key's versions reads.

use std::sync::Arc;

use crate::config::ReadOptions;
use crate::entry::Found;
use crate::error::Result;
use crate::sstable::block::{Block, BlockIter};
use crate::sstable::bloom::Bloom;
use crate::sstable::format::read_block;

use super::{in_block, Filter, PartSlot, Table};

/// A block of one key's backward walk ([`Table::key_block`]).
pub(crate) struct KeyBlock {
    pub block: Arc<Block>,
    /// The block starts with the key: earlier blocks may hold more of it.
    pub starts_with_key: bool,
    /// The block's last entry is the key's: its last restart interval holds the
    /// key's newest versions, no search needed.
    pub ends_with_key: bool,
}

impl Table {
    /// Whether the bloom filter allows `key`. A filter that cannot be read allows
    /// every key (the lookup then reads the index and blocks, which report errors).
    fn may_contain(&self, key: &[u8]) -> bool {
        match &self.bloom {
            Filter::Pinned(b) => b.may_contain(key),
            Filter::Paged(h) => self
                .ctx
                .cache
                .get_or_load_filter(self.meta.id, || {
                    read_block(self.file.as_ref(), &self.name, *h, true)
                        .map(Bloom::new)
                        .map_err(|e| in_block(e, "bloom block"))
                })
                .map_or(true, |b| b.may_contain(key)),
        }
    }

    /// This table's version of `(key, ts)`, with the table's sequence, owned.
    #[cfg(test)]
    pub(crate) fn get(
        &self,
        key: &[u8],
        ts: i64,
        opts: &ReadOptions,
    ) -> Result<Option<crate::entry::Entry>> {
        self.find(key, ts, opts, |f| f.map(<[u8]>::to_vec).into_entry(key, ts))
    }

    /// `f` of this table's version of `(key, ts)` (with the table's sequence), its
    /// value lent from the block: nothing is copied (a document read copied each
    /// document twice and allocated its key and value).
    pub(crate) fn find<R>(
        &self,
        key: &[u8],
        ts: i64,
        opts: &ReadOptions,
        f: impl FnOnce(Found<&[u8]>) -> R,
    ) -> Result<Option<R>> {
        // Outside the table's ts or key range: nothing to read (a time-windowed
        // database has many tables, and most miss a given ts).
        if !self.covers(key, ts) {
            return Ok(None);
        }
        let mut slot = None;
        // A mapped key's blocks after its first start with the key itself.
        let (b, starts_with_key) = match self.mapped(key)? {
            Some((lo, hi)) => {
                let b = self.search_mapped(key, ts, (lo, hi), &mut slot, opts)?;
                if b > hi {
                    // Past the key's last entry here (its next block starts with a
                    // greater key: no need to read its partition to learn so).
                    return Ok(None);
                }
                (b, lo < b)
            }
            None if !self.may_contain(key) => return Ok(None),
            None => (self.search(key, ts, &mut slot, opts)?, false),
        };
        if b >= self.index.len() {
            return Ok(None);
        }
        let m = self.block_meta(b, &mut slot, opts)?;
        // (Comparing the ts alone spares reading the block's first key, a cache miss
        // once the index outgrows the CPU caches.)
        let after = match starts_with_key {
            true => m.first_ts > ts,
            false => m.starts_after(key, ts),
        };
        if after {
            return Ok(None);
        }
        let handle = m.handle;
        // A block with statistics holds one key's points alone: its restart is
        // searched from where `ts` lies in its span (a 2,000-point block has 125).
        let span = m.stats.is_some().then_some((m.first_ts, m.last_ts));
        let mut it = BlockIter::new(self.read_block_at(b as u32, handle, opts)?);
        it.seek_in_span(key, ts, span)?;
        let Some(raw) = it.next_raw()? else {
            return Ok(None);
        };
        if it.key() != key || it.ts() != ts {
            return Ok(None);
        }
        Ok(Some(f(Found {
            seq: self.meta.min_seq,
            kind: raw.kind,
            expire_at: raw.expire_at,
            value: it.value(&raw),
        })))
    }

    /// Block `b` when it may hold `key`, whether it starts with `key` (earlier
    /// blocks may hold more of it) and whether it ends with it: for walking one key
    /// backwards.
    pub(crate) fn key_block(
        &self,
        key: &[u8],
        b: usize,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<Option<KeyBlock>> {
        let m = self.block_meta(b, slot, opts)?;
        if m.first_key.as_slice() > key || m.last_key.as_slice() < key {
            return Ok(None);
        }
        let starts_with_key = m.first_key.as_slice() == key;
        let ends_with_key = m.last_key.as_slice() == key;
        Ok(Some(KeyBlock {
            block: self.read_block_at(b as u32, m.handle, opts)?,
            starts_with_key,
            ends_with_key,
        }))
    }

    /// The last block that can hold `key`, if any: where a reverse walk starts.
    pub(crate) fn last_block_of_key(
        &self,
        key: &[u8],
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<Option<usize>> {
        if let Some((_, hi)) = self.mapped(key)? {
            return Ok(Some(hi));
        }
        if !self.may_contain(key) {
            return Ok(None);
        }
        // The first block ending after every entry of `key`, or the last block.
        let Some(last) = self.index.len().checked_sub(1) else {
            return Ok(None);
        };
        let b = self.search(key, i64::MAX, slot, opts)?.min(last);
        if self.block_meta(b, slot, opts)?.first_key.as_slice() <= key {
            return Ok(Some(b));
        }
        match b.checked_sub(1) {
            Some(p) if self.block_meta(p, slot, opts)?.last_key.as_slice() == key => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    /// True when this table may hold a version of `(key, ts)` (used to decide
    /// whether dropping a newer tombstone or expired record would uncover it).
    pub(crate) fn may_hold(&self, key: &[u8], ts: i64) -> bool {
        self.covers(key, ts) && self.may_contain(key)
    }

    /// Whether `(key, ts)` lies within the table's key and ts ranges (no I/O).
    fn covers(&self, key: &[u8], ts: i64) -> bool {
        self.props.entries > 0
            && self.props.min_ts <= ts
            && ts <= self.props.max_ts
            && self
                .key_range()
                .is_some_and(|(first, last)| first <= key && key <= last)
    }
}
