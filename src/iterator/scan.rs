//! [`ScanIterator`]: a lazy, ordered scan over a fixed snapshot. Later writes,
//! flushes and compactions neither appear in it nor break it: it holds the memtables
//! and tables of the moment it was created (a replaced table's file is deleted only
//! after its last reader is gone).

use std::iter::FusedIterator;
use std::sync::Arc;

use crate::engine::stats::Stats;
use crate::entry::RangeTombstones;
use crate::error::{Error, Result};
use crate::record::Record;

use super::merge::MergeIter;

/// Iterator over live records in ascending `(key, ts)` order.
pub struct ScanIterator {
    merge: Option<MergeIter>,
    range_dels: RangeTombstones,
    now: i64,
    returned: u64,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for ScanIterator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanIterator")
            .field("finished", &self.merge.is_none())
            .field("returned", &self.returned)
            .finish_non_exhaustive()
    }
}

impl ScanIterator {
    pub(crate) fn new(
        merge: MergeIter,
        range_dels: RangeTombstones,
        now: i64,
        stats: Arc<Stats>,
    ) -> Self {
        ScanIterator {
            merge: Some(merge),
            range_dels,
            now,
            returned: 0,
            stats,
        }
    }

    pub(crate) fn empty(stats: Arc<Stats>) -> Self {
        ScanIterator {
            merge: None,
            range_dels: RangeTombstones::default(),
            now: 0,
            returned: 0,
            stats,
        }
    }

    fn advance(&mut self) -> Result<Option<Record>> {
        let Some(merge) = self.merge.as_mut() else {
            return Ok(None);
        };
        while let Some(e) = merge.next_newest()? {
            if e.is_live(self.now) && !self.range_dels.hides(&e.key, e.seq) {
                self.returned += 1;
                return Ok(Some(e.into_record()));
            }
        }
        Ok(None)
    }
}

impl Iterator for ScanIterator {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.advance() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.merge = None;
                None
            }
            Err(e) => {
                self.merge = None;
                Some(Err(e))
            }
        }
    }
}

impl FusedIterator for ScanIterator {}

impl Drop for ScanIterator {
    fn drop(&mut self) {
        self.stats.add_records_read(self.returned);
    }
}
