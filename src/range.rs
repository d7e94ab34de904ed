//! What a query or scan asks for: [`Query`] and [`ScanRange`] (public), and
//! [`Bounds`], the one internal form both turn into.
//!
//! Conventions (README.md, "The rules"): key ranges of queries and scans are inclusive at both
//! ends (`start <= key <= end`); time ranges are inclusive at both ends
//! (`start <= ts <= end`); `start > end` is empty; a prefix matches keys beginning with
//! those bytes, the empty prefix matches everything. (`delete_range` differs: it is
//! half-open, `start <= key < end`, as RocksDB's DeleteRange.)

/// A lazy-scan range. Build it with the constructors; `.reverse()` and `.limit(n)`
/// make it newest-first and bounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRange {
    pub(crate) bounds: Bounds,
    pub(crate) limit: Option<usize>,
}

/// A query; `Engine::query` returns every live record it matches, in `(key, ts)` order
/// (descending with `.reverse()`), at most `n` with `.limit(n)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub(crate) bounds: Bounds,
    pub(crate) limit: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyEnd {
    Unbounded,
    Included(Vec<u8>),
    Excluded(Vec<u8>),
}

/// Key bounds `[start, end]` plus an inclusive time window `[ts_lo, ts_hi]`, and the
/// direction records are read in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub start: Vec<u8>,
    pub end: KeyEnd,
    pub ts_lo: i64,
    pub ts_hi: i64,
    /// Descending `(key, ts)` order: the greatest key first, each key newest first.
    pub reverse: bool,
    /// Set by a seek (`ScanIterator::seek`): reading forwards, the `start` key's
    /// records begin at this ts; backwards, the end key's end there.
    pub seek_ts: Option<i64>,
}

impl Bounds {
    pub(crate) fn all() -> Self {
        Bounds {
            start: Vec::new(),
            end: KeyEnd::Unbounded,
            ts_lo: i64::MIN,
            ts_hi: i64::MAX,
            reverse: false,
            seek_ts: None,
        }
    }

    pub(crate) fn prefix(p: &[u8]) -> Self {
        let end = match prefix_successor(p) {
            Some(s) => KeyEnd::Excluded(s),
            None => KeyEnd::Unbounded,
        };
        Bounds {
            start: p.to_vec(),
            end,
            ..Bounds::all()
        }
    }

    pub(crate) fn key_range(start: &[u8], end: &[u8]) -> Self {
        Bounds {
            start: start.to_vec(),
            end: KeyEnd::Included(end.to_vec()),
            ..Bounds::all()
        }
    }

    pub(crate) fn with_time(mut self, lo: i64, hi: i64) -> Self {
        self.ts_lo = lo;
        self.ts_hi = hi;
        self
    }

    /// True when no record can match.
    pub(crate) fn is_empty(&self) -> bool {
        if self.ts_lo > self.ts_hi {
            return true;
        }
        match &self.end {
            KeyEnd::Unbounded => false,
            KeyEnd::Included(e) => self.start.as_slice() > e.as_slice(),
            KeyEnd::Excluded(e) => self.start.as_slice() >= e.as_slice(),
        }
    }

    /// True when `key` is past the end bound.
    pub(crate) fn key_past_end(&self, key: &[u8]) -> bool {
        // Inline comparison (`key_order`): scans ask this of every key they pass.
        let past = |e: &[u8]| crate::util::key_order::compare(key, e);
        match &self.end {
            KeyEnd::Unbounded => false,
            KeyEnd::Included(e) => past(e).is_gt(),
            KeyEnd::Excluded(e) => past(e).is_ge(),
        }
    }

    pub(crate) fn time_restricted(&self) -> bool {
        self.ts_lo != i64::MIN || self.ts_hi != i64::MAX
    }

    /// The least ts read of `key` (forwards: a seek's ts at the start key).
    pub(crate) fn ts_floor(&self, key: &[u8]) -> i64 {
        match self.seek_ts {
            Some(ts) if !self.reverse && key == self.start.as_slice() => ts.max(self.ts_lo),
            _ => self.ts_lo,
        }
    }

    /// The greatest ts read of `key` (backwards: a seek's ts at the end key).
    pub(crate) fn ts_ceiling(&self, key: &[u8]) -> i64 {
        match (&self.end, self.seek_ts) {
            (KeyEnd::Included(end), Some(ts)) if self.reverse && key == end.as_slice() => {
                ts.min(self.ts_hi)
            }
            _ => self.ts_hi,
        }
    }

    /// These bounds from `(key, ts)` on, in their direction (RocksDB's `Seek` and,
    /// backwards, `SeekForPrev`): forwards, the records at or after it; backwards, at or
    /// before it. A position before the bounds (in their direction) leaves them
    /// whole; one beyond them leaves them empty.
    pub(crate) fn positioned_at(&self, key: &[u8], ts: i64) -> Bounds {
        let mut b = self.clone();
        let narrows = match self.reverse {
            false => !self.key_before_start(key),
            true => !self.key_past_end(key),
        };
        if narrows {
            match self.reverse {
                false => b.start = key.to_vec(),
                true => b.end = KeyEnd::Included(key.to_vec()),
            }
            b.seek_ts = Some(ts);
        }
        b
    }

    /// True when `key` is before the start bound.
    pub(crate) fn key_before_start(&self, key: &[u8]) -> bool {
        crate::util::key_order::compare(key, &self.start).is_lt()
    }
}

