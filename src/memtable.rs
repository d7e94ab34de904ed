//! The in-memory sorted buffer that takes writes before they reach a table.
//!
//! Versions are kept by sequence number, so a reader with snapshot sequence `s` sees
//! exactly the writes numbered `<= s`, however many arrive while it reads. Writes come
//! only from the group-commit leader (one at a time); readers take the read lock briefly
//! per chunk and never hold it between calls, so a slow scan does not block writers.

use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use parking_lot::RwLock;

use crate::entry::{Entry, Kind, RangeTombstone};
use crate::range::Bounds;

/// Map key: `(key, ts)` ascending, then newest `seq` first.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MemKey {
    key: Vec<u8>,
    ts: i64,
    seq: u64,
}

impl Ord for MemKey {
    fn cmp(&self, o: &Self) -> Ordering {
        self.key
            .cmp(&o.key)
            .then(self.ts.cmp(&o.ts))
            .then(o.seq.cmp(&self.seq))
    }
}

impl PartialOrd for MemKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl MemKey {
    /// The first map key of group `(key, ts)`.
    fn group_start(key: &[u8], ts: i64) -> Self {
        MemKey {
            key: key.to_vec(),
            ts,
            seq: u64::MAX,
        }
    }
}

#[derive(Clone, Debug)]
struct MemValue {
    kind: Kind,
    expire_at: i64,
    value: Vec<u8>,
}

const ENTRY_OVERHEAD: usize = 64;

pub(crate) struct Memtable {
    map: RwLock<BTreeMap<MemKey, MemValue>>,
    range_dels: RwLock<Vec<RangeTombstone>>,
    bytes: AtomicUsize,
    entries: AtomicUsize,
    min_seq: AtomicU64,
    max_seq: AtomicU64,
    /// The first WAL segment that may hold this memtable's writes.
    pub first_segment: u64,
}

impl Memtable {
    pub(crate) fn new(first_segment: u64) -> Self {
        Memtable {
            map: RwLock::new(BTreeMap::new()),
            range_dels: RwLock::new(Vec::new()),
            bytes: AtomicUsize::new(0),
            entries: AtomicUsize::new(0),
            min_seq: AtomicU64::new(u64::MAX),
            max_seq: AtomicU64::new(0),
            first_segment,
        }
    }

    pub(crate) fn approximate_bytes(&self) -> usize {
        self.bytes.load(Relaxed)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.load(Relaxed)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.max_seq.load(Relaxed) == 0
    }

    /// `(min_seq, max_seq)` of everything inserted; meaningless while empty.
    pub(crate) fn seq_range(&self) -> (u64, u64) {
        (self.min_seq.load(Relaxed), self.max_seq.load(Relaxed))
    }

    fn note_seq(&self, seq: u64) {
        self.min_seq.fetch_min(seq, Relaxed);
        self.max_seq.fetch_max(seq, Relaxed);
    }

    /// Inserts entries (already numbered). Called by the write leader only.
    pub(crate) fn insert(&self, entries: Vec<Entry>, range_dels: Vec<RangeTombstone>) {
        if !range_dels.is_empty() {
            let mut rd = self.range_dels.write();
            for t in range_dels {
                self.note_seq(t.seq);
                self.bytes
                    .fetch_add(t.start.len() + t.end.len() + ENTRY_OVERHEAD, Relaxed);
                rd.push(t);
            }
        }
        if entries.is_empty() {
            return;
        }
        let mut added = 0;
        let n = entries.len();
        let (mut lo, mut hi) = (u64::MAX, 0);
        let mut map = self.map.write();
        for e in entries {
            added += e.key.len() + e.value.len() + ENTRY_OVERHEAD;
            lo = lo.min(e.seq);
            hi = hi.max(e.seq);
            map.insert(
                MemKey {
                    key: e.key,
                    ts: e.ts,
                    seq: e.seq,
                },
                MemValue {
                    kind: e.kind,
                    expire_at: e.expire_at,
                    value: e.value,
                },
            );
        }
        drop(map);
        self.note_seq(lo);
        self.note_seq(hi);
        self.bytes.fetch_add(added, Relaxed);
        self.entries.fetch_add(n, Relaxed);
    }

