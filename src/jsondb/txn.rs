//! Transactions (§transaction-construct): a fixed scope and mode, an engine snapshot
//! taken when the scheduler lets the transaction start, and an overlay of its writes
//! (read-your-writes). Each request runs in a staging layer over the overlay: a failed
//! request returns its error and leaves nothing behind (the spec's "handled error");
//! the transaction stays usable. `commit` applies the overlay as one atomic engine
//! batch; `abort` or dropping discards it. Key generators live in the overlay too, so
//! failures and aborts restore them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::doc::DocForm;
use super::feed::{ChangeKind, Pending};
use super::layout::TS;
use super::range::{Direction, KeyRange};
use super::request::Request;
use super::schema::Catalog;
use super::JsonDB;
use crate::engine::{Snapshot, WriteBatch, WriteOptions};
use crate::error::{Error, Result};
use crate::{ReadOptions, Record};

/// What a transaction may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionMode {
    ReadOnly,
    ReadWrite,
}

pub(super) type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The largest number the key generator hands out (2^53).
pub(crate) const MAX_GENERATED: u64 = 1 << 53;

/// A JsonDB transaction. Use from one thread at a time; it may move between threads.
pub struct Transaction<'db> {
    db: &'db JsonDB,
    write: bool,
    scope: Arc<[String]>,
    catalog: Arc<Catalog>,
    snap: Snapshot,
    overlay: Overlay,
    /// Range deletes of schema changes (dropping a store or an index), applied first.
    range_dels: Vec<(Vec<u8>, Vec<u8>)>,
    ticket: Option<u64>,
    /// The ticket it began with, kept after it ends (cursors check it).
    id: u64,
    /// An upgrade's transaction: every store is in its scope, those it creates too.
    every_store: bool,
    /// Stores cleared in it (for the change feed).
    cleared: Vec<u32>,
    /// Counts the writes staged so far: a cursor's read-ahead older than the last
    /// write is read again (cursors see their transaction's writes).
    writes: u64,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("scope", &self.scope)
            .field("read_write", &self.write)
            .field("active", &self.is_active())
            .field("staged_writes", &self.overlay.len())
            .finish_non_exhaustive()
    }
}

impl<'db> Transaction<'db> {
    pub(crate) fn begin(db: &'db JsonDB, stores: &[&str], mode: TransactionMode) -> Result<Self> {
        if stores.is_empty() {
            // IndexedDB: `transaction([])` is an InvalidAccessError.
            return Err(Error::invalid(
                "a transaction needs at least one object store name (the scope is empty)",
            ));
        }
        let mut scope: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
        scope.sort();
        scope.dedup();
        let scope: Arc<[String]> = scope.into();
        let write = mode == TransactionMode::ReadWrite;
        let ticket = db.scheduler.begin(&scope, write)?;
        let catalog = db.catalog.read().clone();
        for s in scope.iter() {
            if let Err(e) = catalog.store(s) {
                db.scheduler.end(ticket);
                return Err(e);
            }
        }
        Ok(Transaction {
            db,
            write,
            scope,
            catalog,
            snap: db.engine.snapshot(),
            overlay: Overlay::new(),
            range_dels: Vec::new(),
            ticket: Some(ticket),
            id: ticket,
            every_store: false,
            cleared: Vec::new(),
            writes: 0,
        })
    }

    /// A transaction on stores that may not exist yet (schema changes).
    pub(crate) fn begin_schema(db: &'db JsonDB, store: &str) -> Result<Self> {
        Self::begin_over(db, Arc::new([store.to_string()]), false)
    }

    /// An upgrade's transaction (IndexedDB's versionchange): it waits for every
    /// transaction on the stores there are, and may use any store.
    pub(crate) fn begin_upgrade(db: &'db JsonDB) -> Result<Self> {
        let names: Vec<String> = db.catalog.read().stores.keys().cloned().collect();
        Self::begin_over(db, names.into(), true)
    }

