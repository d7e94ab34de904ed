//! The document requests of the published API on a transaction: puts, gets, deletes,
//! counts, range reads and index lookups, each run through `run` or `read`.

use std::borrow::Cow;

use serde_json::Value;

use super::Transaction;
use crate::error::Result;
use crate::jsondb::doc::DocForm;
use crate::jsondb::range::{Direction, KeyRange};

impl Transaction<'_> {
    /// Puts a document (replacing one with the same key); returns its key.
    pub fn put(&mut self, store: &str, doc: Value) -> Result<Value> {
        self.run(true, &[store], |r| r.put(store, doc, false, false, None))
    }

    /// Puts a document under a newly generated key; returns the key.
    pub fn put_auto(&mut self, store: &str, doc: Value) -> Result<Value> {
        self.run(true, &[store], |r| r.put(store, doc, true, false, None))
    }

    pub fn get(&self, store: &str, key: &Value) -> Result<Option<Value>> {
        self.get_as(store, key)
    }

    /// `get`, in the document form `D`: [`Value`], or [`RawDoc`](crate::jsondb::RawDoc) for
    /// the stored JSON text as it is (no parsing; what the C API hands out).
    pub fn get_as<D: DocForm>(&self, store: &str, key: &Value) -> Result<Option<D>> {
        self.read(&[store], |r| r.get_doc(store, key))
    }

    pub fn delete(&mut self, store: &str, key: &Value) -> Result<()> {
        self.run(true, &[store], |r| r.delete(store, key))
    }

    pub fn count(&self, store: &str) -> Result<usize> {
        self.count_range(store, &KeyRange::all())
    }

    /// Every document, in primary-key order.
    pub fn scan(&self, store: &str) -> Result<Vec<Value>> {
        self.get_range(store, &KeyRange::all(), Direction::Next)
    }

    /// Documents whose primary key is in `range`, in `dir` order.
    pub fn get_range(&self, store: &str, range: &KeyRange, dir: Direction) -> Result<Vec<Value>> {
        self.get_range_as(store, range, dir)
    }

    /// `get_range`, in the document form `D` (see [`get_as`](Self::get_as)).
    pub fn get_range_as<D: DocForm>(
        &self,
        store: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Vec<D>> {
        self.read(&[store], |r| {
            let mut docs = Vec::new();
            r.store_range(store, range, &mut |_, bytes| {
                docs.push(D::stored(bytes)?);
                Ok(true)
            })?;
            if matches!(dir, Direction::Prev | Direction::PrevUnique) {
                docs.reverse();
            }
            Ok(docs)
        })
    }

    /// Documents whose index key equals `value`, in (index key, primary key) order
    /// (primary-key order for an exact key). On a compound index a key with fewer
    /// components (a scalar `"NYC"`, or `["NYC"]`) matches every entry that starts
    /// with it.
    pub fn get_by_index(&self, store: &str, index: &str, value: &Value) -> Result<Vec<Value>> {
        self.get_by_index_as(store, index, value)
    }

    /// `get_by_index`, in the document form `D` (see [`get_as`](Self::get_as)).
    pub fn get_by_index_as<D: DocForm>(
        &self,
        store: &str,
        index: &str,
        value: &Value,
    ) -> Result<Vec<D>> {
        self.lookup(store, index, |arity| KeyRange::index_eq(value, arity))
    }

    /// The published lookups: every document of `index` in the range `range_of(number
    /// of key paths)`, in (index key, primary key) order, the index looked up once.
    fn lookup<D: DocForm>(
        &self,
        store: &str,
        index: &str,
        range_of: impl FnOnce(usize) -> Result<KeyRange>,
    ) -> Result<Vec<D>> {
        self.read(&[store], |r| {
            let range_of = |arity| range_of(arity).map(Cow::Owned);
            r.index_query_by(store, index, range_of, Direction::Next, usize::MAX)
        })
    }

    /// Documents with `start <= index key < end` (half-open, as in the published
    /// crate: `[30, 30)` is empty), in (index key, primary key) order. On a compound
    /// index a scalar bound stands for the one-component array.
    pub fn range_by_index(
        &self,
        store: &str,
        index: &str,
        start: &Value,
        end: &Value,
    ) -> Result<Vec<Value>> {
        self.range_by_index_as(store, index, start, end)
    }

    /// `range_by_index`, in the document form `D` (see [`get_as`](Self::get_as)).
    pub fn range_by_index_as<D: DocForm>(
        &self,
        store: &str,
        index: &str,
        start: &Value,
        end: &Value,
    ) -> Result<Vec<D>> {
        self.lookup(store, index, |arity| {
            KeyRange::index_half_open(start, end, arity)
        })
    }

    /// Documents whose index key is in `range`, in `dir` order.
    pub fn index_query(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Vec<Value>> {
        self.index_query_as(store, index, range, dir)
    }

    /// `index_query`, in the document form `D` (see [`get_as`](Self::get_as)).
    pub fn index_query_as<D: DocForm>(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Vec<D>> {
        self.read(&[store], |r| {
            r.index_query(store, index, range, dir, usize::MAX)
        })
    }

    /// How many index entries have a key in `range`.
    pub fn count_by_index(&self, store: &str, index: &str, range: &KeyRange) -> Result<usize> {
        self.read(&[store], |r| {
            let mut n = 0;
            r.index_entries(store, index, range, &mut |_, _| {
                n += 1;
                Ok(true)
            })?;
            Ok(n)
        })
    }
}
