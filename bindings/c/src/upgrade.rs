//! Schema versions (Rust's jsondb `upgrade.rs`): `flowdb_jsondb_open_with_version`,
//! `flowdb_jsondb_upgrade_to` and `flowdb_jsondb_version`, and `flowdb_upgrade_t`, what
//! an upgrade's callback makes its changes through.
//!
//! The upgrade's transaction (`UpgradeTx`) is lent, for the callback's call only, to a
//! transaction cell (txn.rs) that the callback's `flowdb_upgrade_t` and the handles
//! from `flowdb_upgrade_txn` (and their cursors) share; every call locks it. When the
//! callback returns, the cell is emptied under its lock, so any handle kept past the
//! callback finds nothing there (`FLOWDB_TRANSACTION_INACTIVE`), never the
//! transaction that was lent. A `flowdb_upgrade_t *` is a number that names its cell in
//! a table, not an address: it is never dereferenced, and a number is never given out
//! twice, so one kept past its callback names no cell.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::error::{cstr, flowdb_error_t, flowdb_status_t, guard, guard_with, null, put, put_new};
use super::jsondb::{flowdb_jsondb_t, handle, with_db};
use super::jsondb_schema::{index_schema, store_schema};
use super::options::{flowdb_options_t, open_into};
use super::txn::{flowdb_txn_t, Slot, TxnCell};
use flowdb::error::{Error, Result};
use flowdb::jsondb::{JsonDB, UpgradeTx};

/// The upgrade an upgrade callback is given: make schema changes through the
/// `flowdb_upgrade_*` functions, and any transaction request through
/// `flowdb_upgrade_txn`'s handle. Valid during the callback's call only: afterwards
/// every call on it is `FLOWDB_TRANSACTION_INACTIVE` (it is not an address; nothing is
/// freed under it). It may be used from other threads during the call (calls wait for
/// each other).
pub struct flowdb_upgrade_t {
    _never_dereferenced: [u8; 0],
}

/// An upgrade callback: `old_version` is the version the database had (0 for a new
/// one), `new_version` the one being opened; `user` is the caller's pointer, never
/// read by flowdb. Return 0 to commit the upgrade (with the new version), non-zero to
/// abort it: the database is then left as it was, and the opener returns the error of
/// the last request made through the upgrade that failed (its `flowdb_upgrade_t`, its
/// transaction handles and their cursors), or, when none failed,
/// `FLOWDB_TRANSACTION_INACTIVE` naming the callback's value. It runs on the opener's
/// thread and must not unwind into flowdb (no C++ exception, no longjmp). Only the
/// `flowdb_upgrade_*` functions change the schema there: the database's one-call
/// schema functions and `flowdb_jsondb_upgrade_to` are `FLOWDB_BUSY`, and its
/// transactions over existing stores wait for the upgrade (past the timeout,
/// `FLOWDB_BUSY`).
pub type flowdb_upgrade_fn = Option<
    unsafe extern "C" fn(
        up: *mut flowdb_upgrade_t,
        old_version: u64,
        new_version: u64,
        user: *mut c_void,
    ) -> c_int,
>;

/// An upgrade's transaction, lent to a cell for its callback's call.
#[derive(Debug)]
pub(crate) struct Lent {
    up: NonNull<UpgradeTx<'static>>,
    /// The error of the last request through the upgrade that failed, for its opener.
    failed: Option<flowdb_error_t>,
}

// SAFETY: `up` is only dereferenced under the lock of the cell that holds the `Lent`,
// while the callback runs (the cell is emptied before the upgrade's `&mut` borrow ends:
// `Lending`); a transaction may move between threads, one at a time, which the lock
// ensures.
unsafe impl Send for Lent {}

