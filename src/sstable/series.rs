//! A table's series block: one summary per key (its point count and first and last
//! ts), written as the table is built, so that listing the series under a prefix
//! reads one small block per table instead of the points (`Engine::series`).
//!
//! ## Format (a zstd block; its handle is in the properties block)
//! `count: varint`, then per key in key order: `shared: varint` (bytes in common with
//! the previous key), `suffix: bytes`, `points: varint` (puts; deletes are not
//! counted), `first_ts: zigzag varint`, `last_ts - first_ts: varint`. A key whose
//! entries are all deletes has no summary.

#[cfg(test)]
use crate::entry::Entry;
use crate::entry::{EntryRef, Kind};
use crate::util::coding::{put_bytes, put_varint, put_varint_i64, shared_prefix, Decoder};

/// One series (a distinct key) as the metadata describes it
/// ([`Engine::series`](crate::Engine::series)). `points` is an estimate: it counts
/// versions not yet merged away (an overwritten point counts once per version, a
/// deleted one until compaction drops it). `first_ts` and `last_ts` are the first
/// and last ts stored for the key: exact unless points were deleted since (deletes
/// leave them as they were until compaction, except a time-range delete covering a
/// whole table's part of the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesInfo {
    pub key: Vec<u8>,
    pub points: u64,
    pub first_ts: i64,
    pub last_ts: i64,
}

impl SeriesInfo {
    /// Folds in another source's summary of the same key.
    pub(crate) fn merge(&mut self, o: &SeriesInfo) {
        self.points += o.points;
        self.first_ts = self.first_ts.min(o.first_ts);
        self.last_ts = self.last_ts.max(o.last_ts);
    }
}

/// Keys summed before a table may be judged document-shaped.
const JUDGE_AFTER_KEYS: u64 = 4096;

/// Builds the series block from a table's entries, in order (`default()`: one that
/// never gives up, for tests).
#[derive(Default)]
pub(crate) struct SeriesBuilder {
    cur: Option<SeriesInfo>,
    prev_key: Vec<u8>,
    count: u64,
    points: u64,
    /// Gives up on a document-shaped table (`for_table`).
    judging: bool,
    abandoned: bool,
    buf: Vec<u8>,
}

impl SeriesBuilder {
    /// A builder for a table being written. A table averaging fewer than two records
    /// a key (documents, index entries, change logs: one version a key) gets no series
    /// block: its summary would be about as large as its keys, built in memory while
    /// the table is written (1M documents: ~150 MiB more peak RSS, docs/benchmarks.md),
    /// for a listing nobody asks of it. `series` sums such a table's entries a key at
    /// a time as it lists them, as for a table from before series blocks.
    pub(crate) fn for_table() -> Self {
        SeriesBuilder {
            judging: true,
            ..SeriesBuilder::default()
        }
    }

    #[cfg(test)]
    pub(crate) fn add(&mut self, e: &Entry) {
        self.add_ref(e.as_ref());
    }

    /// [`add`](Self::add) of an entry's borrowed parts.
    pub(crate) fn add_ref(&mut self, e: EntryRef<'_>) {
        if e.kind == Kind::Delete || self.abandoned {
            return;
        }
        match &mut self.cur {
            Some(c) if c.key == e.key => {
                c.points += 1;
                c.last_ts = e.ts;
            }
            _ => {
                self.flush();
                self.cur = Some(SeriesInfo {
                    key: e.key.to_vec(),
                    points: 1,
                    first_ts: e.ts,
                    last_ts: e.ts,
                });
            }
        }
    }

    fn flush(&mut self) {
        let Some(c) = self.cur.take() else {
            return;
        };
        let shared = shared_prefix(&c.key, &self.prev_key);
        put_varint(&mut self.buf, shared as u64);
        put_bytes(&mut self.buf, &c.key[shared..]);
        put_varint(&mut self.buf, c.points);
        put_varint_i64(&mut self.buf, c.first_ts);
        put_varint(&mut self.buf, c.last_ts.wrapping_sub(c.first_ts) as u64);
        self.prev_key = c.key;
        self.count += 1;
        self.points += c.points;
        if self.judging && self.count >= JUDGE_AFTER_KEYS && self.points < 2 * self.count {
            *self = SeriesBuilder {
                abandoned: true,
                ..SeriesBuilder::default()
            };
        }
    }

