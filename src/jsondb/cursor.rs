//! Cursors (§cursor-interface): a lazy walk over a store or an index, in one of the
//! four directions, through its transaction's view (snapshot and writes so far).
//!
//! A cursor holds its place, not its results: it reads ahead a batch of entries at
//! a time and reads again after the last one, so a cursor over a million documents
//! holds one batch. Any write of its transaction (through this cursor, another one,
//! or a request) drops the batch, and the next step reads from the transaction's
//! new state, as IndexedDB's cursors see their transaction's writes. [`Cursor`] borrows its transaction mutably (it may
//! write through it); [`DetachedCursor`] is the same cursor without the borrow, for
//! several cursors in one transaction or a binding that holds one across calls.

mod attached;
mod batch;
mod position;

use serde_json::Value;

use super::doc::DocForm;
use super::key;
use super::keypath;
use super::range::{Direction, KeyRange};
use super::txn::Transaction;
use super::walk::{is_reverse, OwnedHit, Source};
use crate::error::{Error, Result};
use batch::Batch;

pub use attached::Cursor;

/// The entry a cursor is on, its keys decoded.
struct Current {
    entry: OwnedHit,
    key: Value,
    primary_key: Value,
}

/// A cursor's whole state, without its transaction: every step takes the
/// transaction it was opened in (another one is an `InvalidArgument` error).
pub struct DetachedCursor {
    txn: (usize, u64),
    store: String,
    index: Option<String>,
    dir: Direction,
    key_only: bool,
    /// The engine-key prefix of the source's entries.
    prefix: Vec<u8>,
    /// The range's engine-key bounds, `[start, end)`.
    bounds: (Vec<u8>, Vec<u8>),
    /// Where the next read starts (forwards) or ends (backwards), exclusive of what
    /// was read; `None` before the first read.
    resume: Option<Vec<u8>>,
    ahead: Batch,
    /// Everything in the bounds past `resume` is in `ahead`.
    drained: bool,
    /// The transaction's write count when `ahead` was read: later writes (through
    /// another cursor or request) make it stale.
    read_at: u64,
    /// `continue_primary_key`: entries before this (key, primary key) are skipped.
    skip_to: Option<(Vec<u8>, Vec<u8>)>,
    current: Option<Current>,
}

impl std::fmt::Debug for DetachedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("store", &self.store)
            .field("index", &self.index)
            .field("direction", &self.dir)
            .field("key", &self.key())
            .finish_non_exhaustive()
    }
}

fn state_error(what: &str) -> Error {
    Error::invalid(what.to_string())
}

impl DetachedCursor {
    /// A cursor over `store` (or its `index`) in `range`, moved to its first entry.
    pub(crate) fn open(
        tx: &Transaction<'_>,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        dir: Direction,
        key_only: bool,
    ) -> Result<Self> {
        let (prefix, bounds) = tx.read(&[store], |r| {
            let src = Source::resolve(r.catalog, store, index)?;
            Ok((src.prefix(), src.bounds(range)))
        })?;
        let mut c = DetachedCursor {
            txn: tx.id(),
            store: store.to_string(),
            index: index.map(str::to_string),
            dir,
            key_only,
            prefix,
            bounds,
            resume: None,
            ahead: Batch::default(),
            drained: false,
            read_at: tx.writes(),
            skip_to: None,
            current: None,
        };
        c.step(tx)?;
        Ok(c)
    }

    fn check(&self, tx: &Transaction<'_>) -> Result<()> {
        if tx.id() != self.txn {
            return Err(Error::invalid(
                "this cursor belongs to another transaction".to_string(),
            ));
        }
        if !tx.is_active() {
            return Err(Error::TransactionInactive(
                "the cursor's transaction has already committed or aborted".into(),
            ));
        }
        Ok(())
    }

    /// The current entry's key (the index key for an index cursor); `None` past the
    /// end.
    pub fn key(&self) -> Option<&Value> {
        self.current.as_ref().map(|c| &c.key)
    }

    /// The current entry's primary key.
    pub fn primary_key(&self) -> Option<&Value> {
        self.current.as_ref().map(|c| &c.primary_key)
    }

    /// The current document's stored JSON text (`None` for a key cursor).
    pub fn raw_value(&self) -> Option<&[u8]> {
        self.current.as_ref().and_then(|c| c.entry.doc())
    }

    /// The current document, in the form `D` ([`Value`], or
    /// [`RawDoc`](super::RawDoc)); `None` past the end and for a key cursor.
    pub fn value_as<D: DocForm>(&self) -> Result<Option<D>> {
        self.raw_value().map(D::stored).transpose()
    }

    /// The direction the cursor moves in.
    pub fn direction(&self) -> Direction {
        self.dir
    }