    fn begin_over(db: &'db JsonDB, scope: Arc<[String]>, every_store: bool) -> Result<Self> {
        let ticket = db.scheduler.begin(&scope, true)?;
        Ok(Transaction {
            db,
            write: true,
            scope,
            catalog: db.catalog.read().clone(),
            snap: db.engine.snapshot(),
            overlay: Overlay::new(),
            range_dels: Vec::new(),
            ticket: Some(ticket),
            id: ticket,
            every_store,
            cleared: Vec::new(),
            writes: 0,
        })
    }

    /// How many writes it has staged (see `writes`).
    pub(crate) fn writes(&self) -> u64 {
        self.writes
    }

    /// This transaction's identity: its database's address and its number there.
    pub(crate) fn id(&self) -> (usize, u64) {
        (self.db as *const JsonDB as usize, self.id)
    }

    /// False after commit or abort.
    pub fn is_active(&self) -> bool {
        self.ticket.is_some()
    }

    /// Checks that a request may run: the transaction is active, may write when the
    /// request writes, and has every store it names in its scope.
    fn admit(&self, write: bool, stores: &[&str]) -> Result<()> {
        if self.ticket.is_none() {
            return Err(Error::TransactionInactive(
                "the transaction has already committed or aborted".into(),
            ));
        }
        if write && !self.write {
            return Err(Error::ReadOnly(format!(
                "cannot write to {stores:?} in a read-only transaction"
            )));
        }
        for s in stores.iter().filter(|_| !self.every_store) {
            if !self.scope.iter().any(|x| x == s) {
                return Err(Error::NotFound(format!(
                    "object store {s:?} is not in this transaction's scope {:?}",
                    self.scope
                )));
            }
        }
        Ok(())
    }

