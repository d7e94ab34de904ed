//! The query builder: `where_eq`, `where_range` (half-open, `start <= field < end`, as
//! in the published flowdb crate), `where_in`,
//! `order_by`, `offset`, `limit`. It uses an index when one serves the query and
//! otherwise scans and filters; both ways give identical results (tests run every
//! query both ways via [`QueryBuilder::scan_only`]).
//!
//! Results are in primary-key order unless `order_by(field)` orders them by that
//! field's key order (ties by primary key; `Desc` is the exact reverse). Documents
//! without a valid key at the `order_by` field are left out, as an index would leave
//! them out. Plans, in order of preference:
//! - `order_by(g)` with equality filters on `f1..fk` and an index on `[f1..fk, g]`:
//!   a prefix scan of that compound index, already in `g` order;
//! - `order_by(g)` with an index on `g`: a scan of that index;
//! - no `order_by`, an equality (or `in`) filter with an index: its entries are in
//!   primary-key order within a key;
//! - no `order_by`, a range filter with an index and a limit: a k-way merge by
//!   primary key of one lazy cursor per distinct key in range (each key's entries are
//!   already in primary-key order), when at most 64 keys are in range;
//! - no `order_by`, a range filter with an index matching few entries (under 1,000,
//!   or under 4 x (offset + limit) when a limit is set): those entries' documents,
//!   sorted by primary key;
//! - otherwise a primary-key scan, stopping once `offset + limit` documents matched.
//!
//! `offset`/`limit` apply after ordering and stop the scan early in ascending plans.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::Value;
use smallvec::SmallVec;

use super::doc::{self, DocSink};
use super::layout::{index_prefix, split_entry};
use super::range::KeyRange;
use super::request::{DocBuf, Request};
use super::schema::{IndexEntry, StoreEntry};
use super::{key, keypath, JsonDB, TransactionMode};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

/// A filter on a field, its keys encoded. The field and an equality's key are
/// borrowed when the caller keeps them (`where_key_eq`: the C API's built query).
enum Filter<'a> {
    Eq(Cow<'a, str>, Cow<'a, [u8]>),
    Range(Cow<'a, str>, Vec<u8>, Vec<u8>),
    In(Cow<'a, str>, Vec<Vec<u8>>),
}

impl Filter<'_> {
    fn field(&self) -> &str {
        match self {
            Filter::Eq(f, _) | Filter::Range(f, _, _) | Filter::In(f, _) => f,
        }
    }

    fn matches(&self, doc: &Value) -> bool {
        let Some(k) = keypath::evaluate(doc, self.field()).and_then(|v| key::encode(&v).ok())
        else {
            return false;
        };
        match self {
            Filter::Eq(_, e) => k == **e,
            Filter::Range(_, lo, end) => *lo <= k && k < *end,
            Filter::In(_, set) => set.contains(&k),
        }
    }
}

/// A query over one store; build it with `JsonDB::query`, run it with `collect`.
pub struct QueryBuilder<'a> {
    db: &'a JsonDB,
    store: &'a str,
    filters: Vec<Filter<'a>>,
    order: Option<(Cow<'a, str>, SortDir)>,
    limit: Option<usize>,
    offset: usize,
    use_indexes: bool,
    error: Option<Error>,
}

impl std::fmt::Debug for QueryBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryBuilder")
            .field("store", &self.store)
            .field("filters", &self.filters.len())
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// Below this many index entries (or 4 x offset+limit, when smaller), a range filter
/// is served from the index; above it a primary-key scan that stops early reads less.
const RANGE_INDEX_MAX: usize = 1000;

/// Most distinct index keys a limited range query merges by primary key.
const MERGE_MAX_KEYS: usize = 64;

/// Entries a merge cursor reads per refill.
const MERGE_CHUNK: usize = 8;

impl<'a> QueryBuilder<'a> {
    pub fn new(db: &'a JsonDB, store: &'a str) -> Self {
        QueryBuilder {
            db,
            store,
            filters: Vec::new(),
            order: None,
            limit: None,
            offset: 0,
            use_indexes: true,
            error: None,
        }
    }

    fn encode(&mut self, v: &Value) -> Vec<u8> {
        match key::encode(v) {
            Ok(k) => k,
            Err(e) => {
                self.error.get_or_insert(e);
                Vec::new()
            }
        }
    }

    /// Documents whose `field` equals `value` (a valid key).
    pub fn where_eq(mut self, field: &str, value: Value) -> Self {
        let k = self.encode(&value);
        self.filters
            .push(Filter::Eq(Cow::Owned(field.to_string()), Cow::Owned(k)));
        self
    }

