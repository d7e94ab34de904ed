//! [`ScanIterator`]: a lazy, ordered scan over a fixed snapshot. Later writes,
//! flushes and compactions neither appear in it nor break it: it holds the memtables
//! and tables of the moment it was created (a replaced table's file is deleted only
//! after its last reader is gone).

use std::iter::FusedIterator;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::entry::{Kind, RangeTombstones};
use crate::error::{Error, Result};
use crate::range::Bounds;
use crate::record::Record;

use super::merge::MergeIter;

/// The counter a scan adds the records it returned to when it is dropped (the
/// engine's `records_read`): a plain shared counter, so scans need nothing of the
/// engine above them.
pub(crate) type ReadCounter = Arc<AtomicU64>;

/// Makes the merge of a scan's snapshot over other bounds (for `seek`).
pub(crate) type Reopen = Box<dyn Fn(&Arc<Bounds>) -> MergeIter + Send + Sync>;

/// Iterator over live records in ascending `(key, ts)` order (descending for a
/// `reverse()` range), at most the range's `limit`; `seek` moves it within its range.
pub struct ScanIterator {
    merge: Option<MergeIter>,
    range_dels: RangeTombstones,
    now: i64,
    returned: u64,
    /// Records still to return (`u64::MAX`: no limit).
    left: u64,
    limit: Option<usize>,
    /// The range as created, and how to read it again from another position.
    bounds: Arc<Bounds>,
    reopen: Option<Reopen>,
    read: ReadCounter,
    /// Whether the record returned last was a numeric point.
    last_point: bool,
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
    /// A scan of `merge` (over `bounds`); `reopen` lets it seek.
    pub(crate) fn new(
        merge: MergeIter,
        range_dels: RangeTombstones,
        now: i64,
        limit: Option<usize>,
        read: ReadCounter,
    ) -> Self {
        ScanIterator {
            merge: Some(merge),
            range_dels,
            now,
            returned: 0,
            left: limit.map_or(u64::MAX, |n| n as u64),
            limit,
            bounds: Arc::new(Bounds::all()),
            reopen: None,
            read,
            last_point: false,
        }
    }

    /// This scan, able to `seek` within `bounds` through `reopen`.
    pub(crate) fn seekable(mut self, bounds: Arc<Bounds>, reopen: Reopen) -> Self {
        self.bounds = bounds;
        self.reopen = Some(reopen);
        self
    }

    pub(crate) fn empty(read: ReadCounter) -> Self {
        ScanIterator {
            merge: None,
            range_dels: RangeTombstones::default(),
            now: 0,
            returned: 0,
            left: 0,
            limit: None,
            bounds: Arc::new(Bounds::all()),
            reopen: None,
            read,
            last_point: false,
        }
    }

    /// Whether the record `next` returned last was written as a numeric point
    /// (`Engine::write_points`, `WriteBatch::put_point`): its value is then an
    /// `f64`'s 8 bytes, little-endian (docs/numeric.md). False when there is no such
    /// record: before the first `next`, once `next` returned `None`, after a `seek`.
    pub fn is_point(&self) -> bool {
        self.last_point
    }

    /// Moves the scan to `(key, ts)` within its range (RocksDB's `Seek`, and
    /// `SeekForPrev` for a `reverse()` scan): the next record is the first at or after
    /// `(key, ts)` in `(key, ts)` order, or for a reverse scan the first at or before
    /// it. A position before the range (in the scan's direction) restarts it from
    /// its beginning; one beyond the range ends it. The scan still reads the
    /// snapshot it was created on, and its `limit` counts again from the seek (a
    /// page of at most `limit` records per seek). Seeking a scan of an empty range
    /// (or `limit(0)`) leaves it empty. A seek brings back a scan that had ended:
    /// the one exception to its `FusedIterator` promise (which holds between seeks),
    /// so do not seek through a `std::iter::Fuse` of it.
    pub fn seek(&mut self, key: impl AsRef<[u8]>, ts: i64) {
        let Some(reopen) = &self.reopen else {
            return;
        };
        self.last_point = false;
        let bounds = self.bounds.positioned_at(key.as_ref(), ts);
        self.left = self.limit.map_or(u64::MAX, |n| n as u64);
        self.merge = (!bounds.is_empty()).then(|| reopen(&Arc::new(bounds)));
    }

    fn advance(&mut self) -> Result<Option<Record>> {
        self.last_point = false;
        let Some(merge) = self.merge.as_mut() else {
            return Ok(None);
        };
        if self.left == 0 {
            return Ok(None);
        }
        while let Some(e) = merge.next_newest()? {
            if e.is_live(self.now) && !self.range_dels.hides(&e.key, e.ts, e.seq) {
                self.returned += 1;
                self.left -= 1;
                self.last_point = e.kind == Kind::Num;
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
