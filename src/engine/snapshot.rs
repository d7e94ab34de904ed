//! [`Snapshot`]: a consistent, read-only view of the engine at one moment (RocksDB's
//! `GetSnapshot` with `ReadOptions::snapshot`). Every read through it sees the writes
//! that returned before it was taken and none after; flushes and compactions do not
//! change what it sees. It holds the memtables and tables of that moment until it is
//! dropped, so a long-held snapshot keeps replaced table files on disk and old
//! memtables in memory: take one per unit of work, not one per process.
//!
//! A snapshot does not keep its engine open: after `Engine::shutdown` (or once the
//! engine is dropped) its reads fail with `Closed`.
//!
//! Expiry is judged once, at the snapshot's first read (the clock is read then, not
//! when the snapshot is taken: reads of records that never expire read no clock), so
//! every read through one snapshot agrees: a record that expires while it is held
//! stays as that first read saw it.
//!
//! The engine's own reads (`Engine::get`, `query`, `scan`, ...) are each a read
//! through a snapshot taken at the call; the functions here are the one
//! implementation of both.

use std::sync::{Arc, Weak};

use super::{Engine, Inner};
use crate::config::ReadOptions;
use crate::entry::Kind;
use crate::error::{Error, Result};
use crate::iterator::lent_merge;
use crate::iterator::merge::{MergeIter, Source};
use crate::iterator::scan::ScanIterator;
use crate::range::{Bounds, KeyEnd, Query, ScanRange};
use crate::record::Record;
use crate::version;

/// A read-only view of the engine as of one moment; see the module docs. `Send +
/// Sync`: share it between threads by reference.
///
/// ```no_run
/// use flowdb::{Config, Engine, Record, ScanRange};
/// let engine = Engine::open(Config::new("./data"))?;
/// engine.write_batch(&[Record::new("cpu.a", 1, b"1".to_vec())])?;
/// let snap = engine.snapshot();
/// engine.write_batch(&[Record::new("cpu.a", 2, b"2".to_vec())])?;
/// assert!(snap.get("cpu.a", 2)?.is_none()); // written after the snapshot
/// assert_eq!(snap.get_latest("cpu.a")?.unwrap().ts, 1);
/// assert_eq!(snap.scan(ScanRange::prefix("cpu."))?.count(), 1);
/// # Ok::<(), flowdb::Error>(())
/// ```
pub struct Snapshot {
    /// Weak, so a snapshot neither keeps the engine open (its directory lock) nor
    /// delays `shutdown`; it holds the data it reads through `snap`.
    inner: Weak<Inner>,
    snap: version::Snapshot,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("seq", &self.snap.seq)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A consistent view of the engine as of now, for several reads that must agree
    /// with each other (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        let snap = self.inner.snapshot();
        Snapshot {
            inner: Arc::downgrade(&self.inner),
            snap,
        }
    }
}

impl Snapshot {
    /// The engine, while it is open.
    pub(super) fn engine(&self) -> Result<Arc<Inner>> {
        self.inner
            .upgrade()
            .ok_or_else(|| Error::Closed("the engine of this snapshot was shut down".into()))
    }

    /// The view the reads go through.
    pub(super) fn view(&self) -> &version::Snapshot {
        &self.snap
    }

    /// The live record at exactly `(key, ts)`, as of the snapshot.
    pub fn get(&self, key: &str, ts: i64) -> Result<Option<Record>> {
        self.get_bytes(key.as_bytes(), ts, &ReadOptions::default())
    }

    /// `get` for keys that are not UTF-8, with read options.
    pub fn get_bytes(&self, key: &[u8], ts: i64, opts: &ReadOptions) -> Result<Option<Record>> {
        self.engine()?.get_at(&self.snap, key, ts, opts)
    }

    /// The live record of exactly `key` with the greatest `ts`, as of the snapshot.
    pub fn get_latest(&self, key: &str) -> Result<Option<Record>> {
        self.get_latest_bytes(key.as_bytes())
    }

    /// `get_latest` for keys that are not UTF-8.
    pub fn get_latest_bytes(&self, key: &[u8]) -> Result<Option<Record>> {
        self.engine()?.latest_at(&self.snap, key)
    }

    /// The `n` live records of `key` with the greatest ts, newest first (see
    /// [`Engine::last_n`]).
    pub fn last_n(&self, key: &str, n: usize) -> Result<Vec<Record>> {
        self.last_n_bytes(key.as_bytes(), n)
    }

    /// `last_n` for keys that are not UTF-8.
    pub fn last_n_bytes(&self, key: &[u8], n: usize) -> Result<Vec<Record>> {
        self.engine()?.newest_at(&self.snap, key, n)
    }

