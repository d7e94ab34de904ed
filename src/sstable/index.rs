//! A table's block index, as held in memory: the entries of its data blocks, cut into
//! partitions.
//!
//! Format 2 tables store the index as partitions of `index_partition_blocks` entries
//! each, plus a top level with one entry per partition (its first and last fence, its
//! ts range, its block count). Only the top level is held by the table; partitions are
//! read through the block cache when a lookup needs one. A lookup is then a binary
//! search of the top level, one partition (a cache hit, or one read), and a binary
//! search inside it: a bounded number of reads whatever the table's size.
//!
//! Format 1 tables stored the whole index as one block; it is held whole, as one
//! pinned partition.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::entry::cmp_key_ts;
use crate::util::coding::shared_prefix;
use crate::util::key_order;
use crate::util::search::{interval_guess, partition_point, partition_point_near};

use super::props::{BlockMeta, FenceKey};

/// A decoded index partition (or a table's top level: one entry a partition): its
/// entries, and what searches read of them again as compact columns. A lookup binary-searches a partition's 128 blocks; over
/// the entries (about 128 bytes each) every probe is a cache miss once a database's
/// index outgrows the CPU caches, over a column of 8 bytes a block a few lines hold
/// the whole search (docs/design.md, "Reads"). Two columns:
/// - the blocks' last timestamps, for a key whose blocks the key map names (only
///   their ts differ);
/// - the 8 bytes of each block's last key that follow the prefix all of them share
///   (big-endian, zero-padded), for any other key: they order the blocks as the keys
///   do, and only blocks whose 8 bytes tie with the key's are compared in full.
pub(crate) struct IndexPart {
    metas: Vec<BlockMeta>,
    last_ts: Box<[i64]>,
    last_keys: KeyColumn,
}

/// The last keys of a run of index entries as a search reads them: the prefix all
/// share, and the 8 bytes of each that follow it (big-endian, zero-padded). A prefix
/// of up to 32 bytes is held in the column itself, next to the pointer to the
/// chunks, so that a search does not wait on memory for it first.
struct KeyColumn {
    prefix: SmallVec<[u8; 32]>,
    chunks: Box<[u64]>,
}

impl KeyColumn {
    fn new(metas: &[BlockMeta]) -> KeyColumn {
        let mut prefix: &[u8] = metas.first().map_or(&[], |m| &m.last_key);
        for m in metas {
            prefix = &prefix[..shared_prefix(prefix, &m.last_key)];
        }
        let prefix = SmallVec::from_slice(prefix);
        let chunks = metas
            .iter()
            .map(|m| chunk(&m.last_key[prefix.len()..]))
            .collect();
        KeyColumn { prefix, chunks }
    }

    /// The first of `metas` (the entries this column was made from) whose last entry
    /// is `>= (key, ts)` (`metas.len()` when none is): a binary search over the
    /// column, an entry read only where its 8 bytes tie with the key's.
    fn search(&self, metas: &[BlockMeta], key: &[u8], ts: i64) -> usize {
        let p = &*self.prefix;
        if !key.starts_with(p) {
            // Every last key starts with `p`, so `key` falls before all or after all.
            return if key < p { 0 } else { metas.len() };
        }
        let c = chunk(&key[p.len()..]);
        partition_point(metas.len().min(self.chunks.len()), |i| {
            match self.chunks[i].cmp(&c) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                std::cmp::Ordering::Equal => {
                    let m = &metas[i];
                    cmp_key_ts(&m.last_key, m.last_ts, key, ts).is_lt()
                }
            }
        })
    }

    fn memory(&self) -> usize {
        self.prefix.len() + 8 * self.chunks.len()
    }
}

/// The first 8 bytes of `k`, big-endian, zero-padded: a strictly smaller value means a
/// strictly smaller key.
fn chunk(k: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = k.len().min(8);
    b[..n].copy_from_slice(&k[..n]);
    u64::from_be_bytes(b)
}

impl IndexPart {
    pub(crate) fn new(metas: Vec<BlockMeta>) -> IndexPart {
        let last_ts = metas.iter().map(|m| m.last_ts).collect();
        let last_keys = KeyColumn::new(&metas);
        IndexPart {
            metas,
            last_ts,
            last_keys,
        }
    }

    /// About the memory a partition of `entries` blocks takes once decoded (its
    /// entries and columns; fence keys past 24 bytes not counted).
    pub(crate) fn estimate(entries: usize) -> usize {
        entries * (std::mem::size_of::<BlockMeta>() + 16) + 64
    }

    /// The last timestamps of blocks `lo..hi` of this partition.
    pub(crate) fn last_ts(&self, lo: usize, hi: usize) -> &[i64] {
        &self.last_ts[lo..hi]
    }