    /// `Cursor::continue_` on `tx`.
    pub fn continue_in(&mut self, tx: &Transaction<'_>) -> Result<bool> {
        self.check(tx)?;
        // (Without this, a write after the end made the cursor read on from where
        // it stopped, and come back.)
        if self.current.is_none() {
            return Err(state_error("continue: the cursor is past its end"));
        }
        self.step(tx)
    }

    /// `Cursor::continue_to` on `tx`.
    pub fn continue_to_in(&mut self, tx: &Transaction<'_>, key: &Value) -> Result<bool> {
        self.check(tx)?;
        let k = key::encode(key).map_err(|e| Error::Data(format!("continue_to: {e}")))?;
        let Some(c) = &self.current else {
            return Err(state_error("continue_to: the cursor is past its end"));
        };
        let here = c.entry.key();
        let reverse = is_reverse(self.dir);
        if (!reverse && k.as_slice() <= here) || (reverse && k.as_slice() >= here) {
            return Err(Error::Data(format!(
                "continue_to: key {key} is not past the cursor's key {} in its direction",
                c.key
            )));
        }
        let at = self.target(&k);
        self.reposition(Some(at));
        self.step(tx)
    }

    /// `Cursor::continue_primary_key` on `tx`.
    pub fn continue_primary_key_in(
        &mut self,
        tx: &Transaction<'_>,
        key: &Value,
        primary_key: &Value,
    ) -> Result<bool> {
        self.check(tx)?;
        if self.index.is_none() {
            return Err(state_error(
                "continue_primary_key: only an index cursor has primary keys to move by",
            ));
        }
        if matches!(self.dir, Direction::NextUnique | Direction::PrevUnique) {
            return Err(state_error(
                "continue_primary_key: not on a cursor in a unique direction",
            ));
        }
        let k = key::encode(key).map_err(|e| Error::Data(format!("continue_primary_key: {e}")))?;
        let pk = key::encode(primary_key)
            .map_err(|e| Error::Data(format!("continue_primary_key: {e}")))?;
        let Some(c) = &self.current else {
            return Err(state_error(
                "continue_primary_key: the cursor is past its end",
            ));
        };
        let here = (c.entry.key(), c.entry.primary_key());
        let there = (k.as_slice(), pk.as_slice());
        let reverse = is_reverse(self.dir);
        if (!reverse && there <= here) || (reverse && there >= here) {
            return Err(Error::Data(format!(
                "continue_primary_key: ({key}, {primary_key}) is not past the cursor's ({}, {}) in its direction",
                c.key, c.primary_key
            )));
        }
        let at = self.target(&k);
        self.reposition(Some(at));
        self.skip_to = Some((k, pk));
        self.step(tx)
    }

    /// `Cursor::advance` on `tx`.
    pub fn advance_in(&mut self, tx: &Transaction<'_>, n: u32) -> Result<bool> {
        self.check(tx)?;
        if n == 0 {
            return Err(Error::invalid("advance: the count must be at least 1"));
        }
        if self.current.is_none() {
            return Err(state_error("advance: the cursor is past its end"));
        }
        for _ in 0..n {
            if !self.step(tx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `Cursor::update` on `tx`.
    pub fn update_in(&mut self, tx: &mut Transaction<'_>, doc: Value) -> Result<Value> {
        self.check(tx)?;
        let Some(c) = &self.current else {
            return Err(state_error("update: the cursor is past its end"));
        };
        if self.key_only {
            return Err(state_error("update: a key cursor has no value to update"));
        }
        let key_path = tx.catalog().store(&self.store)?.key_path.clone();
        let store = self.store.clone();
        if keypath::is_none(&key_path) {
            // Out-of-line keys: the document stays under the cursor's key.
            let pk = c.primary_key.clone();
            let key = tx.put_with_key(&store, doc, &pk)?;
            self.reposition(None);
            return Ok(key);
        }
        match keypath::evaluate_text(&doc, &key_path) {
            Some(k) if key::encode(&k).ok().as_deref() == Some(c.entry.primary_key()) => {}
            _ => {
                return Err(Error::Data(format!(
                "update: the document's key at {key_path:?} must be the cursor's primary key {}",
                c.primary_key
            )))
            }
        }
        let key = tx.put(&store, doc)?;
        self.reposition(None);
        Ok(key)
    }

    /// `Cursor::delete` on `tx`.
    pub fn delete_in(&mut self, tx: &mut Transaction<'_>) -> Result<()> {
        self.check(tx)?;
        let Some(c) = &self.current else {
            return Err(state_error("delete: the cursor is past its end"));
        };
        if self.key_only {
            return Err(state_error("delete: a key cursor cannot delete"));
        }
        let (store, pk) = (self.store.clone(), c.primary_key.clone());
        tx.delete(&store, &pk)?;
        self.reposition(None);
        Ok(())
    }
}