    /// `where_eq` with the value's key already encoded ([`encode_key`](super::encode_key)),
    /// both borrowed for the query's life: for callers that build a query from steps
    /// they keep (the C API does), without copying them per run.
    pub fn where_key_eq(mut self, field: &'a str, key: &'a [u8]) -> Self {
        self.filters
            .push(Filter::Eq(Cow::Borrowed(field), Cow::Borrowed(key)));
        self
    }

    /// Documents with `start <= field < end` in key order (half-open, as the
    /// published crate's `where_range`: `[30, 30)` and `start > end` match nothing).
    pub fn where_range(mut self, field: &str, start: Value, end: Value) -> Self {
        let (lo, end) = (self.encode(&start), self.encode(&end));
        self.filters
            .push(Filter::Range(Cow::Owned(field.to_string()), lo, end));
        self
    }

    /// Documents whose `field` equals one of `values`; each document once.
    pub fn where_in(mut self, field: &str, values: Vec<Value>) -> Self {
        let mut ks: Vec<Vec<u8>> = values.iter().map(|v| self.encode(v)).collect();
        ks.sort();
        ks.dedup();
        self.filters
            .push(Filter::In(Cow::Owned(field.to_string()), ks));
        self
    }

    pub fn order_by(mut self, field: &str, dir: SortDir) -> Self {
        self.order = Some((Cow::Owned(field.to_string()), dir));
        self
    }

    /// `order_by` with the field borrowed for the query's life (see
    /// [`where_key_eq`](Self::where_key_eq)).
    pub fn order_by_field(mut self, field: &'a str, dir: SortDir) -> Self {
        self.order = Some((Cow::Borrowed(field), dir));
        self
    }

    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    pub fn offset(mut self, n: usize) -> Self {
        self.offset = n;
        self
    }

    /// Ignores indexes (scan and filter): for checking plans against each other.
    pub fn scan_only(mut self) -> Self {
        self.use_indexes = false;
        self
    }

    /// Runs the query in a read-only transaction.
    pub fn collect(self) -> Result<Vec<Value>> {
        self.collect_as()
    }

