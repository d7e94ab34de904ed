//! Schema: the public [`StoreDef`]/[`IndexDef`] (the seed's fields, kept exactly), the
//! creation options [`StoreSchema`]/[`IndexSchema`], and the internal catalog that
//! gives every store and index a stable numeric id for the engine-key layout. The
//! catalog is stored as one JSON record and changed atomically with the data it
//! concerns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::keypath::{self, KeyPath};
use crate::error::{Error, Result};

/// A store as it is defined now. `next_auto_id` is the key generator's current number
/// (0 for a store without a key generator).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreDef {
    pub name: String,
    pub key_path: String,
    pub auto_increment: bool,
    pub indexes: Vec<IndexDef>,
    pub next_auto_id: u64,
}

/// An index: its key paths (several make a compound key), `unique`, `multi_entry`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub key_paths: Vec<String>,
    pub unique: bool,
    pub multi_entry: bool,
}

/// Options for `JsonDB::create_store`: a store with a key generator and indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSchema {
    pub name: String,
    pub key_path: String,
    pub auto_increment: bool,
    pub indexes: Vec<IndexSchema>,
}

impl StoreSchema {
    pub fn new(name: impl Into<String>, key_path: impl Into<String>) -> Self {
        StoreSchema {
            name: name.into(),
            key_path: key_path.into(),
            auto_increment: false,
            indexes: Vec::new(),
        }
    }

    /// A store of any key path form ([`KeyPath`]): `KeyPath::None` for out-of-line
    /// keys, `KeyPath::Array` for compound primary keys.
    pub fn with_key_path(name: impl Into<String>, key_path: &KeyPath) -> Self {
        Self::new(name, key_path.to_text())
    }

    /// A store without a key path: documents are stored under keys given beside
    /// them (`put_with_key`), or generated with `auto_increment`.
    pub fn out_of_line(name: impl Into<String>) -> Self {
        Self::with_key_path(name, &KeyPath::None)
    }

    /// Gives the store a key generator (IndexedDB's `autoIncrement`).
    pub fn auto_increment(mut self, on: bool) -> Self {
        self.auto_increment = on;
        self
    }

    pub fn index(mut self, index: IndexSchema) -> Self {
        self.indexes.push(index);
        self
    }
}

/// Options for `JsonDB::create_index_with`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSchema {
    pub name: String,
    pub key_paths: Vec<String>,
    pub unique: bool,
    pub multi_entry: bool,
}

impl IndexSchema {
    /// An index over one key path.
    pub fn new(name: impl Into<String>, key_path: impl Into<String>) -> Self {
        IndexSchema {
            name: name.into(),
            key_paths: vec![key_path.into()],
            unique: false,
            multi_entry: false,
        }
    }

    /// A compound index: its key is the array of the paths' values.
    pub fn compound(name: impl Into<String>, key_paths: &[&str]) -> Self {
        IndexSchema {
            name: name.into(),
            key_paths: key_paths.iter().map(|p| p.to_string()).collect(),
            unique: false,
            multi_entry: false,
        }
    }

    /// An index of any key path form: `KeyPath::Array(vec!["a".into()])` keys the
    /// entries by one-element arrays (`[1]`), unlike `KeyPath::Path("a")`.
    pub fn with_key_path(name: impl Into<String>, key_path: &KeyPath) -> Self {
        let key_paths = match key_path {
            KeyPath::Array(ps) if ps.len() > 1 => ps.clone(),
            other => vec![other.to_text()],
        };
        IndexSchema {
            name: name.into(),
            key_paths,
            unique: false,
            multi_entry: false,
        }
    }

    pub fn unique(mut self, on: bool) -> Self {
        self.unique = on;
        self
    }

    /// One entry per distinct element when the value is an array.
    pub fn multi_entry(mut self, on: bool) -> Self {
        self.multi_entry = on;
        self
    }

