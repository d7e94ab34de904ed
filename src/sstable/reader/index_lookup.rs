//! Finding a table's blocks: index partitions (pinned, cached or read, held in a
//! caller's slot), the key map of each key's blocks, and searches of both.

use std::sync::atomic::Ordering::Relaxed;

use crate::config::ReadOptions;
use crate::entry::cmp_key_ts;
use crate::error::{Error, Result};
use crate::sstable::format::read_block;
use crate::sstable::index::{ts_partition_point, IndexPart};
use crate::sstable::props::{decode_index, decode_key_map, BlockMeta, FenceKey};

use super::{in_block, Part, PartSlot, Table};

/// Each fence key's first and last block.
pub(super) type KeyMap = std::collections::HashMap<FenceKey, (u32, u32), ahash::RandomState>;

impl Part {
    /// The entries of blocks `lo..hi` (all within this partition).
    pub(in crate::sstable) fn blocks(&self, lo: usize, hi: usize) -> &[BlockMeta] {
        &self.metas[lo - self.base..hi - self.base]
    }

    /// The last timestamps of blocks `lo..hi` (all within this partition).
    fn last_ts(&self, lo: usize, hi: usize) -> &[i64] {
        self.metas.last_ts(lo - self.base, hi - self.base)
    }

    fn holds(&self, b: usize) -> bool {
        b >= self.base && b - self.base < self.metas.len()
    }

    fn meta(&self, b: usize) -> &BlockMeta {
        &self.metas[b - self.base]
    }
}

impl Table {
    /// The first and last block holding `key` when the key map knows it (a known key
    /// is in the table: no bloom check needed).
    pub(in crate::sstable) fn mapped(&self, key: &[u8]) -> Result<Option<(usize, usize)>> {
        let Some(h) = self.props.key_map else {
            return Ok(None);
        };
        if self.key_map.get().is_none() {
            let raw = read_block(self.file.as_ref(), &self.name, h, true)
                .map_err(|e| in_block(e, "key map"))?;
            let spans = decode_key_map(&raw)
                .filter(|s| {
                    s.iter()
                        .all(|(_, _, last)| (*last as usize) < self.index.len())
                })
                .ok_or_else(|| Error::corruption(&self.name, h.offset, "malformed key map"))?;
            let bytes = spans.len() * (std::mem::size_of::<(FenceKey, (u32, u32))>() + 8);
            let map = self.ctx.budget.try_charge(bytes).then(|| {
                self.pinned_bytes.fetch_add(bytes, Relaxed);
                spans
                    .into_iter()
                    .map(|(k, a, b)| (k, (a, b)))
                    .collect::<KeyMap>()
            });
            if let Err(Some(_)) = self.key_map.set(map) {
                // Another reader set it first.
                self.ctx.budget.release(bytes);
                self.pinned_bytes.fetch_sub(bytes, Relaxed);
            }
        }
        Ok(self
            .key_map
            .get()
            .and_then(Option::as_ref)
            .and_then(|m| m.get(key))
            .map(|&(a, b)| (a as usize, b as usize)))
    }

    /// Index partition `p`: pinned (format 1), or through the block cache.
    pub(in crate::sstable) fn partition(&self, p: usize, opts: &ReadOptions) -> Result<Part> {
        if let Some(whole) = self.index.whole_index() {
            return Ok(Part {
                metas: whole.clone(),
                base: 0,
            });
        }
        if let Some(metas) = self.pinned.get(p).and_then(|c| c.get()) {
            return Ok(Part {
                metas: metas.clone(),
                base: self.index.start(p),
            });
        }
        let top = self.index.top().get(p).ok_or_else(|| {
            Error::Internal(format!("index partition {p} out of range in {}", self.name))
        })?;
        // A partition the table will keep skips the cache (it would be held twice).
        let estimate = IndexPart::estimate(top.entries as usize);
        let pin = self.ctx.budget.has_room(estimate);
        let mut loaded = false;
        let metas = self.ctx.cache.get_or_load_index(
            self.meta.id,
            p as u32,
            opts.fill_cache && !pin,
            || {
                loaded = true;
                let raw = read_block(self.file.as_ref(), &self.name, top.handle, true)
                    .map_err(|e| in_block(e, "index partition"))?;
                decode_index(&raw)
                    .filter(|metas| metas.len() == top.entries as usize)
                    .ok_or_else(|| {
                        Error::corruption(
                            &self.name,
                            top.handle.offset,
                            "malformed index partition",
                        )
                    })
            },
        )?;
        // Kept by the table from now on when the budget has room: later lookups then
        // skip the cache. Beyond the budget, partitions live in the cache only.
        let bytes = metas.memory();
        if self.ctx.budget.try_charge(bytes) {
            if self.pinned[p].set(metas.clone()).is_ok() {
                self.pinned_bytes.fetch_add(bytes, Relaxed);
            } else {
                self.ctx.budget.release(bytes);
            }
        } else if loaded && pin && opts.fill_cache {
            // The estimate fit, the partition did not (statistics and long keys are
            // beyond the estimate): cached after all, or it would be read from disk
            // at every lookup, neither pinned nor cached. (Only when read from disk:
            // a cached one is there already.)
            self.ctx.cache.insert_index(self.meta.id, p as u32, &metas);
        }
        Ok(Part {
            metas,
            base: self.index.start(p),
        })
    }

