//! JsonDB: an IndexedDB-compatible JSON document layer on the engine.
//!
//! Object stores hold JSON documents under in-line key paths (with an optional key
//! generator); indexes (single, compound, unique, multi-entry) are kept in step on
//! every write; keys are encoded so that byte order is IndexedDB key order, making
//! every lookup a byte-range scan. Every write — a single `put`/`delete` or a whole
//! transaction — is one atomic engine batch, durable by the engine's sync mode. The
//! rules are those of the W3C Indexed Database API; docs/jsondb.md records the
//! choices it leaves open and flowdb's extensions.

mod cursor;
mod doc;
mod feed;
mod getall;
mod index;
mod key;
mod keypath;
mod layout;
mod names;
mod query;
mod range;
mod request;
mod scheduler;
mod schema;
mod schema_changes;
mod txn;
mod upgrade;
mod walk;
mod writes;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use cursor::{Cursor, DetachedCursor};
pub use doc::{DocArray, DocForm, DocSink, RawDoc};
pub use feed::{Change, ChangeKind, Subscription, DEFAULT_CHANGE_RETENTION};
pub use getall::DocRecord;
pub use key::encode as encode_key;
pub use key::{KeyRef, KeyType};
pub use keypath::KeyPath;
pub use query::{QueryBuilder, SortDir};
pub use range::{Direction, KeyRange};
pub use schema::{IndexDef, IndexSchema, StoreDef, StoreSchema};
pub use txn::{Transaction, TransactionMode};
pub use upgrade::UpgradeTx;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::{Config, ReadOptions, Tuning};
use layout::{catalog_key, TS};
use scheduler::Scheduler;
use schema::Catalog;

/// How long a transaction waits for an overlapping one before failing with `Busy`.
pub const DEFAULT_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON document database over an [`Engine`]. `Send + Sync`: share it by reference.
pub struct JsonDB {
    engine: Engine,
    catalog: RwLock<Arc<Catalog>>,
    scheduler: Scheduler,
    /// Held by a schema change or an upgrade, with the thread holding it: the same
    /// thread asking again (a schema call inside an upgrade) is `Busy`, not a deadlock.
    schema_lock: Mutex<()>,
    schema_owner: Mutex<Option<std::thread::ThreadId>>,
    feed: Arc<feed::Feed>,
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

    /// Like [`JsonDB::open`], with tuning beyond `Config` (for instance
    /// `Tuning::metrics_labels`, which label the engine's `metrics_text`).
    pub fn open_with(config: Config, tuning: Tuning) -> Result<Self> {
        Self::from_engine(Engine::open_with(config, tuning)?)
    }

    /// Opens a document database another process is writing, read-only: the
    /// documents, indexes and schema as of the open ([`Engine::open_read_only`]);
    /// [`JsonDB::catch_up`] moves it forward. Read-write transactions fail at commit.
    pub fn open_read_only(config: Config) -> Result<Self> {
        Self::from_engine(Engine::open_read_only(config)?)
    }

    /// For a read-only instance: moves to the writer's present, schema included
    /// ([`Engine::catch_up`]). Transactions under way keep what they read.
    pub fn catch_up(&self) -> Result<()> {
        self.engine.catch_up()?;
        *self.catalog.write() = Arc::new(stored_catalog(&self.engine)?);
        self.feed.reload(&self.engine)?;
        Ok(())
    }

    /// The document layer on an open engine (its schema is read from the engine).
    pub fn from_engine(engine: Engine) -> Result<Self> {
        JsonDB::try_from_engine(engine).map_err(|(e, _)| e)
    }