impl Lent {
    /// Runs `f` on the upgrade (its cell locked), keeping its error when it fails.
    pub(crate) fn run<T>(
        &mut self,
        f: impl FnOnce(&mut UpgradeTx<'static>) -> Result<T>,
    ) -> Result<T> {
        // SAFETY: see `unsafe impl Send for Lent`: the upgrade is alive and lent to
        // this cell, whose lock the caller holds.
        let r = f(unsafe { self.up.as_mut() });
        if let Err(e) = &r {
            self.failed = Some(flowdb_error_t::of(e));
        }
        r
    }
}

/// The cells of the upgrades whose callbacks run, by their handle's number.
static LENT: Mutex<BTreeMap<usize, TxnCell>> = parking_lot::const_mutex(BTreeMap::new());
/// The next handle number (0 is NULL).
static NEXT: AtomicUsize = AtomicUsize::new(1);

/// An upgrade lent to a cell for its callback: registered on creation; on drop (the
/// callback returned, or unwinding) unregistered and its cell emptied.
struct Lending<'a> {
    number: usize,
    cell: TxnCell,
    _up: PhantomData<&'a mut ()>,
}

impl<'a> Lending<'a> {
    fn new(up: &'a mut UpgradeTx<'_>) -> Self {
        let up = NonNull::from(up).cast::<UpgradeTx<'static>>();
        let cell: TxnCell = Arc::new(Mutex::new(Some(Slot::Lent(Lent { up, failed: None }))));
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        LENT.lock().insert(number, cell.clone());
        Lending {
            number,
            cell,
            _up: PhantomData,
        }
    }

    fn handle(&self) -> *mut flowdb_upgrade_t {
        self.number as *mut flowdb_upgrade_t
    }

    /// Ends the lending: the error of the last failed request through the upgrade.
    fn end(self) -> Option<flowdb_error_t> {
        LENT.lock().remove(&self.number);
        match self.cell.lock().take() {
            Some(Slot::Lent(l)) => l.failed,
            _ => None,
        }
    }
}

impl Drop for Lending<'_> {
    fn drop(&mut self) {
        LENT.lock().remove(&self.number);
        drop(self.cell.lock().take());
    }
}

/// The cell of the upgrade `up` names; `FLOWDB_TRANSACTION_INACTIVE` once its callback
/// returned.
fn lent_cell(up: *const flowdb_upgrade_t) -> Result<TxnCell> {
    if up.is_null() {
        return Err(null("up"));
    }
    LENT.lock().get(&(up as usize)).cloned().ok_or_else(|| {
        Error::TransactionInactive(
            "the upgrade is over: a flowdb_upgrade_t is valid only during its callback".into(),
        )
    })
}