/// The smallest key greater than every key starting with `p`, or `None` when `p` is
/// empty or all 0xff (no such key: the range is unbounded above). With it a prefix
/// becomes a half-open range: `delete_range(p, prefix_successor(p))` deletes every key
/// beginning with `p`.
pub fn prefix_successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut s = p.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xff {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

impl ScanRange {
    /// Keys beginning with `p` (the empty prefix: every key).
    pub fn prefix(p: impl AsRef<str>) -> Self {
        ScanRange::of(Bounds::prefix(p.as_ref().as_bytes()))
    }
    /// Every key, `start <= ts <= end`.
    pub fn time_range(start: i64, end: i64) -> Self {
        ScanRange::of(Bounds::all().with_time(start, end))
    }
    /// Keys beginning with `p`, `ts_start <= ts <= ts_end`.
    pub fn prefix_time_range(p: impl AsRef<str>, ts_start: i64, ts_end: i64) -> Self {
        ScanRange::of(Bounds::prefix(p.as_ref().as_bytes()).with_time(ts_start, ts_end))
    }
    /// `start <= key <= end` (both inclusive).
    pub fn key_range(start: impl AsRef<str>, end: impl AsRef<str>) -> Self {
        ScanRange::of(Bounds::key_range(
            start.as_ref().as_bytes(),
            end.as_ref().as_bytes(),
        ))
    }
    /// `start <= key <= end` and `ts_start <= ts <= ts_end`.
    pub fn key_time_range(
        start: impl AsRef<str>,
        end: impl AsRef<str>,
        ts_start: i64,
        ts_end: i64,
    ) -> Self {
        ScanRange::of(
            Bounds::key_range(start.as_ref().as_bytes(), end.as_ref().as_bytes())
                .with_time(ts_start, ts_end),
        )
    }
    /// Everything.
    pub fn all() -> Self {
        ScanRange::of(Bounds::all())
    }
    /// Keys beginning with the bytes `p` (for keys that are not UTF-8).
    pub fn prefix_bytes(p: &[u8]) -> Self {
        ScanRange::of(Bounds::prefix(p))
    }
    /// `start <= key <= end` over byte keys.
    pub fn key_range_bytes(start: &[u8], end: &[u8]) -> Self {
        ScanRange::of(Bounds::key_range(start, end))
    }
    /// `start <= key < end` over byte keys (half-open, as `delete_range`); `start >=
    /// end` is empty.
    pub fn key_range_half_open(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>) -> Self {
        ScanRange::of(Bounds {
            start: start.into(),
            end: KeyEnd::Excluded(end.into()),
            ..Bounds::all()
        })
    }
}

impl Query {
    /// Keys beginning with `key`.
    pub fn prefix(key: impl Into<String>) -> Self {
        Query::of(Bounds::prefix(key.into().as_bytes()))
    }
    /// `start <= key <= end`.
    pub fn key_range(start: impl Into<String>, end: impl Into<String>) -> Self {
        Query::of(Bounds::key_range(
            start.into().as_bytes(),
            end.into().as_bytes(),
        ))
    }
    /// Every key, `start <= ts <= end`.
    pub fn time_range(start: i64, end: i64) -> Self {
        Query::of(Bounds::all().with_time(start, end))
    }
    /// Keys beginning with `key`, `start <= ts <= end`.
    pub fn prefix_time_range(key: impl Into<String>, start: i64, end: i64) -> Self {
        Query::of(Bounds::prefix(key.into().as_bytes()).with_time(start, end))
    }
    /// `start_key <= key <= end_key` and `start <= ts <= end`.
    pub fn key_time_range(
        start_key: impl Into<String>,
        end_key: impl Into<String>,
        start: i64,
        end: i64,
    ) -> Self {
        Query::of(
            Bounds::key_range(start_key.into().as_bytes(), end_key.into().as_bytes())
                .with_time(start, end),
        )
    }
}

/// The builder options `Query` and `ScanRange` share, written once.
macro_rules! read_options {
    ($t:ident) => {
        impl $t {
            fn of(bounds: Bounds) -> Self {
                $t {
                    bounds,
                    limit: None,
                }
            }

            /// This range with its time window set to `ts_start <= ts <= ts_end`
            /// (replacing the one it had, not narrowing it).
            pub fn with_time_range(mut self, ts_start: i64, ts_end: i64) -> Self {
                self.bounds = self.bounds.with_time(ts_start, ts_end);
                self
            }

            /// Newest first: records in descending `(key, ts)` order (the greatest key
            /// first, each key's points newest first), read backwards from the end of
            /// the range as RocksDB's reverse iterator does, not collected and turned
            /// round.
            pub fn reverse(mut self) -> Self {
                self.bounds.reverse = true;
                self
            }

            /// At most `n` records, the first `n` in the read's order: reading stops
            /// there, so a limited read costs about `n` records, not the range.
            /// `limit(0)` returns none.
            pub fn limit(mut self, n: usize) -> Self {
                self.limit = Some(n);
                self
            }

            /// True when the records come newest first (`reverse`).
            pub fn is_reverse(&self) -> bool {
                self.bounds.reverse
            }
        }
    };
}

read_options!(ScanRange);
read_options!(Query);

impl From<Query> for ScanRange {
    fn from(q: Query) -> Self {
        ScanRange {
            bounds: q.bounds,
            limit: q.limit,
        }
    }
}

/// The same records, collected at once by [`Engine::query`](crate::Engine::query).
impl From<ScanRange> for Query {
    fn from(r: ScanRange) -> Self {
        Query {
            bounds: r.bounds,
            limit: r.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(b"\xff\xff"), None);
        assert_eq!(prefix_successor(b""), None);
    }

    #[test]
    fn emptiness() {
        assert!(Bounds::all().with_time(5, 4).is_empty());
        assert!(Bounds::key_range(b"b", b"a").is_empty());
        assert!(!Bounds::key_range(b"a", b"a").is_empty());
        let p = Bounds::prefix(b"cpu.");
        assert!(!p.key_past_end(b"cpu.zzz"));
        assert!(p.key_past_end(b"cpv"));
    }
}