    /// The newest version of `(key, ts)` visible at `snap`.
    pub(crate) fn get(&self, key: &[u8], ts: i64, snap: u64) -> Option<Entry> {
        let from = MemKey {
            key: key.to_vec(),
            ts,
            seq: snap,
        };
        let map = self.map.read();
        let (k, v) = map.range(from..).next()?;
        (k.key == key && k.ts == ts).then(|| to_entry(k, v))
    }

    /// The newest visible version of `key` with `ts < below` (any ts when `None`),
    /// greatest ts first: one step of a reverse walk over one key.
    pub(crate) fn latest_below(&self, key: &[u8], below: Option<i64>, snap: u64) -> Option<Entry> {
        let lo = MemKey::group_start(key, i64::MIN);
        let map = self.map.read();
        let range = match below {
            Some(b) => map.range((
                Bound::Included(lo),
                Bound::Excluded(MemKey::group_start(key, b)),
            )),
            None => map.range((
                Bound::Included(lo),
                Bound::Included(MemKey {
                    key: key.to_vec(),
                    ts: i64::MAX,
                    seq: 0,
                }),
            )),
        };
        // Walking backwards, each ts group shows its oldest version first.
        let mut best: Option<(&MemKey, &MemValue)> = None;
        for (k, v) in range.rev() {
            if let Some((bk, _)) = best {
                if bk.ts != k.ts {
                    break;
                }
            }
            if k.seq <= snap {
                best = Some((k, v));
            }
        }
        best.map(|(k, v)| to_entry(k, v))
    }

    /// Range tombstones visible at `snap`.
    pub(crate) fn range_tombstones(&self, snap: u64) -> Vec<RangeTombstone> {
        self.range_dels
            .read()
            .iter()
            .filter(|t| t.seq <= snap)
            .cloned()
            .collect()
    }

    /// True when a range tombstone visible at `snap` hides an entry `(key, seq)`.
    pub(crate) fn range_hides(&self, key: &[u8], seq: u64, snap: u64) -> bool {
        self.range_dels
            .read()
            .iter()
            .any(|t| t.seq <= snap && t.covers(key, seq))
    }

    pub(crate) fn has_range_tombstones(&self) -> bool {
        !self.range_dels.read().is_empty()
    }

    /// Every `(key, ts)`'s newest version, in order (for flushing a frozen memtable).
    pub(crate) fn newest_versions(&self) -> Vec<Entry> {
        let map = self.map.read();
        let mut out: Vec<Entry> = Vec::with_capacity(map.len());
        for (k, v) in map.iter() {
            if let Some(last) = out.last() {
                if last.key == k.key && last.ts == k.ts {
                    continue;
                }
            }
            out.push(to_entry(k, v));
        }
        out
    }
}

fn to_entry(k: &MemKey, v: &MemValue) -> Entry {
    Entry {
        key: k.key.clone(),
        ts: k.ts,
        seq: k.seq,
        kind: v.kind,
        expire_at: v.expire_at,
        value: v.value.clone(),
    }
}

const CHUNK: usize = 128;

/// A lazy cursor over one memtable, within bounds, at one snapshot: yields each
/// `(key, ts)`'s newest visible version in order, refilling a small buffer per lock.
pub(crate) struct MemCursor {
    mem: std::sync::Arc<Memtable>,
    bounds: std::sync::Arc<Bounds>,
    snap: u64,
    resume: Option<MemKey>,
    buf: VecDeque<Entry>,
}

impl MemCursor {
    pub(crate) fn new(
        mem: std::sync::Arc<Memtable>,
        bounds: std::sync::Arc<Bounds>,
        snap: u64,
    ) -> Self {
        let resume = Some(MemKey::group_start(&bounds.start, bounds.ts_lo));
        MemCursor {
            mem,
            bounds,
            snap,
            resume,
            buf: VecDeque::new(),
        }
    }

