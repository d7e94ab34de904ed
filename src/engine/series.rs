//! Series listing: the distinct keys under a prefix with, per key, its point count
//! and first and last ts, from the tables' series blocks and the memtables' key maps,
//! without reading any point (docs/design.md, "Listing series").

use std::collections::VecDeque;

use super::{Engine, Inner, Snapshot};
use crate::config::ReadOptions;
use crate::entry::{Kind, RangeTombstone};
use crate::error::{Error, Result};
use crate::range::Bounds;
use crate::sstable::cursor::TableCursor;
use crate::sstable::reader::Table;
use crate::sstable::series::{SeriesInfo, SeriesIter};
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

/// Where one source's summaries come from: a memtable's, or a run's tables' series
/// blocks in key order, each read only when the listing reaches it (a page reads
/// the blocks it needs, not every table's).
enum Feed {
    Mem(std::vec::IntoIter<SeriesInfo>),
    /// The run's tables still to read, and the one being read with the sequence its
    /// entries carry.
    Run(VecDeque<Arc<Table>>, Option<(TableSeries, u64, Arc<str>)>),
}

/// One table's summaries: from its series block, or, for a table without one
/// (written before series blocks, or document-shaped), from its entries, a key at
/// a time as the listing asks (a page reads about as many keys as it lists).
enum TableSeries {
    Block(SeriesIter),
    Entries(Box<TableCursor>, Option<SeriesInfo>),
}

impl TableSeries {
    fn next(&mut self, name: &Arc<str>) -> Result<Option<SeriesInfo>> {
        match self {
            TableSeries::Block(it) => it
                .next_summary()
                .map_err(|()| Error::corruption(name, 0, "malformed series block")),
            TableSeries::Entries(cursor, cur) => {
                while let Some(e) = cursor.next_entry()? {
                    if e.kind == Kind::Delete {
                        continue;
                    }
                    match cur {
                        Some(c) if c.key == e.key => {
                            c.points += 1;
                            c.last_ts = e.ts;
                        }
                        _ => {
                            let new = SeriesInfo {
                                key: e.key,
                                points: 1,
                                first_ts: e.ts,
                                last_ts: e.ts,
                            };
                            if let Some(done) = cur.replace(new) {
                                return Ok(Some(done));
                            }
                        }
                    }
                }
                Ok(cur.take())
            }
        }
    }
}

impl Feed {
    fn next(&mut self, prefix: &[u8], from: &[u8]) -> Result<Option<(SeriesInfo, Option<u64>)>> {
        match self {
            Feed::Mem(it) => Ok(it.next().map(|s| (s, None))),
            Feed::Run(left, current) => loop {
                if let Some((it, seq, name)) = current {
                    if let Some(s) = it.next(name)? {
                        return Ok(Some((s, Some(*seq))));
                    }
                }
                let Some(t) = left.pop_front() else {
                    return Ok(None);
                };
                *current = Some((
                    table_series(&t, prefix, from)?,
                    t.meta.min_seq,
                    t.name().clone(),
                ));
            },
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
        let started = self.stats.query_timer();
        let out = list(snap, prefix, after, limit);
        self.stats.time_query(started);
        out
    }
}

/// `t`'s series block; for a table without one, its entries `>= from` under
/// `prefix`, summed a key at a time.
fn table_series(t: &Arc<Table>, prefix: &[u8], from: &[u8]) -> Result<TableSeries> {
    if let Some(it) = t.series()? {
        return Ok(TableSeries::Block(it));
    }
    let mut bounds = Bounds::prefix(prefix);
    bounds.start = from.to_vec();
    let cursor = TableCursor::new(t.clone(), Arc::new(bounds), ReadOptions::default());
    Ok(TableSeries::Entries(Box::new(cursor), None))
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
    let tables = &snap.sv.version.tables;
    for r in snap.sv.version.runs() {
        let run: VecDeque<Arc<Table>> = tables[r.clone()]
            .iter()
            .filter(|t| t.key_range().is_some_and(|(a, b)| in_range(a, b)))
            .cloned()
            .collect();
        if !run.is_empty() {
            feeds.push(Feed::Run(run, None));
        }
    }
    let tombstones = snap.range_tombstones().into_vec();
    let hidden = |s: &SeriesInfo, seq: u64| {
        tombstones.iter().any(|d: &RangeTombstone| {
            d.seq > seq && d.contains(&s.key, &s.key, s.first_ts, s.last_ts)
        })
    };
    // Each feed's next summary in range (a table's, unless a newer time-range delete
    // covers all of it).
    let advance = |feed: &mut Feed| -> Result<Option<SeriesInfo>> {
        while let Some((s, seq)) = feed.next(prefix, &from)? {
            if s.key < from {
                continue;
            }
            if !s.key.starts_with(prefix) {
                return Ok(None);
            }
            if seq.is_some_and(|seq| hidden(&s, seq)) {
                continue;
            }
            return Ok(Some(s));
        }
        Ok(None)
    };
    let mut heads: Vec<Option<SeriesInfo>> = Vec::with_capacity(feeds.len());
    for f in feeds.iter_mut() {
        heads.push(advance(f)?);
    }
    // The merge: the least head each step (feeds are few: the memtables and one per
    // run), its key's summaries from every feed folded into one.
    loop {
        let least = (0..heads.len())
            .filter(|&i| heads[i].is_some())
            .min_by(|&a, &b| {
                heads[a]
                    .as_ref()
                    .map(|s| &s.key)
                    .cmp(&heads[b].as_ref().map(|s| &s.key))
            });
        let Some(i) = least else { break };
        let s = heads[i].take().expect("chosen among the present");
        heads[i] = advance(&mut feeds[i])?;
        let full = out.len() == limit;
        match out.last_mut() {
            Some(last) if last.key == s.key => last.merge(&s),
            _ if full => break,
            _ => out.push(s),
        }
    }
    Ok(out)
}
