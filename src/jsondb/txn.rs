//! Transactions (§transaction-construct): a fixed scope and mode, an engine snapshot
//! taken when the scheduler lets the transaction start, and an overlay of its writes
//! (read-your-writes). Each request runs in a staging layer over the overlay: a failed
//! request returns its error and leaves nothing behind (the spec's "handled error");
//! the transaction stays usable. `commit` applies the overlay as one atomic engine
//! batch; `abort` or dropping discards it. Key generators live in the overlay too, so
//! failures and aborts restore them.

mod commit;
mod requests;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::request::Request;
use super::schema::Catalog;
use super::JsonDB;
use crate::engine::Snapshot;
use crate::error::{Error, Result};

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
        let scope = db.scheduler.scope(stores);
        let write = mode == TransactionMode::ReadWrite;
        // An unknown store is `NotFound` before the wait (it was `Busy` when the wait
        // timed out first); checked again once started (a schema change may come
        // in between).
        for s in scope.iter() {
            db.catalog.read().store(s)?;
        }
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
}
