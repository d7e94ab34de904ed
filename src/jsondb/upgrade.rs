//! Schema versions as IndexedDB keeps them (§opening, §upgrade-transaction): a
//! database has a version number; opening it at a higher one runs the caller's
//! `upgrade` once, in one transaction over every store (IndexedDB's versionchange
//! transaction), which is where stores and indexes are created, deleted and renamed
//! and documents migrated. The upgrade commits whole, the new version with it, or
//! not at all; opening at a lower version than the stored one is an error.

use std::ops::{Deref, DerefMut};

use super::schema::{IndexSchema, StoreSchema};
use super::txn::Transaction;
use super::JsonDB;
use crate::error::{Error, Result};
use crate::{Config, Tuning};

/// The transaction an upgrade runs in. Schema changes are made here (they see each
/// other at once and commit together); every [`Transaction`] request works too
/// (through `Deref`), on every store, the new ones included. Once the transaction
/// has ended (`abort_in_place`), schema changes are `TransactionInactive`, as its
/// requests are.
pub struct UpgradeTx<'db> {
    tx: Transaction<'db>,
    old: u64,
    new: u64,
}

impl std::fmt::Debug for UpgradeTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeTx")
            .field("old_version", &self.old)
            .field("new_version", &self.new)
            .finish_non_exhaustive()
    }
}

impl<'db> Deref for UpgradeTx<'db> {
    type Target = Transaction<'db>;
    fn deref(&self) -> &Transaction<'db> {
        &self.tx
    }
}

impl<'db> DerefMut for UpgradeTx<'db> {
    fn deref_mut(&mut self) -> &mut Transaction<'db> {
        &mut self.tx
    }
}

impl UpgradeTx<'_> {
    /// The version the database had (0 for a new one).
    pub fn old_version(&self) -> u64 {
        self.old
    }

    /// The version being opened.
    pub fn new_version(&self) -> u64 {
        self.new
    }

    /// `JsonDB::create_object_store`, in the upgrade.
    pub fn create_object_store(&mut self, name: &str, key_path: &str) -> Result<()> {
        self.tx
            .create_store_in(&StoreSchema::new(name, key_path), true)
    }

    /// `JsonDB::create_store`, in the upgrade.
    pub fn create_store(&mut self, schema: &StoreSchema) -> Result<()> {
        self.tx.create_store_in(schema, false)
    }

    /// `JsonDB::delete_object_store`, in the upgrade.
    pub fn delete_object_store(&mut self, name: &str) -> Result<()> {
        self.tx.delete_store_in(name)
    }

    /// `JsonDB::create_index_with`, in the upgrade (existing documents are indexed).
    pub fn create_index_with(&mut self, store: &str, schema: &IndexSchema) -> Result<()> {
        self.tx.create_index_in(store, schema)
    }

    /// `JsonDB::delete_index`, in the upgrade.
    pub fn delete_index(&mut self, store: &str, name: &str) -> Result<()> {
        self.tx.delete_index_in(store, name)
    }

    /// Renames a store; its documents and indexes stay as they are (no data is
    /// rewritten). An unknown store is `NotFound`; a name in use, `Constraint`.
    /// The change feed follows the store: subscriptions to it go on, and its logged
    /// changes resume under the new name (feed.rs).
    pub fn rename_store(&mut self, from: &str, to: &str) -> Result<()> {
        self.tx.check_active()?;
        let cat = self.tx.catalog();
        cat.store(from)?;
        if from == to {
            return Ok(());
        }
        if cat.stores.contains_key(to) {
            return Err(Error::Constraint(format!(
                "cannot rename object store {from:?}: {to:?} exists"
            )));
        }
        let cat = self.tx.catalog_mut();
        let mut s = cat.stores.remove(from).expect("checked above");
        s.name = to.to_string();
        cat.stores.insert(to.to_string(), s);
        Ok(())
    }

    /// Renames an index of `store`; its entries stay as they are. An unknown store
    /// or index is `NotFound`; a name in use on the store, `Constraint`.
    pub fn rename_index(&mut self, store: &str, from: &str, to: &str) -> Result<()> {
        self.tx.check_active()?;
        let s = self.tx.catalog().store(store)?;
        s.index(from)?;
        if from == to {
            return Ok(());
        }
        if s.index(to).is_ok() {
            return Err(Error::Constraint(format!(
                "cannot rename index {from:?} of object store {store:?}: {to:?} exists"
            )));
        }
        let s = self
            .tx
            .catalog_mut()
            .stores
            .get_mut(store)
            .expect("checked above");
        for i in s.indexes.iter_mut().filter(|i| i.def.name == from) {
            i.def.name = to.to_string();
        }
        Ok(())
    }
}

impl JsonDB {
    /// Opens the database at schema `version` (≥ 1). When the stored version is
    /// lower (0 for a new database), `upgrade(old, new, tx)` runs once and its
    /// transaction commits with the new version; an error from it (or a failed
    /// commit) leaves the database as it was and is returned. A stored version
    /// higher than `version` is `InvalidArgument` (IndexedDB's `VersionError`): an
    /// older program must not open a newer database.
    pub fn open_with_version(
        config: Config,
        version: u64,
        upgrade: impl FnOnce(u64, u64, &mut UpgradeTx<'_>) -> Result<()>,
    ) -> Result<Self> {
        Self::open_with_version_tuned(config, Tuning::default(), version, upgrade)
    }

    /// `open_with_version` with tuning beyond `Config`.
    pub fn open_with_version_tuned(
        config: Config,
        tuning: Tuning,
        version: u64,
        upgrade: impl FnOnce(u64, u64, &mut UpgradeTx<'_>) -> Result<()>,
    ) -> Result<Self> {
        let db = Self::open_with(config, tuning)?;
        db.upgrade_to(version, upgrade)?;
        Ok(db)
    }

    /// The schema version: 0 until a version is set by `open_with_version` or
    /// `upgrade_to`.
    pub fn version(&self) -> u64 {
        self.catalog.read().version
    }

    /// `open_with_version`'s step on an open database: brings it to `version`,
    /// running `upgrade` when the stored version is lower (waiting for the
    /// transactions under way on its stores first). The same version is a no-op.
    pub fn upgrade_to(
        &self,
        version: u64,
        upgrade: impl FnOnce(u64, u64, &mut UpgradeTx<'_>) -> Result<()>,
    ) -> Result<()> {
        if version == 0 {
            return Err(Error::invalid(
                "a schema version must be at least 1 (IndexedDB's TypeError)",
            ));
        }
        let _g = self.lock_schema()?;
        let old = self.version();
        if old > version {
            return Err(Error::invalid(format!(
                "the database is at schema version {old}, newer than the {version} asked for (IndexedDB's VersionError)"
            )));
        }
        if old == version {
            return Ok(());
        }
        let mut up = UpgradeTx {
            tx: Transaction::begin_upgrade(self)?,
            old,
            new: version,
        };
        upgrade(old, version, &mut up)?;
        if !up.tx.is_active() {
            return Err(Error::TransactionInactive(
                "the upgrade's transaction was ended inside the upgrade".into(),
            ));
        }
        up.tx.catalog_mut().version = version;
        self.commit_catalog(up.tx)
    }
}