    /// `collect`, into a [`DocSink`](super::DocSink): a `Vec` of [`Value`]s or
    /// [`RawDoc`](super::RawDoc)s, or one JSON array text ([`DocArray`](super::DocArray)).
    pub fn collect_as<S: DocSink>(mut self) -> Result<S> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let store = self.store;
        let tx = self.db.transaction(&[store], TransactionMode::ReadOnly)?;
        tx.read(&[store], |r| self.execute(r))
    }

    /// `collect`, deserializing each document.
    pub fn collect_doc<T: DeserializeOwned>(self) -> Result<Vec<T>> {
        self.collect()?
            .into_iter()
            .map(|v| {
                serde_json::from_value(v).map_err(|e| {
                    Error::Data(format!("document does not fit the requested type: {e}"))
                })
            })
            .collect()
    }

    fn wanted(&self) -> usize {
        self.limit
            .map_or(usize::MAX, |l| self.offset.saturating_add(l))
    }

    fn single_index<'s>(&self, s: &'s StoreEntry, field: &str) -> Option<&'s IndexEntry> {
        if !self.use_indexes {
            return None;
        }
        s.indexes.iter().find(|i| {
            !i.def.multi_entry && i.def.key_paths.len() == 1 && i.def.key_paths[0] == field
        })
    }

    fn execute<S: DocSink>(&self, r: &Request<'_>) -> Result<S> {
        let catalog = r.catalog; // a shared reference: no copy of the schema
        let s = catalog.store(self.store)?;
        let mut docs = S::default();
        if let Some(l) = self.limit {
            docs.expect(l.saturating_add(self.offset));
        }
        let reverse = match &self.order {
            Some((g, dir)) => {
                self.ordered(r, s, g, *dir, &mut docs)?;
                *dir == SortDir::Desc
            }
            None => {
                self.by_primary_key(r, s, &mut docs)?;
                false
            }
        };
        docs.cut(reverse, self.offset, self.limit.unwrap_or(usize::MAX));
        Ok(docs)
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
    fn from_index(
        &self,
        r: &Request<'_>,
        s: &StoreEntry,
        idx: &IndexEntry,
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

    /// Adds the matching documents in `g` order, ascending: `execute` reverses them
    /// for `Desc`.
    fn ordered(
        &self,
        r: &Request<'_>,
        s: &StoreEntry,
        g: &str,
        dir: SortDir,
        out: &mut impl DocSink,
    ) -> Result<()> {
        let want = if dir == SortDir::Asc {
            self.wanted()
        } else {
            usize::MAX
        };
        let eqs: SmallVec<[(&str, &[u8]); 4]> = self
            .filters
            .iter()
            .filter_map(|f| match f {
                Filter::Eq(field, k) => Some((&**field, &**k)),
                _ => None,
            })
            .collect();
        let compound = s.indexes.iter().find(|i| {
            let p = &i.def.key_paths;
            self.use_indexes
                && !i.def.multi_entry
                && !eqs.is_empty()
                && p.len() == eqs.len() + 1
                && p.last().is_some_and(|l| l == g)
                && p[..eqs.len()]
                    .iter()
                    .all(|f| eqs.iter().filter(|(e, _)| *e == f).count() == 1)
        });
        if let Some(idx) = compound {
            // The index key is [v1, .., vk, g]: entries starting [v1, .., vk] are in g order.
            let mut start = Vec::with_capacity(64);
            start.push(0x50);
            for p in &idx.def.key_paths[..eqs.len()] {
                let v = eqs
                    .iter()
                    .find(|(e, _)| e == p)
                    .map(|(_, v)| *v)
                    .unwrap_or_default();
                start.extend_from_slice(v);
            }
            let end = [&start[..], &[0xff]].concat();
            // Every equality filter is a prefix of the index key: the index serves them.
            let served: SmallVec<[usize; 4]> = (0..self.filters.len())
                .filter(|i| matches!(self.filters[*i], Filter::Eq(..)))
                .collect();
            self.from_index(r, s, idx, (&start, &end), want, &served, out)
        } else if let Some(idx) = self.single_index(s, g) {
            let (start, end) = KeyRange::all().byte_bounds(&[]);
            self.from_index(r, s, idx, (&start, &end), want, &[], out)
        } else {
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
    }

    /// A range filter with a limit, in primary-key order. Within one index key the
    /// entries are in primary-key order, so a k-way merge of one cursor per distinct
    /// key in range (each refilled `MERGE_CHUNK` entries at a time from where it
    /// stopped) yields the matches in primary-key order, reading about as many entries
    /// as it returns. `None` when more than `MERGE_MAX_KEYS` keys are in range.
    fn merge_range(
        &self,
        r: &Request<'_>,
        s: &StoreEntry,
        idx: &IndexEntry,
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

    /// Adds the matching documents in primary-key order.
    fn by_primary_key(
        &self,
        r: &Request<'_>,
        s: &StoreEntry,
        out: &mut impl DocSink,
    ) -> Result<()> {
        let want = self.wanted();
        for (fi, f) in self.filters.iter().enumerate() {
            let Some(idx) = self.single_index(s, f.field()) else {
                continue;
            };
            let keys: Vec<(Vec<u8>, Vec<u8>)> = match f {
                Filter::Eq(_, k) => vec![(k.to_vec(), [&k[..], &[0xff]].concat())],
                Filter::In(_, ks) => ks
                    .iter()
                    .map(|k| (k.clone(), [&k[..], &[0xff]].concat()))
                    .collect(),
                Filter::Range(_, lo, end) => vec![(lo.clone(), end.clone())],
            };
            if let Filter::Eq(..) = f {
                let (start, end) = &keys[0];
                return self.from_index(r, s, idx, (start, end), want, &[fi], out);
            }
            if let (Filter::Range(_, lo, end), true) = (f, want < usize::MAX) {
                if let Some(()) = self.merge_range(r, s, idx, (lo, end), want, fi, out)? {
                    return Ok(());
                }
            }
            // Gather primary keys (bounded for ranges), then visit them in order.
            let prefix = index_prefix(s.id, idx.id);
            let mut pks: Vec<Vec<u8>> = Vec::new();
            let mut too_many = false;
            for (start, end) in &keys {
                r.range(
                    [&prefix[..], start].concat(),
                    [&prefix[..], end].concat(),
                    &mut |k, v| {
                        let (_, pk) = split_entry(idx.def.unique, &k[prefix.len()..], v)?;
                        pks.push(pk.to_vec());
                        too_many = matches!(f, Filter::Range(..))
                            && pks.len() >= RANGE_INDEX_MAX.min(want.saturating_mul(4).max(64));
                        Ok(!too_many)
                    },
                )?;
            }
            if too_many {
                break; // a primary-key scan with early stop reads less
            }
            pks.sort();
            pks.dedup();
            let mut buf = DocBuf::default();
            for pk in pks {
                if out.len() >= want {
                    break;
                }
                self.read_keep(r, s, &pk, &mut buf, &[fi], out)?;
            }
            return Ok(());
        }
        if out.len() >= want {
            return Ok(());
        }
        r.store_range(self.store, &KeyRange::all(), &mut |_, bytes| {
            self.keep(out, bytes, &[])?;
            Ok(out.len() < want)
        })
    }
}
