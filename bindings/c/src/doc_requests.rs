//! Document requests shared by `flowdb_jsondb_t` (where each is a one-request
//! transaction) and `flowdb_txn_t`: the argument checks, the request and the result
//! written out, once for both handle families.

use std::ffi::{c_char, CString};

use serde_json::Value;

use super::error::{cstr, json, null, put, put_cstring, put_string};
use super::key_range::{direction_of, flowdb_key_range_t, key_range};
use flowdb::error::{Error, Result};
use flowdb::jsondb::{Direction, JsonDB, KeyRange, Transaction, TransactionMode};
use flowdb::jsondb::{DocArray, DocSink, RawDoc};

/// What both a database and a transaction answer. Documents come back as their
/// stored JSON text (`RawDoc`): C wants text, so they are not parsed only to be
/// printed again.
pub(crate) trait Docs {
    fn put(&mut self, store: &str, doc: Value, generate: bool) -> Result<Value>;
    fn get(&mut self, store: &str, key: &Value) -> Result<Option<RawDoc>>;
    fn delete(&mut self, store: &str, key: &Value) -> Result<()>;
    fn count(&mut self, store: &str) -> Result<usize>;
    fn get_range(&mut self, store: &str, range: &KeyRange, dir: Direction) -> Result<Vec<RawDoc>>;
    fn index_query(
        &mut self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Vec<RawDoc>>;

    fn scan(&mut self, store: &str) -> Result<Vec<RawDoc>> {
        self.get_range(store, &KeyRange::all(), Direction::Next)
    }
    fn get_by_index(&mut self, store: &str, index: &str, value: &Value) -> Result<Vec<RawDoc>>;
    fn range_by_index(
        &mut self,
        store: &str,
        index: &str,
        start: &Value,
        end: &Value,
    ) -> Result<Vec<RawDoc>>;

    // Writes beyond put and delete, and any read (the key-range reads: doc_getall.rs).
    fn add(&mut self, store: &str, doc: Value) -> Result<Value>;
    /// `put_with_key`, or with `add` `add_with_key` (out-of-line keys).
    fn put_with_key(&mut self, store: &str, doc: Value, key: &Value, add: bool) -> Result<Value>;
    fn delete_range(&mut self, store: &str, range: &KeyRange) -> Result<()>;
    fn clear(&mut self, store: &str) -> Result<()>;
    /// Runs the read `f` in the transaction (a database: a read-only one of its own).
    fn reading<T>(
        &mut self,
        store: &str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T>;
}

/// A read as one request of its own: a read-only transaction over `store`.
pub(crate) fn read_one<T>(
    db: &JsonDB,
    store: &str,
    f: impl FnOnce(&Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = db.transaction(&[store], TransactionMode::ReadOnly)?;
    f(&tx)
}

impl Docs for &JsonDB {
    fn put(&mut self, store: &str, doc: Value, generate: bool) -> Result<Value> {
        if generate {
            JsonDB::put_auto(self, store, doc)
        } else {
            JsonDB::put(self, store, doc)
        }
    }
    fn get(&mut self, store: &str, key: &Value) -> Result<Option<RawDoc>> {
        read_one(self, store, |tx| tx.get_as(store, key))
    }
    fn delete(&mut self, store: &str, key: &Value) -> Result<()> {
        JsonDB::delete(self, store, key)
    }
    fn count(&mut self, store: &str) -> Result<usize> {
        JsonDB::count(self, store)
    }
    fn get_range(&mut self, store: &str, range: &KeyRange, dir: Direction) -> Result<Vec<RawDoc>> {
        read_one(self, store, |tx| tx.get_range_as(store, range, dir))
    }
    fn index_query(
        &mut self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Vec<RawDoc>> {
        read_one(self, store, |tx| {
            tx.index_query_as(store, index, range, dir)
        })
    }
    fn get_by_index(&mut self, store: &str, index: &str, value: &Value) -> Result<Vec<RawDoc>> {
        read_one(self, store, |tx| tx.get_by_index_as(store, index, value))
    }
    fn range_by_index(
        &mut self,
        store: &str,
        index: &str,
        start: &Value,
        end: &Value,
    ) -> Result<Vec<RawDoc>> {
        read_one(self, store, |tx| {
            tx.range_by_index_as(store, index, start, end)
        })
    }
    fn add(&mut self, store: &str, doc: Value) -> Result<Value> {
        JsonDB::add(self, store, doc)
    }
    fn put_with_key(&mut self, store: &str, doc: Value, key: &Value, add: bool) -> Result<Value> {
        match add {
            true => JsonDB::add_with_key(self, store, doc, key),
            false => JsonDB::put_with_key(self, store, doc, key),
        }
    }
    fn delete_range(&mut self, store: &str, range: &KeyRange) -> Result<()> {
        JsonDB::delete_range(self, store, range)
    }
    fn clear(&mut self, store: &str) -> Result<()> {
        JsonDB::clear(self, store)
    }
    fn reading<T>(
        &mut self,
        store: &str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        read_one(self, store, f)
    }
}

impl Docs for Transaction<'_> {
    fn put(&mut self, store: &str, doc: Value, generate: bool) -> Result<Value> {
        if generate {
            Transaction::put_auto(self, store, doc)
        } else {
            Transaction::put(self, store, doc)
        }
    }
    fn get(&mut self, store: &str, key: &Value) -> Result<Option<RawDoc>> {
        self.get_as(store, key)
    }
    fn delete(&mut self, store: &str, key: &Value) -> Result<()> {
        Transaction::delete(self, store, key)
    }
    fn count(&mut self, store: &str) -> Result<usize> {
        Transaction::count(self, store)
    }
    fn get_range(&mut self, store: &str, range: &KeyRange, dir: Direction) -> Result<Vec<RawDoc>> {
        self.get_range_as(store, range, dir)
    }
    fn index_query(
        &mut self,
        store: &str,
        index: &str,
        range: &KeyRange,
        dir: Direction,
    ) -> Result<Vec<RawDoc>> {
        self.index_query_as(store, index, range, dir)
    }
    fn get_by_index(&mut self, store: &str, index: &str, value: &Value) -> Result<Vec<RawDoc>> {
        self.get_by_index_as(store, index, value)
    }
    fn range_by_index(
        &mut self,
        store: &str,
        index: &str,
        start: &Value,
        end: &Value,
    ) -> Result<Vec<RawDoc>> {
        self.range_by_index_as(store, index, start, end)
    }
    fn add(&mut self, store: &str, doc: Value) -> Result<Value> {
        Transaction::add(self, store, doc)
    }
    fn put_with_key(&mut self, store: &str, doc: Value, key: &Value, add: bool) -> Result<Value> {
        match add {
            true => Transaction::add_with_key(self, store, doc, key),
            false => Transaction::put_with_key(self, store, doc, key),
        }
    }
    fn delete_range(&mut self, store: &str, range: &KeyRange) -> Result<()> {
        Transaction::delete_range(self, store, range)
    }
    fn clear(&mut self, store: &str) -> Result<()> {
        Transaction::clear(self, store)
    }
    fn reading<T>(&mut self, _: &str, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        f(self)
    }
}

/// A value as JSON text.
pub(crate) fn to_json(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("cannot serialize to JSON: {e}")))
}

/// A document's key as JSON text in `*key_out`, when the caller asked for it.
pub(crate) unsafe fn key_result(key_out: *mut *mut c_char, k: &Value) -> Result<()> {
    if key_out.is_null() {
        return Ok(());
    }
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put_string(key_out, to_json(k)?, "key_out") }
}

