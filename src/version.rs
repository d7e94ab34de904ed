//! What a reader sees: the [`Version`] (the live tables, newest first), the
//! [`SuperVersion`] (that plus the active and frozen memtables), and a [`Snapshot`]
//! (a super-version pinned at one sequence number and one clock reading), with the
//! read algorithms that run over it.
//!
//! Sources are ordered newest first: active memtable, frozen memtables, tables. For a
//! `(key, ts)` the version with the highest sequence wins; it is visible when it is a
//! put, has not expired, and no range tombstone with a higher sequence covers it.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use smallvec::SmallVec;

use crate::config::ReadOptions;
use crate::entry::{live, Entry, Found, Kind, RangeTombstone, RangeTombstones};
use crate::error::Result;
use crate::iterator::merge::{MergeIter, ReadCharge, Source};
use crate::memtable::{MemCursor, Memtable};
use crate::range::Bounds;
use crate::record::Record;
use crate::sstable::block::Lent;
use crate::sstable::cursor::{KeyWalk, TableCursor};
use crate::sstable::reader::Table;
use crate::util::key_order::{compare, Key};
use crate::util::now_micros;

/// The live tables, newest first; compaction replaces contiguous runs.
#[derive(Default)]
pub(crate) struct Version {
    pub tables: Vec<Arc<Table>>,
    /// Every table's range tombstones, each with its table's sequence.
    pub range_dels: Vec<RangeTombstone>,
    /// Positions in `tables` by greatest ts, descending (list order among equals):
    /// `latest` reads a table only when nothing newer has been found.
    by_max_ts: Vec<usize>,
    /// The runs of `tables` (tables one flush or merge wrote: disjoint keys, in key
    /// order), as ranges of positions, newest first.
    runs: Vec<Range<usize>>,
    /// Each table's first and last key (`None`: no keys, only range tombstones),
    /// inline and side by side, for `tables_for`'s binary searches: reading them
    /// through each table cost a few cache misses per table compared.
    spans: Vec<Option<(Key, Key)>>,
    /// The merge reads would have (the compaction policy's choice, when any) and
    /// what they have charged for it: see [`ReadMerge`].
    read_merge: Option<ReadMerge>,
    /// Shared with the range reads over the runs, which charge by their records as
    /// they end ([`ReadCharge`]).
    read_charge: Arc<AtomicU64>,
}

/// Neighbouring runs whose merge range reads would gain from (docs/design.md,
/// "Merges for reads"): a range read that merges `k >= 2` of them charges `k - 1`
/// to the version, and background compaction merges them once the charges reach
/// [`ReadMerge::due_at`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReadMerge {
    /// Their tables' positions (whole runs).
    pub tables: Range<usize>,
    /// The output run's level.
    pub level: u32,
    /// Their tables' bytes on disk.
    pub bytes: u64,
}

impl ReadMerge {
    /// Bytes of tables one charge pays for. A range read's extra source (a table
    /// cursor set up, sought and merged) cost 1-2 us in document queries, and a
    /// merge rewrote about 45 MB of tables a second (docs/benchmarks.md, "Merges for
    /// reads"): a charge is worth about 50-100 bytes of merging, so at 64 the reads
    /// have paid for the merge about once before it runs, as LevelDB's seek
    /// compaction waits out a file's `allowed_seeks`.
    const BYTES_PER_CHARGE: u64 = 64;

    /// Records a range read reads over the runs for one more charge per run merged
    /// beyond the first. A read of 10,000 index entries over three runs took about
    /// 20 us longer than over one (docs/benchmarks.md, "Long reads charge by the
    /// record"): ~1 ns a record for each extra run, so a charge (1-2 us) stands for
    /// about a thousand records.
    pub(crate) const RECORDS_PER_CHARGE: u64 = 1024;

    /// The charges at which the merge is due.
    pub(crate) fn due_at(&self) -> u64 {
        (self.bytes / Self::BYTES_PER_CHARGE).max(1)
    }
}

