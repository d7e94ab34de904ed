//! Writes beyond `put` and `delete`: `add` (insert only), `delete_range` and `clear`
//! (IndexedDB's `add`, `delete(range)` and `clear`), in transactions and on the
//! database.

use serde_json::Value;

use super::layout::{doc_prefix, store_index_range};
use super::range::{Direction, KeyRange};
use super::txn::Transaction;
use super::walk::{walk, Source};
use super::JsonDB;
use crate::error::Result;
use crate::prefix_successor;

impl Transaction<'_> {
    /// Stores `doc` as a new document; a document with the same key already there is
    /// a `Constraint` error (and nothing changes). Returns the key.
    pub fn add(&mut self, store: &str, doc: Value) -> Result<Value> {
        self.run(true, &[store], |r| r.put(store, doc, false, true, None))
    }

    /// Stores `doc` under `key` in a store without a key path (out-of-line keys),
    /// replacing a document with that key; returns the key. On a store with a key
    /// path the key comes from the document, so this is a `Data` error.
    pub fn put_with_key(&mut self, store: &str, doc: Value, key: &Value) -> Result<Value> {
        self.run(true, &[store], |r| {
            r.put(store, doc, false, false, Some(key))
        })
    }

    /// `put_with_key` that fails with `Constraint` when `key` is taken.
    pub fn add_with_key(&mut self, store: &str, doc: Value, key: &Value) -> Result<Value> {
        self.run(true, &[store], |r| {
            r.put(store, doc, false, true, Some(key))
        })
    }

    /// Deletes every document whose primary key is in `range` (and its index
    /// entries), atomically: all of them or, on error, none.
    pub fn delete_range(&mut self, store: &str, range: &KeyRange) -> Result<()> {
        self.run(true, &[store], |r| {
            let src = Source::resolve(r.catalog, store, None)?;
            let mut keys: Vec<Vec<u8>> = Vec::new();
            walk(r, &src, src.bounds(range), Direction::Next, 0, &mut |h| {
                keys.push(h.primary_key.to_vec());
                Ok(true)
            })?;
            for pk in keys {
                r.delete_encoded(src.store, &pk)?;
            }
            Ok(())
        })
    }

    /// Deletes every document of `store` and every entry of its indexes, in time
    /// independent of the store's size (two range deletes); the key generator is
    /// kept, as in IndexedDB.
    pub fn clear(&mut self, store: &str) -> Result<()> {
        self.run(true, &[store], |_| Ok(()))?;
        let id = self.catalog().store(store)?.id;
        let docs = doc_prefix(id);
        let docs_end = prefix_successor(&docs).unwrap_or_else(|| vec![0x02]);
        self.stage_range_delete(docs, docs_end);
        let (start, end) = store_index_range(id);
        self.stage_range_delete(start, end);
        self.note_cleared(id);
        Ok(())
    }
}

impl JsonDB {
    /// [`Transaction::add`] in a transaction of its own.
    pub fn add(&self, store: &str, doc: Value) -> Result<Value> {
        self.write_one(store, |tx| tx.add(store, doc))
    }

    /// [`Transaction::put_with_key`] in a transaction of its own.
    pub fn put_with_key(&self, store: &str, doc: Value, key: &Value) -> Result<Value> {
        self.write_one(store, |tx| tx.put_with_key(store, doc, key))
    }

    /// [`Transaction::add_with_key`] in a transaction of its own.
    pub fn add_with_key(&self, store: &str, doc: Value, key: &Value) -> Result<Value> {
        self.write_one(store, |tx| tx.add_with_key(store, doc, key))
    }

    /// [`Transaction::delete_range`] in a transaction of its own.
    pub fn delete_range(&self, store: &str, range: &KeyRange) -> Result<()> {
        self.write_one(store, |tx| tx.delete_range(store, range))
    }

    /// [`Transaction::clear`] in a transaction of its own.
    pub fn clear(&self, store: &str) -> Result<()> {
        self.write_one(store, |tx| tx.clear(store))
    }
}