    /// The first block of this partition whose last entry is `>= (key, ts)` (its
    /// length when none is).
    pub(crate) fn search(&self, key: &[u8], ts: i64) -> usize {
        self.last_keys.search(&self.metas, key, ts)
    }

    /// The memory it takes.
    pub(crate) fn memory(&self) -> usize {
        self.metas.iter().map(BlockMeta::memory).sum::<usize>()
            + 8 * self.last_ts.len()
            + self.last_keys.memory()
            + 64
    }
}

/// `col.partition_point(|t| *t < ts)` for an ascending column of timestamps, found
/// from where a straight line through the column's ends puts `ts`: one key's blocks
/// usually hold points at a steady rate, so the guess lands at or next to the answer
/// and a search touches one or two cache lines where a binary search over a
/// partition's 128 blocks makes seven probes on five or six lines (each a miss once
/// the index outgrows the CPU caches). Galloping out from the guess
/// ([`partition_point_near`]) keeps the worst case logarithmic. On a column that is
/// not ascending (damage) it returns some index in `0..=len`.
pub(crate) fn ts_partition_point(col: &[i64], ts: i64) -> usize {
    let n = col.len();
    if n < 8 {
        return col.partition_point(|t| *t < ts);
    }
    let (first, last) = (col[0], col[n - 1]);
    if ts <= first {
        return 0;
    }
    if ts > last {
        return n;
    }
    partition_point_near(n, interval_guess(n, ts, (first, last)), |i| col[i] < ts)
}

impl std::ops::Deref for IndexPart {
    type Target = [BlockMeta];

    fn deref(&self) -> &[BlockMeta] {
        &self.metas
    }
}

pub(crate) struct BlockIndex {
    /// One entry per partition; its `entries` is the partition's block count.
    /// With the same search columns as a partition.
    top: IndexPart,
    /// The first block number of each partition, then the total block count.
    starts: Vec<u32>,
    /// Format 1: the whole index, which is the only partition.
    whole: Option<Arc<IndexPart>>,
}

impl BlockIndex {
    /// A format 1 index: every block's entry, held whole.
    pub(crate) fn whole(blocks: Vec<BlockMeta>) -> BlockIndex {
        let Some(summary) = BlockMeta::summary(&blocks) else {
            return BlockIndex::empty();
        };
        BlockIndex {
            top: IndexPart::new(vec![summary]),
            starts: vec![0, blocks.len() as u32],
            whole: Some(Arc::new(IndexPart::new(blocks))),
        }
    }

    /// A format 2 index from its top level; `None` when the block counts do not add
    /// up (an empty partition, or more than 2^31 blocks).
    pub(crate) fn partitioned(top: Vec<BlockMeta>) -> Option<BlockIndex> {
        let mut starts = Vec::with_capacity(top.len() + 1);
        let mut n: u32 = 0;
        for p in &top {
            starts.push(n);
            if p.entries == 0 {
                return None;
            }
            n = n
                .checked_add(p.entries)
                .filter(|n| *n < super::cache::INDEX_KEY_BIT)?;
        }
        starts.push(n);
        Some(BlockIndex {
            top: IndexPart::new(top),
            starts,
            whole: None,
        })
    }

    fn empty() -> BlockIndex {
        BlockIndex {
            top: IndexPart::new(Vec::new()),
            starts: vec![0],
            whole: None,
        }
    }

    /// The whole index, held (format 1 only; format 2 reads partitions on demand).
    pub(crate) fn whole_index(&self) -> Option<&Arc<IndexPart>> {
        self.whole.as_ref()
    }

    /// The partitions read on demand: every one (format 2), none (format 1).
    pub(crate) fn paged_partitions(&self) -> usize {
        if self.whole.is_some() {
            0
        } else {
            self.top.len()
        }
    }

    /// The top level: one entry per partition.
    pub(crate) fn top(&self) -> &[BlockMeta] {
        &self.top
    }

    /// The last timestamps of partitions `a..b`.
    pub(crate) fn top_last_ts(&self, a: usize, b: usize) -> &[i64] {
        self.top.last_ts(a, b)
    }

