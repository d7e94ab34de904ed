//! The internal form of a stored item, shared by memtables, tables, the WAL and the
//! merge: a versioned put or point tombstone, and range tombstones.
//!
//! Order is `(key bytes, ts)` ascending, then newest version (highest `seq`) first.
//! A range tombstone `[start, end)` × `[ts_lo, ts_hi]` with sequence `s` hides every
//! entry of that key and time region whose sequence is lower than `s`. Table entries carry no sequence on disk:
//! tables are kept in age order, so every entry of a table takes the table's
//! smallest sequence (see docs/design.md, "Sequence numbers").

use std::cmp::Ordering;

/// What an entry says about its `(key, ts)`.
///
/// A word, not a byte: the structs that carry a kind (`Entry`, the block iterator's
/// `Raw`, the walks' heads) were padded to 8 bytes around it already, so this costs
/// no space, and it leaves no seven-byte hole behind the kind. rustc copied such holes
/// with overlapping 4-byte moves wherever a `Result<Option<..>>` holding one was
/// passed up, and each copy cost a store-forwarding stall (~15 cycles) per record:
/// ~40% of a table scan's loop (docs/design.md, "Reads").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Kind {
    /// A value of opaque bytes.
    Put,
    /// A numeric point: the value is an `f64`'s 8 bytes, little-endian
    /// (`Engine::write_points`). Read back as those bytes by every read; aggregation
    /// reads only these.
    Num,
    Delete,
}

impl Kind {
    /// Whether the entry holds a value (a put of bytes or of a number).
    #[inline]
    pub(crate) fn is_put(self) -> bool {
        !matches!(self, Kind::Delete)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub key: Vec<u8>,
    pub ts: i64,
    pub seq: u64,
    pub kind: Kind,
    pub expire_at: i64,
    pub value: Vec<u8>,
}

/// An entry's parts borrowed where they lie (a memtable's chunk, a table's block):
/// what lending reads and the table writer pass instead of building an [`Entry`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryRef<'a> {
    pub key: &'a [u8],
    pub ts: i64,
    pub seq: u64,
    pub kind: Kind,
    pub expire_at: i64,
    pub value: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// A table entry as a table cursor lends it (key, ts, kind, expiry, value), with
    /// the table's sequence.
    #[inline]
    pub(crate) fn in_table(
        (key, ts, kind, expire_at, value): (&'a [u8], i64, Kind, i64, &'a [u8]),
        seq: u64,
    ) -> Self {
        EntryRef {
            key,
            ts,
            seq,
            kind,
            expire_at,
            value,
        }
    }

    /// The entry, its key and value copied.
    pub(crate) fn to_entry(self) -> Entry {
        Entry {
            key: self.key.to_vec(),
            ts: self.ts,
            seq: self.seq,
            kind: self.kind,
            expire_at: self.expire_at,
            value: self.value.to_vec(),
        }
    }
}

impl Entry {
    /// This entry's parts, borrowed.
    #[cfg(test)]
    pub(crate) fn as_ref(&self) -> EntryRef<'_> {
        EntryRef {
            key: &self.key,
            ts: self.ts,
            seq: self.seq,
            kind: self.kind,
            expire_at: self.expire_at,
            value: &self.value,
        }
    }

    pub(crate) fn is_live(&self, now: i64) -> bool {
        self.is_live_at(|| now)
    }

    /// `is_live`, asking for the time only when the record can expire.
    pub(crate) fn is_live_at(&self, now: impl FnOnce() -> i64) -> bool {
        live(self.kind, self.expire_at, now)
    }

    pub(crate) fn into_record(self) -> crate::Record {
        crate::Record {
            key: self.key,
            ts: self.ts,
            expire_at: self.expire_at,
            value: self.value,
        }
    }
}

/// A put that has not expired; the time is asked for only when it can expire.
#[inline(always)]
pub(crate) fn live(kind: Kind, expire_at: i64, now: impl FnOnce() -> i64) -> bool {
    kind.is_put() && (expire_at == crate::record::NEVER_EXPIRES || expire_at > now())
}

/// The version a point read found, without the `(key, ts)` the reader asked for:
/// so a read that wants only the value copies no key. `V` is the value: owned, lent
/// in place by a memtable (`&[u8]`, `Memtable::peek`), or either (`Cow`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found<V = Vec<u8>> {
    pub seq: u64,
    pub kind: Kind,
    pub expire_at: i64,
    pub value: V,
}

impl<V> Found<V> {
    pub(crate) fn is_live_at(&self, now: impl FnOnce() -> i64) -> bool {
        live(self.kind, self.expire_at, now)
    }