    /// A request over the transaction's view, with no writes of its own yet.
    fn request(&self) -> Request<'_> {
        Request {
            snap: &self.snap,
            base: &self.overlay,
            dels: &self.range_dels,
            catalog: &self.catalog,
            delta: Overlay::new(),
        }
    }

    /// Runs one writing request: checks, stages, and keeps the staged writes only on
    /// success.
    pub(crate) fn run<T>(
        &mut self,
        write: bool,
        stores: &[&str],
        f: impl FnOnce(&mut Request<'_>) -> Result<T>,
    ) -> Result<T> {
        self.admit(write, stores)?;
        let mut req = self.request();
        let out = f(&mut req)?;
        let delta = req.delta;
        if !delta.is_empty() {
            self.writes += 1;
        }
        self.overlay.extend(delta);
        Ok(out)
    }

    /// Runs one reading request; reads take `&self`, as in the published API.
    pub(crate) fn read<T>(
        &self,
        stores: &[&str],
        f: impl FnOnce(&Request<'_>) -> Result<T>,
    ) -> Result<T> {
        self.admit(false, stores)?;
        f(&self.request())
    }

    pub(crate) fn stage_raw(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.writes += 1;
        self.overlay.insert(key, value);
    }

    /// Deletes every key in `[start, end)`: staged writes there are dropped, and the
    /// snapshot's records there vanish from this transaction's view at once and from
    /// the engine at commit (one range tombstone, applied before the staged writes).
    pub(crate) fn stage_range_delete(&mut self, start: Vec<u8>, end: Vec<u8>) {
        let staged: Vec<Vec<u8>> = self
            .overlay
            .range::<[u8], _>((
                std::ops::Bound::Included(&start[..]),
                std::ops::Bound::Excluded(&end[..]),
            ))
            .map(|(k, _)| k.clone())
            .collect();
        for k in staged {
            self.overlay.remove(&k);
        }
        self.writes += 1;
        self.range_dels.push((start, end));
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub(crate) fn catalog_arc(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The transaction's own copy of the catalog, for schema changes it will commit.
    pub(crate) fn catalog_mut(&mut self) -> &mut Catalog {
        Arc::make_mut(&mut self.catalog)
    }

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

    /// `get`, in the document form `D`: [`Value`], or [`RawDoc`](super::RawDoc) for
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

    /// Applies every successful request as one atomic engine batch.
    pub fn commit(mut self) -> Result<()> {
        self.commit_in_place()
    }

    /// Discards everything, key generators included.
    pub fn abort(mut self) {
        self.abort_in_place();
    }

    /// `commit` without consuming the handle; later calls are `TransactionInactive`.
    /// An upgrade's transaction (`UpgradeTx`) commits when the upgrade returns, with
    /// its schema and version: committing it inside is `InvalidArgument`, and it
    /// stays active.
    pub fn commit_in_place(&mut self) -> Result<()> {
        if self.every_store {
            // (Its documents would be written without the schema they belong to.)
            return Err(Error::invalid(
                "an upgrade's transaction commits when the upgrade returns, not inside it",
            ));
        }
        self.commit_then(|| ())
    }

    /// Commits, and runs `after` once the batch is applied but before any waiting
    /// transaction may start (schema changes publish their new catalog there).
    pub(crate) fn commit_then(&mut self, after: impl FnOnce()) -> Result<()> {
        if self.ticket.is_none() {
            return Err(Error::TransactionInactive(
                "the transaction has already committed or aborted".into(),
            ));
        }
        let mut batch = WriteBatch::with_capacity(self.range_dels.len() + self.overlay.len());
        for (start, end) in &self.range_dels {
            batch.delete_range(start.clone(), end.clone());
        }
        let mut changes: Vec<Pending> = std::mem::take(&mut self.cleared)
            .into_iter()
            .map(|id| (id, Vec::new(), ChangeKind::Clear))
            .collect();
        for (key, v) in std::mem::take(&mut self.overlay) {
            if let Some(change) = doc_change(&key, v.is_some()) {
                // A document put and deleted again in this transaction was never
                // committed: its delete is no change (the feed would report one).
                let change_made = match v.is_some() {
                    true => Ok(true),
                    false => self.committed(&key),
                };
                match change_made {
                    Ok(true) => changes.push(change),
                    Ok(false) => {}
                    Err(e) => {
                        self.finish();
                        return Err(e);
                    }
                }
            }
            match v {
                Some(value) => batch.put_permanent(Record::new(key, TS, value)),
                None => batch.delete(key, TS),
            };
        }
        self.range_dels.clear();
        let engine = &self.db.engine;
        let result = if batch.is_empty() {
            Ok(())
        } else {
            self.db.feed.commit(&self.catalog, changes, batch, |b| {
                engine.write_owned(b, &WriteOptions::default())
            })
        };
        if result.is_ok() {
            after();
        }
        self.finish();
        result
    }

    /// Whether `key` is in the committed state this transaction sees: in its
    /// snapshot, and not in a range it deleted whole.
    fn committed(&self, key: &[u8]) -> Result<bool> {
        Ok(!self.request().deleted(key)
            && self
                .snap
                .get_with(key, TS, &ReadOptions::default(), |_| ())?
                .is_some())
    }

    /// Marks `store` cleared (for the change feed).
    pub(crate) fn note_cleared(&mut self, store: u32) {
        self.cleared.push(store);
    }

    /// `abort` without consuming the handle.
    pub fn abort_in_place(&mut self) {
        self.overlay.clear();
        self.range_dels.clear();
        self.cleared.clear();
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(t) = self.ticket.take() {
            self.db.scheduler.end(t);
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        self.abort_in_place();
    }
}

/// The change a staged write makes to a document, when the key is a document's
/// (layout.rs: `0x01 store_id key`).
fn doc_change(key: &[u8], put: bool) -> Option<Pending> {
    let (&tag, rest) = key.split_first()?;
    if tag != 0x01 || rest.len() < 4 {
        return None;
    }
    let id = u32::from_be_bytes(rest[..4].try_into().ok()?);
    let kind = if put {
        ChangeKind::Put
    } else {
        ChangeKind::Delete
    };
    Some((id, rest[4..].to_vec(), kind))
}
