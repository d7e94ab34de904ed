//! The change feed (Rust's jsondb `feed.rs`): `flowdb_subscription_t`, a pollable
//! subscription to committed changes, and the change log read as JSON
//! (`flowdb_jsondb_changes_since`), with `flowdb_jsondb_last_change_seq` and the
//! log's retention.
//!
//! A subscription holds no reference that keeps its database alive: it knows it only
//! weakly. Once the database is gone (shut down, or freed and released by its
//! transactions) no commit can come, so a subscription that finds it gone after its
//! queue ran dry has ended for good (`FLOWDB_CLOSED`).

use std::ffi::c_char;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::Value;

use super::doc_requests::to_json;
use super::error::{
    flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put, put_new, put_string,
};
use super::jsondb::{flowdb_jsondb_t, flowdb_key_range_t, key_range, with_db};
use super::txn::store_names;
use flowdb::error::{Error, Result};
use flowdb::jsondb::{Change, ChangeKind, JsonDB, Subscription};

/// What a change did to its key (`flowdb_change_t::kind`).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_change_kind_t {
    /// The document under the key was stored (created or replaced).
    FLOWDB_CHANGE_PUT = 0,
    /// The document under the key was deleted.
    FLOWDB_CHANGE_DELETE = 1,
    /// Every document of the store was deleted (a clear); the key is `null`.
    FLOWDB_CHANGE_CLEAR = 2,
}

/// One committed change, as `flowdb_subscription_next` lends it: its strings belong to
/// the subscription and stay valid until the subscription's next call or its free
/// (copy what you keep).
#[repr(C)]
#[derive(Debug)]
pub struct flowdb_change_t {
    /// The commit's sequence number (shared by the changes of one transaction).
    pub seq: u64,
    pub kind: flowdb_change_kind_t,
    /// The store's name: `store_len` bytes of UTF-8, NUL-terminated.
    pub store: *const c_char,
    pub store_len: usize,
    /// The document's primary key as JSON (`null` for a clear): `key_len` bytes,
    /// NUL-terminated.
    pub key: *const c_char,
    pub key_len: usize,
}

/// A subscription to the committed changes of some stores, from
/// `flowdb_jsondb_subscribe` or `flowdb_jsondb_subscribe_since`; poll it with
/// `flowdb_subscription_next`. Undelivered changes wait in it, however many. It does
/// not keep its database alive, and stays safe to use (and must still be freed) after
/// the database is gone. It may move between threads but must not be used by two at
/// once. Free with `flowdb_subscription_free` (which unsubscribes).
#[derive(Debug)]
pub struct flowdb_subscription_t {
    feed: Mutex<Feed>,
}

#[derive(Debug)]
struct Feed {
    sub: Subscription,
    db: Weak<JsonDB>,
    /// The strings of the change last handed out (NUL-terminated).
    store: Vec<u8>,
    key: Vec<u8>,
}

impl Feed {
    /// The next change, waiting at most `timeout_ms`; `None` when none came yet,
    /// `FLOWDB_CLOSED` once the database is gone and every change was delivered.
    fn next(&mut self, timeout_ms: u64) -> Result<Option<Change>> {
        let got = match timeout_ms {
            0 => self.sub.try_recv(),
            ms => self.sub.recv_timeout(Duration::from_millis(ms)),
        };
        if got.is_some() || self.db.strong_count() > 0 {
            return Ok(got);
        }
        // The database is gone: no commit can come, so what is queued is all there is.
        self.sub.try_recv().map(Some).ok_or_else(|| {
            Error::Closed(
                "the subscription's database is gone (shut down or freed): every change was delivered".into(),
            )
        })
    }

    /// Keeps the strings of `c` and lends them in a `flowdb_change_t`.
    fn lend(&mut self, c: Change) -> Result<flowdb_change_t> {
        self.store = c.store.into_bytes();
        self.key = to_json(&c.key)?.into_bytes();
        let (store_len, key_len) = (self.store.len(), self.key.len());
        self.store.push(0);
        self.key.push(0);
        Ok(flowdb_change_t {
            seq: c.seq,
            kind: kind_of(c.kind),
            store: self.store.as_ptr() as *const c_char,
            store_len,
            key: self.key.as_ptr() as *const c_char,
            key_len,
        })
    }
}

fn kind_of(k: ChangeKind) -> flowdb_change_kind_t {
    match k {
        ChangeKind::Put => flowdb_change_kind_t::FLOWDB_CHANGE_PUT,
        ChangeKind::Delete => flowdb_change_kind_t::FLOWDB_CHANGE_DELETE,
        ChangeKind::Clear => flowdb_change_kind_t::FLOWDB_CHANGE_CLEAR,
    }
}

/// A change as JSON (`flowdb_jsondb_changes_since`).
#[derive(serde::Serialize)]
struct ChangeJson<'a> {
    seq: u64,
    store: &'a str,
    key: &'a Value,
    kind: &'static str,
}

