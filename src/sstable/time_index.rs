//! The time index of one table: for each time bucket (`time_bucket_secs` wide), the
//! data blocks holding records of that bucket, so a time-window query over every
//! series reads only the blocks that overlap the window.
//!
//! It is derived from the block index at open (nothing extra on disk). A block whose
//! time span covers more than [`MAX_BUCKETS_PER_BLOCK`] buckets is listed once among the
//! "wide" blocks instead, which every query checks, so one sparse series cannot blow up
//! the index.

use super::props::BlockMeta;

pub(crate) const MAX_BUCKETS_PER_BLOCK: i64 = 64;

pub(crate) struct TimeIndex {
    width: i64,
    /// `(bucket, blocks)` sorted by bucket; block numbers ascending.
    buckets: Vec<(i64, Vec<u32>)>,
    wide: Vec<u32>,
}

impl TimeIndex {
    /// Builds the index for `metas`, with buckets `width` microseconds wide.
    pub(crate) fn build(metas: &[BlockMeta], width: i64) -> TimeIndex {
        let mut pairs: Vec<(i64, u32)> = Vec::new();
        let mut wide = Vec::new();
        for (i, m) in metas.iter().enumerate() {
            let (b0, b1) = (m.min_ts.div_euclid(width), m.max_ts.div_euclid(width));
            if b1 - b0 >= MAX_BUCKETS_PER_BLOCK {
                wide.push(i as u32);
            } else {
                pairs.extend((b0..=b1).map(|b| (b, i as u32)));
            }
        }
        pairs.sort_unstable();
        let mut buckets: Vec<(i64, Vec<u32>)> = Vec::new();
        for (b, i) in pairs {
            match buckets.last_mut() {
                Some((lb, list)) if *lb == b => list.push(i),
                _ => buckets.push((b, vec![i])),
            }
        }
        TimeIndex {
            width,
            buckets,
            wide,
        }
    }

    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    pub(crate) fn memory(&self) -> usize {
        self.buckets
            .iter()
            .map(|(_, l)| 32 + 4 * l.len())
            .sum::<usize>()
            + 4 * self.wide.len()
    }

    /// Block numbers that may hold a ts in `[lo, hi]`, ascending, without repeats.
    pub(crate) fn candidates(&self, lo: i64, hi: i64) -> Vec<u32> {
        let (b0, b1) = (lo.div_euclid(self.width), hi.div_euclid(self.width));
        let first = self.buckets.partition_point(|(b, _)| *b < b0);
        let mut out: Vec<u32> = self.wide.clone();
        for (b, list) in &self.buckets[first..] {
            if *b > b1 {
                break;
            }
            out.extend_from_slice(list);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sstable::format::BlockHandle;

    fn meta(min_ts: i64, max_ts: i64) -> BlockMeta {
        BlockMeta {
            first_key: Default::default(),
            first_ts: min_ts,
            last_key: Default::default(),
            last_ts: max_ts,
            handle: BlockHandle::default(),
            min_ts,
            max_ts,
            entries: 1,
        }
    }

    #[test]
    fn finds_overlapping_blocks() {
        let metas = vec![
            meta(0, 9),
            meta(10, 19),
            meta(-25, -21),
            meta(0, 10_000),
            meta(35, 45),
        ];
        let ti = TimeIndex::build(&metas, 10);
        assert_eq!(ti.candidates(12, 15), vec![1, 3]);
        assert_eq!(ti.candidates(-30, -20), vec![2, 3]);
        assert_eq!(ti.candidates(40, 40), vec![3, 4]);
        assert_eq!(ti.candidates(100, 200), vec![3]);
    }
}
