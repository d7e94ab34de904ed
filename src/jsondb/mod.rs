//! JsonDB: an IndexedDB-compatible JSON document layer on the engine.
//!
//! Object stores hold JSON documents under in-line key paths (with an optional key
//! generator); indexes (single, compound, unique, multi-entry) are kept in step on
//! every write; keys are encoded so that byte order is IndexedDB key order, making
//! every lookup a byte-range scan. Every write — a single `put`/`delete` or a whole
//! transaction — is one atomic engine batch, durable by the engine's sync mode. The
//! rules are those of the W3C Indexed Database API; docs/jsondb.md records the
//! choices it leaves open and flowdb's extensions.

pub(crate) mod doc;
mod index;
pub(crate) mod key;
mod keypath;
mod layout;
mod query;
mod range;
mod request;
mod scheduler;
mod schema;
mod txn;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use query::{QueryBuilder, SortDir};
pub use range::{Direction, KeyRange};
pub use schema::{IndexDef, IndexSchema, StoreDef, StoreSchema};
pub use txn::{Transaction, TransactionMode};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::prefix_successor;
use crate::{Config, ReadOptions};
use layout::{catalog_key, doc_prefix, generator_key, index_prefix, store_index_range, TS};
use scheduler::Scheduler;
use schema::{Catalog, IndexEntry, StoreEntry};

/// How long a transaction waits for an overlapping one before failing with `Busy`.
pub const DEFAULT_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON document database over an [`Engine`]. `Send + Sync`: share it by reference.
pub struct JsonDB {
    engine: Engine,
    catalog: RwLock<Arc<Catalog>>,
    scheduler: Scheduler,
    schema_lock: Mutex<()>,
}

impl std::fmt::Debug for JsonDB {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonDB")
            .field("engine", &self.engine)
            .field("stores", &self.store_names())
            .finish_non_exhaustive()
    }
}

/// Something usable as a primary key: strings, integers and JSON values.
pub trait KeyArg {
    fn into_value(self) -> Value;
}

impl KeyArg for &str {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}
impl KeyArg for String {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}
impl KeyArg for i64 {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}
impl KeyArg for i32 {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}
impl KeyArg for u64 {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}
impl KeyArg for u32 {
    fn into_value(self) -> Value {
        Value::from(self)
    }
}
impl KeyArg for Value {
    fn into_value(self) -> Value {
        self
    }
}
impl KeyArg for &Value {
    fn into_value(self) -> Value {
        self.clone()
    }
}

impl JsonDB {
    /// Opens the engine on `config` and the document layer on it.
    pub fn open(config: Config) -> Result<Self> {
        Self::from_engine(Engine::open(config)?)
    }

    /// The document layer on an open engine (its schema is read from the engine).
    pub fn from_engine(engine: Engine) -> Result<Self> {
        let catalog = match engine.get_bytes(&catalog_key(), TS, &ReadOptions::default())? {
            Some(r) => serde_json::from_slice(&r.value)
                .map_err(|e| Error::corruption("JsonDB catalog record", 0, e.to_string()))?,
            None => Catalog::default(),
        };
        Ok(JsonDB {
            engine,
            catalog: RwLock::new(Arc::new(catalog)),
            scheduler: Scheduler::new(DEFAULT_TRANSACTION_TIMEOUT),
            schema_lock: Mutex::new(()),
        })
    }

    /// Shuts the engine down (flush, stop background work, release the lock).
    pub fn shutdown(self) -> Result<()> {
        self.engine.shutdown()
    }

