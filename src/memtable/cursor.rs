//! [`MemCursor`]: a lazy cursor over one memtable within bounds at one snapshot,
//! forwards or (`Bounds::reverse`) backwards, copying a chunk of versions into one
//! reused buffer per read lock and lending them from there (`next_lent`) or building
//! entries of them (`next_entry`); and `visit`, which lends live records.

use std::cmp::Reverse;
use std::ops::Bound;
use std::sync::Arc;

use super::{live, MemValue, Memtable};
use crate::entry::{Entry, EntryRef, Kind};
use crate::error::Result;
use crate::range::{Bounds, KeyEnd};

/// Entries copied per refill: the first refill copies few, as a point or `limit`
/// query reads only a handful; each later one doubles, up to `MAX_CHUNK`.
const FIRST_CHUNK: usize = 4;
/// The first chunk of `MemCursor::visit` when the caller cannot say how many records it
/// will take: larger than a cursor's, as a visit copies no entry into an allocation of
/// its own.
const FIRST_VISIT_CHUNK: usize = 8;
const MAX_CHUNK: usize = 128;

/// A lazy cursor over one memtable, within bounds, at one snapshot: yields each
/// `(key, ts)`'s newest visible version in order, refilling a small buffer per lock.
pub(crate) struct MemCursor {
    mem: Arc<Memtable>,
    bounds: Arc<Bounds>,
    snap: u64,
    /// Where the next refill starts: the group `(key, ts)`, inclusive, the key `None`
    /// for `bounds.start` (not copied: a short scan never needs a key of its own);
    /// backwards, the key `None` is the end bound and the ts the greatest to read.
    resume: Option<(Option<Vec<u8>>, i64)>,
    /// Entries the next refill copies.
    chunk: usize,
    /// What the cursor steps through: a chunk of versions, keys and values in one
    /// buffer, reused from chunk to chunk.
    lent: LentChunk,
}

/// A chunk of versions copied under one read lock for `next_lent`: keys and values
/// in `bytes`, the rest in `spans`; `at` is the span `lent` returns.
#[derive(Default)]
struct LentChunk {
    bytes: Vec<u8>,
    spans: Vec<Span>,
    at: Option<usize>,
}

/// One version in a [`LentChunk`]: its key is `bytes[key..value]`, its value
/// `bytes[value..end]`.
struct Span {
    key: usize,
    value: usize,
    end: usize,
    ts: i64,
    seq: u64,
    kind: Kind,
    expire_at: i64,
}

impl LentChunk {
    fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
        self.at = None;
    }

    /// Copies a version in.
    fn push(&mut self, key: &[u8], ts: i64, seq: u64, v: &MemValue) {
        let k = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let value = self.bytes.len();
        self.bytes.extend_from_slice(&v.value);
        self.spans.push(Span {
            key: k,
            value,
            end: self.bytes.len(),
            ts,
            seq,
            kind: v.kind,
            expire_at: v.expire_at,
        });
    }

    /// Version `i`.
    fn version(&self, i: usize) -> Option<EntryRef<'_>> {
        let s = self.spans.get(i)?;
        let b = &self.bytes;
        Some(EntryRef {
            key: &b[s.key..s.value],
            ts: s.ts,
            seq: s.seq,
            kind: s.kind,
            expire_at: s.expire_at,
            value: &b[s.value..s.end],
        })
    }
}

impl MemCursor {
    pub(crate) fn new(mem: Arc<Memtable>, bounds: Arc<Bounds>, snap: u64) -> Self {
        let resume = Some((
            None,
            match bounds.reverse {
                false => bounds.ts_floor(&bounds.start),
                true => bounds.ts_hi,
            },
        ));
        MemCursor {
            mem,
            bounds,
            snap,
            resume,
            chunk: FIRST_CHUNK,
            lent: LentChunk::default(),
        }
    }

    /// Moves to the next version (false past the last), which [`lent`](Self::lent)
    /// lends until the next step. Each refill copies a chunk into one reused buffer,
    /// so stepping allocates nothing once the buffer has grown to a chunk.
    pub(crate) fn next_lent(&mut self) -> bool {
        let next = self.lent.at.map_or(0, |i| i + 1);
        if next < self.lent.spans.len() {
            self.lent.at = Some(next);
            return true;
        }
        let mut chunk = std::mem::take(&mut self.lent);
        chunk.clear();
        self.walk(|key, ts, seq, v| chunk.push(key, ts, seq, v));
        chunk.at = (!chunk.spans.is_empty()).then_some(0);
        self.lent = chunk;
        self.lent.at.is_some()
    }

