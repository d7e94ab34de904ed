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

use std::collections::VecDeque;

use serde_json::Value;

use super::doc::DocForm;
use super::getall::decode_key;
use super::key;
use super::keypath;
use super::range::{Direction, KeyRange};
use super::request::DocBuf;
use super::txn::Transaction;
use super::walk::{is_reverse, resume_after, walk, OwnedHit, Source};
use crate::error::{Error, Result};
use crate::prefix_successor;

/// How many entries a cursor reads at once.
const BATCH: usize = 256;

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
    ahead: VecDeque<OwnedHit>,
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
            ahead: VecDeque::new(),
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

    /// The bounds still to read.
    fn remaining(&self) -> (Vec<u8>, Vec<u8>) {
        let (start, end) = self.bounds.clone();
        match (&self.resume, is_reverse(self.dir)) {
            (None, _) => (start, end),
            (Some(r), false) => (start.max(r.clone()), end),
            (Some(r), true) => (start, end.min(r.clone())),
        }
    }

    /// Reads the next batch into `ahead`.
    fn fill(&mut self, tx: &Transaction<'_>) -> Result<()> {
        let (dir, key_only) = (self.dir, self.key_only);
        let bounds = self.remaining();
        let ahead = &mut self.ahead;
        let resume = &mut self.resume;
        let drained = tx.read(&[&self.store], |r| {
            let src = Source::resolve(r.catalog, &self.store, self.index.as_deref())?;
            let first = ahead.len();
            let mut n = 0;
            let done = walk(r, &src, bounds, dir, BATCH, &mut |h| {
                ahead.push_back(OwnedHit::of(h, !key_only));
                *resume = Some(resume_after(h, dir));
                n += 1;
                Ok(n < BATCH)
            })?;
            if src.index.is_some() && !key_only {
                // Documents of index entries, read after the walk (no read inside one).
                let mut buf = DocBuf::default();
                for e in ahead.iter_mut().skip(first) {
                    if r.stored_doc_into(src.store, &e.primary_key, &mut buf)? {
                        e.doc = Some(std::mem::take(&mut buf.doc));
                    }
                }
            }
            Ok(done)
        })?;
        self.drained = drained;
        self.read_at = tx.writes();
        Ok(())
    }

    /// Moves to the next entry; false (and no current entry) past the last.
    fn step(&mut self, tx: &Transaction<'_>) -> Result<bool> {
        if tx.writes() != self.read_at {
            // The transaction wrote since the read-ahead: read from here again.
            self.reposition(None);
        }
        loop {
            if self.ahead.is_empty() && !self.drained {
                self.fill(tx)?;
            }
            let Some(e) = self.ahead.pop_front() else {
                self.current = None;
                return Ok(false);
            };
            if let Some((k, pk)) = &self.skip_to {
                let here = (e.key(), e.primary_key.as_slice());
                let target = (k.as_slice(), pk.as_slice());
                let before = if is_reverse(self.dir) {
                    here > target
                } else {
                    here < target
                };
                if before {
                    continue;
                }
                self.skip_to = None;
            }
            self.current = Some(Current {
                key: decode_key(e.key())?,
                primary_key: decode_key(&e.primary_key)?,
                entry: e,
            });
            return Ok(true);
        }
    }

    /// Drops what was read ahead; the next read starts right after the current
    /// entry (or at `resume`, when given).
    fn reposition(&mut self, resume: Option<Vec<u8>>) {
        self.ahead.clear();
        self.drained = false;
        self.resume = match (resume, &self.current) {
            (Some(r), _) => Some(r),
            (None, Some(c)) => Some(resume_after(&c.entry.hit(), self.dir)),
            (None, None) => self.resume.take(),
        };
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
        self.current.as_ref().and_then(|c| c.entry.doc.as_deref())
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

    /// Where a read resumes to reach the entries of encoded key `k` (and no earlier
    /// ones): forwards, the first entry of `k`; backwards, just past its last.
    fn target(&self, k: &[u8]) -> Vec<u8> {
        let mut t = self.prefix.clone();
        t.extend_from_slice(k);
        if is_reverse(self.dir) {
            prefix_successor(&t).unwrap_or_else(|| vec![0xff; t.len() + 1])
        } else {
            t
        }
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
        let here = (c.entry.key(), c.entry.primary_key.as_slice());
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
            Some(k) if key::encode(&k).ok().as_deref() == Some(&c.entry.primary_key[..]) => {}
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

/// Where a cursor's transaction is: borrowed from the caller, or its own (a cursor
/// opened on the database).
enum Hold<'t, 'db> {
    Borrowed(&'t mut Transaction<'db>),
    Owned(Box<Transaction<'db>>),
}

/// A cursor with its transaction: see the module docs. Move it with
/// [`continue_`](Cursor::continue_) and friends; read the entry it is on with
/// [`key`](Cursor::key), [`primary_key`](Cursor::primary_key) and
/// [`value`](Cursor::value), which are `None` once it has moved past its last entry.
pub struct Cursor<'t, 'db> {
    tx: Hold<'t, 'db>,
    state: DetachedCursor,
}

impl std::fmt::Debug for Cursor<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state.fmt(f)
    }
}

impl<'t, 'db> Cursor<'t, 'db> {
    /// The transaction, for reads while the cursor is open.
    pub fn transaction(&self) -> &Transaction<'db> {
        match &self.tx {
            Hold::Borrowed(t) => t,
            Hold::Owned(t) => t,
        }
    }

    pub fn key(&self) -> Option<&Value> {
        self.state.key()
    }

    pub fn primary_key(&self) -> Option<&Value> {
        self.state.primary_key()
    }

    /// The current document, parsed; `None` past the end and for a key cursor.
    pub fn value(&self) -> Result<Option<Value>> {
        self.state.value_as()
    }

    /// The current document in the form `D` (see [`DetachedCursor::value_as`]).
    pub fn value_as<D: DocForm>(&self) -> Result<Option<D>> {
        self.state.value_as()
    }

    /// The current document's stored JSON text, without parsing it.
    pub fn raw_value(&self) -> Option<&[u8]> {
        self.state.raw_value()
    }

    pub fn direction(&self) -> Direction {
        self.state.direction()
    }

    /// Moves to the next entry; false once past the last (IndexedDB's `continue()`).
    pub fn continue_(&mut self) -> Result<bool> {
        let (tx, st) = self.split();
        st.continue_in(tx)
    }

    /// Moves to the first entry whose key is `key` or past it in the cursor's
    /// direction. A key not past the current one is a `Data` error.
    pub fn continue_to(&mut self, key: &Value) -> Result<bool> {
        let (tx, st) = self.split();
        st.continue_to_in(tx, key)
    }

    /// Index cursors in `Next`/`Prev` only: moves to the entry `(key, primary_key)`
    /// or the first past it.
    pub fn continue_primary_key(&mut self, key: &Value, primary_key: &Value) -> Result<bool> {
        let (tx, st) = self.split();
        st.continue_primary_key_in(tx, key, primary_key)
    }

    /// Moves `n` entries on (`n` ≥ 1).
    pub fn advance(&mut self, n: u32) -> Result<bool> {
        let (tx, st) = self.split();
        st.advance_in(tx, n)
    }

    /// Replaces the current document with `doc`, whose key must be the current
    /// primary key (read-write transactions; not on key cursors).
    pub fn update(&mut self, doc: Value) -> Result<Value> {
        let (tx, st) = self.split();
        st.update_in(tx, doc)
    }

    /// Deletes the current document (read-write transactions; not on key cursors).
    pub fn delete(&mut self) -> Result<()> {
        let (tx, st) = self.split();
        st.delete_in(tx)
    }

    /// The transaction and the cursor's state, borrowed apart.
    fn split(&mut self) -> (&mut Transaction<'db>, &mut DetachedCursor) {
        let tx: &mut Transaction<'db> = match &mut self.tx {
            Hold::Borrowed(t) => t,
            Hold::Owned(t) => t,
        };
        (tx, &mut self.state)
    }

    /// The cursor without its borrow of the transaction; resume it with
    /// [`Transaction::resume_cursor`]. Not for a cursor opened on the database.
    pub fn detach(self) -> Result<DetachedCursor> {
        match self.tx {
            Hold::Borrowed(_) => Ok(self.state),
            Hold::Owned(_) => Err(Error::invalid(
                "a cursor opened on the database owns its transaction; it cannot be detached",
            )),
        }
    }
}

