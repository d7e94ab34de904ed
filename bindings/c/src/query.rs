//! `flowdb_query_t`: the JsonDB query builder. Calls are recorded on the handle and
//! run by `flowdb_query_collect`; a bad argument is reported by the call that took it.
//! Not thread-safe; free with `flowdb_query_free`.

use std::ffi::c_char;

use serde_json::Value;

use super::doc_requests::put_text;
use super::error::{cstr, flowdb_error_t, flowdb_status_t, guard, json, no_unwind, null};
use super::jsondb::{flowdb_jsondb_t, with_db};
use flowdb::error::{Error, Result};
use flowdb::jsondb::DocArray;
use flowdb::jsondb::{encode_key, SortDir};

#[derive(Debug)]
enum Step {
    /// The field, and the value's key encoded (checked when the step is added).
    Eq(String, Vec<u8>),
    Range(String, Value, Value),
    In(String, Vec<Value>),
    Order(String, SortDir),
    Limit(usize),
    Offset(usize),
    ScanOnly,
}

/// A query over one store, built step by step. Not thread-safe (one thread at a
/// time); free with `flowdb_query_free`.
#[derive(Debug)]
pub struct flowdb_query_t {
    store: String,
    steps: Vec<Step>,
}

/// A new query over `store` (NUL-terminated UTF-8); NULL when `store` is NULL or not
/// UTF-8.
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_new(store: *const c_char) -> *mut flowdb_query_t {
    no_unwind(std::ptr::null_mut(), || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        match unsafe { cstr(store, "store") } {
            Ok(s) => Box::into_raw(Box::new(flowdb_query_t {
                store: s.to_string(),
                steps: Vec::new(),
            })),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

unsafe fn step(
    q: *mut flowdb_query_t,
    err: *mut *mut flowdb_error_t,
    make: impl FnOnce() -> Result<Step>,
) -> flowdb_status_t {
    guard(err, || {
        // SAFETY: NULL or a live query used by one thread.
        let q = unsafe { q.as_mut() }.ok_or_else(|| null("query"))?;
        q.steps.push(make()?);
        Ok(())
    })
}

/// Keeps documents whose `field` equals `value` (JSON key). A value that is not a
/// valid key is reported here, not by `flowdb_query_collect`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_where_eq(
    q: *mut flowdb_query_t,
    field: *const c_char,
    value: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        step(q, err, || {
            Ok(Step::Eq(
                cstr(field, "field")?.to_string(),
                encode_key(&json(value, len, "value")?)?,
            ))
        })
    }
}

/// Keeps documents with `start <= field < end` (half-open: `[30, 30)` and
/// `start > end` match nothing).
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_where_range(
    q: *mut flowdb_query_t,
    field: *const c_char,
    start: *const c_char,
    start_len: usize,
    end: *const c_char,
    end_len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        step(q, err, || {
            Ok(Step::Range(
                cstr(field, "field")?.to_string(),
                json(start, start_len, "start")?,
                json(end, end_len, "end")?,
            ))
        })
    }
}

/// Keeps documents whose `field` equals one of `values` (a JSON array).
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_where_in(
    q: *mut flowdb_query_t,
    field: *const c_char,
    values: *const c_char,
    len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        step(q, err, || match json(values, len, "values")? {
            Value::Array(vs) => Ok(Step::In(cstr(field, "field")?.to_string(), vs)),
            _ => Err(Error::invalid("values must be a JSON array")),
        })
    }
}

/// Orders by `field` (ascending unless `descending`).
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_order_by(
    q: *mut flowdb_query_t,
    field: *const c_char,
    descending: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        step(q, err, || {
            Ok(Step::Order(
                cstr(field, "field")?.to_string(),
                if descending {
                    SortDir::Desc
                } else {
                    SortDir::Asc
                },
            ))
        })
    }
}

/// Returns at most `n` documents.
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_limit(
    q: *mut flowdb_query_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { step(q, err, || Ok(Step::Limit(n))) }
}

/// Skips the first `n` documents.
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_offset(
    q: *mut flowdb_query_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { step(q, err, || Ok(Step::Offset(n))) }
}

/// Ignores indexes (scan and filter), to compare plans.
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_scan_only(
    q: *mut flowdb_query_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { step(q, err, || Ok(Step::ScanOnly)) }
}

/// Runs the query on `db`; the documents as a JSON array in `*out`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_collect(
    db: *const flowdb_jsondb_t,
    q: *const flowdb_query_t,
    out: *mut *mut c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let q = q.as_ref().ok_or_else(|| null("query"))?;
        let docs = with_db(db, |d| {
            let mut b = d.query(&q.store);
            for s in &q.steps {
                b = match s {
                    Step::Eq(f, k) => b.where_key_eq(f, k),
                    Step::Range(f, a, z) => b.where_range(f, a.clone(), z.clone()),
                    Step::In(f, vs) => b.where_in(f, vs.clone()),
                    Step::Order(f, dir) => b.order_by_field(f, *dir),
                    Step::Limit(n) => b.limit(*n),
                    Step::Offset(n) => b.offset(*n),
                    Step::ScanOnly => b.scan_only(),
                };
            }
            b.collect_as::<DocArray>()
        })?;
        put_text(out, docs.into_text())
    })
}

/// Frees a query; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_query_free(q: *mut flowdb_query_t) {
    if !q.is_null() {
        // SAFETY: made by flowdb_query_new, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(q) }));
    }
}
