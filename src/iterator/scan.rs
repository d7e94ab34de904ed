//! [`ScanIterator`]: a lazy, ordered scan over a fixed snapshot. Later writes,
//! flushes and compactions neither appear in it nor break it: it holds the memtables
//! and tables of the moment it was created (a replaced table's file is deleted only
//! after its last reader is gone).

use std::iter::FusedIterator;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::entry::RangeTombstones;
use crate::error::{Error, Result};
use crate::record::Record;

use super::merge::MergeIter;

/// The counter a scan adds the records it returned to when it is dropped (the
/// engine's `records_read`): a plain shared counter, so scans need nothing of the
/// engine above them.
pub(crate) type ReadCounter = Arc<AtomicU64>;

/// Iterator over live records in ascending `(key, ts)` order.
pub struct ScanIterator {
    merge: Option<MergeIter>,
    range_dels: RangeTombstones,
    now: i64,
    returned: u64,
    read: ReadCounter,
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
        read: ReadCounter,
    ) -> Self {
        ScanIterator {
            merge: Some(merge),
            range_dels,
            now,
            returned: 0,
            read,
        }
    }

    pub(crate) fn empty(read: ReadCounter) -> Self {
        ScanIterator {
            merge: None,
            range_dels: RangeTombstones::default(),
            now: 0,
            returned: 0,
            read,
        }
    }

    fn advance(&mut self) -> Result<Option<Record>> {
        let Some(merge) = self.merge.as_mut() else {
            return Ok(None);
        };
        while let Some(e) = merge.next_newest()? {
            if e.is_live(self.now) && !self.range_dels.hides(&e.key, e.ts, e.seq) {
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
        if self.returned > 0 {
            self.read.fetch_add(self.returned, Relaxed);
        }
    }
}
