//! `flowdb_jsondb_t`: the JSON document layer. JSON crosses the boundary as UTF-8 text
//! `(pointer, length)`; documents, keys and lists come back as NUL-terminated JSON
//! strings freed with `flowdb_string_free`. Thread-safe, like the Rust `JsonDB`.
//!
//! Transactions (`flowdb_txn_t`, in txn.rs) keep the database alive; shutting it down
//! while transaction handles exist is `FLOWDB_BUSY`.

use std::ffi::c_char;
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::Value;

use super::docs;
use super::engine::flowdb_engine_t;
use super::error::{
    cstr, flowdb_error_t, flowdb_status_t, guard, json, no_unwind, null, put, put_new, put_string,
};
use super::options::flowdb_options_t;
use flowdb::error::{Error, Result};
use flowdb::jsondb::{IndexSchema, JsonDB, StoreSchema};

use super::docs::to_json;
pub(crate) use super::key_range::{direction, flowdb_key_range_t, key_range};

/// An open document database. Thread-safe.
#[derive(Debug)]
pub struct flowdb_jsondb_t {
    pub(crate) db: RwLock<Option<Arc<JsonDB>>>,
}

pub(crate) unsafe fn with_db<T>(
    h: *const flowdb_jsondb_t,
    f: impl FnOnce(&Arc<JsonDB>) -> Result<T>,
) -> Result<T> {
    // SAFETY: NULL or a live handle.
    let h = unsafe { h.as_ref() }.ok_or_else(|| null("db"))?;
    let g = h.db.read();
    let db = g
        .as_ref()
        .ok_or_else(|| Error::Closed("the database was shut down".into()))?;
    f(db)
}

fn handle(db: JsonDB) -> flowdb_jsondb_t {
    flowdb_jsondb_t {
        db: RwLock::new(Some(Arc::new(db))),
    }
}

/// Opens the engine on `opts` and the document layer on it, into `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_open(
    opts: *const flowdb_options_t,
    out: *mut *mut flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let o = opts.as_ref().ok_or_else(|| null("options"))?;
        if out.is_null() {
            return Err(null("out"));
        }
        put_new(out, handle(JsonDB::open(o.config.clone())?), "out")
    })
}

/// The document layer on an open engine. The engine moves into it: the engine handle
/// answers `FLOWDB_CLOSED` afterwards (free it as usual).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_from_engine(
    engine: *const flowdb_engine_t,
    out: *mut *mut flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let e = super::engine::take_engine(engine)?;
        put_new(out, handle(JsonDB::from_engine(e)?), "out")
    })
}

/// Flushes and syncs; stays usable.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_close(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_db(db, |d| d.close()) })
}

/// Shuts the database down (flush, stop background work, release the lock); the
/// handle then answers `FLOWDB_CLOSED`. `FLOWDB_BUSY` while transactions are open.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_shutdown(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let h = db.as_ref().ok_or_else(|| null("db"))?;
        let mut g = h.db.write();
        let arc = g
            .take()
            .ok_or_else(|| Error::Closed("the database was already shut down".into()))?;
        match Arc::try_unwrap(arc) {
            Ok(d) => d.shutdown(),
            Err(arc) => {
                *g = Some(arc);
                Err(Error::Busy(
                    "transactions are still open: free them before shutdown".into(),
                ))
            }
        }
    })
}

/// Frees the handle (open transactions keep the database alive until they are
/// freed). NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_free(db: *mut flowdb_jsondb_t) {
    if !db.is_null() {
        // SAFETY: made by flowdb_jsondb_open/_from_engine, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(db) }));
    }
}

/// Flushes the underlying engine's memtables to tables (the C form of
/// `JsonDB::engine().flush()`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_engine_flush(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_db(db, |d| d.engine().flush()) })
}

/// The underlying engine's stats (the C form of `JsonDB::engine().stats()`); set
/// `out->struct_size` as for `flowdb_engine_stats`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_engine_stats(
    db: *const flowdb_jsondb_t,
    out: *mut super::engine::flowdb_stats_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let s = with_db(db, |d| Ok(d.engine().stats()))?;
        super::engine::write_stats(out, &s)
    })
}

