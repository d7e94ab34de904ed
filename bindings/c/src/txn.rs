//! `flowdb_txn_t`: JsonDB transactions. A transaction is used by one thread at a time
//! (it may move between threads). `flowdb_txn_commit`/`_abort` end it; later calls
//! are `FLOWDB_TRANSACTION_INACTIVE`; `flowdb_txn_free` aborts one still active.
//!
//! The transaction lives in a cell (`TxnCell`) its handle shares with its cursors
//! (jsondb_cursor.rs), each call locking it: `flowdb_txn_free` empties the cell, so a
//! cursor that outlives its transaction finds it gone, and never a freed one. An
//! upgrade's transaction is lent to a cell of the same kind for its callback
//! (upgrade.rs): handles from `flowdb_upgrade_txn` and their cursors share it, and it
//! is emptied when the callback returns.

use std::ffi::c_char;
use std::sync::Arc;

use parking_lot::Mutex;

use super::doc_requests as docs;
use super::error::{cstr, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put_new};
use super::jsondb::{flowdb_jsondb_t, flowdb_key_range_t, with_db};
use super::upgrade::Lent;
use flowdb::error::{Error, Result};
use flowdb::jsondb::{JsonDB, Transaction, TransactionMode};

/// A transaction with the database it borrows.
#[derive(Debug)]
pub(crate) struct TxnSlot {
    // Declared before `_db`, so it is dropped first: it borrows the database `_db`
    // keeps alive (a stable heap address inside the Arc).
    txn: Transaction<'static>,
    _db: Arc<JsonDB>,
}

/// What a transaction cell holds while its transaction may be used.
#[derive(Debug)]
pub(crate) enum Slot {
    /// A transaction of its own (`flowdb_jsondb_transaction`, a database cursor's).
    Own(TxnSlot),
    /// An upgrade's transaction, lent for its callback (upgrade.rs).
    Lent(Lent),
}

/// Where a transaction lives, shared by its handle and its cursors; empty once the
/// handle is freed (the transaction aborted, the database released), or, for an
/// upgrade's, once its callback returned.
pub(crate) type TxnCell = Arc<Mutex<Option<Slot>>>;

/// A transaction over a fixed set of stores. It may move between threads but must not
/// be used by two at once. It keeps its database alive until `flowdb_txn_free`. One
/// from `flowdb_upgrade_txn` is an upgrade's, over every store: usable during the
/// upgrade's callback only, and freed with `flowdb_txn_free` all the same.
#[derive(Debug)]
pub struct flowdb_txn_t {
    cell: TxnCell,
}

/// Begins a transaction over `stores` of the database `db`, in a cell of its own.
pub(crate) unsafe fn begin(
    db: *const flowdb_jsondb_t,
    stores: &[&str],
    mode: TransactionMode,
) -> Result<TxnCell> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let arc = unsafe { with_db(db, |d| Ok(d.clone()))? };
    // SAFETY: the JsonDB lives in the Arc stored beside the transaction, which is
    // dropped after it; the reference never outlives the slot.
    let r: &'static JsonDB = unsafe { &*Arc::as_ptr(&arc) };
    let txn = r.transaction(stores, mode)?;
    Ok(Arc::new(Mutex::new(Some(Slot::Own(TxnSlot {
        txn,
        _db: arc,
    })))))
}

