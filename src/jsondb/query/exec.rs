//! Running a query by its [`Plan`]: reading index entries or the store, checking the
//! filters the plan does not guarantee, and collecting the documents in the order
//! the plan yields (`execute` then reverses for `Desc` and applies offset and limit).

use serde_json::Value;

use super::plan::Plan;
use super::{QueryBuilder, SortDir};
use crate::error::Result;
use crate::jsondb::doc::{self, DocSink};
use crate::jsondb::layout::{index_prefix, split_entry};
use crate::jsondb::range::KeyRange;
use crate::jsondb::request::{DocBuf, Request};
use crate::jsondb::schema::{IndexEntry, StoreEntry};
use crate::jsondb::{key, keypath};

/// Below this many index entries (or 4 x offset+limit, when smaller), a range filter
/// is served from the index; above it a primary-key scan that stops early reads less.
const RANGE_INDEX_MAX: usize = 1000;

/// Most distinct index keys a limited range query merges by primary key.
const MERGE_MAX_KEYS: usize = 64;

/// Entries a merge cursor reads per refill.
const MERGE_CHUNK: usize = 8;

impl QueryBuilder<'_> {
    pub(super) fn execute<S: DocSink>(&self, r: &Request<'_>) -> Result<S> {
        let catalog = r.catalog; // a shared reference: no copy of the schema
        let s = catalog.store(self.store)?;
        let mut docs = S::default();
        if let Some(l) = self.limit {
            docs.expect(l.saturating_add(self.offset));
        }
        let reverse = matches!(self.order, Some((_, SortDir::Desc)));
        // `Desc` is the reverse of the ascending order, so it needs every match before
        // the cut: only ascending reads can stop at `offset + limit`.
        let want = if reverse { usize::MAX } else { self.wanted() };
        self.run(&self.plan(s), r, s, want, &mut docs)?;
        docs.cut(reverse, self.offset, self.limit.unwrap_or(usize::MAX));
        Ok(docs)
    }

    /// Adds the matching documents to `out` in the plan's order (ascending), stopping
    /// once it holds `want` where the plan can.
    fn run(
        &self,
        plan: &Plan<'_>,
        r: &Request<'_>,
        s: &StoreEntry,
        want: usize,
        out: &mut impl DocSink,
    ) -> Result<()> {
        match *plan {
            Plan::CompoundPrefix {
                index,
                ref prefix,
                ref served,
            } => {
                // The index key is [v1, .., vk, g]: entries starting [v1, .., vk] are
                // in g order.
                let mut start = Vec::with_capacity(64);
                start.push(0x50);
                for v in prefix {
                    start.extend_from_slice(v);
                }
                let end = [&start[..], &[0xff]].concat();
                self.read_index(r, (s, index), (&start, &end), want, served, out)
            }
            Plan::IndexOrder { index } => {
                let (start, end) = KeyRange::all().byte_bounds(&[]);
                self.read_index(r, (s, index), (&start, &end), want, &[], out)
            }
            Plan::SortedScan { field } => self.sorted_scan(r, field, out),
            Plan::IndexEq { index, filter, key } => {
                let end = [key, &[0xff]].concat();
                self.read_index(r, (s, index), (key, &end), want, &[filter], out)
            }
            Plan::IndexIn {
                index,
                filter,
                keys,
            } => {
                let ranges: Vec<(Vec<u8>, Vec<u8>)> = keys
                    .iter()
                    .map(|k| (k.clone(), [&k[..], &[0xff]].concat()))
                    .collect();
                // A list of keys is short: every entry is gathered (no cap, so
                // never `None`; the scan would give the same documents).
                match self.index_pks(r, s, index, &ranges, usize::MAX)? {
                    Some(pks) => self.read_pks(r, s, pks, filter, want, out),
                    None => self.scan(r, want, out),
                }
            }
            Plan::IndexRange {
                index,
                filter,
                lo,
                end,
                merge,
            } => {
                if merge {
                    if let Some(()) =
                        self.merge_range(r, (s, index), (lo, end), want, filter, out)?
                    {
                        return Ok(());
                    }
                }
                let cap = RANGE_INDEX_MAX.min(want.saturating_mul(4).max(64));
                match self.index_pks(r, s, index, &[(lo.to_vec(), end.to_vec())], cap)? {
                    Some(pks) => self.read_pks(r, s, pks, filter, want, out),
                    // Too many entries in range: a primary-key scan with early stop
                    // reads less.
                    None => self.scan(r, want, out),
                }
            }
            Plan::Scan => self.scan(r, want, out),
        }
    }

    fn all_match(&self, doc: &Value) -> bool {
        self.filters.iter().all(|f| f.matches(doc))
    }

    /// Adds the stored document `bytes` to `out` if it passes every filter but those
    /// in `served` (which the index plan guarantees already); parsed only when some
    /// filter is left to check.
    fn keep(&self, out: &mut impl DocSink, bytes: &[u8], served: &[usize]) -> Result<()> {
        let mut others = self
            .filters
            .iter()
            .enumerate()
            .filter(|(i, _)| !served.contains(i))
            .peekable();
        if others.peek().is_none() {
            return out.push_stored(bytes);
        }
        let doc = doc::parse(bytes)?;
        if others.all(|(_, f)| f.matches(&doc)) {
            out.push_parsed(doc, bytes);
        }
        Ok(())
    }

    /// Reads the document under primary key `pk` (through `buf`) and `keep`s it.
    fn read_keep(
        &self,
        r: &Request<'_>,
        s: &StoreEntry,
        pk: &[u8],
        buf: &mut DocBuf,
        served: &[usize],
        out: &mut impl DocSink,
    ) -> Result<()> {
        if r.stored_doc_into(s, pk, buf)? {
            self.keep(out, &buf.doc, served)?;
        }
        Ok(())
    }

    /// Adds the documents of index entries within raw byte bounds, filtered, in entry
    /// order; stops once `out` holds `want` documents.
    fn read_index(
        &self,
        r: &Request<'_>,
        (s, idx): (&StoreEntry, &IndexEntry),
        (start, end): (&[u8], &[u8]),
        want: usize,
        served: &[usize],
        out: &mut impl DocSink,
    ) -> Result<()> {
        if out.len() >= want {
            return Ok(());
        }
        let mut lo = index_prefix(s.id, idx.id);
        let plen = lo.len();
        let hi = [&lo[..], end].concat();
        lo.extend_from_slice(start);
        let mut buf = DocBuf::default();
        r.range_expecting(lo, hi, want - out.len(), &mut |k, v| {
            let (_, pk) = split_entry(idx.def.unique, &k[plen..], v)?;
            self.read_keep(r, s, pk, &mut buf, served, out)?;
            Ok(out.len() < want)
        })
    }

    /// The primary keys of `idx`'s entries within each `(start, end)` of index key
    /// bytes, in entry order; `None` once `cap` of them are gathered.
    fn index_pks(
        &self,
        r: &Request<'_>,
        s: &StoreEntry,
        idx: &IndexEntry,
        ranges: &[(Vec<u8>, Vec<u8>)],
        cap: usize,
    ) -> Result<Option<Vec<Vec<u8>>>> {
        let prefix = index_prefix(s.id, idx.id);
        let mut pks: Vec<Vec<u8>> = Vec::new();
        for (start, end) in ranges {
            let mut too_many = false;
            r.range(
                [&prefix[..], start].concat(),
                [&prefix[..], end].concat(),
                &mut |k, v| {
                    let (_, pk) = split_entry(idx.def.unique, &k[prefix.len()..], v)?;
                    pks.push(pk.to_vec());
                    too_many = pks.len() >= cap;
                    Ok(!too_many)
                },
            )?;
            if too_many {
                return Ok(None);
            }
        }
        Ok(Some(pks))
    }

    /// Adds the documents under `pks` in primary-key order, each once, checked
    /// against every filter but `served`; stops once `out` holds `want` documents.
    fn read_pks(
        &self,
        r: &Request<'_>,
        s: &StoreEntry,
        mut pks: Vec<Vec<u8>>,
        served: usize,
        want: usize,
        out: &mut impl DocSink,
    ) -> Result<()> {
        pks.sort();
        pks.dedup();
        let mut buf = DocBuf::default();
        for pk in pks {
            if out.len() >= want {
                break;
            }
            self.read_keep(r, s, &pk, &mut buf, &[served], out)?;
        }
        Ok(())
    }

    /// Adds the matching documents in primary-key order, read from the store itself;
    /// stops once `out` holds `want` documents.
    fn scan(&self, r: &Request<'_>, want: usize, out: &mut impl DocSink) -> Result<()> {
        if out.len() >= want {
            return Ok(());
        }
        r.store_range(self.store, &KeyRange::all(), &mut |_, bytes| {
            self.keep(out, bytes, &[])?;
            Ok(out.len() < want)
        })
    }

    /// Adds every matching document with a valid key at `g`, in `g` order (ties by
    /// primary key): no index gives that order, so all of them are read and sorted.
    fn sorted_scan(&self, r: &Request<'_>, g: &str, out: &mut impl DocSink) -> Result<()> {
        // (sort key, primary key, document, its stored text)
        type Keyed = (Vec<u8>, Vec<u8>, Value, Vec<u8>);
        let mut keyed: Vec<Keyed> = Vec::new();
        r.store_range(self.store, &KeyRange::all(), &mut |pk, bytes| {
            let doc = doc::parse(bytes)?;
            if let Some(k) = keypath::evaluate(&doc, g).and_then(|v| key::encode(&v).ok()) {
                if self.all_match(&doc) {
                    keyed.push((k, pk.to_vec(), doc, bytes.to_vec()));
                }
            }
            Ok(true)
        })?;
        keyed.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        for (_, _, doc, bytes) in keyed {
            out.push_parsed(doc, &bytes);
        }
        Ok(())
    }

    /// A range filter with a limit, in primary-key order. Within one index key the
    /// entries are in primary-key order, so a k-way merge of one cursor per distinct
    /// key in range (each refilled `MERGE_CHUNK` entries at a time from where it
    /// stopped) yields the matches in primary-key order, reading about as many entries
    /// as it returns. `None` when more than `MERGE_MAX_KEYS` keys are in range.
    fn merge_range(
        &self,
        r: &Request<'_>,
        (s, idx): (&StoreEntry, &IndexEntry),
        (lo, end_key): (&[u8], &[u8]),
        want: usize,
        served: usize,
        out: &mut impl DocSink,
    ) -> Result<Option<()>> {
        struct Cursor {
            buf: std::collections::VecDeque<Vec<u8>>,
            /// Engine keys still to read: `[from, to)`; `None` once exhausted.
            rest: Option<(Vec<u8>, Vec<u8>)>,
        }
        let prefix = index_prefix(s.id, idx.id);
        let unique = idx.def.unique;
        // Reads up to MERGE_CHUNK entries of one index key from `from`; returns them,
        // where to go on (if anything may be left), and the next index key seen.
        let read = |from: &[u8],
                    to: &[u8],
                    ikey: Option<&[u8]>|
         -> Result<(Vec<u8>, Cursor, Option<Vec<u8>>)> {
            let mut this: Option<Vec<u8>> = ikey.map(<[u8]>::to_vec);
            let mut next = None;
            let mut buf = std::collections::VecDeque::new();
            let mut last_key = Vec::new();
            // One entry past the chunk tells whether this index key goes on.
            r.range_expecting(from.to_vec(), to.to_vec(), MERGE_CHUNK + 1, &mut |k, v| {
                let (ik, pk) = split_entry(unique, &k[prefix.len()..], v)?;
                match &this {
                    None => this = Some(ik.to_vec()),
                    Some(t) if t.as_slice() != ik => {
                        next = Some(ik.to_vec());
                        return Ok(false);
                    }
                    _ => {}
                }
                buf.push_back(pk.to_vec());
                last_key = k.to_vec();
                Ok(buf.len() < MERGE_CHUNK)
            })?;
            let this = this.unwrap_or_default();
            let full = buf.len() == MERGE_CHUNK && next.is_none();
            let rest = full.then(|| {
                let mut from = last_key;
                from.push(0); // the smallest key after the last one read
                (from, [&prefix[..], &this, &[0xff]].concat())
            });
            Ok((this, Cursor { buf, rest }, next))
        };
        let end = [&prefix[..], end_key].concat();
        let mut cursors: Vec<Cursor> = Vec::new();
        let mut from = [&prefix[..], lo].concat();
        loop {
            let (ik, cursor, next) = read(&from, &end, None)?;
            if cursor.buf.is_empty() {
                break;
            }
            if cursors.len() == MERGE_MAX_KEYS {
                return Ok(None);
            }
            let cut = cursor.rest.is_some();
            cursors.push(cursor);
            from = match next {
                Some(nk) => [&prefix[..], &nk].concat(),
                // The scan ran off the end of the range: no key follows.
                None if !cut => break,
                None => [&prefix[..], &ik, &[0xff]].concat(),
            };
        }
        let mut buf = DocBuf::default();
        while out.len() < want {
            let Some(i) = (0..cursors.len())
                .filter(|i| !cursors[*i].buf.is_empty())
                .min_by(|a, b| cursors[*a].buf[0].cmp(&cursors[*b].buf[0]))
            else {
                break;
            };
            let Some(pk) = cursors[i].buf.pop_front() else {
                break;
            };
            if cursors[i].buf.is_empty() {
                if let Some((from, to)) = cursors[i].rest.take() {
                    let ik = to[prefix.len()..to.len() - 1].to_vec();
                    cursors[i] = read(&from, &to, Some(&ik))?.1;
                }
            }
            self.read_keep(r, s, &pk, &mut buf, &[served], out)?;
        }
        Ok(Some(()))
    }
}