impl<'db> Transaction<'db> {
    fn cursor(
        &mut self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        dir: Direction,
        key_only: bool,
    ) -> Result<Cursor<'_, 'db>> {
        let state = DetachedCursor::open(self, store, index, range, dir, key_only)?;
        Ok(Cursor {
            tx: Hold::Borrowed(self),
            state,
        })
    }

    /// A cursor over the documents of `store` with a primary key in `range`, in
    /// `dir` order, on its first document (IndexedDB's `store.openCursor`).
    pub fn open_cursor(
        &mut self,
        store: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Cursor<'_, 'db>> {
        self.cursor(store, None, range, dir, false)
    }

    /// `open_cursor` without documents: keys only, none read (`openKeyCursor`).
    pub fn open_key_cursor(
        &mut self,
        store: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Cursor<'_, 'db>> {
        self.cursor(store, None, range, dir, true)
    }

    /// A cursor over the entries of `index` with a key in `range`, in `dir` order
    /// (IndexedDB's `index.openCursor`).
    pub fn open_index_cursor(
        &mut self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Cursor<'_, 'db>> {
        self.cursor(store, Some(index), range, dir, false)
    }

    /// `open_index_cursor` without documents (`index.openKeyCursor`).
    pub fn open_index_key_cursor(
        &mut self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Cursor<'_, 'db>> {
        self.cursor(store, Some(index), range, dir, true)
    }

    /// A detached cursor (see [`DetachedCursor`]): `store`, or its `index` when
    /// given; `key_only` reads no documents.
    pub fn open_detached_cursor(
        &self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        dir: Direction,
        key_only: bool,
    ) -> Result<DetachedCursor> {
        DetachedCursor::open(self, store, index, range, dir, key_only)
    }

    /// A detached cursor of this transaction, with the transaction again.
    pub fn resume_cursor(&mut self, cursor: DetachedCursor) -> Result<Cursor<'_, 'db>> {
        cursor.check(self)?;
        Ok(Cursor {
            tx: Hold::Borrowed(self),
            state: cursor,
        })
    }
}

impl super::JsonDB {
    /// A cursor in a read-only transaction of its own, which it holds until dropped
    /// (`index`: over that index of the store; `key_only`: no documents read).
    pub fn open_cursor(
        &self,
        store: &str,
        index: Option<&str>,
        range: &KeyRange,
        dir: Direction,
        key_only: bool,
    ) -> Result<Cursor<'_, '_>> {
        let tx = Box::new(self.transaction(&[store], super::TransactionMode::ReadOnly)?);
        let state = DetachedCursor::open(&tx, store, index, range, dir, key_only)?;
        Ok(Cursor {
            tx: Hold::Owned(tx),
            state,
        })
    }
}