thread_local! {
    /// The transaction cells this thread holds the lock of (calls inside calls: a
    /// callback's call on another transaction).
    static HELD: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on the transaction in `cell`, telling it whether the transaction is an
/// upgrade's; `FLOWDB_TRANSACTION_INACTIVE` once its handle was freed (or its
/// upgrade's callback returned).
fn in_slot<T>(
    cell: &TxnCell,
    f: impl FnOnce(&mut Transaction<'static>, bool) -> Result<T>,
) -> Result<T> {
    // A call from inside a callback of a call on this same cell (a key visit's) finds
    // the lock held by its own thread: waiting would wait forever. Another thread's
    // hold is waited for, as always.
    let at = Arc::as_ptr(cell) as usize;
    if HELD.with(|h| h.borrow().contains(&at)) {
        return Err(Error::Busy(
            "a call on a transaction from inside a callback of a call on it would wait \
             for that call: make it after the callback returns"
                .into(),
        ));
    }
    let mut slot = cell.lock();
    HELD.with(|h| h.borrow_mut().push(at));
    struct Release(usize);
    impl Drop for Release {
        fn drop(&mut self) {
            HELD.with(|h| h.borrow_mut().retain(|&c| c != self.0));
        }
    }
    let _release = Release(at);
    match slot.as_mut() {
        Some(Slot::Own(s)) => f(&mut s.txn, false),
        Some(Slot::Lent(l)) => l.run(|up| f(up, true)),
        None => Err(Error::TransactionInactive(
            "the transaction was freed, or its upgrade is over".into(),
        )),
    }
}

/// Runs `f` on the transaction in `cell`; `FLOWDB_TRANSACTION_INACTIVE` once its
/// handle was freed (or its upgrade's callback returned).
pub(crate) fn in_cell<T>(
    cell: &TxnCell,
    f: impl FnOnce(&mut Transaction<'static>) -> Result<T>,
) -> Result<T> {
    in_slot(cell, |t, _| f(t))
}

/// `with_txn` for commit and abort, which an upgrade's transaction refuses: it commits
/// when its callback returns 0, and is aborted when the callback returns non-zero.
unsafe fn ending<T>(
    t: *mut flowdb_txn_t,
    f: impl FnOnce(&mut Transaction<'static>) -> Result<T>,
) -> Result<T> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    in_slot(unsafe { txn_cell(t)? }, |tx, upgrade| {
        match upgrade {
        true => Err(Error::invalid(
            "an upgrade's transaction commits when its callback returns 0 (non-zero aborts it); it cannot be committed or aborted itself",
        )),
        false => f(tx),
    }
    })
}

impl flowdb_txn_t {
    /// A handle on the transaction in `cell` (an upgrade's, from `flowdb_upgrade_txn`).
    pub(crate) fn sharing(cell: TxnCell) -> Self {
        flowdb_txn_t { cell }
    }
}

/// The cell of a transaction handle (for its cursors).
pub(crate) unsafe fn txn_cell<'a>(t: *const flowdb_txn_t) -> Result<&'a TxnCell> {
    // SAFETY: NULL or a live handle (documented).
    unsafe { t.as_ref() }
        .map(|t| &t.cell)
        .ok_or_else(|| null("txn"))
}

/// `n` NUL-terminated store names at `stores` (NULL allowed when `n` is 0).
pub(crate) unsafe fn store_names<'a>(
    stores: *const *const c_char,
    n: usize,
) -> Result<Vec<&'a str>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if stores.is_null() {
        return Err(null("stores"));
    }
    // SAFETY: `n` pointers at `stores` (documented per function).
    let ptrs = unsafe { std::slice::from_raw_parts(stores, n) };
    ptrs.iter()
        .enumerate()
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        .map(|(i, p)| unsafe { cstr(*p, &format!("stores[{i}]")) })
        .collect()
}

/// Read-only or read-write (IndexedDB's transaction modes).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_txn_mode_t {
    FLOWDB_READ_ONLY_TXN = 0,
    FLOWDB_READ_WRITE_TXN = 1,
}

/// Starts a transaction over `n` stores (NUL-terminated names) in `mode`; waits for
/// overlapping transactions created before it (past the timeout: `FLOWDB_BUSY`). No
/// store (`n` of 0) is `FLOWDB_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_transaction(
    db: *const flowdb_jsondb_t,
    stores: *const *const c_char,
    n: usize,
    txn_mode: i32,
    out: *mut *mut flowdb_txn_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let names = store_names(stores, n)?;
        let mode = match txn_mode {
            0 => TransactionMode::ReadOnly,
            1 => TransactionMode::ReadWrite,
            m => {
                return Err(Error::invalid(format!(
                    "mode {m} is not a flowdb_txn_mode_t"
                )))
            }
        };
        if out.is_null() {
            // Checked before beginning: a transaction nobody holds would block others.
            return Err(null("out"));
        }
        let cell = begin(db, &names, mode)?;
        put_new(out, flowdb_txn_t { cell }, "out")
    })
}