    /// This version with its value turned into another form (lent, copied, owned).
    pub(crate) fn map<W>(self, f: impl FnOnce(V) -> W) -> Found<W> {
        Found {
            seq: self.seq,
            kind: self.kind,
            expire_at: self.expire_at,
            value: f(self.value),
        }
    }
}

impl Found {
    pub(crate) fn into_entry(self, key: &[u8], ts: i64) -> Entry {
        Entry {
            key: key.to_vec(),
            ts,
            seq: self.seq,
            kind: self.kind,
            expire_at: self.expire_at,
            value: self.value,
        }
    }
}

/// `(key, ts)` order, the order of every result.
pub(crate) fn cmp_key_ts(ak: &[u8], ats: i64, bk: &[u8], bts: i64) -> Ordering {
    crate::util::key_order::compare(ak, bk).then(ats.cmp(&bts))
}

/// Deletes every version older than `seq` of every record with `start <= key < end`
/// and `ts_lo <= ts <= ts_hi`. An empty `end` means no upper key bound (a valid
/// half-open range never ends at the empty key, so the empty end is free to mean
/// "to the end"); `delete_range` deletes all of time (`i64::MIN..=i64::MAX`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RangeTombstone {
    pub start: Vec<u8>,
    pub end: Vec<u8>,
    pub ts_lo: i64,
    pub ts_hi: i64,
    pub seq: u64,
}

impl RangeTombstone {
    /// A tombstone over every ts (what `delete_range` writes).
    pub(crate) fn keys(start: Vec<u8>, end: Vec<u8>, seq: u64) -> Self {
        RangeTombstone {
            start,
            end,
            ts_lo: i64::MIN,
            ts_hi: i64::MAX,
            seq,
        }
    }

    pub(crate) fn covers(&self, key: &[u8], ts: i64, seq: u64) -> bool {
        seq < self.seq && self.ts_lo <= ts && ts <= self.ts_hi && self.holds_key(key)
    }

    fn holds_key(&self, key: &[u8]) -> bool {
        self.start.as_slice() <= key && (self.end.is_empty() || key < self.end.as_slice())
    }

    /// True when every record with a key in `[first, last]` and a ts in `[min_ts,
    /// max_ts]` lies in this tombstone's region (whatever its sequence).
    pub(crate) fn contains(&self, first: &[u8], last: &[u8], min_ts: i64, max_ts: i64) -> bool {
        self.ts_lo <= min_ts
            && max_ts <= self.ts_hi
            && self.holds_key(first)
            && self.holds_key(last)
    }

    /// True when some record with a key in `[first, last]` and a ts in `[min_ts,
    /// max_ts]` could lie in this tombstone's region.
    pub(crate) fn overlaps(&self, first: &[u8], last: &[u8], min_ts: i64, max_ts: i64) -> bool {
        self.ts_lo <= max_ts
            && min_ts <= self.ts_hi
            && self.start.as_slice() <= last
            && (self.end.is_empty() || first < self.end.as_slice())
    }

    /// True when this tombstone hides everything `other` hides (a region at least as
    /// large, a higher sequence): `other` can be left out of reads.
    pub(crate) fn dominates(&self, other: &RangeTombstone) -> bool {
        self.seq >= other.seq
            && self.ts_lo <= other.ts_lo
            && other.ts_hi <= self.ts_hi
            && self.start <= other.start
            && (self.end.is_empty() || (!other.end.is_empty() && other.end <= self.end))
    }
}

/// A set of range tombstones, asked whether one hides a given entry.
#[derive(Clone, Debug, Default)]
pub(crate) struct RangeTombstones {
    list: Vec<RangeTombstone>,
}

impl RangeTombstones {
    pub(crate) fn extend(&mut self, ts: impl IntoIterator<Item = RangeTombstone>) {
        self.list.extend(ts);
    }

    pub(crate) fn hides(&self, key: &[u8], ts: i64, seq: u64) -> bool {
        self.list.iter().any(|t| t.covers(key, ts, seq))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Keeps only the tombstones that could hide a record with a key from `start`
    /// up to `last` (inclusive; `None`: no upper limit) and a ts in `[lo, hi]`: a
    /// read of that region needs no others.
    pub(crate) fn retain_touching(&mut self, start: &[u8], last: Option<&[u8]>, lo: i64, hi: i64) {
        self.list.retain(|t| {
            t.ts_lo <= hi
                && lo <= t.ts_hi
                && last.map_or(true, |l| t.start.as_slice() <= l)
                && (t.end.is_empty() || start < t.end.as_slice())
        });
    }

    pub(crate) fn into_vec(self) -> Vec<RangeTombstone> {
        self.list
    }
}
