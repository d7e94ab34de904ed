//! The in-memory sorted buffer that takes writes before they reach a table.
//!
//! A map from key to that key's versions (`versions`), each ordered by `(ts, newest
//! sequence first)`. Keys are kept ordered and hashed (`keys`): a write to a key
//! already present, or a point read, finds it by hash; a time series' point is then
//! appended at the end of its run. The key is stored once per series, not once per
//! point.
//!
//! Versions are kept by sequence number, so a reader with snapshot sequence `s` sees
//! exactly the writes numbered `<= s`, however many arrive while it reads. Writes come
//! only from the group-commit leader (one at a time); readers take the read lock briefly
//! per chunk and never hold it between calls, so a slow scan does not block writers.

mod arena;
mod cursor;
mod footprint;
mod keys;
mod versions;

use std::cmp::Reverse;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use parking_lot::RwLock;

use crate::entry::{live, Entry, Found, Kind, RangeTombstone};
use crate::wal::Points;
use arena::{Arena, MemBytes};
pub(crate) use cursor::MemCursor;
use keys::KeyMap;
use versions::Versions;

#[derive(Clone, Copy, Debug)]
pub(crate) struct MemValue {
    kind: Kind,
    expire_at: i64,
    /// Inline up to 16 bytes, else in the memtable's arena.
    value: MemBytes,
}

pub(crate) struct Memtable {
    /// Each key's versions, ordered and hashed (`keys`).
    map: RwLock<KeyMap<Versions>>,
    range_dels: RwLock<Vec<RangeTombstone>>,
    /// Set once a range tombstone is added: reads skip the lock until then.
    has_range_dels: std::sync::atomic::AtomicBool,
    bytes: AtomicUsize,
    entries: AtomicUsize,
    min_seq: AtomicU64,
    max_seq: AtomicU64,
    /// The first WAL segment that may hold this memtable's writes.
    pub first_segment: u64,
}

fn found(seq: u64, v: &MemValue) -> Found<&[u8]> {
    Found {
        seq,
        kind: v.kind,
        expire_at: v.expire_at,
        value: &v.value,
    }
}

/// Adds version `vkey` (`kind`, `expire_at`, `value`) of `key` to `map`; returns the
/// bytes it added outside the arena (the arena's own growth is measured apart).
/// Before the `nth` version of a batch is added: asks for the slot of the key
/// `2 * AHEAD` versions on (if the last batch's keys come again), and for the key and
/// newest version of the one `AHEAD` on, whose slot was asked for before. A scrape's
/// batch touches 1,000 series, each a few cache misses away (its slot, its key, the
/// end of its versions); asked for ahead, they arrive while earlier versions go in.
#[inline]
fn ahead(map: &KeyMap<Versions>, nth: usize) {
    const AHEAD: usize = 8;
    map.prefetch_nth(nth + 2 * AHEAD);
    map.prefetch_in_nth(nth + AHEAD, Versions::prefetch_tail);
}

fn add_version<K: AsRef<[u8]> + Into<Vec<u8>>>(
    map: &mut KeyMap<Versions>,
    nth: usize,
    key: K,
    vkey: versions::VKey,
    (kind, expire_at, value): (Kind, i64, &[u8]),
) -> isize {
    let version = |arena: &mut Arena| MemValue {
        kind,
        expire_at,
        // SAFETY: the version goes into `map`, dropped before its arena.
        value: unsafe { arena.bytes(value) },
    };
    map.upsert_nth(
        nth,
        key,
        |arena| Versions::One(vkey, version(arena)),
        |versions, arena| versions.insert(vkey, version(arena), arena),
        |key| footprint::new_key(key) as isize,
    )
}

impl Memtable {
    pub(crate) fn new(first_segment: u64) -> Self {
        Memtable {
            map: RwLock::new(KeyMap::new()),
            range_dels: RwLock::new(Vec::new()),
            has_range_dels: std::sync::atomic::AtomicBool::new(false),
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
            self.has_range_dels
                .store(true, std::sync::atomic::Ordering::Release);
            for t in range_dels {
                self.note_seq(t.seq);
                let own = footprint::heap(t.start.len()) + footprint::heap(t.end.len());
                self.bytes
                    .fetch_add(own + std::mem::size_of::<RangeTombstone>() * 3 / 2, Relaxed);
                rd.push(t);
            }
        }
        if entries.is_empty() {
            return;
        }
        let mut added: isize = 0;
        let n = entries.len();
        let (mut lo, mut hi) = (u64::MAX, 0);
        let mut map = self.map.write();
        let arena_before = map.arena_bytes();
        for (nth, e) in entries.into_iter().enumerate() {
            ahead(&map, nth);
            lo = lo.min(e.seq);
            hi = hi.max(e.seq);
            let vkey = (e.ts, Reverse(e.seq));
            let v = (e.kind, e.expire_at, &e.value[..]);
            added += add_version(&mut map, nth, e.key, vkey, v);
        }
        added += (map.arena_bytes() - arena_before) as isize;
        drop(map);
        self.charge(n, lo, hi, added);
    }