    /// As [`JsonDB::from_engine`], but a failure (a damaged schema: `Corruption`)
    /// hands the engine back with the error, still open.
    pub fn try_from_engine(engine: Engine) -> std::result::Result<Self, (Error, Engine)> {
        let read = stored_catalog(&engine).and_then(|c| Ok((c, feed::Feed::open(&engine)?)));
        let (catalog, feed) = match read {
            Ok(parts) => parts,
            Err(e) => return Err((e, engine)),
        };
        let feed = Arc::new(feed);
        Ok(JsonDB {
            feed,
            engine,
            catalog: RwLock::new(Arc::new(catalog)),
            scheduler: Scheduler::new(DEFAULT_TRANSACTION_TIMEOUT),
            schema_lock: Mutex::new(()),
            schema_owner: Mutex::new(None),
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

    /// A consistent copy of the database (documents, indexes, schema) as of one
    /// moment, in `dest`, which must not exist: [`Engine::checkpoint`]. Committed
    /// transactions are in it whole or not at all; transactions go on meanwhile.
    pub fn checkpoint(&self, dest: impl AsRef<std::path::Path>) -> Result<()> {
        self.engine.checkpoint(dest)
    }

    /// Like [`JsonDB::checkpoint`], copying every file: [`Engine::backup_to`].
    pub fn backup_to(&self, dest: impl AsRef<std::path::Path>) -> Result<()> {
        self.engine.backup_to(dest)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Sets how long a transaction waits for overlapping ones before `Busy`.
    pub fn set_transaction_timeout(&self, timeout: Duration) {
        self.scheduler.set_timeout(timeout);
    }

    /// Starts a transaction over `stores`; it waits for overlapping transactions
    /// created before it (see docs/jsondb.md, "Transactions"). An unknown store is
    /// `NotFound`; no store at all (`&[]`) is `InvalidArgument`, as IndexedDB's
    /// `transaction([])` is an `InvalidAccessError`.
    pub fn transaction<'db>(
        &'db self,
        stores: &[&str],
        mode: TransactionMode,
    ) -> Result<Transaction<'db>> {
        Transaction::begin(self, stores, mode)
    }

    // ---- single requests (each a one-request transaction) ----

    pub(crate) fn write_one<T>(
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

    /// Hands every document of `store` to `f`, in primary-key order, as its primary
    /// key and its stored JSON text, from one engine snapshot (the store as of one
    /// moment, committed transactions only), without collecting the store and without
    /// a transaction (writers are not held up): for exports of stores of any size.
    /// `f` returns false to stop. `NotFound` for an unknown store.
    pub fn visit_store(
        &self,
        store: &str,
        mut f: impl FnMut(&Value, &[u8]) -> Result<bool>,
    ) -> Result<()> {
        let snap = self.engine.snapshot();
        let read = ReadOptions {
            fill_cache: false,
            ..ReadOptions::default()
        };
        let catalog: Catalog = match snap.get_bytes(&catalog_key(), TS, &read)? {
            Some(r) => serde_json::from_slice(&r.value)
                .map_err(|e| Error::corruption("JsonDB catalog record", 0, e.to_string()))?,
            None => Catalog::default(),
        };
        let prefix = layout::doc_prefix(catalog.store(store)?.id);
        for r in snap.scan_opt(crate::ScanRange::prefix_bytes(&prefix), &read)? {
            let r = r?;
            let (pk, _) = key::decode(&r.key[prefix.len()..]).ok_or_else(|| {
                Error::corruption("JsonDB document key", 0, "undecodable primary key")
            })?;
            if !f(&pk, &r.value)? {
                break;
            }
        }
        Ok(())
    }

    /// Every document, in primary-key order.
    pub fn scan(&self, store: &str) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.scan(store))
    }

    /// Documents whose primary key is in `range`, in `dir` order.
    pub fn get_range(&self, store: &str, range: &KeyRange, dir: Direction) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.get_range(store, range, dir))
    }

    /// Documents whose `index` key equals `value`, in (index key, primary key) order:
    /// primary-key order for an exact key; on a compound index a shorter key matches
    /// as a prefix (see [`Transaction::get_by_index`]).
    pub fn get_by_index(&self, store: &str, index: &str, value: &Value) -> Result<Vec<Value>> {
        self.read_one(store, |tx| tx.get_by_index(store, index, value))
    }

    /// Documents with `start <= index key < end` (half-open, as the published crate),
    /// in (index key, primary key) order.
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

/// The schema lock, held; it clears the owner when dropped.
pub(crate) struct SchemaGuard<'a> {
    _held: parking_lot::MutexGuard<'a, ()>,
    owner: &'a Mutex<Option<std::thread::ThreadId>>,
}

impl Drop for SchemaGuard<'_> {
    fn drop(&mut self) {
        *self.owner.lock() = None;
    }
}

impl JsonDB {
    /// Takes the schema lock; `Busy` when this thread holds it already (a one-call
    /// schema change or `upgrade_to` from inside an upgrade of this database).
    pub(crate) fn lock_schema(&self) -> Result<SchemaGuard<'_>> {
        let me = std::thread::current().id();
        if *self.schema_owner.lock() == Some(me) {
            return Err(Error::Busy(
                "a schema change inside an upgrade of this database: make it through the UpgradeTx"
                    .into(),
            ));
        }
        // A schema change holds the lock while it waits for the transactions on its
        // store: a thread holding one of those would wait for it for ever, so it gets
        // `Busy` at once (the scheduler's own rule), and nobody waits past the
        // transaction timeout. (It used to wait without a limit.)
        let deadline = Instant::now().checked_add(self.scheduler.timeout());
        let held = loop {
            if let Some(held) = self.schema_lock.try_lock_for(Duration::from_millis(5)) {
                break held;
            }
            let holder = *self.schema_owner.lock();
            if holder.is_some_and(|h| self.scheduler.waits_for(h, me)) {
                return Err(Error::Busy(
                    "a schema change waits for a transaction this thread holds: finish \
                     that transaction first"
                        .into(),
                ));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Busy(
                    "another schema change did not finish in time".into(),
                ));
            }
        };
        *self.schema_owner.lock() = Some(me);
        Ok(SchemaGuard {
            _held: held,
            owner: &self.schema_owner,
        })
    }
}

/// The schema as the engine stores it (empty for a new database).
fn stored_catalog(engine: &Engine) -> Result<Catalog> {
    Ok(
        match engine.get_bytes(&catalog_key(), TS, &ReadOptions::default())? {
            Some(r) => serde_json::from_slice(&r.value)
                .map_err(|e| Error::corruption("JsonDB catalog record", 0, e.to_string()))?,
            None => Catalog::default(),
        },
    )
}
