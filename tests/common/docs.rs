//! JsonDB transactions for the crash tests: a store with a plain and a unique index,
//! random transactions putting and deleting documents, a model of the documents, and
//! the check that every index agrees with the store.
#![allow(dead_code)]

use std::collections::BTreeMap;

use flowdb::jsondb::{Direction, IndexSchema, JsonDB, KeyRange, StoreSchema, TransactionMode};
use serde_json::{json, Value};

pub const STORE: &str = "docs";

/// `id -> document`.
pub type Docs = BTreeMap<u64, Value>;

/// One transaction: maybe a `clear`, documents to put, ids to delete, then maybe a
/// `delete_range` of ids `[lo, hi]`.
#[derive(Clone, Debug)]
pub struct DocTxn {
    pub clear: bool,
    pub puts: Vec<Value>,
    pub deletes: Vec<u64>,
    pub delete_range: Option<(u64, u64)>,
}

impl DocTxn {
    /// A random transaction; `n` is stored in the documents. Each id has its own
    /// email, so the unique index never refuses one.
    pub fn random(rng: &mut fastrand::Rng, n: usize) -> DocTxn {
        let puts = (0..rng.usize(0..4))
            .map(|_| {
                let id = rng.u64(0..40);
                json!({"id": id, "group": rng.u8(0..5), "email": format!("u{id}@x"), "n": n})
            })
            .collect();
        let deletes = (0..rng.usize(0..2)).map(|_| rng.u64(0..40)).collect();
        let lo = rng.u64(0..40);
        DocTxn {
            clear: rng.u8(..40) == 0,
            puts,
            deletes,
            delete_range: (rng.u8(..8) == 0).then(|| (lo, lo + rng.u64(0..4))),
        }
    }

    pub fn apply(&self, db: &JsonDB) -> flowdb::Result<()> {
        let mut tx = db.transaction(&[STORE], TransactionMode::ReadWrite)?;
        if self.clear {
            tx.clear(STORE)?;
        }
        for d in &self.puts {
            tx.put(STORE, d.clone())?;
        }
        for id in &self.deletes {
            tx.delete(STORE, &json!(id))?;
        }
        if let Some((lo, hi)) = self.delete_range {
            let range = KeyRange::bound(&json!(lo), &json!(hi), false, false)?;
            tx.delete_range(STORE, &range)?;
        }
        tx.commit()
    }

    pub fn apply_model(&self, docs: &mut Docs) {
        if self.clear {
            docs.clear();
        }
        for d in &self.puts {
            docs.insert(d["id"].as_u64().unwrap(), d.clone());
        }
        for id in &self.deletes {
            docs.remove(id);
        }
        if let Some((lo, hi)) = self.delete_range {
            docs.retain(|id, _| !(lo..=hi).contains(id));
        }
    }
}

/// Creates the store (with its indexes) unless it exists.
pub fn ensure_store(db: &JsonDB) -> flowdb::Result<()> {
    if db.get_store(STORE).is_none() {
        let schema = StoreSchema::new(STORE, "id")
            .index(IndexSchema::new("by_group", "group"))
            .index(IndexSchema::new("by_email", "email").unique(true));
        db.create_store(&schema)?;
    }
    Ok(())
}

/// The documents stored (none when the store does not exist).
pub fn stored(db: &JsonDB) -> Docs {
    if db.get_store(STORE).is_none() {
        return Docs::new();
    }
    db.scan(STORE)
        .unwrap()
        .into_iter()
        .map(|d| (d["id"].as_u64().unwrap(), d))
        .collect()
}

/// Checks that each index agrees with the documents `docs` (which are stored).
pub fn check_indexes(db: &JsonDB, docs: &Docs, what: &str) {
    if db.get_store(STORE).is_none() {
        assert!(docs.is_empty(), "{what}: the store is gone");
        return;
    }
    let all = KeyRange::all();
    let by_group = db
        .index_query(STORE, "by_group", &all, Direction::Next)
        .unwrap();
    let mut want: Vec<&Value> = docs.values().collect();
    want.sort_by_key(|d| (d["group"].as_u64(), d["id"].as_u64()));
    assert_eq!(
        by_group.iter().collect::<Vec<_>>(),
        want,
        "{what}: by_group"
    );
    let by_email = db
        .index_query(STORE, "by_email", &all, Direction::Next)
        .unwrap();
    assert_eq!(by_email.len(), docs.len(), "{what}: by_email entries");
    for d in docs.values() {
        let found = db.get_by_index(STORE, "by_email", &d["email"]).unwrap();
        assert_eq!(found, vec![d.clone()], "{what}: by_email lookup");
    }
}

/// The change log replayed from the start gives exactly the stored keys: every
/// committed transaction is logged, and nothing uncommitted is.
pub fn check_feed(db: &JsonDB, docs: &Docs, what: &str) {
    use flowdb::jsondb::ChangeKind;
    let mut live = std::collections::BTreeSet::new();
    for c in db.changes_since(0).unwrap() {
        match c.kind {
            ChangeKind::Clear => live.clear(),
            ChangeKind::Put => {
                live.insert(c.key.as_u64().unwrap());
            }
            ChangeKind::Delete => {
                live.remove(&c.key.as_u64().unwrap());
            }
        }
    }
    let stored: std::collections::BTreeSet<u64> = docs.keys().copied().collect();
    assert_eq!(
        live, stored,
        "{what}: the change log replayed is not the documents"
    );
}