/// A subscription over `n` stores (NUL-terminated names at `stores`) of `db`, keys in
/// `range` (NULL: every key), from after `since` (`None`: from the next commit).
unsafe fn subscribe(
    db: *const flowdb_jsondb_t,
    since: Option<u64>,
    stores: *const *const c_char,
    n: usize,
    range: *const flowdb_key_range_t,
    out: *mut *mut flowdb_subscription_t,
) -> Result<()> {
    if out.is_null() {
        return Err(null("out"));
    }
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (names, range) = unsafe {
        let range = match range.is_null() {
            true => None,
            false => Some(key_range(range)?),
        };
        (store_names(stores, n)?, range)
    };
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (sub, db) = unsafe {
        with_db(db, |d| {
            Ok((d.subscribe_since(since, &names, range)?, Arc::downgrade(d)))
        })?
    };
    let feed = Feed {
        sub,
        db,
        store: Vec::new(),
        key: Vec::new(),
    };
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        put_new(
            out,
            flowdb_subscription_t {
                feed: Mutex::new(feed),
            },
            "out",
        )
    }
}

/// Subscribes to the changes of `n` stores (NUL-terminated names; at least one, else
/// `FLOWDB_INVALID_ARGUMENT`; an unknown one is `FLOWDB_NOT_FOUND`), and when `range`
/// is not NULL only to documents whose primary key is in it (clears always come), as
/// they commit, from the next commit on, into `*out` (free with
/// `flowdb_subscription_free`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_subscribe(
    db: *const flowdb_jsondb_t,
    stores: *const *const c_char,
    n: usize,
    range: *const flowdb_key_range_t,
    out: *mut *mut flowdb_subscription_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        subscribe(db, None, stores, n, range, out)
    })
}

/// `flowdb_jsondb_subscribe`, delivering first the logged changes after sequence
/// number `since` (from an earlier change, or `flowdb_jsondb_last_change_seq`), then
/// the live ones, none missed or repeated between the two. `FLOWDB_NOT_FOUND` when
/// changes after `since` have expired from the log (`flowdb_jsondb_changes_since`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_subscribe_since(
    db: *const flowdb_jsondb_t,
    since: u64,
    stores: *const *const c_char,
    n: usize,
    range: *const flowdb_key_range_t,
    out: *mut *mut flowdb_subscription_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        subscribe(db, Some(since), stores, n, range, out)
    })
}

/// The next change, waiting for one at most `timeout_ms` milliseconds (0: not at all;
/// `UINT64_MAX`: until one comes or the database is gone). `*has_change` is true and
/// `*change` the change (its strings lent until the next call on the subscription or
/// its free), or `*has_change` is false when none came yet (`*change` untouched).
/// Once the database is gone (shut down or freed) and every change it committed was
/// delivered, it is `FLOWDB_CLOSED`, for good.
#[no_mangle]
pub unsafe extern "C" fn flowdb_subscription_next(
    sub: *mut flowdb_subscription_t,
    timeout_ms: u64,
    change: *mut flowdb_change_t,
    has_change: *mut bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = sub.as_ref().ok_or_else(|| null("sub"))?;
        if change.is_null() {
            return Err(null("change"));
        }
        if has_change.is_null() {
            return Err(null("has_change"));
        }
        let mut feed = s.feed.lock();
        match feed.next(timeout_ms)? {
            Some(c) => {
                put(change, feed.lend(c)?, "change")?;
                put(has_change, true, "has_change")
            }
            None => put(has_change, false, "has_change"),
        }
    })
}

/// The last sequence number committed when the subscription began, in `*out`: it
/// delivers the changes of later commits (and, from `flowdb_jsondb_subscribe_since`,
/// the logged ones after `since` first).
#[no_mangle]
pub unsafe extern "C" fn flowdb_subscription_start_seq(
    sub: *const flowdb_subscription_t,
    out: *mut u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = sub.as_ref().ok_or_else(|| null("sub"))?;
        let seq = s.feed.lock().sub.start_seq();
        put(out, seq, "out")
    })
}

/// Frees a subscription (unsubscribing it, when its database is still there). NULL
/// does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_subscription_free(sub: *mut flowdb_subscription_t) {
    if !sub.is_null() {
        // SAFETY: made by flowdb_jsondb_subscribe or _subscribe_since, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(sub) }));
    }
}

/// Every committed change after sequence number `since`, in commit order, from the
/// change log (to resume after a restart from a kept sequence number), as a JSON array
/// of `{"seq":…,"store":…,"key":…,"kind":"put"|"delete"|"clear"}` in `*out` (free with
/// `flowdb_string_free`); `[]` when there is none. `FLOWDB_NOT_FOUND` when changes
/// after `since` have expired from the log (it keeps them for the change retention),
/// never a silent gap.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_changes_since(
    db: *const flowdb_jsondb_t,
    since: u64,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let changes = with_db(db, |d| d.changes_since(since))?;
        let list: Vec<ChangeJson<'_>> = changes
            .iter()
            .map(|c| ChangeJson {
                seq: c.seq,
                store: &c.store,
                key: &c.key,
                kind: match c.kind {
                    ChangeKind::Put => "put",
                    ChangeKind::Delete => "delete",
                    ChangeKind::Clear => "clear",
                },
            })
            .collect();
        put_string(out, to_json(&list)?, "out")
    })
}

/// The sequence number of the last commit that changed documents, in `*out` (0: none
/// yet).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_last_change_seq(
    db: *const flowdb_jsondb_t,
    out: *mut u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let seq = with_db(db, |d| Ok(d.last_change_seq()))?;
        put(out, seq, "out")
    })
}

/// Sets how long the change log keeps a commit's changes, from now on (24 hours by
/// default): `flowdb_jsondb_changes_since` and `_subscribe_since` can resume from
/// within that span.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_set_change_retention_ms(
    db: *const flowdb_jsondb_t,
    ms: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |d| {
            d.set_change_retention(Duration::from_millis(ms));
            Ok(())
        })
    })
}