    /// The definition this schema creates: key paths in their canonical text (an
    /// array key path of several paths as the list of them, as `compound` makes it).
    pub(crate) fn def(&self) -> IndexDef {
        let key_paths = match &self.key_paths[..] {
            [one] => match KeyPath::parse(one) {
                Ok(KeyPath::Array(ps)) if ps.len() > 1 => ps,
                Ok(kp) => vec![kp.to_text()],
                Err(_) => self.key_paths.clone(),
            },
            _ => self.key_paths.clone(),
        };
        IndexDef {
            name: self.name.clone(),
            key_paths,
            unique: self.unique,
            multi_entry: self.multi_entry,
        }
    }

    /// Index names are any string, as in IndexedDB (the empty one included).
    pub(crate) fn validate(&self) -> Result<()> {
        if self.key_paths.is_empty() {
            return Err(Error::invalid(format!(
                "index {:?} has no key path",
                self.name
            )));
        }
        if let [one] = &self.key_paths[..] {
            match KeyPath::parse(one)? {
                KeyPath::None => {
                    return Err(Error::invalid(format!(
                        "index {:?} has no key path ([] is a store's out-of-line form)",
                        self.name
                    )))
                }
                KeyPath::Array(_) if self.multi_entry => {
                    return Err(Error::invalid(format!(
                        "index {:?}: multi_entry cannot be combined with an array key path",
                        self.name
                    )))
                }
                _ => {}
            }
        }
        for p in self.key_paths.iter().filter(|_| self.key_paths.len() > 1) {
            if p.starts_with('[') {
                return Err(Error::invalid(format!(
                    "index {:?}: {p:?} cannot be one of several key paths",
                    self.name
                )));
            }
            keypath::validate(p)?;
        }
        if self.multi_entry && self.key_paths.len() > 1 {
            return Err(Error::invalid(format!(
                "index {:?}: multi_entry cannot be combined with several key paths",
                self.name
            )));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    pub id: u32,
    pub def: IndexDef,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoreEntry {
    pub id: u32,
    pub name: String,
    pub key_path: String,
    pub auto_increment: bool,
    pub indexes: Vec<IndexEntry>,
}

impl StoreEntry {
    /// How an existing store differs from `schema`, or `None` when creating it again
    /// would change nothing (then the call is a no-op: apps create their stores, and
    /// then their indexes, at every start). Indexes the store has and `schema` does
    /// not list were added later (`create_index`) and are no difference; with
    /// `key_path_only` (the published `create_object_store`, which names nothing
    /// else) only the key path counts.
    pub(crate) fn difference(&self, schema: &StoreSchema, key_path_only: bool) -> Option<String> {
        if self.key_path != schema.key_path {
            return Some(format!(
                "a different key path ({:?}, not {:?})",
                self.key_path, schema.key_path
            ));
        }
        if key_path_only {
            return None;
        }
        if self.auto_increment != schema.auto_increment {
            return Some(format!(
                "a different key generator (auto_increment {}, not {})",
                self.auto_increment, schema.auto_increment
            ));
        }
        schema.indexes.iter().find_map(|want| {
            let want = want.def();
            match self.indexes.iter().find(|i| i.def.name == want.name) {
                Some(have) if have.def == want => None,
                Some(have) => Some(format!(
                    "index {:?} defined differently ({:?}, not {want:?})",
                    want.name, have.def
                )),
                None => Some(format!("no index {:?}", want.name)),
            }
        })
    }

    pub(crate) fn index(&self, name: &str) -> Result<&IndexEntry> {
        self.indexes
            .iter()
            .find(|i| i.def.name == name)
            .ok_or_else(|| Error::NotFound(format!("index {name:?} of store {:?}", self.name)))
    }
}

/// Every store, by name, with the next free id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Catalog {
    /// The schema version (`JsonDB::open_with_version`); 0 until one is set.
    #[serde(default)]
    pub version: u64,
    pub next_id: u32,
    pub stores: BTreeMap<String, StoreEntry>,
}

impl Catalog {
    pub(crate) fn store(&self, name: &str) -> Result<&StoreEntry> {
        self.stores
            .get(name)
            .ok_or_else(|| Error::NotFound(format!("object store {name:?}")))
    }

    pub(crate) fn take_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }
}
