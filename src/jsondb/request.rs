//! One request of a transaction (§transaction-construct's requests): its view, the
//! engine snapshot under the transaction's writes under its own, and the writes it
//! stages (`delta`), which the transaction keeps only when the request succeeds. Here
//! are the document operations themselves: reads through the overlays, `put` with key
//! generation, index maintenance with `unique`, deletes, and range and index walks.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::doc::DocForm;
use super::index::index_keys;
use super::layout::{
    doc_key, doc_key_into, doc_prefix, generator_key, index_entry, index_prefix, split_entry, TS,
};
use super::range::{Direction, KeyRange};
use super::schema::{Catalog, IndexEntry, StoreEntry};
use super::txn::{Overlay, MAX_GENERATED};
use super::{key, keypath};
use crate::engine::Snapshot;
use crate::error::{Error, Result};
use crate::ReadOptions;
use crate::ScanRange;

/// What a range read calls for each entry: `(key, value)`, borrowed for the call;
/// returning `false` stops the read.
pub(crate) type EntryFn<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

/// One request's view (its own writes, the transaction's, the snapshot) and writes.
pub(crate) struct Request<'t> {
    pub(super) snap: &'t Snapshot,
    pub(super) base: &'t Overlay,
    /// Key ranges this transaction deleted whole (`clear`, dropped stores and
    /// indexes): the snapshot's records in them are gone from this view.
    pub(super) dels: &'t [(Vec<u8>, Vec<u8>)],
    pub(crate) catalog: &'t Catalog,
    pub(super) delta: Overlay,
}

/// Buffers reused by `Request::stored_doc_into`: the engine key, and the document.
pub(crate) struct DocBuf {
    key: Vec<u8>,
    pub doc: Vec<u8>,
}

impl Default for DocBuf {
    fn default() -> Self {
        // Room for most keys and documents: neither grows document by document.
        DocBuf {
            key: Vec::with_capacity(64),
            doc: Vec::with_capacity(512),
        }
    }
}