    /// [`Engine::last_n_with`] as of the snapshot.
    pub fn last_n_with(&self, key: &[u8], n: usize, f: impl FnMut(i64, &[u8])) -> Result<usize> {
        self.engine()?.newest_with_at(&self.snap, key, n, f)
    }

    /// Every live record the query matches, in `(key, ts)` order (descending for a
    /// `reverse()` query), at most its `limit`.
    pub fn query(&self, query: Query) -> Result<Vec<Record>> {
        self.engine()?.query_at(&self.snap, query)
    }

    /// A lazy scan; it holds what it reads, so it may outlive the snapshot.
    pub fn scan(&self, range: ScanRange) -> Result<ScanIterator> {
        self.scan_opt(range, &ReadOptions::default())
    }

    /// `scan` with read options.
    pub fn scan_opt(&self, range: ScanRange, opts: &ReadOptions) -> Result<ScanIterator> {
        self.engine()?.scan_at(&self.snap, range, opts)
    }

    /// Hands each live record in `range` to `f` as borrowed `(key, ts, value)`, in
    /// `(key, ts)` order, until `f` returns `Ok(false)`; no record is copied out when
    /// the data is in memory. `expect` is how many records the caller expects to take
    /// (a hint that sizes the first read from a memtable: 0 when unknown, which
    /// starts small; `usize::MAX` when it will take all). Generic over `f`, so a
    /// layer's per-record work is compiled into the engine's loop: through a `dyn`
    /// call a record, JsonDB's key-only reads took ~12% longer.
    pub fn visit(
        &self,
        range: ScanRange,
        expect: usize,
        f: &mut (impl FnMut(&[u8], i64, &[u8]) -> Result<bool> + ?Sized),
    ) -> Result<()> {
        self.engine()?.visit_at(&self.snap, range, expect, f)
    }

    /// `f` of the value of the live record at `(key, ts)`, lent where it lies (a
    /// memtable's value under its read lock, a table's value in its block): nothing is
    /// copied unless `f` copies it. `f` must not read through the engine again. A
    /// building block for layers on the engine (JsonDB reads its documents so); it is
    /// not counted in the read statistics.
    pub fn get_with<R>(
        &self,
        key: &[u8],
        ts: i64,
        opts: &ReadOptions,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        // As every read of a snapshot: `Closed` once the engine was shut down (a
        // load, not an upgrade: this is the documents' hot path).
        if self.inner.strong_count() == 0 {
            return self.engine().map(|_| None);
        }
        self.snap.with_value(key, ts, opts, f)
    }
}

impl Inner {
    pub(crate) fn get_at(
        &self,
        snap: &version::Snapshot,
        key: &[u8],
        ts: i64,
        opts: &ReadOptions,
    ) -> Result<Option<Record>> {
        Ok(self.entry_at(snap, key, ts, opts)?.map(|e| e.into_record()))
    }

    /// `get_at` with the entry's kind (a point or bytes), counted and timed alike.
    pub(crate) fn entry_at(
        &self,
        snap: &version::Snapshot,
        key: &[u8],
        ts: i64,
        opts: &ReadOptions,
    ) -> Result<Option<crate::entry::Entry>> {
        self.check_open()?;
        let started = self.stats.query_timer();
        let e = snap.get(key, ts, opts)?;
        self.stats.add_records_read(e.is_some() as u64);
        self.stats.time_query(started);
        Ok(e)
    }

    pub(crate) fn newest_at(
        &self,
        snap: &version::Snapshot,
        key: &[u8],
        n: usize,
    ) -> Result<Vec<Record>> {
        self.check_open()?;
        let started = self.stats.query_timer();
        let out = snap.newest(key, n, &ReadOptions::default())?;
        self.stats.add_records_read(out.len() as u64);
        self.stats.time_query(started);
        Ok(out)
    }

    #[inline(always)]
    pub(crate) fn newest_with_at(
        &self,
        snap: &version::Snapshot,
        key: &[u8],
        n: usize,
        mut f: impl FnMut(i64, &[u8]),
    ) -> Result<usize> {
        self.check_open()?;
        let started = self.stats.query_timer();
        let taken = snap.newest_with(key, n, &ReadOptions::default(), |ts, _, v| f(ts, v))?;
        self.stats.add_records_read(taken as u64);
        self.stats.time_query(started);
        Ok(taken)
    }

    pub(crate) fn latest_at(&self, snap: &version::Snapshot, key: &[u8]) -> Result<Option<Record>> {
        self.check_open()?;
        let started = self.stats.query_timer();
        let r = snap.latest(key, &ReadOptions::default())?;
        self.stats.add_records_read(r.is_some() as u64);
        self.stats.time_query(started);
        Ok(r)
    }

