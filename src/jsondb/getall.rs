//! Bounded and key-only reads (IndexedDB's `getAll`, `getAllKeys`, `getAllRecords`,
//! `getKey`, `count`), on stores and on indexes, in transactions and on the database.
//!
//! `count` limits how many results come back; `None` and `Some(0)` both mean all of
//! them, as IndexedDB's `count` argument of 0 does (docs/jsondb.md).

use serde_json::Value;

use super::doc::DocForm;
use super::key::{self, KeyRef};
use super::range::{Direction, KeyRange};
use super::request::DocBuf;
use super::txn::Transaction;
use super::walk::{walk, Source};
use super::JsonDB;
use crate::error::{Error, Result};

/// A document with its keys, as `get_all_records` returns them (IndexedDB's
/// `IDBRecord`): `key` is the index key for an index, the primary key for a store.
#[derive(Clone, Debug, PartialEq)]
pub struct DocRecord<D = Value> {
    pub key: Value,
    pub primary_key: Value,
    pub value: D,
}

fn undecodable() -> Error {
    Error::Internal("undecodable stored key".into())
}

fn limit_of(count: Option<usize>) -> usize {
    match count {
        None | Some(0) => usize::MAX,
        Some(n) => n,
    }
}

#[inline]
pub(crate) fn decode_key(b: &[u8]) -> Result<Value> {
    if let Some(v) = key::decode_number(b) {
        return Ok(v);
    }
    key::decode(b).map(|(v, _)| v).ok_or_else(undecodable)
}