    /// The encoded block; `None` for a document-shaped table (`for_table`).
    pub(crate) fn finish(mut self) -> Option<Vec<u8>> {
        self.flush();
        if self.abandoned {
            return None;
        }
        let mut out = Vec::with_capacity(self.buf.len() + 10);
        put_varint(&mut out, self.count);
        out.extend_from_slice(&self.buf);
        Some(out)
    }
}

/// The summaries of a decoded series block, read in key order.
pub(crate) struct SeriesIter {
    data: Vec<u8>,
    pos: usize,
    left: u64,
    key: Vec<u8>,
}

impl SeriesIter {
    /// `None` when the block is malformed.
    pub(crate) fn new(data: Vec<u8>) -> Option<Self> {
        let mut d = Decoder::new(&data);
        let left = d.varint()?;
        let pos = d.pos();
        Some(SeriesIter {
            data,
            pos,
            left,
            key: Vec::new(),
        })
    }

    /// The next summary; `Err(())` when the block is malformed.
    #[allow(clippy::result_unit_err)]
    pub(crate) fn next_summary(&mut self) -> Result<Option<SeriesInfo>, ()> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let mut d = Decoder::at(&self.data, self.pos);
        let mut step = || -> Option<SeriesInfo> {
            let shared = d.varint_usize()?;
            let suffix = d.bytes()?;
            if shared > self.key.len() {
                return None;
            }
            self.key.truncate(shared);
            self.key.extend_from_slice(suffix);
            let points = d.varint()?;
            let first_ts = d.varint_i64()?;
            let last_ts = first_ts.wrapping_add(d.varint()? as i64);
            Some(SeriesInfo {
                key: self.key.clone(),
                points,
                first_ts,
                last_ts,
            })
        };
        let s = step().ok_or(())?;
        self.pos = d.pos();
        Ok(Some(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(key: &str, ts: i64, kind: Kind) -> Entry {
        Entry {
            key: key.as_bytes().to_vec(),
            ts,
            seq: 0,
            kind,
            expire_at: i64::MAX,
            value: Vec::new(),
        }
    }

    /// A table of one record a key gets no block once 4,096 keys show it; a table of
    /// series (two or more records a key) keeps its block; the fallback builder
    /// (`default()`) never gives up.
    #[test]
    fn document_shaped_tables_get_no_series_block() {
        let mut docs = SeriesBuilder::for_table();
        let mut fallback = SeriesBuilder::default();
        let mut series = SeriesBuilder::for_table();
        for i in 0..10_000 {
            let key = format!("doc{i:06}");
            docs.add(&e(&key, 1, Kind::Put));
            fallback.add(&e(&key, 1, Kind::Put));
            for ts in 0..2 {
                series.add(&e(&key, ts, Kind::Put));
            }
        }
        assert!(docs.abandoned && docs.buf.capacity() == 0);
        assert!(docs.finish().is_none());
        let mut it = SeriesIter::new(fallback.finish().unwrap()).unwrap();
        let mut n = 0;
        while it.next_summary().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 10_000);
        assert!(series.finish().is_some());
    }

    #[test]
    fn round_trip() {
        let mut b = SeriesBuilder::default();
        for x in [
            e("cpu.1", -5, Kind::Put),
            e("cpu.1", 7, Kind::Put),
            e("cpu.1", 9, Kind::Delete),
            e("cpu.10", i64::MIN, Kind::Put),
            e("cpu.10", i64::MAX, Kind::Put),
            e("gone", 1, Kind::Delete),
            e("mem", 3, Kind::Put),
        ] {
            b.add(&x);
        }
        let data = b.finish().unwrap();
        let mut it = SeriesIter::new(data.clone()).unwrap();
        let mut got = Vec::new();
        while let Some(s) = it.next_summary().unwrap() {
            got.push((
                String::from_utf8(s.key).unwrap(),
                s.points,
                s.first_ts,
                s.last_ts,
            ));
        }
        assert_eq!(
            got,
            [
                ("cpu.1".to_string(), 2, -5, 7),
                ("cpu.10".to_string(), 2, i64::MIN, i64::MAX),
                ("mem".to_string(), 1, 3, 3),
            ]
        );
        let mut cut = SeriesIter::new(data[..data.len() - 1].to_vec()).unwrap();
        let mut failed = false;
        for _ in 0..4 {
            if cut.next_summary().is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "a truncated block is an error");
    }
}