impl Version {
    pub(crate) fn new(tables: Vec<Arc<Table>>) -> Self {
        let range_dels = live_tombstones(&tables);
        let mut by_max_ts: Vec<usize> = (0..tables.len()).collect();
        by_max_ts.sort_by_key(|&i| std::cmp::Reverse(tables[i].props.max_ts));
        let runs = run_ranges(&tables);
        let spans = tables
            .iter()
            .map(|t| {
                t.key_range()
                    .map(|(a, b)| (Key::new(a.to_vec()), Key::new(b.to_vec())))
            })
            .collect();
        Version {
            tables,
            range_dels,
            by_max_ts,
            runs,
            spans,
            read_merge: None,
            read_charge: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The version with `merge` as the merge reads would have (whole runs of it).
    pub(crate) fn with_read_merge(mut self, merge: Option<ReadMerge>) -> Self {
        self.read_merge = merge;
        self
    }

    /// The runs of `tables`, as ranges of positions, newest first.
    pub(crate) fn runs(&self) -> &[Range<usize>] {
        &self.runs
    }

    /// The merge reads asked for, when they have charged enough for it.
    pub(crate) fn read_merge_due(&self) -> Option<&ReadMerge> {
        let m = self.read_merge.as_ref()?;
        (self.read_charge.load(Relaxed) >= m.due_at()).then_some(m)
    }

    /// The tables that may hold `key`, newest first: in each run, those whose key
    /// range holds it, found by binary search (one table, unless a merge cut a long
    /// series across several).
    pub(crate) fn tables_for<'a>(&'a self, key: &'a [u8]) -> impl Iterator<Item = &'a Arc<Table>> {
        self.runs.iter().flat_map(move |r| {
            let spans = &self.spans[r.clone()];
            // A table without keys (only range tombstones) is a run's first.
            let lo = spans.partition_point(|s| {
                s.as_ref()
                    .map_or(true, |(_, last)| compare(last, key).is_lt())
            });
            let hi = spans.partition_point(|s| {
                s.as_ref()
                    .map_or(true, |(first, _)| compare(first, key).is_le())
            });
            self.tables[r.start + lo..r.start + hi.max(lo)].iter()
        })
    }
}

/// The range tombstones of `tables` that reads must apply: those not dominated by
/// another (`RangeTombstone::dominates`: retention writes a longer `delete_before`
/// each period, and each makes the last one redundant) and with an older table in
/// their region (once the data a tombstone hid is compacted away or dropped, it
/// hides nothing). So reads check a few tombstones, not every one ever written; the
/// rest stay in their tables until a merge drops them.
fn live_tombstones(tables: &[Arc<Table>]) -> Vec<RangeTombstone> {
    let all: Vec<&RangeTombstone> = tables.iter().flat_map(|t| t.range_dels.iter()).collect();
    let dominated = |i: usize| {
        all.iter()
            .enumerate()
            .any(|(j, o)| j != i && o.dominates(all[i]) && (!all[i].dominates(o) || j < i))
    };
    let hides_something = |t: &RangeTombstone| {
        tables.iter().any(|o| {
            o.meta.min_seq < t.seq
                && o.key_range().is_some_and(|(first, last)| {
                    t.overlaps(first, last, o.props.min_ts, o.props.max_ts)
                })
        })
    };
    (0..all.len())
        .filter(|&i| !dominated(i) && hides_something(all[i]))
        .map(|i| all[i].clone())
        .collect()
}

/// The runs of `tables` (newest first) as ranges of positions: neighbours written by
/// one flush or merge (`TableMeta::same_run`), in key order.
pub(crate) fn run_ranges(tables: &[Arc<Table>]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        match runs.last_mut() {
            Some(r) if tables[r.start].meta.same_run(&t.meta) => r.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

pub(crate) struct SuperVersion {
    pub active: Arc<Memtable>,
    /// Frozen memtables waiting for flush, newest first.
    pub frozen: Vec<Arc<Memtable>>,
    pub version: Arc<Version>,
}

impl SuperVersion {
    pub(crate) fn memtables(&self) -> impl Iterator<Item = &Arc<Memtable>> {
        std::iter::once(&self.active).chain(self.frozen.iter())
    }
}

pub(crate) struct Snapshot {
    pub sv: Arc<SuperVersion>,
    pub seq: u64,
    /// The clock for expiry, read when first needed: a point read of records that
    /// never expire (most time series) reads no clock at all.
    now: OnceLock<i64>,
    /// Whether any range tombstone may hide a version from this snapshot: none in the
    /// version or its memtables when it was made (later ones are numbered past
    /// `seq`, so none can), and then no read checks each version it hands out.
    may_hide: bool,
}

impl Snapshot {
    /// The snapshot of `sv` at `seq`, made after `seq` was read: a tombstone
    /// numbered up to `seq` was in its memtable before `seq` was published.
    pub(crate) fn new(sv: Arc<SuperVersion>, seq: u64) -> Self {
        let may_hide =
            !sv.version.range_dels.is_empty() || sv.memtables().any(|m| m.has_range_tombstones());
        Snapshot {
            sv,
            seq,
            now: OnceLock::new(),
            may_hide,
        }
    }

    /// Microseconds since the epoch, fixed at the first call.
    pub(crate) fn now(&self) -> i64 {
        *self.now.get_or_init(now_micros)
    }

    /// Whether a range tombstone of this snapshot hides version `seq` of `(key, ts)`
    /// (asked only when one may: `shows`).
    #[inline(never)]
    fn hidden_by_range(&self, key: &[u8], ts: i64, seq: u64) -> bool {
        self.sv
            .version
            .range_dels
            .iter()
            .any(|t| t.covers(key, ts, seq))
            || self
                .sv
                .memtables()
                .any(|m| m.range_hides(key, ts, seq, self.seq))
    }

    /// A version of `(key, ts)` numbered `seq` is visible when it is live (a put, not
    /// expired) and no range tombstone of this snapshot hides it. Inline: it runs for
    /// every version a newest-first walk hands out (called, 23 instructions each).
    #[inline(always)]
    fn shows(&self, key: &[u8], ts: i64, seq: u64, live: bool) -> bool {
        live && !(self.may_hide && self.hidden_by_range(key, ts, seq))
    }

    /// `f` of the live version at `(key, ts)`, if there is one: the first source holding
    /// the key decides. A memtable lends the value in place (under its read lock, see
    /// `Memtable::peek`), so `f` must not read this snapshot again; a table lends it
    /// from its block.
    fn with_found<R>(
        &self,
        key: &[u8],
        ts: i64,
        opts: &ReadOptions,
        f: impl FnOnce(Found<Cow<'_, [u8]>>) -> R,
    ) -> Result<Option<R>> {
        let mut f = Some(f);
        let mut call =
            |v: Found<Cow<'_, [u8]>>| match self.shows(key, ts, v.seq, v.is_live_at(|| self.now()))
            {
                true => f.take().map(|f| f(v)),
                false => None,
            };
        for m in self.sv.memtables() {
            if let Some(r) = m.peek(key, ts, self.seq, |v| call(v.map(Cow::Borrowed))) {
                return Ok(r);
            }
        }
        for t in self.sv.version.tables_for(key) {
            if let Some(r) = t.find(key, ts, opts, |v| call(v.map(Cow::Borrowed)))? {
                return Ok(r);
            }
        }
        Ok(None)
    }

    /// The live record at `(key, ts)`.
    pub(crate) fn get(&self, key: &[u8], ts: i64, opts: &ReadOptions) -> Result<Option<Entry>> {
        self.with_found(key, ts, opts, |f| {
            f.map(Cow::into_owned).into_entry(key, ts)
        })
    }

    /// `f` of the value of the live record at `(key, ts)`, lent where it lies (see
    /// `with_found`): a reader that only looks at the value copies nothing.
    pub(crate) fn with_value<R>(
        &self,
        key: &[u8],
        ts: i64,
        opts: &ReadOptions,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        self.with_found(key, ts, opts, |v| f(&v.value))
    }

    /// The live record of `key` with the greatest ts (see [`Snapshot::newest`]).
    pub(crate) fn latest(&self, key: &[u8], opts: &ReadOptions) -> Result<Option<Record>> {
        let mut out = None;
        self.newest_with(key, 1, opts, |ts, expire_at, value| {
            out = Some(found(key, ts, expire_at, value))
        })?;
        Ok(out)
    }

    /// Up to `n` live records of `key`, greatest ts first (see `newest_with`).
    pub(crate) fn newest(&self, key: &[u8], n: usize, opts: &ReadOptions) -> Result<Vec<Record>> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.newest_with(key, n, opts, |ts, expire_at, value| {
            out.push(found(key, ts, expire_at, value))
        })?;
        Ok(out)
    }

    /// Hands up to `n` live records of `key` to `f` as `(ts, expire_at, value)`,
    /// greatest ts first, the value lent where it lies (a table's block; a memtable's
    /// value is copied once, out of its lock); returns how many. Every memtable is
    /// walked backwards from the key's newest version; a table only once the versions
    /// found so far are not newer than its greatest ts (tables in `by_max_ts` order),
    /// so with time-windowed tables it reads about one table, not one per window.
    #[inline(always)]
    pub(crate) fn newest_with(
        &self,
        key: &[u8],
        n: usize,
        opts: &ReadOptions,
        mut f: impl FnMut(i64, i64, &[u8]),
    ) -> Result<usize> {
        let mut taken = 0;
        if n == 0 {
            return Ok(taken);
        }
        // On the stack for a memtable and a few tables (allocating the two lists was
        // about 5% of a `last_n(key, 100)`).
        let mut walks: SmallVec<[LatestWalk; 4]> = SmallVec::new();
        walks.extend(
            self.sv
                .memtables()
                .filter(|m| !m.is_empty())
                .map(|m| LatestWalk::Mem(m.clone(), None)),
        );
        let mut heads: SmallVec<[Option<Head>; 4]> = SmallVec::new();
        for w in walks.iter_mut() {
            heads.push(w.next(key, self.seq)?);
        }
        // The greatest ts; among equal ts, the highest sequence.
        let best = |heads: &[Option<Head>]| {
            heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.as_ref().map(|e| (e.ts, e.seq, i)))
                .max_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)))
        };
        let version = &self.sv.version;
        let mut unread = version
            .by_max_ts
            .iter()
            .map(|&i| &version.tables[i])
            .peekable();
        while taken < n {
            // Tables that may hold a version as new as the best so far join the walk.
            while let Some(t) =
                unread.next_if(|t| best(&heads).map_or(true, |(ts, _, _)| t.props.max_ts >= ts))
            {
                // Tables that cannot hold the key (key range, bloom) get no walk.
                if !t.key_range().is_some_and(|(a, b)| a <= key && key <= b) {
                    continue;
                }
                let mut part = None;
                if let Some(last) = t.last_block_of_key(key, &mut part, opts)? {
                    let walk = KeyWalk::new(t.clone(), key, (last, part), n - taken, *opts);
                    let mut w = LatestWalk::Table(walk);
                    heads.push(w.next(key, self.seq)?);
                    walks.push(w);
                }
            }
            let Some((ts, _, winner)) = best(&heads) else {
                break;
            };
            // Hands a version (by its parts) to `f` when it is visible; true once `n`
            // are taken.
            let mut take = |ts: i64, seq: u64, kind: Kind, expire_at: i64, value: &[u8]| {
                if self.shows(key, ts, seq, live(kind, expire_at, || self.now())) {
                    f(ts, expire_at, value);
                    taken += 1;
                }
                taken == n
            };
            let alone = heads.iter().filter(|h| h.is_some()).count() == 1;
            if alone {
                // One source left with a head: drain it without the choice until it
                // runs past the greatest ts of the next table that could join (none
                // left: to its end, a version at i64::MIN included).
                let joins_at = unread.peek().map(|t| t.props.max_ts);
                let before_joins = |h: &&Head| joins_at.map_or(true, |j| h.ts > j);
                while let Some(h) = heads[winner].as_ref().filter(before_joins) {
                    if take(h.ts, h.seq, h.kind, h.expire_at, h.value.bytes()) {
                        return Ok(taken);
                    }
                    // A table's versions are taken where they lie in its block.
                    if let LatestWalk::Table(w) = &mut walks[winner] {
                        let seq = w.seq();
                        let mut each = |ts, kind, expire_at, value: &[u8]| {
                            take(ts, seq, kind, expire_at, value)
                        };
                        // (A version at i64::MIN is left to the next head.)
                        let above = joins_at.unwrap_or(i64::MIN);
                        if w.drain_desc(above, &mut each)? {
                            return Ok(taken);
                        }
                    }
                    heads[winner] = walks[winner].next(key, self.seq)?;
                }
                continue;
            }
            if heads[winner]
                .as_ref()
                .is_some_and(|h| take(h.ts, h.seq, h.kind, h.expire_at, h.value.bytes()))
            {
                break;
            }
            // This ts is settled (taken, or not visible): every source steps past it.
            for (i, h) in heads.iter_mut().enumerate() {
                if i == winner || h.as_ref().is_some_and(|e| e.ts == ts) {
                    *h = walks[i].next(key, self.seq)?;
                }
            }
        }
        Ok(taken)
    }