impl Request<'_> {
    fn read(&self, k: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read_with(k, <[u8]>::to_vec)
    }

    /// `f` of the value under `k`, lent where it lies: the transaction's writes, or the
    /// engine (`Snapshot::with_value`: `f` must not read again).
    fn read_with<R>(&self, k: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        if let Some(v) = self.delta.get(k).or_else(|| self.base.get(k)) {
            return Ok(v.as_deref().map(f));
        }
        if self.deleted(k) {
            return Ok(None);
        }
        self.snap.get_with(k, TS, &ReadOptions::default(), f)
    }

    fn write(&mut self, k: Vec<u8>, v: Option<Vec<u8>>) {
        self.delta.insert(k, v);
    }

    /// Visits `(key, value)` in `[start, end)` in order, merged over the overlays, until
    /// `f` returns false.
    pub(crate) fn range(&self, start: Vec<u8>, end: Vec<u8>, f: &mut EntryFn<'_>) -> Result<()> {
        self.range_expecting(start, end, 0, f)
    }

    /// Whether `k` lies in a range this transaction deleted whole.
    pub(crate) fn deleted(&self, k: &[u8]) -> bool {
        self.dels
            .iter()
            .any(|(s, e)| k >= s.as_slice() && k < e.as_slice())
    }

    /// `range`, by a caller that expects to take about `expect` records (a limit):
    /// the engine reads that many at once (`Snapshot::visit`).
    pub(crate) fn range_expecting(
        &self,
        start: Vec<u8>,
        end: Vec<u8>,
        expect: usize,
        f: &mut EntryFn<'_>,
    ) -> Result<()> {
        self.range_dir(start, end, false, expect, f)
    }

    /// `range_expecting` in either direction: `reverse` visits `[start, end)` from
    /// its greatest key down.
    pub(crate) fn range_dir(
        &self,
        start: Vec<u8>,
        end: Vec<u8>,
        reverse: bool,
        expect: usize,
        f: &mut EntryFn<'_>,
    ) -> Result<()> {
        if start >= end {
            return Ok(());
        }
        if self.sees_engine_only(&start, &end) {
            // Nothing of this transaction's in the range (a read-only transaction's
            // case): the engine's records as they come, one call fewer each.
            return self.visit_engine(start, end, reverse, expect, f);
        }
        let mut overlay: BTreeMap<&[u8], &Option<Vec<u8>>> = BTreeMap::new();
        for layer in [self.base, &self.delta]
            .into_iter()
            .filter(|l| !l.is_empty())
        {
            for (k, v) in layer.range::<[u8], _>((
                std::ops::Bound::Included(&start[..]),
                std::ops::Bound::Excluded(&end[..]),
            )) {
                overlay.insert(k.as_slice(), v);
            }
        }
        // The engine's records, with this transaction's writes laid over them: an
        // overlay entry comes before every engine record past it (in the direction
        // read), and replaces the engine's record of the same key (a `None` deletes
        // it). Engine records in ranges deleted whole are skipped.
        let mut ov: Vec<_> = overlay.into_iter().collect();
        if reverse {
            ov.reverse();
        }
        let mut ov = ov.into_iter().peekable();
        let range = engine_range(start, end, reverse);
        let before = |ok: &[u8], k: &[u8]| if reverse { ok >= k } else { ok <= k };
        let mut going = true;
        self.snap.visit(range, expect, &mut |k, _, v| {
            while let Some((ok, ovv)) = ov.next_if(|(ok, _)| before(ok, k)) {
                if let Some(ovv) = ovv {
                    going = f(ok, ovv)?;
                    if !going {
                        return Ok(false);
                    }
                }
                if ok == k {
                    return Ok(true); // replaced (or deleted) by the overlay
                }
            }
            if !self.dels.is_empty() && self.deleted(k) {
                return Ok(true);
            }
            // Deliver before reading on: a visitor that stops here (a lookup
            // that found its entry) costs no extra record.
            going = f(k, v)?;
            Ok(going)
        })?;
        if going {
            for (k, v) in ov {
                if let Some(v) = v {
                    if !f(k, v)? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether this request sees `[start, end)` as the engine's snapshot holds it:
    /// no write of the transaction's in it and no range deleted whole.
    pub(crate) fn sees_engine_only(&self, start: &[u8], end: &[u8]) -> bool {
        let touched = |layer: &Overlay| {
            !layer.is_empty()
                && layer
                    .range::<[u8], _>((
                        std::ops::Bound::Included(start),
                        std::ops::Bound::Excluded(end),
                    ))
                    .next()
                    .is_some()
        };
        self.dels.is_empty() && !touched(self.base) && !touched(&self.delta)
    }

    /// The engine's records in `[start, end)` (in either direction) handed to `f`
    /// until it returns false, with nothing of the transaction's laid over them: for
    /// a range [`sees_engine_only`](Self::sees_engine_only). Generic, so `f` is
    /// compiled into the engine's one call a record.
    pub(crate) fn visit_engine(
        &self,
        start: Vec<u8>,
        end: Vec<u8>,
        reverse: bool,
        expect: usize,
        mut f: impl FnMut(&[u8], &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let range = engine_range(start, end, reverse);
        self.snap.visit(range, expect, &mut |k, _, v| f(k, v))
    }

    fn store(&self, name: &str) -> Result<&StoreEntry> {
        self.catalog.store(name)
    }

    pub(crate) fn get_doc<D: DocForm>(&self, store: &str, key: &Value) -> Result<Option<D>> {
        let s = self.store(store)?;
        self.doc_by_pk_as(s, &key::encode(key)?)
    }

    fn generator(&self, store: u32) -> Result<u64> {
        match self.read(&generator_key(store))? {
            None => Ok(1),
            Some(b) => b
                .as_slice()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| {
                    Error::Internal(format!(
                        "key generator record of store {store} is malformed"
                    ))
                }),
        }
    }

    fn set_generator(&mut self, store: u32, next: u64) {
        self.write(generator_key(store), Some(next.to_be_bytes().to_vec()));
    }

    pub(crate) fn put(
        &mut self,
        store: &str,
        mut doc: Value,
        force_generate: bool,
        no_overwrite: bool,
        out_of_line_key: Option<&Value>,
    ) -> Result<Value> {
        let catalog = self.catalog;
        let s = catalog.store(store)?;
        if force_generate && !s.auto_increment {
            return Err(Error::Data(format!(
                "object store {store:?} is not auto-increment (it has no key generator)"
            )));
        }
        let out_of_line = keypath::is_none(&s.key_path);
        match (out_of_line, out_of_line_key) {
            (false, Some(_)) => {
                return Err(Error::Data(format!(
                    "object store {store:?} has in-line keys (key path {:?}): the key comes from the document, so give none",
                    s.key_path
                )))
            }
            (true, None) if !s.auto_increment => {
                return Err(Error::Data(format!(
                    "object store {store:?} has out-of-line keys and no key generator: give the key beside the document (put_with_key)"
                )))
            }
            _ => {}
        }
        let given = if force_generate {
            None
        } else if out_of_line {
            out_of_line_key.cloned()
        } else {
            keypath::evaluate_text(&doc, &s.key_path)
        };
        let key = match given {
            Some(k) => {
                key::validate(&k).map_err(|e| {
                    Error::Data(format!(
                        "document key at {:?} in store {store:?}: {e}",
                        s.key_path
                    ))
                })?;
                if s.auto_increment {
                    if let Some(n) = k.as_f64() {
                        let next = if n >= MAX_GENERATED as f64 {
                            MAX_GENERATED + 1
                        } else {
                            n.floor().max(0.0) as u64 + 1
                        };
                        if next > self.generator(s.id)? {
                            self.set_generator(s.id, next);
                        }
                    }
                }
                k
            }
            None => {
                if !s.auto_increment {
                    return Err(Error::Data(format!(
                        "document is missing its key at {:?}, and object store {store:?} has no key generator",
                        s.key_path
                    )));
                }
                let g = self.generator(s.id)?;
                if g > MAX_GENERATED {
                    return Err(Error::Constraint(format!(
                        "the key generator of object store {store:?} is past 2^53"
                    )));
                }
                let k = Value::from(g);
                if !out_of_line {
                    keypath::inject(&mut doc, &s.key_path, k.clone())?;
                }
                self.set_generator(s.id, g + 1);
                k
            }
        };
        let pk = key::encode(&key)?;
        super::doc::check_depth(&doc)?;
        let old = self.doc_by_pk(s, &pk)?;
        if no_overwrite && old.is_some() {
            return Err(Error::Constraint(format!(
                "object store {store:?} already holds a document with key {key}"
            )));
        }
        for idx in &s.indexes {
            self.update_index(s, idx, &pk, old.as_ref(), Some(&doc))?;
        }
        let bytes = serde_json::to_vec(&doc)
            .map_err(|e| Error::Data(format!("document cannot be serialized: {e}")))?;
        self.write(doc_key(s.id, &pk), Some(bytes));
        Ok(key)
    }

    /// Moves a document's entries of one index from `old` to `new`, enforcing `unique`.
    pub(crate) fn update_index(
        &mut self,
        s: &StoreEntry,
        idx: &IndexEntry,
        pk: &[u8],
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> Result<()> {
        // Both sorted and distinct (index_keys): membership by binary search, so a
        // multi-entry array of n values costs n log n, not n².
        let old_keys = old.map(|d| index_keys(&idx.def, d)).unwrap_or_default();
        let new_keys = new.map(|d| index_keys(&idx.def, d)).unwrap_or_default();
        let in_old = |k: &&Vec<u8>| old_keys.binary_search(k).is_ok();
        let in_new = |k: &&Vec<u8>| new_keys.binary_search(k).is_ok();
        let unique = idx.def.unique;
        if unique {
            for k in new_keys.iter().filter(|k| !in_old(k)) {
                let (entry, _) = index_entry(s.id, idx.id, true, k, pk);
                if self.read(&entry)?.is_some_and(|holder| holder != pk) {
                    let shown = key::decode(k)
                        .map(|(v, _)| v.to_string())
                        .unwrap_or_default();
                    return Err(Error::Constraint(format!(
                        "unique index {:?} of object store {:?} already holds key {shown}",
                        idx.def.name, s.name
                    )));
                }
            }
        }
        for k in old_keys.iter().filter(|k| !in_new(k)) {
            self.write(index_entry(s.id, idx.id, unique, k, pk).0, None);
        }
        for k in new_keys.iter().filter(|k| !in_old(k)) {
            let (entry, value) = index_entry(s.id, idx.id, unique, k, pk);
            self.write(entry, Some(value));
        }
        Ok(())
    }

    pub(crate) fn delete(&mut self, store: &str, key: &Value) -> Result<()> {
        let catalog = self.catalog;
        let s = catalog.store(store)?;
        self.delete_encoded(s, &key::encode(key)?)
    }

    /// Deletes the document under an encoded primary key, and its index entries.
    pub(crate) fn delete_encoded(&mut self, s: &StoreEntry, pk: &[u8]) -> Result<()> {
        let pk = pk.to_vec();
        let Some(old) = self.doc_by_pk(s, &pk)? else {
            return Ok(());
        };
        for idx in &s.indexes {
            self.update_index(s, idx, &pk, Some(&old), None)?;
        }
        self.write(doc_key(s.id, &pk), None);
        Ok(())
    }

    /// Visits `(primary key bytes, stored document)` whose key is in `range`, ascending.
    pub(crate) fn store_range(
        &self,
        store: &str,
        range: &KeyRange,
        f: &mut EntryFn<'_>,
    ) -> Result<()> {
        let s = self.store(store)?;
        let prefix = doc_prefix(s.id);
        let (start, end) = range.byte_bounds(&prefix);
        self.range(start, end, &mut |k, v| f(&k[prefix.len()..], v))
    }

    /// Visits `(index key bytes, primary key bytes)` of entries in `range`, ascending.
    pub(crate) fn index_entries(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        f: &mut EntryFn<'_>,
    ) -> Result<()> {
        let s = self.store(store)?;
        self.entries_of(s, s.index(index)?, range, f)
    }

    /// `index_entries` of an index already looked up.
    fn entries_of(
        &self,
        s: &StoreEntry,
        idx: &IndexEntry,
        range: &KeyRange,
        f: &mut EntryFn<'_>,
    ) -> Result<()> {
        let prefix = index_prefix(s.id, idx.id);
        let (start, end) = range.byte_bounds(&prefix);
        let unique = idx.def.unique;
        self.range(start, end, &mut |k, v| {
            let (ik, pk) = split_entry(unique, &k[prefix.len()..], v)?;
            f(ik, pk)
        })
    }

    /// The document stored under an encoded primary key.
    pub(crate) fn doc_by_pk(&self, s: &StoreEntry, pk: &[u8]) -> Result<Option<Value>> {
        self.doc_by_pk_as(s, pk)
    }

    /// `doc_by_pk`, in the document form `D`.
    pub(crate) fn doc_by_pk_as<D: DocForm>(&self, s: &StoreEntry, pk: &[u8]) -> Result<Option<D>> {
        self.stored_doc(s, pk)?.map(D::stored_owned).transpose()
    }

    /// The stored bytes of the document under an encoded primary key, with room for
    /// one byte more: the C binding hands the text out as a C string, its NUL added
    /// without moving it (`CString::new` on an exact Vec reallocated and copied).
    pub(crate) fn stored_doc(&self, s: &StoreEntry, pk: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read_with(&doc_key(s.id, pk), |v| {
            let mut text = Vec::with_capacity(v.len() + 1);
            text.extend_from_slice(v);
            text
        })
    }

    /// `stored_doc` into `buf.doc` (replacing what it held), for a reader of many
    /// documents that reuses one `DocBuf`; false when there is no such document.
    pub(crate) fn stored_doc_into(
        &self,
        s: &StoreEntry,
        pk: &[u8],
        buf: &mut DocBuf,
    ) -> Result<bool> {
        doc_key_into(s.id, pk, &mut buf.key);
        let doc = &mut buf.doc;
        let found = self.read_with(&buf.key, |v| {
            doc.clear();
            doc.extend_from_slice(v);
        })?;
        Ok(found.is_some())
    }

    /// Documents of index entries in `range`, in `dir` order, at most `limit`.
    pub(crate) fn index_query<D: DocForm>(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<D>> {
        self.index_query_by(store, index, |_| Ok(Cow::Borrowed(range)), dir, limit)
    }

    /// `index_query` over the range `range_of(number of key paths)` (the published
    /// lookups, whose range depends on whether the index is compound): the store and
    /// index are looked up once.
    pub(crate) fn index_query_by<'r, D: DocForm>(
        &self,
        store: &str,
        index: &str,
        range_of: impl FnOnce(usize) -> Result<Cow<'r, KeyRange>>,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<D>> {
        let s = self.store(store)?;
        let idx = s.index(index)?;
        let range = &*range_of(idx.def.key_paths.len())?;
        if let (true, Some(ik), true) = (idx.def.unique, range.single_key(), limit > 0) {
            // A unique index holds at most one entry per key: one point read.
            let (k, _) = index_entry(s.id, idx.id, true, ik, &[]);
            return match self.read(&k)? {
                Some(pk) => Ok(self.doc_by_pk_as(s, &pk)?.into_iter().collect()),
                None => Ok(Vec::new()),
            };
        }
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let forward = matches!(dir, Direction::Next | Direction::NextUnique);
        let unique = matches!(dir, Direction::NextUnique | Direction::PrevUnique);
        self.entries_of(s, idx, range, &mut |ik, pk| {
            if unique
                && entries
                    .last()
                    .is_some_and(|(last, _)| last.as_slice() == ik)
            {
                return Ok(true); // the lowest primary key of each index key is kept
            }
            entries.push((ik.to_vec(), pk.to_vec()));
            Ok(!forward || entries.len() < limit)
        })?;
        if !forward {
            entries.reverse();
        }
        entries.truncate(limit);
        let mut docs = Vec::with_capacity(entries.len());
        for (_, pk) in entries {
            if let Some(d) = self.doc_by_pk_as(s, &pk)? {
                docs.push(d);
            }
        }
        Ok(docs)
    }
}

/// The engine range of JsonDB records in `[start, end)` (all stored at ts `TS`),
/// read from its greatest key down when `reverse`.
fn engine_range(start: Vec<u8>, end: Vec<u8>, reverse: bool) -> ScanRange {
    let range = ScanRange::key_range_half_open(start, end).with_time_range(TS, TS);
    if reverse {
        range.reverse()
    } else {
        range
    }
}
