//! Schema changes: creating and deleting stores and indexes (each one atomic engine
//! batch with the catalog record, the index entries built for existing documents, and
//! the range deletes of what is dropped), and reading the catalog. Creating what
//! exists with the same definition is a no-op (docs/jsondb.md, "Creating what
//! exists").

use super::keypath::KeyPath;
use super::layout::{catalog_key, doc_prefix, generator_key, index_prefix, store_index_range, TS};
use super::schema::{IndexDef, IndexEntry, IndexSchema, StoreDef, StoreEntry, StoreSchema};
use super::txn::Transaction;
use super::{doc, names, JsonDB, KeyRange};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::prefix_successor;
use crate::ReadOptions;

impl JsonDB {
    /// Runs one schema change in a transaction of its own, and commits it with the
    /// new catalog (nothing is written when the change turned out to be a no-op).
    fn schema_change(
        &self,
        store: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<()>,
    ) -> Result<()> {
        let _g = self.lock_schema()?;
        let mut tx = Transaction::begin_schema(self, store)?;
        f(&mut tx)?;
        if Arc::ptr_eq(tx.catalog_arc(), &self.catalog.read()) {
            return Ok(());
        }
        self.commit_catalog(tx)
    }

    /// Commits `tx` with its catalog, and publishes the catalog.
    pub(crate) fn commit_catalog(&self, mut tx: Transaction<'_>) -> Result<()> {
        let catalog = tx.catalog_arc().clone();
        let bytes = serde_json::to_vec(&*catalog).map_err(|e| Error::Internal(e.to_string()))?;
        tx.stage_raw(catalog_key(), Some(bytes));
        tx.commit_then(|| *self.catalog.write() = catalog)
    }

    /// Creates a store whose documents carry their key at `key_path`. Creating a store
    /// that exists with the same definition does nothing (apps create their stores at
    /// every start); with another definition it fails with `Constraint`.
    pub fn create_object_store(&self, name: &str, key_path: &str) -> Result<()> {
        self.schema_change(name, |tx| {
            tx.create_store_in(&StoreSchema::new(name, key_path), true)
        })
    }

    /// Creates a store with options: a key generator, indexes. Store names are any
    /// string, as in IndexedDB. Creating a store that exists is a no-op when the key
    /// path, the key generator and every index `schema` lists are the same (indexes
    /// added since by `create_index` are no difference), else `Constraint`.
    pub fn create_store(&self, schema: &StoreSchema) -> Result<()> {
        self.schema_change(&schema.name, |tx| tx.create_store_in(schema, false))
    }

    /// Deletes a store with all its documents and indexes.
    pub fn delete_object_store(&self, name: &str) -> Result<()> {
        self.schema_change(name, |tx| tx.delete_store_in(name))
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
    ///
    /// The checks run in the order of IndexedDB's `createIndex`: the store
    /// (`NotFound`), then the name (an existing index: no-op or `Constraint`, even
    /// when the new key path is invalid), then the key path (`InvalidArgument`).
    pub fn create_index_with(&self, store: &str, schema: &IndexSchema) -> Result<()> {
        self.schema_change(store, |tx| tx.create_index_in(store, schema))
    }

    /// Deletes an index and its entries.
    pub fn delete_index(&self, store: &str, name: &str) -> Result<()> {
        self.schema_change(store, |tx| tx.delete_index_in(store, name))
    }

    /// The names of every store, sorted by UTF-16 code unit (IndexedDB's
    /// `objectStoreNames`, a `DOMStringList`), not by UTF-8 bytes.
    pub fn store_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.catalog.read().stores.keys().cloned().collect();
        names::sort_names(&mut names);
        names
    }

    /// A store's definition, with its key generator's current number. Its indexes are
    /// sorted by name, by UTF-16 code unit (IndexedDB's `indexNames`).
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
        let mut indexes: Vec<IndexDef> = s.indexes.iter().map(|i| i.def.clone()).collect();
        indexes.sort_by(|a, b| names::utf16_cmp(&a.name, &b.name));
        Some(StoreDef {
            name: s.name.clone(),
            key_path: s.key_path.clone(),
            auto_increment: s.auto_increment,
            indexes,
            next_auto_id,
        })
    }
}