    /// Range tombstones visible in this snapshot (for scans).
    pub(crate) fn range_tombstones(&self) -> RangeTombstones {
        let mut rd = RangeTombstones::default();
        rd.extend(self.sv.version.range_dels.iter().cloned());
        for m in self.sv.memtables() {
            if m.has_range_tombstones() {
                rd.extend(m.range_tombstones(self.seq));
            }
        }
        rd
    }

    /// A merge over every source, within bounds.
    pub(crate) fn merge(&self, bounds: &Arc<Bounds>, opts: &ReadOptions) -> MergeIter {
        let mut sources: Vec<Source> = self
            .sv
            .memtables()
            .filter(|m| !m.is_empty())
            .map(|m| Source::Mem(MemCursor::new(m.clone(), bounds.clone(), self.seq)))
            .collect();
        // A table with no block in bounds has nothing to add; a run's tables make one
        // source (the version's runs, found once when it was made). Those of the
        // runs a merge for reads would take are counted.
        let v = &self.sv.version;
        let merging = v.read_merge.as_ref().map_or(0..0, |m| m.tables.clone());
        let mut read = 0;
        for r in &v.runs {
            let cursor = |t: &Arc<Table>| TableCursor::new(t.clone(), bounds.clone(), *opts);
            if let Some(source) = Source::run(&v.tables[r.clone()], bounds.reverse, cursor) {
                read += usize::from(merging.start <= r.start && r.end <= merging.end);
                sources.push(source);
            }
        }
        let mut merge = MergeIter::new(sources, bounds.reverse);
        if read >= 2 {
            v.read_charge.fetch_add(read as u64 - 1, Relaxed);
            merge.charge = Some(ReadCharge::new(
                v.read_charge.clone(),
                read as u64 - 1,
                ReadMerge::RECORDS_PER_CHARGE,
            ));
        }
        merge
    }
}

