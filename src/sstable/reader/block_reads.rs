//! Reading a table's data blocks: through the block cache, or read ahead for a
//! walk that streams (a packed block then left packed once the cache is full).

use std::sync::Arc;

use crate::config::ReadOptions;
use crate::error::Result;
use crate::sstable::block::Block;
use crate::sstable::format::{
    block_end, check_framed, payload_of, read_block, BlockHandle, Payload,
};
use crate::sstable::readahead::ReadAhead;

use super::{Fetched, PartSlot, Table};

/// The room a streaming walk wants in the cache before it caches a block it
/// unpacked (an unpacked block of points takes up to `block_size`, 8 KiB by
/// default, and a little more).
const ROOM_FOR_BLOCK: u64 = 64 << 10;

impl Table {
    /// Data block `i` when the cache holds it, asked for ahead of its read: counted
    /// as a hit once read ([`counted_read`](Self::counted_read)).
    pub(crate) fn cached_ahead(&self, i: u32) -> Option<Arc<Block>> {
        self.ctx.cache.get_ahead(self.meta.id, i)
    }

    /// Notes that a block found by [`cached_ahead`](Self::cached_ahead) was read.
    pub(crate) fn counted_read(&self) {
        self.ctx.cache.count_hit();
    }

    /// Data block `i`, its index entry found through `slot`.
    pub(crate) fn read_block(
        &self,
        i: u32,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<Arc<Block>> {
        let handle = self.block_meta(i as usize, slot, opts)?.handle;
        self.read_block_at(i, handle, opts)
    }

    /// Block `i` for a walk that may stream (`ahead`, readahead.rs): as the cache
    /// holds it; when it is not cached and the walk streams, as read ahead from the
    /// file, and then a packed block, while the cache has room, unpacked and cached,
    /// and once it is full, as its payload, neither unpacked nor cached (aggregation
    /// decodes its runs into columns); otherwise as `read_block` reads it (and
    /// caches it).
    pub(crate) fn read_block_or_packed(
        &self,
        i: u32,
        slot: &mut PartSlot,
        opts: &ReadOptions,
        ahead: &mut ReadAhead,
    ) -> Result<Fetched> {
        if !ahead.streaming(i) {
            return Ok(Fetched::Block(self.read_block(i, slot, opts)?));
        }
        if let Some(b) = self.ctx.cache.get(self.meta.id, i) {
            return Ok(Fetched::Block(b));
        }
        let h = self.block_meta(i as usize, slot, opts)?.handle;
        let extent = |limit| self.extent(i as usize, h, limit, slot, opts);
        let framed = ahead.framed(self.file.as_ref(), &self.name, h, extent)?;
        if opts.verify_checksums {
            check_framed(framed, &self.name, h.offset)?;
        }
        // A cache with room takes the block, so the next walk finds it.
        let cache = &self.ctx.cache;
        let keep = opts.fill_cache && cache.has_room(ROOM_FOR_BLOCK);
        let raw = match payload_of(framed, &self.name, h.offset)? {
            Payload::Packed(p) if !keep => return Ok(Fetched::Packed(p, h.offset)),
            other => other.unpacked(&self.name, h.offset)?,
        };
        let b = Arc::new(Block::parse(raw, self.name.clone(), h.offset)?);
        if keep {
            cache.insert(self.meta.id, i, &b);
        }
        Ok(Fetched::Block(b))
    }

    /// The end of the last block from `i` (at `h`) on, in `i`'s index partition,
    /// that ends within `limit` bytes of `h.offset`.
    fn extent(
        &self,
        i: usize,
        h: BlockHandle,
        limit: u64,
        slot: &mut PartSlot,
        opts: &ReadOptions,
    ) -> Result<u64> {
        let last = self.index.start(self.index.partition_of(i) + 1);
        let mut end = block_end(&h);
        for j in i + 1..last {
            let e = block_end(&self.block_meta(j, slot, opts)?.handle);
            // Blocks out of order (a damaged index) end the stretch too.
            if e < end || e - h.offset > limit {
                break;
            }
            end = e;
        }
        Ok(end)
    }

    pub(super) fn read_block_at(
        &self,
        i: u32,
        handle: BlockHandle,
        opts: &ReadOptions,
    ) -> Result<Arc<Block>> {
        self.ctx
            .cache
            .get_or_load(self.meta.id, i, opts.fill_cache, || {
                let raw = read_block(
                    self.file.as_ref(),
                    &self.name,
                    handle,
                    opts.verify_checksums,
                )?;
                Block::parse(raw, self.name.clone(), handle.offset)
            })
    }
}