/// A document (or NULL when there is none) as a C string in `*out`.
pub(crate) unsafe fn doc_result(out: *mut *mut c_char, d: Option<RawDoc>) -> Result<()> {
    match d {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        Some(d) => unsafe { put_text(out, d.into_bytes()) },
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        None => unsafe { put(out, std::ptr::null_mut(), "out") },
    }
}

/// Documents as one JSON array C string in `*out`.
pub(crate) unsafe fn docs_out(out: *mut *mut c_char, docs: Vec<RawDoc>) -> Result<()> {
    // Sized exactly, brackets, commas and the C string's NUL included: no regrowing,
    // and no shrinking when it becomes the C string.
    let text = docs.iter().map(|d| d.as_bytes().len() + 1).sum::<usize>() + 2;
    let mut array = DocArray::with_capacity(text + usize::from(docs.is_empty()));
    for d in &docs {
        array.push_stored(d.as_bytes())?;
    }
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put_text(out, array.into_text()) }
}

/// Stored JSON text (never holding a NUL byte: JSON escapes control characters).
pub(crate) unsafe fn put_text(out: *mut *mut c_char, text: Vec<u8>) -> Result<()> {
    let c = CString::new(text)
        .map_err(|_| Error::Internal("a stored document holds a NUL byte".into()))?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put_cstring(out, c, "out") }
}

