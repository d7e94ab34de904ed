//! The schema of a `flowdb_jsondb_t`: creating and deleting object stores and
//! indexes, listing stores and describing one. Schema JSON (`flowdb_jsondb_create_store`)
//! uses IndexedDB's field names (`keyPath`, `autoIncrement`, `multiEntry`). Key paths
//! are text in every form (Rust's jsondb `keypath.rs`), passed through as given: `[]`
//! for none (out-of-line keys), a JSON array of paths for an array key path.
//!
//! These one-call changes wait for the database's schema lock, which its upgrade
//! (upgrade.rs) holds: from the upgrade's callback they are `FLOWDB_BUSY`, where they
//! would wait for ever; the `flowdb_upgrade_*` forms are the ones to call there.

use std::ffi::c_char;

use serde_json::Value;

use super::doc_requests::to_json;
use super::error::{cstr, flowdb_error_t, flowdb_status_t, guard, json, put, put_string};
use super::jsondb::{flowdb_jsondb_t, with_db};
use super::upgrade::not_upgrading;
use flowdb::error::{Error, Result};
use flowdb::jsondb::{IndexSchema, JsonDB, StoreSchema};

/// Runs a one-call schema change on the database (`FLOWDB_BUSY` from its upgrade's
/// callback: module docs).
unsafe fn with_schema(
    db: *const flowdb_jsondb_t,
    f: impl FnOnce(&JsonDB) -> Result<()>,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_db(db, |d| {
            not_upgrading(d)?;
            f(d)
        })
    }
}

/// Creates a store whose documents carry their key at `key_path` (NUL-terminated), a
/// key path in any of IndexedDB's forms, as text: `""` (the document itself), an
/// identifier or identifiers joined by `.` (`"id"`, `"a.b"`); a JSON array of those
/// for an array key path (`["a","b"]`: the key is the array of their values); or `[]`
/// for none: out-of-line keys, given beside each document
/// (`flowdb_jsondb_put_with_key`, `flowdb_jsondb_add_with_key`) or generated.
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
        with_schema(db, |d| d.create_object_store(n, k))
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

/// The store a schema JSON describes (`flowdb_jsondb_create_store`).
pub(crate) unsafe fn store_schema(schema_json: *const c_char, len: usize) -> Result<StoreSchema> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let spec: StoreSpec = serde_json::from_value(unsafe { json(schema_json, len, "schema_json")? })
        .map_err(|e| Error::invalid(format!("schema_json: {e}")))?;
    let mut schema = StoreSchema::new(spec.name, spec.key_path).auto_increment(spec.auto_increment);
    for i in spec.indexes {
        let paths = key_paths(i.key_path)?;
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        schema = schema.index(
            IndexSchema::compound(i.name, &refs)
                .unique(i.unique)
                .multi_entry(i.multi_entry),
        );
    }
    Ok(schema)
}

/// Creates a store from a JSON description: `{"name": "users", "keyPath": "id",
/// "autoIncrement": true, "indexes": [{"name": "email", "keyPath": "email",
/// "unique": true, "multiEntry": false}]}` (an index's keyPath may be an array: a
/// compound index). Key paths are text as for `flowdb_jsondb_create_object_store`,
/// passed through: `"keyPath": "[]"` makes an out-of-line store, and an index's
/// `"keyPath": "[\"a\"]"` (a string) an array key path of one path, keying `{"a": 1}`
/// by `[1]`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_create_store(
    db: *const flowdb_jsondb_t,
    schema_json: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let schema = store_schema(schema_json, len)?;
        with_schema(db, |d| d.create_store(&schema))
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
        with_schema(db, |d| d.delete_object_store(n))
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
/// One key path may be in any form (`flowdb_jsondb_create_object_store`): `["a"]` is
/// an array key path, keying `{"a": 1}` by `[1]` where `a` keys it by `1`.
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

/// Creates an index over one key path (in any form: `flowdb_jsondb_create_index`).
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
        let s = cstr(store, "store")?;
        let schema = index_schema(name, key_paths, n, unique, multi_entry)?;
        with_schema(db, |d| d.create_index_with(s, &schema))
    })
}

/// The index `flowdb_jsondb_create_index_with`'s arguments describe.
pub(crate) unsafe fn index_schema(
    name: *const c_char,
    key_paths: *const *const c_char,
    n: usize,
    unique: bool,
    multi_entry: bool,
) -> Result<IndexSchema> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let (nm, ps) = unsafe { (cstr(name, "name")?, paths(key_paths, n)?) };
    Ok(IndexSchema::compound(nm, &ps)
        .unique(unique)
        .multi_entry(multi_entry))
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
        with_schema(db, |d| d.delete_index(s, n))
    })
}

/// The store names as a JSON array of strings, in `*out`, sorted by UTF-16 code unit
/// (IndexedDB's order; for ASCII names, byte order).
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