/// The underlying engine's metrics in the Prometheus text format, in `*out` (free with
/// `flowdb_string_free`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_engine_metrics_text(
    db: *const flowdb_jsondb_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let text = with_db(db, |d| Ok(d.engine().metrics_text()))?;
        put_string(out, text, "out")
    })
}

/// Sets how long a transaction waits for overlapping ones before `FLOWDB_BUSY`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_set_transaction_timeout_ms(
    db: *const flowdb_jsondb_t,
    ms: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |d| {
            d.set_transaction_timeout(std::time::Duration::from_millis(ms));
            Ok(())
        })
    })
}

/// Creates a store whose documents carry their key at `key_path` (NUL-terminated).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_create_object_store(
    db: *const flowdb_jsondb_t,
    name: *const c_char,
    key_path: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (n, k) = (cstr(name, "name")?, cstr(key_path, "key_path")?);
        with_db(db, |d| d.create_object_store(n, k))
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexSpec {
    name: String,
    #[serde(rename = "keyPath")]
    key_path: Value,
    #[serde(default)]
    unique: bool,
    #[serde(default, rename = "multiEntry")]
    multi_entry: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreSpec {
    name: String,
    #[serde(rename = "keyPath")]
    key_path: String,
    #[serde(default, rename = "autoIncrement")]
    auto_increment: bool,
    #[serde(default)]
    indexes: Vec<IndexSpec>,
}

fn key_paths(v: Value) -> Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(a) => a
            .into_iter()
            .map(|p| {
                p.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::invalid("keyPath array holds a non-string"))
            })
            .collect(),
        _ => Err(Error::invalid(
            "keyPath must be a string or an array of strings",
        )),
    }
}

/// Creates a store from a JSON description: `{"name": "users", "keyPath": "id",
/// "autoIncrement": true, "indexes": [{"name": "email", "keyPath": "email",
/// "unique": true, "multiEntry": false}]}` (an index's keyPath may be an array: a
/// compound index).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_create_store(
    db: *const flowdb_jsondb_t,
    schema_json: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let spec: StoreSpec = serde_json::from_value(json(schema_json, len, "schema_json")?)
            .map_err(|e| Error::invalid(format!("schema_json: {e}")))?;
        let mut schema =
            StoreSchema::new(spec.name, spec.key_path).auto_increment(spec.auto_increment);
        for i in spec.indexes {
            let paths = key_paths(i.key_path)?;
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            schema = schema.index(
                IndexSchema::compound(i.name, &refs)
                    .unique(i.unique)
                    .multi_entry(i.multi_entry),
            );
        }
        with_db(db, |d| d.create_store(&schema))
    })
}

/// Deletes a store with its documents and indexes.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_delete_object_store(
    db: *const flowdb_jsondb_t,
    name: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let n = cstr(name, "name")?;
        with_db(db, |d| d.delete_object_store(n))
    })
}

unsafe fn paths<'a>(key_paths: *const *const c_char, n: usize) -> Result<Vec<&'a str>> {
    if n == 0 || key_paths.is_null() {
        return Err(Error::invalid("an index needs at least one key path"));
    }
    // SAFETY: `n` NUL-terminated strings at `key_paths` (documented).
    let ptrs = unsafe { std::slice::from_raw_parts(key_paths, n) };
    ptrs.iter()
        .enumerate()
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        .map(|(i, p)| unsafe { cstr(*p, &format!("key_paths[{i}]")) })
        .collect()
}

/// Creates an index over `n` key paths (several: a compound key), indexing the
/// documents already stored; a unique index over duplicates is `FLOWDB_CONSTRAINT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_create_index(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    name: *const c_char,
    key_paths: *const *const c_char,
    n: usize,
    unique: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { flowdb_jsondb_create_index_with(db, store, name, key_paths, n, unique, false, err) }
}

/// Creates an index over one key path.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_create_index_on(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    name: *const c_char,
    key_path: *const c_char,
    unique: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    let one = [key_path];
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { flowdb_jsondb_create_index_with(db, store, name, one.as_ptr(), 1, unique, false, err) }
}

