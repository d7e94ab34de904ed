//! Records across the C boundary: `flowdb_record_view_t` (a record as C passes it in
//! and as the library lends it out), the copies made of views passed in, and
//! `flowdb_records_t` (an owned list of records lent out as views). Every family of
//! handles that takes or returns records uses these.

use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put};
use flowdb::error::{Error, Result};
use flowdb::record::{Record, NEVER_EXPIRES};

/// A record as C passes it in (and as the library lends it out): the key and value
/// are `(pointer, length)` byte strings; `ts` and `expire_at` are microseconds since
/// the Unix epoch. On writes, `expire_at` 0 or `FLOWDB_NEVER_EXPIRES` (`INT64_MAX`)
/// means "no expiry of its own" (the default TTL, if any, applies), so a
/// zero-initialised view (`{.key = .., .ts = .., .value = ..}`) never expires. Records
/// read back carry `FLOWDB_NEVER_EXPIRES` for "never".
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_record_view_t {
    pub key: *const u8,
    pub key_len: usize,
    pub ts: i64,
    pub expire_at: i64,
    pub value: *const u8,
    pub value_len: usize,
}

pub(crate) unsafe fn records(recs: *const flowdb_record_view_t, n: usize) -> Result<Vec<Record>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if recs.is_null() {
        return Err(null("records"));
    }
    // SAFETY: `n` readable records at `recs` (documented).
    let views = unsafe { std::slice::from_raw_parts(recs, n) };
    let mut out = Vec::with_capacity(n);
    for (i, v) in views.iter().enumerate() {
        // SAFETY: the caller passes readable bytes behind each view (documented).
        out.push(unsafe { record(v, "records", i) }?);
    }
    Ok(out)
}

/// The record a C view describes, copied; `what[i]` names it in errors.
pub(crate) unsafe fn record(v: &flowdb_record_view_t, what: &str, i: usize) -> Result<Record> {
    // Labels for errors are made only when there is one (batches are hot).
    if (v.key.is_null() && v.key_len > 0) || (v.value.is_null() && v.value_len > 0) {
        let field = if v.key.is_null() && v.key_len > 0 {
            "key"
        } else {
            "value"
        };
        return Err(null(&format!("{what}[{i}].{field}")));
    }
    // SAFETY: checked above; the caller passes readable bytes (documented).
    let (key, value) = unsafe {
        (
            bytes(v.key, v.key_len, "")?,
            bytes(v.value, v.value_len, "")?,
        )
    };
    Ok(Record {
        key: key.to_vec(),
        ts: v.ts,
        expire_at: write_expiry(v.expire_at),
        value: value.to_vec(),
    })
}

/// A written record's `expire_at` as C gives it: 0 is what a zero-initialised
/// `flowdb_record_view_t` holds, and means "never expires" (as `ExpireAt: 0` in Go),
/// not "expired in 1970". Any other value is kept.
pub(crate) fn write_expiry(expire_at: i64) -> i64 {
    if expire_at == 0 {
        NEVER_EXPIRES
    } else {
        expire_at
    }
}

/// An owned list of records. Views from `flowdb_records_at` stay valid until
/// `flowdb_records_free`. Immutable, so it may be read from several threads.
#[derive(Debug)]
pub struct flowdb_records_t {
    records: Vec<Record>,
}

pub(crate) struct RecordList;

impl RecordList {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    pub(crate) fn boxed(records: Vec<Record>) -> *mut flowdb_records_t {
        Box::into_raw(Box::new(flowdb_records_t { records }))
    }
}

pub(crate) fn view(r: &Record) -> flowdb_record_view_t {
    flowdb_record_view_t {
        key: r.key.as_ptr(),
        key_len: r.key.len(),
        ts: r.ts,
        expire_at: r.expire_at,
        value: r.value.as_ptr(),
        value_len: r.value.len(),
    }
}

/// The number of records in a list (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_records_len(list: *const flowdb_records_t) -> usize {
    // SAFETY: NULL or a live list.
    no_unwind(0, || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe { list.as_ref() }.map_or(0, |l| l.records.len())
    })
}

/// A view of record `i` in `*out`, borrowed from the list (valid until it is freed).
/// `FLOWDB_INVALID_ARGUMENT` when `i` is out of range.
#[no_mangle]
pub unsafe extern "C" fn flowdb_records_at(
    list: *const flowdb_records_t,
    i: usize,
    out: *mut flowdb_record_view_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let l = list.as_ref().ok_or_else(|| null("list"))?;
        let r = l.records.get(i).ok_or_else(|| {
            Error::invalid(format!(
                "index {i} is past the {} records of the list",
                l.records.len()
            ))
        })?;
        put(out, view(r), "out")
    })
}

/// Frees a list; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_records_free(list: *mut flowdb_records_t) {
    if !list.is_null() {
        // SAFETY: made by this library, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(list) }));
    }
}