    /// Flushes and syncs; stays usable.
    pub fn close(&self) -> Result<()> {
        self.engine.close()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Sets how long a transaction waits for overlapping ones before `Busy`.
    pub fn set_transaction_timeout(&self, timeout: Duration) {
        self.scheduler.set_timeout(timeout);
    }

    /// Starts a transaction over `stores`; it waits for overlapping transactions
    /// created before it (see docs/jsondb.md, "Transactions").
    pub fn transaction<'db>(
        &'db self,
        stores: &[&str],
        mode: TransactionMode,
    ) -> Result<Transaction<'db>> {
        Transaction::begin(self, stores, mode)
    }

    fn commit_catalog(&self, mut tx: Transaction<'_>, catalog: Catalog) -> Result<()> {
        let bytes = serde_json::to_vec(&catalog).map_err(|e| Error::Internal(e.to_string()))?;
        tx.stage_raw(catalog_key(), Some(bytes));
        let catalog = Arc::new(catalog);
        tx.commit_then(|| *self.catalog.write() = catalog)
    }

    // ---- schema ----

    /// Creates a store whose documents carry their key at `key_path`. Creating a store
    /// that exists with the same definition does nothing (apps create their stores at
    /// every start); with another definition it fails with `Constraint`.
    pub fn create_object_store(&self, name: &str, key_path: &str) -> Result<()> {
        self.create_store_as(&StoreSchema::new(name, key_path), true)
    }

    /// Creates a store with options: a key generator, indexes. Store names are any
    /// string, as in IndexedDB. Creating a store that exists is a no-op when the key
    /// path, the key generator and every index `schema` lists are the same (indexes
    /// added since by `create_index` are no difference), else `Constraint`.
    pub fn create_store(&self, schema: &StoreSchema) -> Result<()> {
        self.create_store_as(schema, false)
    }

    /// `create_store`; `key_path_only`: an existing store is the same when its key
    /// path is (`create_object_store` names nothing else).
    fn create_store_as(&self, schema: &StoreSchema, key_path_only: bool) -> Result<()> {
        keypath::validate(&schema.key_path)?;
        if schema.auto_increment && schema.key_path.is_empty() {
            return Err(Error::invalid(format!(
                "object store {:?}: a key generator needs a non-empty key path",
                schema.name
            )));
        }
        for (i, idx) in schema.indexes.iter().enumerate() {
            idx.validate()?;
            if schema.indexes[..i].iter().any(|o| o.name == idx.name) {
                return Err(Error::invalid(format!(
                    "index {:?} is listed twice",
                    idx.name
                )));
            }
        }
        let _g = self.schema_lock.lock();
        let tx = Transaction::begin_schema(self, &schema.name)?;
        let mut cat = tx.catalog().clone();
        if let Some(existing) = cat.stores.get(&schema.name) {
            return match existing.difference(schema, key_path_only) {
                None => Ok(()),
                Some(what) => Err(Error::Constraint(format!(
                    "object store {:?} already exists with {what}",
                    schema.name
                ))),
            };
        }
        let id = cat.take_id();
        let indexes = schema
            .indexes
            .iter()
            .map(|i| IndexEntry {
                id: cat.take_id(),
                def: i.def(),
            })
            .collect();
        cat.stores.insert(
            schema.name.clone(),
            StoreEntry {
                id,
                name: schema.name.clone(),
                key_path: schema.key_path.clone(),
                auto_increment: schema.auto_increment,
                indexes,
            },
        );
        self.commit_catalog(tx, cat)
    }

    /// Deletes a store with all its documents and indexes.
    pub fn delete_object_store(&self, name: &str) -> Result<()> {
        let _g = self.schema_lock.lock();
        let mut tx = Transaction::begin_schema(self, name)?;
        let mut cat = tx.catalog().clone();
        let s = cat
            .stores
            .remove(name)
            .ok_or_else(|| Error::NotFound(format!("object store {name:?}")))?;
        let prefix = doc_prefix(s.id);
        tx.stage_range_delete(
            prefix.clone(),
            prefix_successor(&prefix).unwrap_or_else(|| vec![0x02]),
        );
        let (start, end) = store_index_range(s.id);
        tx.stage_range_delete(start, end);
        tx.stage_raw(generator_key(s.id), None);
        self.commit_catalog(tx, cat)
    }

    /// Creates an index over one or several key paths (several: a compound key).
    pub fn create_index(
        &self,
        store: &str,
        name: &str,
        key_paths: &[&str],
        unique: bool,
    ) -> Result<()> {
        let mut s = IndexSchema::compound(name, key_paths);
        s.unique = unique;
        self.create_index_with(store, &s)
    }

    /// Creates an index over one key path.
    pub fn create_index_on(
        &self,
        store: &str,
        name: &str,
        key_path: &str,
        unique: bool,
    ) -> Result<()> {
        self.create_index_with(store, &IndexSchema::new(name, key_path).unique(unique))
    }

    /// Creates an index with every option (`multi_entry` among them), indexing the
    /// documents already in the store; a unique index over duplicates fails with
    /// `Constraint` and leaves nothing behind. Creating an index that exists with the
    /// same definition does nothing; with another definition it is `Constraint`.
    pub fn create_index_with(&self, store: &str, schema: &IndexSchema) -> Result<()> {
        schema.validate()?;
        let _g = self.schema_lock.lock();
        let mut tx = Transaction::begin_schema(self, store)?;
        let mut cat = tx.catalog().clone();
        let id = cat.take_id();
        let entry = {
            let s = cat
                .stores
                .get_mut(store)
                .ok_or_else(|| Error::NotFound(format!("object store {store:?}")))?;
            let def = schema.def();
            if let Some(old) = s.indexes.iter().find(|i| i.def.name == schema.name) {
                return match old.def == def {
                    true => Ok(()), // the same index again: a no-op, as for stores
                    false => Err(Error::Constraint(format!(
                        "index {:?} already exists on object store {store:?} with a different definition ({:?}, not {:?})",
                        schema.name, old.def, def
                    ))),
                };
            }
            let e = IndexEntry { id, def };
            s.indexes.push(e.clone());
            s.clone()
        };
        let idx = entry
            .indexes
            .last()
            .cloned()
            .ok_or_else(|| Error::Internal("index vanished".into()))?;
        tx.run(true, &[store], |r| {
            let mut docs = Vec::new();
            r.store_range(store, &KeyRange::all(), &mut |pk, bytes| {
                docs.push((pk.to_vec(), doc::parse(bytes)?));
                Ok(true)
            })?;
            for (pk, doc) in docs {
                r.update_index(&entry, &idx, &pk, None, Some(&doc))?;
            }
            Ok(())
        })?;
        self.commit_catalog(tx, cat)
    }

    /// Deletes an index and its entries.
    pub fn delete_index(&self, store: &str, name: &str) -> Result<()> {
        let _g = self.schema_lock.lock();
        let mut tx = Transaction::begin_schema(self, store)?;
        let mut cat = tx.catalog().clone();
        let s = cat
            .stores
            .get_mut(store)
            .ok_or_else(|| Error::NotFound(format!("object store {store:?}")))?;
        let pos = s
            .indexes
            .iter()
            .position(|i| i.def.name == name)
            .ok_or_else(|| Error::NotFound(format!("index {name:?} of object store {store:?}")))?;
        let idx = s.indexes.remove(pos);
        let prefix = index_prefix(s.id, idx.id);
        let end = prefix_successor(&prefix).unwrap_or_else(|| vec![0x03]);
        tx.stage_range_delete(prefix, end);
        self.commit_catalog(tx, cat)
    }

    /// The names of every store, sorted.
    pub fn store_names(&self) -> Vec<String> {
        self.catalog.read().stores.keys().cloned().collect()
    }

    /// A store's definition, with its key generator's current number.
    pub fn get_store(&self, name: &str) -> Option<StoreDef> {
        let cat = self.catalog.read().clone();
        let s = cat.stores.get(name)?;
        let next_auto_id = if !s.auto_increment {
            0 // no key generator (as the published crate reports it)
        } else {
            self.engine
                .get_bytes(&generator_key(s.id), TS, &ReadOptions::default())
                .ok()
                .flatten()
                .and_then(|r| r.value.as_slice().try_into().ok().map(u64::from_be_bytes))
                .unwrap_or(1)
        };
        Some(StoreDef {
            name: s.name.clone(),
            key_path: s.key_path.clone(),
            auto_increment: s.auto_increment,
            indexes: s.indexes.iter().map(|i| i.def.clone()).collect(),
            next_auto_id,
        })
    }

    // ---- single requests (each a one-request transaction) ----

    fn write_one<T>(
        &self,
        store: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut tx = self.transaction(&[store], TransactionMode::ReadWrite)?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn read_one<T>(
        &self,
        store: &str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self.transaction(&[store], TransactionMode::ReadOnly)?;
        f(&tx)
    }

    /// Stores `doc` (replacing a document with the same key); returns its key.
    pub fn put(&self, store: &str, doc: Value) -> Result<Value> {
        self.write_one(store, |tx| tx.put(store, doc))
    }

    /// Stores `doc` under a newly generated key (injected at the key path).
    pub fn put_auto(&self, store: &str, doc: Value) -> Result<Value> {
        self.write_one(store, |tx| tx.put_auto(store, doc))
    }

    pub fn get(&self, store: &str, key: &Value) -> Result<Option<Value>> {
        self.read_one(store, |tx| tx.get(store, key))
    }

    /// Deletes the document with `key` (absent: nothing happens).
    pub fn delete(&self, store: &str, key: &Value) -> Result<()> {
        self.write_one(store, |tx| tx.delete(store, key))
    }

    pub fn count(&self, store: &str) -> Result<usize> {
        self.read_one(store, |tx| tx.count(store))
    }

    /// Every document, in primary-key order.
    pub fn scan(&self, store: &str) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.scan(store))
    }

    /// Documents whose primary key is in `range`, in `dir` order.
    pub fn get_range(&self, store: &str, range: &KeyRange, dir: Direction) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.get_range(store, range, dir))
    }

    /// Documents whose `index` key equals `value`, in primary-key order.
    pub fn get_by_index(&self, store: &str, index: &str, value: &Value) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.get_by_index(store, index, value))
    }

    /// Documents with `start <= index key <= end`, in (index key, primary key) order.
    pub fn range_by_index(
        &self,
        store: &str,
        index: &str,
        start: &Value,
        end: &Value,
    ) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.range_by_index(store, index, start, end))
    }

    /// Documents whose `index` key is in `range`, in `dir` order.
    pub fn index_query(
        &self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.index_query(store, index, range, dir))
    }

    /// How many entries of `index` have a key in `range`.
    pub fn count_by_index(&self, store: &str, index: &str, range: &KeyRange) -> Result<usize> {
        self.read_one(store, |tx| tx.count_by_index(store, index, range))
    }

    /// A query over `store`.
    pub fn query<'a>(&'a self, store: &'a str) -> QueryBuilder<'a> {
        QueryBuilder::new(self, store)
    }

    // ---- typed documents ----

    /// Stores a serializable value as a document; returns its key.
    pub fn put_doc<T: Serialize>(&self, store: &str, doc: &T) -> Result<Value> {
        let v = serde_json::to_value(doc)
            .map_err(|e| Error::Data(format!("document cannot be serialized: {e}")))?;
        self.put(store, v)
    }

    /// The document with `key`, deserialized (`Data` error when it does not fit `T`).
    pub fn get_doc<T: DeserializeOwned>(&self, store: &str, key: impl KeyArg) -> Result<Option<T>> {
        self.get(store, &key.into_value())?
            .map(|v| {
                serde_json::from_value(v).map_err(|e| {
                    Error::Data(format!("document does not fit the requested type: {e}"))
                })
            })
            .transpose()
    }

    pub fn delete_doc(&self, store: &str, key: impl KeyArg) -> Result<()> {
        self.delete(store, &key.into_value())
    }
}