/// Creates an index with every option (`multi_entry` needs exactly one key path).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_create_index_with(
    db: *const flowdb_jsondb_t,
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
        let (s, nm) = (cstr(store, "store")?, cstr(name, "name")?);
        let schema = IndexSchema::compound(nm, &paths(key_paths, n)?)
            .unique(unique)
            .multi_entry(multi_entry);
        with_db(db, |d| d.create_index_with(s, &schema))
    })
}

/// Deletes an index and its entries.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_delete_index(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    name: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, n) = (cstr(store, "store")?, cstr(name, "name")?);
        with_db(db, |d| d.delete_index(s, n))
    })
}

/// The store names as a JSON array of strings, in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_store_names(
    db: *const flowdb_jsondb_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let names = with_db(db, |d| Ok(d.store_names()))?;
        put_string(out, to_json(&names)?, "out")
    })
}

/// A store's definition as JSON (`StoreDef`: name, key_path, auto_increment, indexes,
/// next_auto_id) in `*out`, or NULL when there is no such store.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_get_store(
    db: *const flowdb_jsondb_t,
    name: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let n = cstr(name, "name")?;
        match with_db(db, |d| Ok(d.get_store(n)))? {
            Some(def) => put_string(out, to_json(&def)?, "out"),
            None => put(out, std::ptr::null_mut(), "out"),
        }
    })
}

/// Stores a document (JSON object text); its key, as JSON, in `*key_out` (may be NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_put(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::put_doc(&mut &**x, false, store, doc, len, key_out)
        })
    })
}

/// Stores a document under a newly generated key (the store needs a key generator).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_put_auto(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::put_doc(&mut &**x, true, store, doc, len, key_out)
        })
    })
}

/// The document with `key` (JSON) in `*out`, or NULL when there is none.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_get(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    key: *const c_char,
    len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::get_doc(&mut &**x, store, key, len, out))
    })
}

/// Deletes the document with `key` (absent: nothing happens).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_delete(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    key: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::delete_doc(&mut &**x, store, key, len))
    })
}

/// The number of documents in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_count(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    out: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::count(&mut &**x, store, out))
    })
}

/// Every document, in primary-key order, as a JSON array in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_scan(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| docs::scan(&mut &**x, store, out))
    })
}

/// Documents whose index key equals `value` (JSON), as a JSON array in `*out`. On a
/// compound index a key with fewer components (`"NYC"` or `["NYC"]`) matches every
/// entry that starts with it. Keys may be `null`, `false` and `true` too.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_get_by_index(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    value: *const c_char,
    len: usize,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::get_by_index(&mut &**x, store, index, value, len, out)
        })
    })
}

/// Documents with `start <= index key < end` (JSON keys; half-open, so `[30, 30)` and
/// `start > end` are empty), as a JSON array. On a compound index a scalar bound
/// stands for the one-component array.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_range_by_index(
    db: *const flowdb_jsondb_t,
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
        with_db(db, |x| {
            docs::range_by_index(&mut &**x, store, index, start, start_len, end, end_len, out)
        })
    })
}

/// Documents whose primary key is in `range`, in `direction` order (JSON array).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_get_range(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    range: *const flowdb_key_range_t,
    dir: i32,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, r, d) = (cstr(store, "store")?, key_range(range)?, direction(dir)?);
        let docs = with_db(db, |x| docs::Docs::get_range(&mut &**x, s, r, d))?;
        docs::docs_out(out, docs)
    })
}

/// Documents whose `index` key is in `range`, in `direction` order (JSON array).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_index_query(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    dir: i32,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |x| {
            docs::index_query(&mut &**x, store, index, range, dir, out)
        })
    })
}

/// How many entries of `index` have a key in `range`, in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_count_by_index(
    db: *const flowdb_jsondb_t,
    store: *const c_char,
    index: *const c_char,
    range: *const flowdb_key_range_t,
    out: *mut usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, i, r) = (
            cstr(store, "store")?,
            cstr(index, "index")?,
            key_range(range)?,
        );
        let n = with_db(db, |x| x.count_by_index(s, i, r))?;
        put(out, n, "out")
    })
}