/// Runs `f` on the upgrade `up` names.
fn with_upgrade<T>(
    up: *const flowdb_upgrade_t,
    f: impl FnOnce(&mut UpgradeTx<'static>) -> Result<T>,
) -> Result<T> {
    let cell = lent_cell(up)?;
    let mut slot = cell.lock();
    match slot.as_mut() {
        Some(Slot::Lent(l)) => l.run(f),
        _ => Err(Error::TransactionInactive("the upgrade is over".into())),
    }
}

thread_local! {
    /// The databases (by address) whose upgrade runs on this thread.
    static UPGRADING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// `FLOWDB_BUSY` when `db`'s upgrade runs on this thread (from its callback): what
/// waits for its schema lock would wait for ever.
pub(crate) fn not_upgrading(db: &JsonDB) -> Result<()> {
    let id = db as *const JsonDB as usize;
    match UPGRADING.with(|u| u.borrow().contains(&id)) {
        true => Err(Error::Busy(
            "the database's upgrade runs on this thread: change its schema through the callback's flowdb_upgrade_t".into(),
        )),
        false => Ok(()),
    }
}

/// Marks `db`'s upgrade running on this thread until dropped.
struct Upgrading(usize);

impl Upgrading {
    fn enter(db: &JsonDB) -> Result<Self> {
        not_upgrading(db)?;
        let id = db as *const JsonDB as usize;
        UPGRADING.with(|u| u.borrow_mut().push(id));
        Ok(Upgrading(id))
    }
}

impl Drop for Upgrading {
    fn drop(&mut self) {
        UPGRADING.with(|u| u.borrow_mut().retain(|&id| id != self.0));
    }
}

/// Brings `db` to `version`, calling `f` when it is at a lower one: Rust's
/// `JsonDB::upgrade_to` with a C callback. The error of an aborted upgrade is the one
/// of its last failed request, when there was one.
unsafe fn upgrade(
    db: &JsonDB,
    version: u64,
    f: flowdb_upgrade_fn,
    user: *mut c_void,
) -> std::result::Result<(), flowdb_error_t> {
    let f = f.ok_or_else(|| flowdb_error_t::of(&null("upgrade_fn")))?;
    let _on = Upgrading::enter(db).map_err(|e| flowdb_error_t::of(&e))?;
    // The error of the last failed request, when the callback aborted the upgrade.
    let mut aborted = None;
    db.upgrade_to(version, |old, new, up| {
        let lending = Lending::new(up);
        // SAFETY: a function of the callback's type from the C caller (checked not
        // NULL), given a handle valid for the call and the caller's own `user`.
        let rc = super::engine::calling_back(|| unsafe { f(lending.handle(), old, new, user) });
        let failed = lending.end();
        if rc == 0 {
            return Ok(());
        }
        aborted = failed;
        Err(Error::TransactionInactive(format!(
            "the upgrade callback returned {rc}: the upgrade to version {new} was aborted"
        )))
    })
    .map_err(|e| aborted.take().unwrap_or_else(|| flowdb_error_t::of(&e)))
}

/// Opens the engine on `opts` and the document layer on it at schema `version` (at
/// least 1; 0 is `FLOWDB_INVALID_ARGUMENT`), into `*out` (IndexedDB's
/// `open(name, version)`). When the stored version is lower (0 for a new database),
/// `upgrade_fn(up, old_version, new_version, user)` runs once, in one transaction
/// over every store, and its changes commit whole with the new version; when it
/// returns non-zero (see `flowdb_upgrade_fn`) or the commit fails, nothing is opened,
/// the database is left as it was, and the error is returned. A stored version higher
/// than `version` is `FLOWDB_INVALID_ARGUMENT` (IndexedDB's VersionError); the same
/// version opens it without calling `upgrade_fn`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_open_with_version(
    opts: *const flowdb_options_t,
    version: u64,
    upgrade_fn: flowdb_upgrade_fn,
    user: *mut c_void,
    out: *mut *mut flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard_with(err, || unsafe {
        if upgrade_fn.is_none() {
            return Err(flowdb_error_t::of(&null("upgrade_fn")));
        }
        let mut failed = None;
        open_into(opts, out, |o| {
            let db = JsonDB::from_engine(o.open_engine()?)?;
            match upgrade(&db, version, upgrade_fn, user) {
                Ok(()) => Ok(handle(db)),
                Err(e) => {
                    failed = Some(e);
                    Err(Error::Internal("the upgrade failed".into()))
                }
            }
        })
        .map_err(|e| failed.take().unwrap_or_else(|| flowdb_error_t::of(&e)))
    })
}

/// `flowdb_jsondb_open_with_version`'s step on an open database: brings it to
/// `version`, calling `upgrade_fn` when the stored version is lower (it waits for the
/// transactions under way first; shutting the database down meanwhile is
/// `FLOWDB_BUSY`). The same version does nothing; a lower one, or 0, is
/// `FLOWDB_INVALID_ARGUMENT`. An aborted upgrade leaves the database as it was.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_upgrade_to(
    db: *const flowdb_jsondb_t,
    version: u64,
    upgrade_fn: flowdb_upgrade_fn,
    user: *mut c_void,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard_with(err, || unsafe {
        // The handle's lock is not held while the callback runs (which may use it).
        let d = with_db(db, |d| Ok(d.clone())).map_err(|e| flowdb_error_t::of(&e))?;
        upgrade(&d, version, upgrade_fn, user)
    })
}

