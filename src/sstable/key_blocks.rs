//! Which blocks hold each key, for tables whose keys span many blocks (time series).
//!
//! Built at open from the block index, with no change to the file: every key that is
//! some block's first or last key maps to the first and last block holding it. A
//! point read then searches only that key's blocks, and a latest read goes straight
//! to its last block, instead of a binary search over the whole index (whose lower
//! levels are cache misses). A key that starts and ends inside one block is not in
//! the map; lookups for it fall back to the search. Tables with about as many
//! distinct keys as blocks (documents) get no map: it would cost as much memory as the
//! index and save little.

use std::collections::HashMap;

use super::props::{BlockMeta, FenceKey};

/// Build a map only when there are at most this many blocks per distinct fence key.
const MIN_BLOCKS_PER_KEY: usize = 4;

pub(crate) struct KeyBlocks {
    map: HashMap<FenceKey, (u32, u32), ahash::RandomState>,
    /// Each block's last ts, contiguous: within a key's blocks the search compares
    /// only these (see `first_at_or_after`).
    last_ts: Vec<i64>,
}

impl KeyBlocks {
    /// `None` when the table is not series-shaped.
    pub(crate) fn build(blocks: &[BlockMeta]) -> Option<KeyBlocks> {
        let most = blocks.len() / MIN_BLOCKS_PER_KEY;
        let mut map: HashMap<FenceKey, (u32, u32), ahash::RandomState> = HashMap::default();
        // Fence keys come in order, so a key's blocks are one run: it is hashed once,
        // when its run ends.
        let mut run: Option<(&FenceKey, u32, u32)> = None;
        for (i, m) in blocks.iter().enumerate() {
            let i = u32::try_from(i).ok()?;
            for k in [&m.first_key, &m.last_key] {
                match &mut run {
                    Some((key, _, last)) if *key == k => *last = i,
                    _ => {
                        if let Some((key, first, last)) = run.replace((k, i, i)) {
                            map.insert(key.clone(), (first, last));
                            if map.len() > most {
                                return None;
                            }
                        }
                    }
                }
            }
        }
        if let Some((key, first, last)) = run {
            map.insert(key.clone(), (first, last));
        }
        let last_ts = blocks.iter().map(|m| m.last_ts).collect();
        (map.len() <= most).then_some(KeyBlocks { map, last_ts })
    }

    /// The first and last block holding `key`, when the map knows it.
    pub(crate) fn get(&self, key: &[u8]) -> Option<(usize, usize)> {
        self.map
            .get(key)
            .map(|&(lo, hi)| (lo as usize, hi as usize))
    }

    /// The first block whose last entry is `>= (key, ts)`, when the map knows `key`.
    /// Blocks before the key's first one end below it and blocks after its last one
    /// start above it; every block of the key but the last ends with the key itself
    /// (it goes on into the next), so only their last ts need comparing. The key's
    /// last block is compared in full by `ends_below`.
    pub(crate) fn first_at_or_after(
        &self,
        key: &[u8],
        ts: i64,
        ends_below: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let (lo, hi) = self.get(key)?;
        let pp = self.last_ts[lo..hi].partition_point(|t| *t < ts);
        Some(if lo + pp < hi {
            lo + pp
        } else {
            hi + ends_below(hi) as usize
        })
    }

    pub(crate) fn memory(&self) -> usize {
        self.map.capacity() * (std::mem::size_of::<(FenceKey, (u32, u32))>() + 1)
            + self.last_ts.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sstable::format::BlockHandle;

    fn block(first: &str, last: &str) -> BlockMeta {
        BlockMeta {
            first_key: FenceKey::from_slice(first.as_bytes()),
            first_ts: 0,
            last_key: FenceKey::from_slice(last.as_bytes()),
            last_ts: 0,
            handle: BlockHandle::default(),
            min_ts: 0,
            max_ts: 0,
            entries: 1,
        }
    }

    #[test]
    fn maps_each_fence_key_to_its_blocks() {
        // a: blocks 0-2; b: 2-3 (inside 3); c and d only inside block 4's range.
        let mut blocks = vec![
            block("a", "a"),
            block("a", "a"),
            block("a", "b"),
            block("b", "b"),
            block("c", "e"),
        ];
        blocks.extend((0..20).map(|_| block("f", "f")));
        let kb = KeyBlocks::build(&blocks).expect("series-shaped");
        assert_eq!(kb.get(b"a"), Some((0, 2)));
        assert_eq!(kb.get(b"b"), Some((2, 3)));
        assert_eq!(kb.get(b"c"), Some((4, 4)));
        assert_eq!(kb.get(b"d"), None); // inside block 4: the caller searches
        assert_eq!(kb.get(b"e"), Some((4, 4)));
        assert_eq!(kb.get(b"f"), Some((5, 24)));
        assert!(kb.memory() > 0);
    }

    #[test]
    fn the_search_within_a_key_matches_the_full_search() {
        // Key "s" over blocks 1..=4 with last ts 10, 20, 30, 40 (block 4 then goes on
        // to key "t"); blocks 0 and 5.. hold other keys.
        let mut blocks = vec![block("a", "a")];
        for (i, last) in [10, 20, 30].into_iter().enumerate() {
            let mut b = block("s", "s");
            b.first_ts = i as i64 * 10;
            b.last_ts = last;
            blocks.push(b);
        }
        let mut b = block("s", "t");
        b.first_ts = 31;
        b.last_ts = 5;
        blocks.push(b);
        blocks.extend((0..20).map(|_| block("u", "u")));
        let kb = KeyBlocks::build(&blocks).expect("series-shaped");
        let full = |ts: i64| {
            blocks.partition_point(|m| {
                crate::entry::cmp_key_ts(&m.last_key, m.last_ts, b"s", ts).is_lt()
            })
        };
        for ts in -5..60 {
            let ends_below = |b: usize| {
                crate::entry::cmp_key_ts(&blocks[b].last_key, blocks[b].last_ts, b"s", ts).is_lt()
            };
            assert_eq!(
                kb.first_at_or_after(b"s", ts, ends_below),
                Some(full(ts)),
                "ts {ts}"
            );
        }
        assert_eq!(kb.first_at_or_after(b"zz", 0, |_| true), None);
    }

    #[test]
    fn document_shaped_tables_get_none() {
        let blocks: Vec<BlockMeta> = (0..100)
            .map(|i| block(&format!("k{:03}", 2 * i), &format!("k{:03}", 2 * i + 1)))
            .collect();
        assert!(KeyBlocks::build(&blocks).is_none());
    }
}
