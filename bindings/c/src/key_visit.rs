//! Key-only reads handed to a C callback one key at a time, typed and in place (Rust's
//! `get_all_keys_each`): a number arrives as a `double`, a string as UTF-8 text,
//! with no JSON to write or parse. Shared by `flowdb_jsondb_get_all_keys_visit`
//! (jsondb_reads.rs) and `flowdb_txn_get_all_keys_visit` (txn_reads.rs).

use std::ffi::{c_char, c_void};

use super::doc_getall::Source;
use super::doc_requests::Docs;
use super::error::{null, put_opt};
use flowdb::error::{Error, Result};
use flowdb::jsondb::{KeyRef, KeyType};

/// The type of a key (flowdb's key set: IndexedDB's number, string and array keys,
/// plus `null` and booleans).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_key_type_t {
    FLOWDB_KEY_NULL = 0,
    FLOWDB_KEY_BOOLEAN = 1,
    FLOWDB_KEY_NUMBER = 2,
    FLOWDB_KEY_STRING = 3,
    FLOWDB_KEY_ARRAY = 4,
}

/// One key as a key visit hands it out. `kind` says which field holds it: `boolean`
/// for `FLOWDB_KEY_BOOLEAN`, `number` for `FLOWDB_KEY_NUMBER`, and `text` (`len`
/// bytes, NUL-terminated after them) for `FLOWDB_KEY_STRING` (the string as UTF-8) and
/// `FLOWDB_KEY_ARRAY` (the array as JSON text, as `flowdb_*_get_all_keys` writes it).
/// The other fields are zero (`text` NULL). `text` is lent for the call only: copy
/// what you keep.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_key_view_t {
    pub kind: flowdb_key_type_t,
    pub boolean: bool,
    pub number: f64,
    pub text: *const c_char,
    pub len: usize,
}

/// What `flowdb_jsondb_get_all_keys_visit` and `flowdb_txn_get_all_keys_visit` call
/// with each key, in order: the key (valid only during the call) and the `user`
/// pointer given to the visit. Return true for the next key, false to stop (the
/// callback is not called again). It must not unwind into flowdb (no C++ exception,
/// no longjmp). It may read the database (and, through the database, write other
/// stores); a write to the store being read, a call on the transaction being read,
/// or a shutdown of the database fails with `FLOWDB_BUSY` (each would wait for this
/// read to end).
pub type flowdb_key_visit_fn =
    Option<unsafe extern "C" fn(key: *const flowdb_key_view_t, user: *mut c_void) -> bool>;

/// The primary keys of `src`, at most `count` (0: all), handed to `callback` until it
/// returns false; the number of calls in `*handed_out` when it is not NULL.
pub(crate) unsafe fn get_all_keys_visit(
    d: &mut impl Docs,
    src: Source<'_>,
    count: usize,
    callback: flowdb_key_visit_fn,
    user: *mut c_void,
    handed_out: *mut u64,
) -> Result<()> {
    let callback = callback.ok_or_else(|| null("callback"))?;
    let mut text = Vec::new();
    let mut view = flowdb_key_view_t::NULL;
    let mut bad = false;
    // The whole walk counts as the callback's (the count is per thread, and only the
    // C entry points the callback may call read it): one count, not one per key.
    let handed = super::engine::calling_back(|| {
        src.keys_each(d, count, |k| {
            if !fill(&mut view, k, &mut text) {
                bad = true;
                return false;
            }
            // SAFETY: a function of the callback's type from the C caller (checked not
            // NULL above), given a view valid for the call (its text lives in `text`,
            // untouched until the call returns) and the caller's own `user` pointer,
            // uninterpreted.
            unsafe { callback(&view, user) }
        })
    })?;
    if bad {
        return Err(Error::Internal("undecodable stored key".into()));
    }
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid.
    unsafe { put_opt(handed_out, handed as u64) };
    Ok(())
}

impl flowdb_key_view_t {
    const NULL: Self = flowdb_key_view_t {
        kind: flowdb_key_type_t::FLOWDB_KEY_NULL,
        boolean: false,
        number: 0.0,
        text: std::ptr::null(),
        len: 0,
    };
}

/// Makes `v` the view of `k`, its text (a string's, or an array's JSON) written into
/// `text`; false when `k` does not decode. (Written in place: a view returned by value
/// is stored in pieces and read back whole, a store-forwarding stall per key that
/// took a third of the time of a visit of number keys.)
#[inline(always)]
fn fill(v: &mut flowdb_key_view_t, k: KeyRef<'_>, text: &mut Vec<u8>) -> bool {
    use flowdb_key_type_t::*;
    *v = flowdb_key_view_t::NULL;
    match k.key_type() {
        KeyType::Number => match k.as_f64() {
            Some(n) => (v.kind, v.number) = (FLOWDB_KEY_NUMBER, n),
            None => return false,
        },
        KeyType::Null => {}
        KeyType::Boolean => match k.as_bool() {
            Some(b) => (v.kind, v.boolean) = (FLOWDB_KEY_BOOLEAN, b),
            None => return false,
        },
        KeyType::String | KeyType::Array => {
            text.clear();
            let ok = if k.key_type() == KeyType::String {
                v.kind = FLOWDB_KEY_STRING;
                // `text` is empty: valid UTF-8, taken as a String and given back.
                let mut s = String::from_utf8(std::mem::take(text)).unwrap_or_default();
                let ok = k.write_str(&mut s);
                *text = s.into_bytes();
                ok
            } else {
                v.kind = FLOWDB_KEY_ARRAY;
                k.write_json(text)
            };
            if !ok {
                return false;
            }
            v.len = text.len();
            text.push(0);
            v.text = text.as_ptr().cast();
        }
    }
    true
}