/// The version a backward walk over one key stands on.
struct Head {
    ts: i64,
    seq: u64,
    kind: Kind,
    expire_at: i64,
    value: HeadValue,
}

/// A memtable's value, copied; a table's, lent from its block.
enum HeadValue {
    Owned(Vec<u8>),
    Lent(Lent),
}

impl HeadValue {
    fn bytes(&self) -> &[u8] {
        match self {
            HeadValue::Owned(v) => v,
            HeadValue::Lent(l) => l.bytes(),
        }
    }
}

/// One source of a newest-first walk. A table's walk is large (its block iterator
/// and decoded interval) and kept unboxed: the walks live in a `SmallVec` on the
/// stack, and a box would cost an allocation per table walked.
#[allow(clippy::large_enum_variant)]
enum LatestWalk<'k> {
    /// A memtable and the ts the walk has passed (exclusive bound).
    Mem(Arc<Memtable>, Option<i64>),
    Table(KeyWalk<'k>),
}

impl LatestWalk<'_> {
    fn next(&mut self, key: &[u8], snap: u64) -> Result<Option<Head>> {
        match self {
            LatestWalk::Mem(m, below) => {
                if *below == Some(i64::MIN) {
                    return Ok(None);
                }
                let e = m.latest_below(key, *below, snap);
                *below = Some(e.as_ref().map_or(i64::MIN, |(ts, _)| *ts));
                Ok(e.map(|(ts, f)| Head {
                    ts,
                    seq: f.seq,
                    kind: f.kind,
                    expire_at: f.expire_at,
                    value: HeadValue::Owned(f.value),
                }))
            }
            LatestWalk::Table(w) => {
                let seq = w.seq();
                Ok(w.next_desc()?.map(|(ts, kind, expire_at, v)| Head {
                    ts,
                    seq,
                    kind,
                    expire_at,
                    value: HeadValue::Lent(v),
                }))
            }
        }
    }
}

/// A version a read found, handed out as a record: key and value copied.
fn found(key: &[u8], ts: i64, expire_at: i64, value: &[u8]) -> Record {
    Record::new(key, ts, value.to_vec()).with_expire_at(expire_at)
}