    /// The number of data blocks.
    pub(crate) fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0) as usize
    }

    /// The first block number of partition `p`.
    pub(crate) fn start(&self, p: usize) -> usize {
        self.starts[p] as usize
    }

    /// The partition holding block `b` (`b < len()`).
    pub(crate) fn partition_of(&self, b: usize) -> usize {
        self.starts.partition_point(|s| (*s as usize) <= b) - 1
    }

    /// The first partition whose last entry is `>= (key, ts)`; `top().len()` when
    /// none is.
    pub(crate) fn partition_at_or_after(&self, key: &[u8], ts: i64) -> usize {
        self.top.search(key, ts)
    }

    /// The number of partitions whose first key is `<= end` (or `< end` when not
    /// `inclusive`).
    pub(crate) fn partitions_starting_by(&self, end: &[u8], inclusive: bool) -> usize {
        self.top.partition_point(|m| {
            let c = key_order::compare(&m.first_key, end);
            if inclusive {
                c.is_le()
            } else {
                c.is_lt()
            }
        })
    }

    /// The table's first and last keys.
    pub(crate) fn key_range(&self) -> Option<(&FenceKey, &FenceKey)> {
        Some((&self.top.first()?.first_key, &self.top.last()?.last_key))
    }

    /// Memory held by the table for its index (partitions in the cache not counted).
    pub(crate) fn memory(&self) -> usize {
        let top = self.top.memory();
        let whole = self.whole.as_ref().map_or(0, |w| w.memory());
        top + whole + 4 * self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{cmp_key_ts, ts_partition_point, BlockIndex, BlockMeta, IndexPart};
    use crate::sstable::format::BlockHandle;

    fn meta(last_key: &[u8], last_ts: i64) -> BlockMeta {
        BlockMeta {
            first_key: last_key.into(),
            first_ts: last_ts,
            last_key: last_key.into(),
            last_ts,
            handle: BlockHandle { offset: 0, len: 0 },
            min_ts: last_ts,
            max_ts: last_ts,
            entries: 1,
            stats: None,
        }
    }

    /// A partition's key search (and the top level's) answers as a binary search over its entries does:
    /// keys sharing long prefixes, keys that are prefixes of others, zero bytes
    /// (which the column's padding ties with), one key over many blocks, and keys
    /// outside the partition on either side.
    #[test]
    fn partition_key_search_matches_a_binary_search() {
        let mut rng = crate::util::test_rng("partition_key_search_matches_a_binary_search");
        let alphabet: [&[u8]; 4] = [b"series.", b"\0", b"a", b"\xff"];
        let key = |rng: &mut fastrand::Rng| {
            let mut k = b"cpu.host-".to_vec();
            for _ in 0..rng.usize(0..5) {
                k.extend_from_slice(alphabet[rng.usize(0..4)]);
            }
            if rng.bool() {
                k.extend_from_slice(format!("{:06}", rng.u32(0..200)).as_bytes());
            }
            k
        };
        for _ in 0..400 {
            let n = rng.usize(0..140);
            let mut entries: Vec<(Vec<u8>, i64)> =
                (0..n).map(|_| (key(&mut rng), rng.i64(-3..3))).collect();
            entries.sort();
            let metas: Vec<BlockMeta> = entries.iter().map(|(k, t)| meta(k, *t)).collect();
            let part = IndexPart::new(metas.clone());
            // The same entries as a top level (one block a partition).
            let top = BlockIndex::partitioned(metas.clone()).unwrap();
            let mut probes: Vec<(Vec<u8>, i64)> = entries.clone();
            probes.extend((0..50).map(|_| (key(&mut rng), rng.i64(-4..4))));
            probes.extend([(Vec::new(), 0), (b"cpu".to_vec(), 0), (b"z".to_vec(), 0)]);
            for (k, t) in probes {
                let want =
                    metas.partition_point(|m| cmp_key_ts(&m.last_key, m.last_ts, &k, t).is_lt());
                assert_eq!(part.search(&k, t), want, "{k:?} {t}");
                assert_eq!(top.partition_at_or_after(&k, t), want, "top: {k:?} {t}");
            }
        }
    }

    /// The guided search answers as a binary search does, on steady, irregular,
    /// repeating and extreme columns, and stays in bounds on unsorted ones.
    #[test]
    fn ts_partition_point_matches_a_binary_search() {
        let mut rng = crate::util::test_rng("ts_partition_point_matches_a_binary_search");
        for round in 0..3000 {
            let n = rng.usize(0..300);
            let mut col: Vec<i64> = match round % 4 {
                0 => (0..n).map(|i| 1_000 + 10 * i as i64).collect(),
                1 => (0..n).map(|_| rng.i64(-50..50)).collect(),
                2 => (0..n).map(|_| rng.i64(..)).collect(),
                _ => (0..n).map(|_| rng.i64(0..4) * 1_000_000).collect(),
            };
            let sorted = round % 10 != 9;
            if sorted {
                col.sort_unstable();
            }
            let probes = col
                .iter()
                .flat_map(|&t| [t.saturating_sub(1), t, t.saturating_add(1)])
                .chain([i64::MIN, i64::MAX, 0, rng.i64(..)])
                .collect::<Vec<_>>();
            for ts in probes {
                let got = ts_partition_point(&col, ts);
                if sorted {
                    assert_eq!(got, col.partition_point(|t| *t < ts), "{col:?} {ts}");
                } else {
                    assert!(got <= col.len());
                }
            }
        }
    }
}