/// A write of one document (`put`, `put_auto`, `add`): the arguments checked, the
/// write, its key in `*key_out` when asked for.
pub(crate) unsafe fn write_doc(
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    write: impl FnOnce(&str, Value) -> Result<Value>,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (s, v) = unsafe { (cstr(store, "store")?, json(doc, len, "doc")?) };
    let k = write(s, v)?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { key_result(key_out, &k) }
}

pub(crate) unsafe fn put_doc(
    d: &mut impl Docs,
    generate: bool,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { write_doc(store, doc, len, key_out, |s, v| d.put(s, v, generate)) }
}

pub(crate) unsafe fn get_doc(
    d: &mut impl Docs,
    store: *const c_char,
    key: *const c_char,
    len: usize,
    out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (s, k) = unsafe { (cstr(store, "store")?, json(key, len, "key")?) };
    if out.is_null() {
        return Err(null("out"));
    }
    let doc = d.get(s, &k)?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { doc_result(out, doc) }
}

pub(crate) unsafe fn delete_doc(
    d: &mut impl Docs,
    store: *const c_char,
    key: *const c_char,
    len: usize,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (s, k) = unsafe { (cstr(store, "store")?, json(key, len, "key")?) };
    d.delete(s, &k)
}

pub(crate) unsafe fn count(d: &mut impl Docs, store: *const c_char, out: *mut usize) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let n = d.count(unsafe { cstr(store, "store")? })?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put(out, n, "out") }
}

pub(crate) unsafe fn scan(
    d: &mut impl Docs,
    store: *const c_char,
    out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let docs = d.scan(unsafe { cstr(store, "store")? })?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { docs_out(out, docs) }
}

pub(crate) unsafe fn get_by_index(
    d: &mut impl Docs,
    store: *const c_char,
    index: *const c_char,
    value: *const c_char,
    len: usize,
    out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (s, i, v) = unsafe {
        (
            cstr(store, "store")?,
            cstr(index, "index")?,
            json(value, len, "value")?,
        )
    };
    let docs = d.get_by_index(s, i, &v)?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { docs_out(out, docs) }
}

#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn range_by_index(
    d: &mut impl Docs,
    store: *const c_char,
    index: *const c_char,
    start: *const c_char,
    start_len: usize,
    end: *const c_char,
    end_len: usize,
    out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (s, i) = unsafe { (cstr(store, "store")?, cstr(index, "index")?) };
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (a, b) = unsafe { (json(start, start_len, "start")?, json(end, end_len, "end")?) };
    let docs = d.range_by_index(s, i, &a, &b)?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { docs_out(out, docs) }
}

pub(crate) unsafe fn index_query(
    d: &mut impl Docs,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    direction: i32,
    out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (s, i, r, dir) = unsafe {
        (
            cstr(store, "store")?,
            cstr(index, "index")?,
            key_range(range)?,
            direction_of(direction)?,
        )
    };
    let docs = d.index_query(s, i, r, dir)?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { docs_out(out, docs) }
}