    /// The version `next_lent` moved to.
    pub(crate) fn lent(&self) -> Option<EntryRef<'_>> {
        self.lent.version(self.lent.at?)
    }

    /// The next version, built: `next_lent`'s, with its key and value copied.
    pub(crate) fn next_entry(&mut self) -> Option<Entry> {
        if !self.next_lent() {
            return None;
        }
        self.lent().map(EntryRef::to_entry)
    }

    /// Hands the next chunk of `(key, ts)` groups' newest visible versions to `emit`,
    /// in order, under one read lock, and records where the chunk after it starts.
    fn walk(&mut self, mut emit: impl FnMut(&[u8], i64, u64, &MemValue)) {
        if self.bounds.reverse {
            return self.walk_back(emit);
        }
        let Some((start_key, start_ts)) = self.resume.take() else {
            return;
        };
        let chunk = self.chunk;
        self.chunk = (chunk * 2).min(MAX_CHUNK);
        let map = self.mem.map.read();
        let b = &*self.bounds;
        let start_key = start_key.as_deref().unwrap_or(&b.start);
        let mut n = 0;
        // Only the first key can be the start key (the keys are `>= start_key` and
        // distinct): the others are not compared with it.
        let mut first = true;
        // A chunk of 32 or more is a scan that reads on (a limit's first chunk is
        // the limit): the slots of its keys are asked for ahead.
        for (key, versions) in map.range_from(start_key, chunk >= 32) {
            if b.key_past_end(key) {
                return;
            }
            let at_start = first && crate::util::key_order::compare(key, start_key).is_eq();
            first = false;
            let lo = if at_start {
                start_ts.max(b.ts_lo)
            } else {
                b.ts_lo
            };
            let mut last_ts = None;
            for ((ts, Reverse(seq)), v) in versions.from((lo, Reverse(u64::MAX))) {
                if *ts > b.ts_hi {
                    break;
                }
                if last_ts == Some(*ts) || *seq > self.snap {
                    continue; // decided already, or too new for this snapshot
                }
                if n >= chunk {
                    self.resume = Some((Some(key.to_vec()), *ts));
                    return;
                }
                last_ts = Some(*ts);
                emit(key, *ts, *seq, v);
                n += 1;
            }
        }
    }

    /// `walk` backwards: descending `(key, ts)`. A key's versions are ordered by ts,
    /// newest sequence first, so walking them backwards meets each ts's versions
    /// oldest first: the last one visible at the snapshot is the ts's newest.
    fn walk_back(&mut self, mut emit: impl FnMut(&[u8], i64, u64, &MemValue)) {
        let Some((from_key, from_ts)) = self.resume.take() else {
            return;
        };
        let chunk = self.chunk;
        self.chunk = (chunk * 2).min(MAX_CHUNK);
        let map = self.mem.map.read();
        let b = &*self.bounds;
        let upper = match (&from_key, &b.end) {
            (Some(k), _) => Bound::Included(k.as_slice()),
            (None, KeyEnd::Unbounded) => Bound::Unbounded,
            (None, KeyEnd::Included(k)) => Bound::Included(k.as_slice()),
            (None, KeyEnd::Excluded(k)) => Bound::Excluded(k.as_slice()),
        };
        let mut n = 0;
        for (key, versions) in map.range_back(upper) {
            if b.key_before_start(key) {
                return;
            }
            let hi = match &from_key {
                Some(k) if k.as_slice() == key => from_ts.min(b.ts_ceiling(key)),
                _ => b.ts_ceiling(key),
            };
            let below = hi.checked_add(1).map(|t| (t, Reverse(u64::MAX)));
            let mut versions = versions.before(below).rev();
            // The ts being decided, and its newest version visible so far.
            let mut group: Option<(i64, Option<(u64, &MemValue)>)> = None;
            loop {
                let next = versions.next().filter(|((ts, _), _)| *ts >= b.ts_lo);
                if let Some((ts, best)) = group {
                    if next.map(|((t, _), _)| *t) != Some(ts) {
                        if let Some((seq, v)) = best {
                            if n >= chunk {
                                self.resume = Some((Some(key.to_vec()), ts));
                                return;
                            }
                            emit(key, ts, seq, v);
                            n += 1;
                        }
                        group = None;
                    }
                }
                let Some(((ts, Reverse(seq)), v)) = next else {
                    break;
                };
                let best = group.and_then(|(_, best)| best);
                let visible = (*seq <= self.snap).then_some((*seq, v));
                group = Some((*ts, visible.or(best)));
            }
        }
    }

    /// Hands each live record (a put, not expired at `now()`) to `f` as borrowed
    /// `(key, ts, kind, value)`, in order, until `f` returns false; returns how many it
    /// handed. A chunk is copied into one buffer, reused from chunk to chunk, under
    /// the read lock; `f` runs after the lock is released. So a scan that has the
    /// memtable to itself allocates nothing per record. Range tombstones are the
    /// caller's to rule out. `expect` is how many records the caller expects to take
    /// (0 when it cannot tell): the first chunk copies that many, so a query with a
    /// limit seeks and locks once, and copies no record it will not look at.
    pub(crate) fn visit(
        mut self,
        now: &dyn Fn() -> i64,
        expect: usize,
        mut f: impl FnMut(&[u8], i64, Kind, &[u8]) -> Result<bool>,
    ) -> Result<u64> {
        self.chunk = match expect {
            0 => FIRST_VISIT_CHUNK,
            n => n.min(MAX_CHUNK),
        };
        // Room for a chunk of keys of up to ~40 bytes with short values (index
        // entries): a limit query's one chunk fills it without regrowing.
        let mut chunk = LentChunk {
            bytes: Vec::with_capacity((self.chunk * 48).max(512)),
            spans: Vec::with_capacity(self.chunk),
            at: None,
        };
        let mut handed = 0;
        while self.resume.is_some() {
            chunk.clear();
            self.walk(|key, ts, seq, v| {
                if live(v.kind, v.expire_at, now) {
                    chunk.push(key, ts, seq, v);
                }
            });
            for i in 0..chunk.spans.len() {
                let EntryRef {
                    key,
                    ts,
                    kind,
                    value,
                    ..
                } = chunk.version(i).expect("a span");
                handed += 1;
                if !f(key, ts, kind, value)? {
                    return Ok(handed);
                }
            }
        }
        Ok(handed)
    }
}
