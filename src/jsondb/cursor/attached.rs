//! [`Cursor`]: a detached cursor with its transaction, borrowed or owned, and the
//! calls that open cursors on a transaction or on the database.

use serde_json::Value;

use super::DetachedCursor;
use crate::error::{Error, Result};
use crate::jsondb::doc::DocForm;
use crate::jsondb::range::{Direction, KeyRange};
use crate::jsondb::txn::Transaction;
use crate::jsondb::{JsonDB, TransactionMode};

/// Where a cursor's transaction is: borrowed from the caller, or its own (a cursor
/// opened on the database).
enum Hold<'t, 'db> {
    Borrowed(&'t mut Transaction<'db>),
    Owned(Box<Transaction<'db>>),
}

/// A cursor with its transaction (how cursors work: [`DetachedCursor`]). Move it
/// with [`continue_`](Cursor::continue_) and friends; read the entry it is on with
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

impl JsonDB {
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
        let tx = Box::new(self.transaction(&[store], TransactionMode::ReadOnly)?);
        let state = DetachedCursor::open(&tx, store, index, range, dir, key_only)?;
        Ok(Cursor {
            tx: Hold::Owned(tx),
            state,
        })
    }
}