    pub(crate) fn next_entry(&mut self) -> Option<Entry> {
        if self.buf.is_empty() {
            self.refill();
        }
        self.buf.pop_front()
    }

    fn refill(&mut self) {
        let Some(mut from) = self.resume.take() else {
            return;
        };
        let map = self.mem.map.read();
        let b = &*self.bounds;
        'seek: loop {
            let mut last: Option<(&[u8], i64)> = None;
            for (k, v) in map.range(from.clone()..) {
                if last == Some((k.key.as_slice(), k.ts)) {
                    continue; // an older version of a group already decided
                }
                if b.key_past_end(&k.key) {
                    return;
                }
                if k.ts < b.ts_lo {
                    from = MemKey::group_start(&k.key, b.ts_lo);
                    continue 'seek;
                }
                if k.ts > b.ts_hi {
                    let mut next = k.key.clone();
                    next.push(0);
                    from = MemKey::group_start(&next, b.ts_lo);
                    continue 'seek;
                }
                if k.seq > self.snap {
                    continue; // too new for this snapshot; an older version may follow
                }
                if self.buf.len() >= CHUNK {
                    self.resume = Some(MemKey::group_start(&k.key, k.ts));
                    return;
                }
                last = Some((k.key.as_slice(), k.ts));
                self.buf.push_back(to_entry(k, v));
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn put(key: &str, ts: i64, seq: u64, v: &str) -> Entry {
        Entry {
            key: key.as_bytes().to_vec(),
            ts,
            seq,
            kind: Kind::Put,
            expire_at: i64::MAX,
            value: v.as_bytes().to_vec(),
        }
    }

    #[test]
    fn snapshots_see_their_versions() {
        let m = Memtable::new(1);
        m.insert(vec![put("a", 1, 1, "x"), put("b", 1, 2, "y")], vec![]);
        m.insert(vec![put("a", 1, 3, "z")], vec![]);
        assert_eq!(m.get(b"a", 1, 2).unwrap().value, b"x");
        assert_eq!(m.get(b"a", 1, 3).unwrap().value, b"z");
        assert!(m.get(b"a", 2, 9).is_none());
        let all = MemCursor::new(Arc::new(m), Arc::new(Bounds::all()), 2);
        let got: Vec<_> = std::iter::from_fn({
            let mut c = all;
            move || c.next_entry()
        })
        .map(|e| (e.key, e.seq))
        .collect();
        assert_eq!(got, vec![(b"a".to_vec(), 1), (b"b".to_vec(), 2)]);
    }

    #[test]
    fn latest_walks_backwards() {
        let m = Memtable::new(1);
        m.insert(
            vec![
                put("k", 1, 1, "a"),
                put("k", 5, 2, "b"),
                put("k", 5, 4, "c"),
            ],
            vec![],
        );
        assert_eq!(m.latest_below(b"k", None, 9).unwrap().value, b"c");
        assert_eq!(m.latest_below(b"k", None, 3).unwrap().value, b"b");
        assert_eq!(m.latest_below(b"k", Some(5), 9).unwrap().ts, 1);
        assert!(m.latest_below(b"k", Some(1), 9).is_none());
        assert!(m.latest_below(b"j", None, 9).is_none());
    }

    #[test]
    fn cursor_chunks_and_time_skips() {
        let m = Memtable::new(1);
        let mut es = Vec::new();
        for k in 0..10 {
            for ts in 0..100 {
                es.push(put(&format!("k{k}"), ts, (k * 100 + ts + 1) as u64, "v"));
            }
        }
        m.insert(es, vec![]);
        let bounds = Arc::new(Bounds::all().with_time(10, 19));
        let mut c = MemCursor::new(Arc::new(m), bounds, u64::MAX);
        let mut n = 0;
        while let Some(e) = c.next_entry() {
            assert!((10..=19).contains(&e.ts));
            n += 1;
        }
        assert_eq!(n, 100);
    }
}
