//! Series listing: the distinct keys under a prefix with, per key, its point count
//! and first and last ts, from the tables' series blocks and the memtables' key maps,
//! without reading any point (docs/design.md, "Listing series").

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::{Engine, Inner, Snapshot};
use crate::config::ReadOptions;
use crate::entry::RangeTombstone;
use crate::error::{Error, Result};
use crate::range::Bounds;
use crate::sstable::cursor::TableCursor;
use crate::sstable::reader::Table;
use crate::sstable::series::{SeriesBuilder, SeriesInfo, SeriesIter, Summary};
use crate::version;
use std::sync::Arc;

impl Engine {
    /// Every series whose key begins with `prefix` (the empty prefix: all), in key
    /// order, from metadata: no point is read (see [`SeriesInfo`] for what is
    /// estimated).
    pub fn series(&self, prefix: &str) -> Result<Vec<SeriesInfo>> {
        self.series_page(prefix.as_bytes(), b"", usize::MAX)
    }

    /// One page of `series`: at most `limit` series under `prefix` whose key is
    /// greater than `after` (the empty `after`: from the first). The next page
    /// starts after the last key of this one.
    pub fn series_page(
        &self,
        prefix: &[u8],
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<SeriesInfo>> {
        self.inner
            .series_at(&self.inner.snapshot(), prefix, after, limit)
    }
}

impl Snapshot {
    /// [`Engine::series`] as of the snapshot.
    pub fn series(&self, prefix: &str) -> Result<Vec<SeriesInfo>> {
        self.series_page(prefix.as_bytes(), b"", usize::MAX)
    }

    /// [`Engine::series_page`] as of the snapshot.
    pub fn series_page(
        &self,
        prefix: &[u8],
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<SeriesInfo>> {
        self.engine()?.series_at(self.view(), prefix, after, limit)
    }
}

/// Where one source's summaries come from.
enum Feed {
    Mem(std::vec::IntoIter<Summary>),
    /// A table's series block, and the sequence its entries carry.
    Table(SeriesIter, u64, std::sync::Arc<str>),
}

impl Feed {
    fn next(&mut self) -> Result<Option<Summary>> {
        match self {
            Feed::Mem(it) => Ok(it.next()),
            Feed::Table(it, _, name) => it
                .next_summary()
                .map_err(|()| Error::corruption(name, 0, "malformed series block")),
        }
    }
}

impl Inner {
    pub(crate) fn series_at(
        &self,
        snap: &version::Snapshot,
        prefix: &[u8],
        after: &[u8],
        limit: usize,
    ) -> Result<Vec<SeriesInfo>> {
        self.check_open()?;
        let started = Instant::now();
        let out = list(snap, prefix, after, limit);
        self.stats.time_query(started);
        out
    }
}

/// The summaries of the keys `>= from` under `prefix` in `t`, from its entries.
fn summaries_by_scan(t: &Arc<Table>, prefix: &[u8], from: &[u8]) -> Result<Vec<Summary>> {
    let mut bounds = Bounds::prefix(prefix);
    bounds.start = from.to_vec();
    let mut cursor = TableCursor::new(t.clone(), Arc::new(bounds), ReadOptions::default());
    let mut series = SeriesBuilder::default();
    while let Some(e) = cursor.next_entry()? {
        series.add(&e);
    }
    let mut it = SeriesIter::new(series.finish()).expect("just encoded");
    let mut out = Vec::new();
    while let Some(s) = it.next_summary().expect("just encoded") {
        out.push(s);
    }
    Ok(out)
}

/// The merge of every source's summaries under `prefix`, after `after`.
fn list(
    snap: &version::Snapshot,
    prefix: &[u8],
    after: &[u8],
    limit: usize,
) -> Result<Vec<SeriesInfo>> {
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    // The first key listed: just after `after`, or the prefix.
    let from: Vec<u8> = match after {
        a if !a.is_empty() && a >= prefix => [a, &[0]].concat(),
        _ => prefix.to_vec(),
    };
    let end = crate::range::prefix_successor(prefix);
    let in_range = |first: &[u8], last: &[u8]| {
        last >= from.as_slice() && end.as_deref().map_or(true, |e| first < e)
    };
    let mut feeds: Vec<Feed> = snap
        .sv
        .memtables()
        .map(|m| Feed::Mem(m.series(prefix, &from, limit, snap.seq).into_iter()))
        .collect();
    for t in &snap.sv.version.tables {
        if !t.key_range().is_some_and(|(a, b)| in_range(a, b)) {
            continue;
        }
        match t.series()? {
            Some(it) => feeds.push(Feed::Table(it, t.meta.min_seq, t.name().clone())),
            // A table written before series blocks existed is read whole.
            None => feeds.push(Feed::Mem(summaries_by_scan(t, prefix, &from)?.into_iter())),
        }
    }
    let tombstones = snap.range_tombstones().into_vec();
    let hidden = |s: &Summary, seq: u64| {
        tombstones.iter().any(|d: &RangeTombstone| {
            d.seq > seq && d.contains(&s.key, &s.key, s.first_ts, s.last_ts)
        })
    };
    // Each feed's next summary in range, and a heap of (key, feed) to merge them.
    let mut heads: Vec<Option<Summary>> = Vec::with_capacity(feeds.len());
    let mut heap = BinaryHeap::new();
    let advance = |i: usize, feeds: &mut Vec<Feed>| -> Result<Option<Summary>> {
        while let Some(s) = feeds[i].next()? {
            if s.key < from {
                continue;
            }
            if !s.key.starts_with(prefix) {
                return Ok(None);
            }
            if let Feed::Table(_, seq, _) = &feeds[i] {
                if hidden(&s, *seq) {
                    continue;
                }
            }
            return Ok(Some(s));
        }
        Ok(None)
    };
    for i in 0..feeds.len() {
        let s = advance(i, &mut feeds)?;
        if let Some(s) = &s {
            heap.push(Reverse((s.key.clone(), i)));
        }
        heads.push(s);
    }
    while let Some(Reverse((key, i))) = heap.pop() {
        let s = heads[i].take().expect("a feed in the heap has a head");
        let full = out.len() == limit;
        match out.last_mut() {
            Some(last) if last.key == key => last.merge(&s),
            _ if full => break,
            _ => out.push(s),
        }
        if let Some(n) = advance(i, &mut feeds)? {
            heap.push(Reverse((n.key.clone(), i)));
            heads[i] = Some(n);
        }
    }
    Ok(out)
}