impl Transaction<'_> {
    /// The records of `store` (or its `index`) in `range`, in `dir` order, at most
    /// `count`: key, primary key and document.
    fn records<D: DocForm>(
        &self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        count: Option<usize>,
        dir: Direction,
    ) -> Result<Vec<DocRecord<D>>> {
        let limit = limit_of(count);
        self.read(&[store], |r| {
            let src = Source::resolve(r.catalog, store, index)?;
            let mut hits: Vec<(Value, Vec<u8>, Option<D>)> = Vec::new();
            if limit == 0 {
                return Ok(Vec::new());
            }
            let expect = limit.min(1024);
            walk(r, &src, src.bounds(range), dir, expect, &mut |h| {
                let doc = h.doc.map(D::stored).transpose()?;
                hits.push((decode_key(h.key)?, h.primary_key.to_vec(), doc));
                Ok(hits.len() < limit)
            })?;
            // Index entries' documents are read after the walk (no read inside one).
            let mut buf = DocBuf::default();
            let mut out = Vec::with_capacity(hits.len());
            for (key, pk, doc) in hits {
                let value = match doc {
                    Some(d) => d,
                    None if r.stored_doc_into(src.store, &pk, &mut buf)? => D::stored(&buf.doc)?,
                    None => continue, // cannot happen: entries and documents change together
                };
                let primary_key = match src.index {
                    None => key.clone(), // a store's key is its primary key
                    Some(_) => decode_key(&pk)?,
                };
                out.push(DocRecord {
                    key,
                    primary_key,
                    value,
                });
            }
            Ok(out)
        })
    }

    /// Primary keys of the entries in `range`, ascending, at most `count`, handed to
    /// `each` encoded as the walk finds them (no document read, nothing copied) until
    /// it returns false; returns how many `each` was handed.
    fn primary_keys_each(
        &self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        count: Option<usize>,
        mut each: impl FnMut(&[u8]) -> Result<bool>,
    ) -> Result<usize> {
        let limit = limit_of(count);
        self.read(&[store], |r| {
            let src = Source::resolve(r.catalog, store, index)?;
            if limit == 0 {
                return Ok(0);
            }
            let (expect, mut n) = (limit.min(1024), 0);
            walk(
                r,
                &src,
                src.bounds(range),
                Direction::Next,
                expect,
                &mut |h| {
                    let go = each(h.primary_key)?;
                    n += 1;
                    Ok(go && n < limit)
                },
            )?;
            Ok(n)
        })
    }

    /// `primary_keys_each`, decoded.
    fn primary_keys(
        &self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        let mut keys = Vec::new();
        self.primary_keys_each(store, index, range, count, |k| {
            keys.push(decode_key(k)?);
            Ok(true)
        })?;
        Ok(keys)
    }

    /// `primary_keys_each` handed out as [`KeyRef`]s; returns how many `each` took.
    fn primary_keys_lent(
        &self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        count: Option<usize>,
        mut each: impl FnMut(KeyRef<'_>) -> bool,
    ) -> Result<usize> {
        self.primary_keys_each(store, index, range, count, |k| {
            Ok(each(KeyRef::new(k).ok_or_else(undecodable)?))
        })
    }

    /// `primary_keys_each` as one JSON array text, each key written as it comes.
    fn primary_keys_json(
        &self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<String> {
        let mut text = Vec::with_capacity(64);
        text.push(b'[');
        self.primary_keys_each(store, index, range, count, |k| {
            if text.len() > 1 {
                text.push(b',');
            }
            key::write_json(k, &mut text).ok_or_else(undecodable)?;
            Ok(true)
        })?;
        text.push(b']');
        // serde_json writes UTF-8; checked all the same (about 1% of the call).
        String::from_utf8(text).map_err(|_| Error::Internal("a key's JSON is not UTF-8".into()))
    }

    /// Documents whose primary key is in `range`, ascending, at most `count`
    /// (`None` or `Some(0)`: all). IndexedDB's `store.getAll(range, count)`.
    pub fn get_all(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        let r = self.records::<Value>(store, None, range, count, Direction::Next)?;
        Ok(r.into_iter().map(|r| r.value).collect())
    }

    /// Primary keys in `range`, ascending, at most `count`; no document is read.
    pub fn get_all_keys(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        self.primary_keys(store, None, range, count)
    }

    /// [`get_all_keys`](Self::get_all_keys) as one JSON array text, the text
    /// `serde_json::to_string` makes of its result, written as the keys are found
    /// (no `Value` built for number keys): for callers that pass the keys on as JSON
    /// (the C API's form; a C query of 10,000 keys is 14–22% faster this way).
    pub fn get_all_keys_json(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<String> {
        self.primary_keys_json(store, None, range, count)
    }

    /// [`get_all_keys`](Self::get_all_keys) handed to `each` one at a time where
    /// they lie ([`KeyRef`]: no value built, nothing copied), until `each` returns
    /// false; returns how many keys `each` was handed. The fastest key-only read:
    /// the C API's `flowdb_*_get_all_keys_visit`.
    ///
    /// ```no_run
    /// use flowdb::jsondb::{IndexSchema, JsonDB, KeyRange, StoreSchema, TransactionMode};
    /// let db = JsonDB::open(flowdb::Config::new("./docs-data"))?;
    /// db.create_store(&StoreSchema::new("users", "id").index(IndexSchema::new("age", "age")))?;
    /// let tx = db.transaction(&["users"], TransactionMode::ReadOnly)?;
    /// let (mut sum, adults) = (0.0, KeyRange::lower_bound(&serde_json::json!(18), false)?);
    /// tx.get_all_keys_by_index_each("users", "age", &adults, None, |k| {
    ///     sum += k.as_f64().unwrap_or(0.0); // an id, read where it lies
    ///     true // false stops the walk
    /// })?;
    /// # Ok::<(), flowdb::Error>(())
    /// ```
    pub fn get_all_keys_each(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
        each: impl FnMut(KeyRef<'_>) -> bool,
    ) -> Result<usize> {
        self.primary_keys_lent(store, None, range, count, each)
    }

    /// Keys and documents together, in `dir` order, at most `count`
    /// (IndexedDB's `getAllRecords`). Documents in the form `D`: [`Value`], or
    /// [`RawDoc`](super::RawDoc) for the stored JSON text.
    pub fn get_all_records<D: DocForm>(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
        dir: Direction,
    ) -> Result<Vec<DocRecord<D>>> {
        self.records(store, None, range, count, dir)
    }

    /// The lowest primary key in `range`, if any (IndexedDB's `store.getKey`).
    pub fn get_key(&self, store: &str, range: &KeyRange) -> Result<Option<Value>> {
        Ok(self.get_all_keys(store, range, Some(1))?.pop())
    }

    /// How many documents have a primary key in `range` (IndexedDB's
    /// `store.count(range)`); counted from keys, no document is parsed.
    pub fn count_range(&self, store: &str, range: &KeyRange) -> Result<usize> {
        self.read(&[store], |r| {
            let src = Source::resolve(r.catalog, store, None)?;
            let mut n = 0;
            walk(r, &src, src.bounds(range), Direction::Next, 0, &mut |_| {
                n += 1;
                Ok(true)
            })?;
            Ok(n)
        })
    }

    /// Documents of `index` entries in `range`, in (index key, primary key) order,
    /// at most `count` (IndexedDB's `index.getAll`). A document is listed once per
    /// entry (a multi-entry index may list one several times).
    pub fn get_all_by_index(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        let r = self.records::<Value>(store, Some(index), range, count, Direction::Next)?;
        Ok(r.into_iter().map(|r| r.value).collect())
    }

    /// Primary keys of `index` entries in `range`, in (index key, primary key) order,
    /// at most `count`; no document is read (IndexedDB's `index.getAllKeys`).
    pub fn get_all_keys_by_index(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        self.primary_keys(store, Some(index), range, count)
    }

    /// [`get_all_keys_by_index`](Self::get_all_keys_by_index) as one JSON array text
    /// (as [`get_all_keys_json`](Self::get_all_keys_json)).
    pub fn get_all_keys_by_index_json(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<String> {
        self.primary_keys_json(store, Some(index), range, count)
    }

    /// [`get_all_keys_by_index`](Self::get_all_keys_by_index) handed to `each` one
    /// at a time where they lie (as [`get_all_keys_each`](Self::get_all_keys_each)).
    pub fn get_all_keys_by_index_each(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
        each: impl FnMut(KeyRef<'_>) -> bool,
    ) -> Result<usize> {
        self.primary_keys_lent(store, Some(index), range, count, each)
    }

    /// Index keys, primary keys and documents of `index` entries in `range`, in `dir`
    /// order, at most `count` (IndexedDB's `index.getAllRecords`).
    pub fn get_all_records_by_index<D: DocForm>(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
        dir: Direction,
    ) -> Result<Vec<DocRecord<D>>> {
        self.records(store, Some(index), range, count, dir)
    }

    /// The primary key of the first `index` entry in `range`, if any (IndexedDB's
    /// `index.getKey`).
    pub fn get_key_by_index(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
    ) -> Result<Option<Value>> {
        Ok(self
            .get_all_keys_by_index(store, index, range, Some(1))?
            .pop())
    }
}

impl JsonDB {
    /// [`Transaction::get_all`] in a read-only transaction of its own.
    pub fn get_all(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.get_all(store, range, count))
    }

    /// [`Transaction::get_all_keys`] in a read-only transaction of its own.
    pub fn get_all_keys(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.get_all_keys(store, range, count))
    }

    /// [`Transaction::get_all_keys_json`] in a read-only transaction of its own.
    pub fn get_all_keys_json(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<String> {
        self.read_one(store, |tx| tx.get_all_keys_json(store, range, count))
    }

    /// [`Transaction::get_all_keys_each`] in a read-only transaction of its own.
    pub fn get_all_keys_each(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
        each: impl FnMut(KeyRef<'_>) -> bool,
    ) -> Result<usize> {
        self.read_one(store, |tx| tx.get_all_keys_each(store, range, count, each))
    }

    /// [`Transaction::get_all_records`] in a read-only transaction of its own.
    pub fn get_all_records<D: DocForm>(
        &self,
        store: &str,
        range: &KeyRange,
        count: Option<usize>,
        dir: Direction,
    ) -> Result<Vec<DocRecord<D>>> {
        self.read_one(store, |tx| tx.get_all_records(store, range, count, dir))
    }

    /// [`Transaction::get_key`] in a read-only transaction of its own.
    pub fn get_key(&self, store: &str, range: &KeyRange) -> Result<Option<Value>> {
        self.read_one(store, |tx| tx.get_key(store, range))
    }

    /// [`Transaction::count_range`] in a read-only transaction of its own.
    pub fn count_range(&self, store: &str, range: &KeyRange) -> Result<usize> {
        self.read_one(store, |tx| tx.count_range(store, range))
    }

    /// [`Transaction::get_all_by_index`] in a read-only transaction of its own.
    pub fn get_all_by_index(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.get_all_by_index(store, index, range, count))
    }

    /// [`Transaction::get_all_keys_by_index`] in a read-only transaction of its own.
    pub fn get_all_keys_by_index(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<Vec<Value>> {
        self.read_one(store, |tx| {
            tx.get_all_keys_by_index(store, index, range, count)
        })
    }

    /// [`Transaction::get_all_keys_by_index_json`] in a read-only transaction of its
    /// own.
    pub fn get_all_keys_by_index_json(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
    ) -> Result<String> {
        self.read_one(store, |tx| {
            tx.get_all_keys_by_index_json(store, index, range, count)
        })
    }

    /// [`Transaction::get_all_keys_by_index_each`] in a read-only transaction of its
    /// own.
    pub fn get_all_keys_by_index_each(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
        each: impl FnMut(KeyRef<'_>) -> bool,
    ) -> Result<usize> {
        self.read_one(store, |tx| {
            tx.get_all_keys_by_index_each(store, index, range, count, each)
        })
    }

    /// [`Transaction::get_all_records_by_index`] in a read-only transaction of its own.
    pub fn get_all_records_by_index<D: DocForm>(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        count: Option<usize>,
        dir: Direction,
    ) -> Result<Vec<DocRecord<D>>> {
        self.read_one(store, |tx| {
            tx.get_all_records_by_index(store, index, range, count, dir)
        })
    }

    /// [`Transaction::get_key_by_index`] in a read-only transaction of its own.
    pub fn get_key_by_index(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
    ) -> Result<Option<Value>> {
        self.read_one(store, |tx| tx.get_key_by_index(store, index, range))
    }
}