/// Schema changes as steps of a transaction: each changes the transaction's own
/// catalog and stages the data it concerns (index entries built, ranges deleted);
/// the caller commits the catalog with them (`JsonDB::commit_catalog`). Each checks
/// first that the transaction is active: an upgrade's may have been ended inside
/// the upgrade (`abort_in_place`), and IndexedDB's schema methods then throw
/// `TransactionInactiveError`, as its requests do.
impl Transaction<'_> {
    /// `TransactionInactive` once the transaction has committed or aborted.
    pub(crate) fn check_active(&self) -> Result<()> {
        if self.is_active() {
            return Ok(());
        }
        Err(Error::TransactionInactive(
            "the transaction has already committed or aborted: no schema change is possible in it"
                .into(),
        ))
    }

    /// `create_store`; `key_path_only`: an existing store is the same when its key
    /// path is (`create_object_store` names nothing else).
    ///
    /// The checks run in the order of IndexedDB's `createObjectStore`: the key path
    /// (`InvalidArgument`, its `SyntaxError`), then the name (an existing store:
    /// no-op or `Constraint`), then a key generator without a key path
    /// (`InvalidArgument`, its `InvalidAccessError`), then the listed indexes (each
    /// an IndexedDB `createIndex` after the store exists).
    pub(crate) fn create_store_in(
        &mut self,
        schema: &StoreSchema,
        key_path_only: bool,
    ) -> Result<()> {
        self.check_active()?;
        let key_path = KeyPath::parse(&schema.key_path)?;
        let canonical;
        let schema = match key_path.to_text() {
            text if text == schema.key_path => schema,
            text => {
                canonical = StoreSchema {
                    key_path: text,
                    ..schema.clone()
                };
                &canonical
            }
        };
        if let Some(existing) = self.catalog().stores.get(&schema.name) {
            return match existing.difference(schema, key_path_only) {
                None => Ok(()),
                Some(what) => Err(Error::Constraint(format!(
                    "object store {:?} already exists with {what}",
                    schema.name
                ))),
            };
        }
        let generator_fits = match &key_path {
            KeyPath::Path(p) => !p.is_empty(),
            KeyPath::None => true,
            KeyPath::Array(_) => false,
        };
        if schema.auto_increment && !generator_fits {
            return Err(Error::invalid(format!(
                "object store {:?}: a key generator needs a non-empty key path or none (not {:?})",
                schema.name, schema.key_path
            )));
        }
        for (i, idx) in schema.indexes.iter().enumerate() {
            if schema.indexes[..i].iter().any(|o| o.name == idx.name) {
                return Err(Error::Constraint(format!(
                    "index {:?} is listed twice",
                    idx.name
                )));
            }
            idx.validate()?;
        }
        let cat = self.catalog_mut();
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
        Ok(())
    }

    pub(crate) fn delete_store_in(&mut self, name: &str) -> Result<()> {
        self.check_active()?;
        let s = self
            .catalog_mut()
            .stores
            .remove(name)
            .ok_or_else(|| Error::NotFound(format!("object store {name:?}")))?;
        let prefix = doc_prefix(s.id);
        self.stage_range_delete(
            prefix.clone(),
            prefix_successor(&prefix).unwrap_or_else(|| vec![0x02]),
        );
        let (start, end) = store_index_range(s.id);
        self.stage_range_delete(start, end);
        self.stage_raw(generator_key(s.id), None);
        Ok(())
    }

    pub(crate) fn create_index_in(&mut self, store: &str, schema: &IndexSchema) -> Result<()> {
        self.check_active()?;
        let def = schema.def();
        let s = self.catalog().store(store)?;
        if let Some(old) = s.indexes.iter().find(|i| i.def.name == schema.name) {
            return match old.def == def {
                true => Ok(()), // the same index again: a no-op, as for stores
                false => Err(Error::Constraint(format!(
                    "index {:?} already exists on object store {store:?} with a different definition ({:?}, not {:?})",
                    schema.name, old.def, def
                ))),
            };
        }
        schema.validate()?;
        let cat = self.catalog_mut();
        let id = cat.take_id();
        let idx = IndexEntry { id, def };
        let entry = {
            let s = cat
                .stores
                .get_mut(store)
                .ok_or_else(|| Error::Internal("store vanished".into()))?;
            s.indexes.push(idx.clone());
            s.clone()
        };
        let built = self.run(true, &[store], |r| {
            let mut docs = Vec::new();
            r.store_range(store, &KeyRange::all(), &mut |pk, bytes| {
                docs.push((pk.to_vec(), doc::parse(bytes)?));
                Ok(true)
            })?;
            for (pk, doc) in docs {
                r.update_index(&entry, &idx, &pk, None, Some(&doc))?;
            }
            Ok(())
        });
        if built.is_err() {
            // The entries went with the failed build; the definition goes too (an
            // upgrade may go on after the error, and commit).
            if let Some(s) = self.catalog_mut().stores.get_mut(store) {
                s.indexes.retain(|i| i.id != id);
            }
        }
        built
    }

    pub(crate) fn delete_index_in(&mut self, store: &str, name: &str) -> Result<()> {
        self.check_active()?;
        let s = self
            .catalog_mut()
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
        self.stage_range_delete(prefix, end);
        Ok(())
    }
}