    /// Inserts numeric points in columns, those of `(first, p)` numbered from `first`:
    /// a series the memtable holds costs no allocation.
    pub(crate) fn insert_points(&self, points: &[(u64, Points)]) {
        if points.is_empty() {
            return;
        }
        let mut added: isize = 0;
        let mut n = 0;
        let (mut lo, mut hi) = (u64::MAX, 0);
        let mut map = self.map.write();
        let arena_before = map.arena_bytes();
        for (first, p) in points {
            for i in 0..p.len() {
                ahead(&map, n + i);
                let seq = first + i as u64;
                lo = lo.min(seq);
                hi = hi.max(seq);
                let value = p.values[i].to_le_bytes();
                let v = (Kind::Num, p.expire_at[i], &value[..]);
                added += add_version(&mut map, n + i, p.key(i), (p.ts[i], Reverse(seq)), v);
            }
            n += p.len();
        }
        added += (map.arena_bytes() - arena_before) as isize;
        drop(map);
        if n > 0 {
            self.charge(n, lo, hi, added);
        }
    }

    /// Accounts for `n` versions with sequences `lo..=hi` that added `added` bytes.
    fn charge(&self, n: usize, lo: u64, hi: u64, added: isize) {
        self.note_seq(lo);
        self.note_seq(hi);
        // What this memtable holds only grows (replaced values are freed, but a
        // memtable never shrinks by much): a net decrease is not charged back.
        self.bytes.fetch_add(added.max(0) as usize, Relaxed);
        self.entries.fetch_add(n, Relaxed);
    }

    /// `f` of the newest version of `(key, ts)` visible at `snap`, lent in place: no
    /// copy. `f` runs under this memtable's read lock, so it must not read this
    /// memtable's entries again (a writer may be queued behind it). Reading its range
    /// tombstones is safe: the writer never holds their lock while it waits for this one.
    pub(crate) fn peek<R>(
        &self,
        key: &[u8],
        ts: i64,
        snap: u64,
        f: impl FnOnce(Found<&[u8]>) -> R,
    ) -> Option<R> {
        let map = self.map.read();
        let ((t, Reverse(seq)), v) = map.get(key)?.from((ts, Reverse(snap))).next()?;
        (*t == ts).then(|| f(found(*seq, v)))
    }

    /// A summary per key `>= from` beginning with `prefix`, in key order, at most
    /// `limit`: the points whose newest version visible at `snap` is a put (expiry
    /// and range tombstones not considered), their first and last ts. Keys with no
    /// such point are left out.
    pub(crate) fn series(
        &self,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
        snap: u64,
    ) -> Vec<crate::sstable::series::SeriesInfo> {
        let map = self.map.read();
        let mut out = Vec::new();
        for (key, versions) in map.range_from(from.max(prefix), limit > 16) {
            if !key.starts_with(prefix) || out.len() >= limit {
                break;
            }
            // Each ts's newest version visible at `snap`, when it is a put.
            let mut puts = versions
                .before(None)
                .filter(|((_, Reverse(seq)), _)| *seq <= snap)
                .scan(None, |last_ts, ((ts, _), v)| {
                    let newest = *last_ts != Some(*ts);
                    *last_ts = Some(*ts);
                    Some((newest && v.kind.is_put()).then_some(*ts))
                })
                .flatten();
            let Some(first) = puts.next() else {
                continue;
            };
            let (points, last) = puts.fold((1, first), |(n, _), ts| (n + 1, ts));
            out.push(crate::sstable::series::SeriesInfo {
                key: key.to_vec(),
                points,
                first_ts: first,
                last_ts: last,
            });
        }
        out
    }