/// Runs `f` on the transaction of the handle `t`.
pub(crate) unsafe fn with_txn<T>(
    t: *mut flowdb_txn_t,
    f: impl FnOnce(&mut Transaction<'static>) -> Result<T>,
) -> Result<T> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    in_cell(unsafe { txn_cell(t)? }, f)
}

/// Stores a document in the transaction; its key (JSON) in `*key_out` (may be NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_put(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| docs::put_doc(t, false, store, doc, len, key_out))
    })
}

/// Stores a document under a newly generated key.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_put_auto(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| docs::put_doc(t, true, store, doc, len, key_out))
    })
}

/// The document with `key` as the transaction sees it (NULL in `*out` when none).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    key: *const c_char,
    len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| docs::get_doc(t, store, key, len, out))
    })
}

/// Deletes the document with `key` in the transaction.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_delete(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    key: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| docs::delete_doc(t, store, key, len))
    })
}

/// The number of documents the transaction sees.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_count(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    out: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| docs::count(t, store, out))
    })
}

/// Every document the transaction sees, as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_scan(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| docs::scan(t, store, out))
    })
}

/// Documents whose index key equals `value`, as a JSON array (compound prefixes as
/// `flowdb_jsondb_get_by_index`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_get_by_index(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    value: *const c_char,
    len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| {
            docs::get_by_index(t, store, index, value, len, out)
        })
    })
}

/// Documents with `start <= index key < end` (half-open), as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_range_by_index(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    start: *const c_char,
    start_len: usize,
    end: *const c_char,
    end_len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| {
            docs::range_by_index(t, store, index, start, start_len, end, end_len, out)
        })
    })
}

/// Documents whose index key is in `range`, in `direction` order.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_index_query(
    txn: *mut flowdb_txn_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_txn(txn, |t| {
            docs::index_query(t, store, index, range, direction, out)
        })
    })
}

/// Applies every successful request as one atomic batch; the transaction ends. An
/// upgrade's transaction (`flowdb_upgrade_txn`) is `FLOWDB_INVALID_ARGUMENT`: it
/// commits when its callback returns 0.
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_commit(
    txn: *mut flowdb_txn_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { ending(txn, |t| t.commit_in_place()) })
}

/// Discards everything (key generators included); the transaction ends. An upgrade's
/// transaction is `FLOWDB_INVALID_ARGUMENT` (its callback returns non-zero to abort
/// it).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_abort(
    txn: *mut flowdb_txn_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        ending(txn, |t| {
            if !t.is_active() {
                return Err(Error::TransactionInactive(
                    "the transaction has already committed or aborted".into(),
                ));
            }
            t.abort_in_place();
            Ok(())
        })
    })
}

/// Frees a transaction (aborting it when still active). NULL does nothing. Its
/// cursors stay to be freed; every later call on them is
/// `FLOWDB_TRANSACTION_INACTIVE`. A handle from `flowdb_upgrade_txn` is freed alone:
/// the upgrade goes on (its other handles and cursors with it).
#[no_mangle]
pub unsafe extern "C" fn flowdb_txn_free(txn: *mut flowdb_txn_t) {
    if !txn.is_null() {
        no_unwind((), || {
            // SAFETY: made by flowdb_jsondb_transaction or flowdb_upgrade_txn, freed once.
            let h = unsafe { Box::from_raw(txn) };
            // Emptied, not only dropped: cursors share the cell. The transaction
            // aborts (when still active) and releases the database once the lock is
            // let go. An upgrade's stays: its callback's other handles share it.
            let mut cell = h.cell.lock();
            let slot = match *cell {
                Some(Slot::Own(_)) => cell.take(),
                _ => None,
            };
            drop(cell);
            drop(slot);
        });
    }
}