/// The database's schema version in `*out`: 0 until one is set by
/// `flowdb_jsondb_open_with_version` or `flowdb_jsondb_upgrade_to`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_version(
    db: *const flowdb_jsondb_t,
    out: *mut u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let v = with_db(db, |d| Ok(d.version()))?;
        put(out, v, "out")
    })
}

/// A handle on the upgrade's transaction, in `*out`, for any transaction request
/// (`flowdb_txn_put`, `flowdb_txn_get_all`, cursors, ...) on every store, those the
/// upgrade creates included; free it with `flowdb_txn_free` (during the callback or
/// after: the upgrade goes on). After the callback returns, every call on it (and on
/// its cursors) is `FLOWDB_TRANSACTION_INACTIVE`. `flowdb_txn_commit` and
/// `flowdb_txn_abort` on it are `FLOWDB_INVALID_ARGUMENT`: the callback's value
/// commits or aborts the upgrade.
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_txn(
    up: *mut flowdb_upgrade_t,
    out: *mut *mut flowdb_txn_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let cell = lent_cell(up)?;
        put_new(out, flowdb_txn_t::sharing(cell), "out")
    })
}

/// `flowdb_jsondb_create_object_store` in the upgrade (any key path form; `[]` for
/// out-of-line keys).
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_create_object_store(
    up: *mut flowdb_upgrade_t,
    name: *const c_char,
    key_path: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_upgrade(up, |u| {
            u.create_object_store(cstr(name, "name")?, cstr(key_path, "key_path")?)
        })
    })
}

/// `flowdb_jsondb_create_store` (a JSON description) in the upgrade.
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_create_store(
    up: *mut flowdb_upgrade_t,
    schema_json: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_upgrade(up, |u| u.create_store(&store_schema(schema_json, len)?))
    })
}

/// `flowdb_jsondb_delete_object_store` in the upgrade.
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_delete_object_store(
    up: *mut flowdb_upgrade_t,
    name: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_upgrade(up, |u| u.delete_object_store(cstr(name, "name")?))
    })
}

/// `flowdb_jsondb_create_index_with` in the upgrade: the documents already stored,
/// those the upgrade wrote included, are indexed.
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_create_index_with(
    up: *mut flowdb_upgrade_t,
    store: *const c_char,
    name: *const c_char,
    key_paths: *const *const c_char,
    n: usize,
    unique: bool,
    multi_entry: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_upgrade(up, |u| {
            let s = cstr(store, "store")?;
            u.create_index_with(s, &index_schema(name, key_paths, n, unique, multi_entry)?)
        })
    })
}

/// `flowdb_jsondb_delete_index` in the upgrade.
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_delete_index(
    up: *mut flowdb_upgrade_t,
    store: *const c_char,
    name: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_upgrade(up, |u| {
            u.delete_index(cstr(store, "store")?, cstr(name, "name")?)
        })
    })
}

/// Renames a store (IndexedDB's `store.name = to`); its documents and indexes stay as
/// they are, no data is rewritten. An unknown store is `FLOWDB_NOT_FOUND`; a name in
/// use, `FLOWDB_CONSTRAINT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_rename_store(
    up: *mut flowdb_upgrade_t,
    from: *const c_char,
    to: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_upgrade(up, |u| u.rename_store(cstr(from, "from")?, cstr(to, "to")?))
    })
}

/// Renames an index of `store` (IndexedDB's `index.name = to`); its entries stay as
/// they are. An unknown store or index is `FLOWDB_NOT_FOUND`; a name in use on the
/// store, `FLOWDB_CONSTRAINT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_upgrade_rename_index(
    up: *mut flowdb_upgrade_t,
    store: *const c_char,
    from: *const c_char,
    to: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_upgrade(up, |u| {
            u.rename_index(cstr(store, "store")?, cstr(from, "from")?, cstr(to, "to")?)
        })
    })
}