    /// The newest visible version of `key` with `ts < below` (any ts when `None`),
    /// greatest ts first: one step of a reverse walk over one key.
    pub(crate) fn latest_below(
        &self,
        key: &[u8],
        below: Option<i64>,
        snap: u64,
    ) -> Option<(i64, Found)> {
        let map = self.map.read();
        let versions = map.get(key)?;
        let range = versions.before(below.map(|b| (b, Reverse(u64::MAX))));
        // Walking backwards, each ts group shows its oldest version first.
        let mut best: Option<(i64, u64, &MemValue)> = None;
        for ((ts, Reverse(seq)), v) in range.rev() {
            if best.is_some_and(|(bts, _, _)| bts != *ts) {
                break;
            }
            if *seq <= snap {
                best = Some((*ts, *seq, v));
            }
        }
        best.map(|(ts, seq, v)| (ts, found(seq, v).map(<[u8]>::to_vec)))
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

    /// True when a range tombstone visible at `snap` hides an entry `(key, ts, seq)`.
    pub(crate) fn range_hides(&self, key: &[u8], ts: i64, seq: u64, snap: u64) -> bool {
        self.has_range_tombstones()
            && self
                .range_dels
                .read()
                .iter()
                .any(|t| t.seq <= snap && t.covers(key, ts, seq))
    }

    pub(crate) fn has_range_tombstones(&self) -> bool {
        self.has_range_dels
            .load(std::sync::atomic::Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::Bounds;
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
        let value = |key: &[u8], ts, snap| m.peek(key, ts, snap, |f| f.value.to_vec());
        assert_eq!(value(b"a", 1, 2).unwrap(), b"x");
        assert_eq!(value(b"a", 1, 3).unwrap(), b"z");
        assert!(value(b"a", 2, 9).is_none());
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
        assert_eq!(m.latest_below(b"k", None, 9).unwrap().1.value, b"c");
        assert_eq!(m.latest_below(b"k", None, 3).unwrap().1.value, b"b");
        assert_eq!(m.latest_below(b"k", Some(5), 9).unwrap().0, 1);
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
        // Refills grow 4, 8, 16, ...: each resumes exactly after the last entry.
        let mut seen = Vec::new();
        while let Some(e) = c.next_entry() {
            assert!((10..=19).contains(&e.ts));
            seen.push((e.key, e.ts));
        }
        let expected: Vec<_> = (0..10)
            .flat_map(|k| (10..20).map(move |ts| (format!("k{k}").into_bytes(), ts)))
            .collect();
        assert_eq!(seen, expected);
    }

    /// `visit` lends exactly the live records the cursor yields, and `next_lent` every
    /// version `next_entry` yields, for random entries (puts, deletes, expired puts,
    /// several versions), snapshots, bounds and stops.
    #[test]
    fn visit_lends_what_the_cursor_yields() {
        let mut rng = crate::util::test_rng("visit_lends_what_the_cursor_yields");
        let m = Arc::new(Memtable::new(1));
        let mut seq = 0;
        for _ in 0..20 {
            let batch: Vec<Entry> = (0..rng.usize(1..50))
                .map(|_| {
                    seq += 1;
                    let mut e = put(&format!("k{}", rng.u8(..30)), rng.i64(0..5), seq, "v");
                    e.value = vec![b'v'; rng.usize(0..40)];
                    match rng.u8(..5) {
                        0 => e.kind = Kind::Delete,
                        1 => e.expire_at = 100,
                        _ => {}
                    }
                    e
                })
                .collect();
            m.insert(batch, vec![]);
        }
        let now = 150;
        for _ in 0..300 {
            let snap = rng.u64(0..=seq);
            let (a, b) = (rng.u8(..32), rng.u8(..32));
            let bounds = Bounds {
                start: format!("k{}", a.min(b)).into_bytes(),
                end: crate::range::KeyEnd::Excluded(format!("k{}", a.max(b)).into_bytes()),
                ts_lo: rng.i64(0..3),
                ts_hi: rng.i64(2..6),
                reverse: false,
                seek_ts: None,
            };
            let back = Arc::new(Bounds {
                reverse: true,
                ..bounds.clone()
            });
            let bounds = Arc::new(bounds);
            let all = |bounds: Arc<Bounds>| {
                let mut cursor = MemCursor::new(m.clone(), bounds, snap);
                std::iter::from_fn(move || cursor.next_entry()).collect::<Vec<_>>()
            };
            // The lending step lends what the owning one returns, both ways.
            let lent = |bounds: Arc<Bounds>| {
                let mut cursor = MemCursor::new(m.clone(), bounds, snap);
                let mut lent = Vec::new();
                while cursor.next_lent() {
                    let v = cursor.lent().unwrap();
                    let mut e = put(std::str::from_utf8(v.key).unwrap(), v.ts, v.seq, "");
                    (e.kind, e.expire_at, e.value) = (v.kind, v.expire_at, v.value.to_vec());
                    lent.push(e);
                }
                assert!(cursor.lent().is_none() && !cursor.next_lent());
                lent
            };
            assert_eq!(
                lent(bounds.clone()),
                all(bounds.clone()),
                "lent, snap {snap}"
            );
            assert_eq!(
                lent(back.clone()),
                all(back.clone()),
                "lent back, snap {snap}"
            );
            // Backwards: the same newest versions in the opposite order (a key's
            // versions of one ts are met oldest first there, chunks cut anywhere).
            let mut forward = all(bounds.clone());
            forward.reverse();
            assert_eq!(all(back), forward, "backwards, snap {snap}");
            forward.reverse();
            let mut want = Vec::new();
            for e in forward {
                if e.is_live(now) {
                    want.push((e.key, e.ts, e.value));
                }
            }
            let stop = rng.usize(0..=want.len() + 1);
            let mut got = Vec::new();
            let handed = MemCursor::new(m.clone(), bounds, snap)
                .visit(&|| now, rng.usize(0..200), |k: &[u8], ts, _, v: &[u8]| {
                    got.push((k.to_vec(), ts, v.to_vec()));
                    Ok(got.len() < stop)
                })
                .unwrap();
            want.truncate(stop.max(1).min(want.len()));
            assert_eq!(got, want, "snap {snap}, stop {stop}");
            assert_eq!(handed as usize, got.len());
        }
    }
}