    /// Block `b`'s index entry, through `slot` (loading its partition when the slot
    /// holds another).
    pub(crate) fn block_meta<'s>(
        &self,
        b: usize,
        slot: &'s mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<&'s BlockMeta> {
        if b >= self.index.len() {
            return Err(Error::Internal(format!(
                "block {b} out of range in {}",
                self.name
            )));
        }
        Ok(self
            .part_holding(b, self.index.partition_of(b), slot, opts)?
            .meta(b))
    }

    /// Partition `p` (the one holding block `b`), from `slot` when it is there,
    /// otherwise loaded into it.
    fn part_holding<'s>(
        &self,
        b: usize,
        p: usize,
        slot: &'s mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<&'s Part> {
        if !slot.as_ref().is_some_and(|s| s.holds(b)) {
            *slot = None;
        }
        match slot {
            Some(part) => Ok(part),
            None => Ok(slot.insert(self.partition(p, opts)?)),
        }
    }

    /// Whether blocks `a` and `b` are in one index partition (finding one's index
    /// entry after the other's loads no partition).
    pub(crate) fn same_partition(&self, a: u32, b: u32) -> bool {
        let part = |b: u32| self.index.partition_of(b as usize);
        (a.max(b) as usize) < self.index.len() && part(a) == part(b)
    }

    /// The first block whose last entry is `>= (key, ts)` (`block_count()` when none
    /// is): the top level, then one partition, left in `slot`.
    pub(in crate::sstable) fn search(
        &self,
        key: &[u8],
        ts: i64,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<usize> {
        let p = self.index.partition_at_or_after(key, ts);
        if p == self.index.top().len() {
            return Ok(self.index.len());
        }
        let (lo, hi) = (self.index.start(p), self.index.start(p + 1));
        let part = self.part_holding(lo, p, slot, opts)?;
        // (The part holding block `lo` is partition `p`, so its base is `lo`.)
        Ok((part.base + part.metas.search(key, ts)).clamp(lo, hi))
    }

    /// `search` for a key the key map places in blocks `lo..=hi`: every block of the
    /// key but its last ends with the key itself (it goes on into the next), so only
    /// their last ts need comparing; the last is compared in full. The top level
    /// picks the one partition to search (a partition before `hi`'s ends with such a
    /// block), and its column of last timestamps is searched, not its entries.
    pub(in crate::sstable) fn search_mapped(
        &self,
        key: &[u8],
        ts: i64,
        (lo, hi): (usize, usize),
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<usize> {
        let (pa, pb) = (self.index.partition_of(lo), self.index.partition_of(hi));
        let p = pa + ts_partition_point(self.index.top_last_ts(pa, pb), ts);
        let first = lo.max(self.index.start(p));
        // Blocks `first..by_ts` are compared by ts alone: up to `hi` (excluded) in
        // `hi`'s partition, the whole rest of the partition in an earlier one.
        let by_ts = hi.min(self.index.start(p + 1));
        let part = self.part_holding(first, p, slot, opts)?;
        let a = first + ts_partition_point(part.last_ts(first, by_ts), ts);
        // (`hi` is in the part unless a damaged top level chose a partition too early.)
        if a == hi && part.holds(hi) {
            let m = part.meta(hi);
            if cmp_key_ts(&m.last_key, m.last_ts, key, ts).is_lt() {
                return Ok(hi + 1);
            }
        }
        Ok(a)
    }
}