    pub(crate) fn query_at(&self, snap: &version::Snapshot, query: Query) -> Result<Vec<Record>> {
        let started = self.stats.query_timer();
        let out = self
            .scan_at(snap, query.into(), &ReadOptions::default())?
            .collect::<Result<Vec<_>>>();
        self.stats.time_query(started);
        out
    }

    pub(crate) fn scan_at(
        &self,
        snap: &version::Snapshot,
        range: ScanRange,
        opts: &ReadOptions,
    ) -> Result<ScanIterator> {
        self.check_open()?;
        let read = self.stats.records_read.clone();
        if range.bounds.is_empty() || range.limit == Some(0) {
            return Ok(ScanIterator::empty(read));
        }
        let bounds = Arc::new(range.bounds);
        let merge = snap.merge(&bounds, opts);
        let scan = ScanIterator::new(
            merge,
            snap.range_tombstones(),
            snap.now(),
            range.limit,
            read,
        );
        // What a seek reads: the same memtables, tables and sequence.
        let (sv, seq, opts) = (snap.sv.clone(), snap.seq, *opts);
        let reopen = move |b: &Arc<Bounds>| version::Snapshot::new(sv.clone(), seq).merge(b, &opts);
        Ok(scan.seekable(bounds, Box::new(reopen)))
    }

    /// See [`Snapshot::visit`].
    pub(crate) fn visit_at(
        &self,
        snap: &version::Snapshot,
        range: ScanRange,
        expect: usize,
        f: &mut (impl FnMut(&[u8], i64, &[u8]) -> Result<bool> + ?Sized),
    ) -> Result<()> {
        self.check_open()?;
        if range.bounds.is_empty() || range.limit == Some(0) {
            return Ok(());
        }
        let limit = range.limit.unwrap_or(usize::MAX);
        let mut handed = 0;
        let read = self.visit_entries_at(
            snap,
            range.bounds,
            expect.min(limit),
            |k, ts, _, v| {
                handed += 1;
                Ok(f(k, ts, v)? && handed < limit)
            },
            None,
        )?;
        self.stats.add_records_read(read);
        Ok(())
    }

    /// Hands each live record in `bounds` to `f` as borrowed `(key, ts, kind,
    /// value)`, in the bounds' order, until `f` returns false; returns how many it
    /// handed. When one memtable is the only source and no range tombstone exists,
    /// records are lent from a reused buffer (`MemCursor::visit`, sized by
    /// `expect`); forwards without range tombstones, by the lending merge (records
    /// of tables lent from their blocks, none built); otherwise they come from the
    /// owning merge. Range tombstones that cannot touch `bounds` are left out.
    ///
    /// With `blocks`, the lending merge offers it each table block that holds only
    /// one series' points within bounds, whole ([`lent_merge::Blocks`]).
    pub(crate) fn visit_entries_at(
        &self,
        snap: &version::Snapshot,
        bounds: Bounds,
        expect: usize,
        mut f: impl FnMut(&[u8], i64, Kind, &[u8]) -> Result<bool>,
        blocks: Option<&mut lent_merge::Blocks<'_>>,
    ) -> Result<u64> {
        let bounds = Arc::new(bounds);
        let merge = snap.merge(&bounds, &ReadOptions::default());
        let mut tombstones = snap.range_tombstones();
        let last = match &bounds.end {
            KeyEnd::Included(k) | KeyEnd::Excluded(k) => Some(k.as_slice()),
            KeyEnd::Unbounded => None,
        };
        tombstones.retain_touching(&bounds.start, last, bounds.ts_lo, bounds.ts_hi);
        let mut merge = match merge.into_sole_memtable() {
            Ok(cursor) if tombstones.is_empty() => {
                return cursor.visit(&|| snap.now(), expect, f);
            }
            Ok(cursor) => MergeIter::new(vec![Source::Mem(cursor)], bounds.reverse),
            Err(merge) if tombstones.is_empty() && !bounds.reverse => match merge.into_sources() {
                Ok((sources, mut charge)) => {
                    let read = lent_merge::visit(sources, &|| snap.now(), f, blocks)?;
                    if let Some(c) = &mut charge {
                        c.records = read;
                    }
                    return Ok(read);
                }
                Err(merge) => merge,
            },
            Err(merge) => merge,
        };
        let now = snap.now();
        let mut handed = 0;
        while let Some(e) = merge.next_newest()? {
            if e.is_live(now) && !tombstones.hides(&e.key, e.ts, e.seq) {
                handed += 1;
                if !f(&e.key, e.ts, e.kind, &e.value)? {
                    break;
                }
            }
        }
        Ok(handed)
    }
}
