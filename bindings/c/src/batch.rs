//! `flowdb_write_batch_t`: puts, deletes, range deletes and deletes by time gathered by the caller and
//! applied atomically by `flowdb_engine_write` (all or none, also across a crash).
//! Each call copies what it is given, so the caller's buffers may be reused at once.
//! Nothing is checked until `flowdb_engine_write`, which names the bad operation.

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, no_unwind, null};
use super::records::{flowdb_record_view_t, record};
use flowdb::engine::{WriteBatch, WriteOptions};
use flowdb::error::Result;

/// A batch of writes. Not thread-safe (one thread at a time); reusable after
/// `flowdb_write_batch_clear`; free with `flowdb_write_batch_free`.
#[derive(Debug, Default)]
pub struct flowdb_write_batch_t {
    batch: WriteBatch,
}

pub(crate) unsafe fn with_batch(
    b: *mut flowdb_write_batch_t,
    err: *mut *mut flowdb_error_t,
    f: impl FnOnce(&mut WriteBatch) -> Result<()>,
) -> flowdb_status_t {
    guard(err, || {
        // SAFETY: NULL or a live batch used by one thread (documented).
        let b = unsafe { b.as_mut() }.ok_or_else(|| null("batch"))?;
        f(&mut b.batch)
    })
}

/// A new, empty batch (never NULL).
#[no_mangle]
pub extern "C" fn flowdb_write_batch_new() -> *mut flowdb_write_batch_t {
    no_unwind(std::ptr::null_mut(), || {
        Box::into_raw(Box::<flowdb_write_batch_t>::default())
    })
}

/// Adds a put of the record `*rec` (copied). Its `expire_at` is kept; 0 or
/// `FLOWDB_NEVER_EXPIRES` means "no expiry of its own" (the default TTL applies).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_put(
    batch: *mut flowdb_write_batch_t,
    rec: *const flowdb_record_view_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            // SAFETY: NULL or a readable view (documented).
            let v = rec.as_ref().ok_or_else(|| null("rec"))?;
            b.put(record(v, "rec", 0)?);
            Ok(())
        })
    }
}

/// Adds a put of `*rec` expiring `ttl_secs` seconds after its `ts`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_put_ttl(
    batch: *mut flowdb_write_batch_t,
    rec: *const flowdb_record_view_t,
    ttl_secs: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            // SAFETY: NULL or a readable view (documented).
            let v = rec.as_ref().ok_or_else(|| null("rec"))?;
            b.put_ttl(record(v, "rec", 0)?, ttl_secs);
            Ok(())
        })
    }
}

/// Adds a delete of the record `(key, ts)` (absent is fine).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_delete(
    batch: *mut flowdb_write_batch_t,
    key: *const u8,
    key_len: usize,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            b.delete(bytes(key, key_len, "key")?, ts);
            Ok(())
        })
    }
}

/// Adds a delete of every record with `start <= key < end` (half-open); `start ==
/// end` deletes nothing, `start > end` makes `flowdb_engine_write` fail.
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_delete_range(
    batch: *mut flowdb_write_batch_t,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            let (s, e) = (
                bytes(start, start_len, "start")?,
                bytes(end, end_len, "end")?,
            );
            b.delete_range(s, e);
            Ok(())
        })
    }
}

/// Adds a delete of every record with `start <= key < end` (half-open) and
/// `ts_start <= ts <= ts_end` (inclusive), as `flowdb_engine_delete_time_range`;
/// `start == end` deletes nothing. `start > end` or `ts_start > ts_end` makes
/// `flowdb_engine_write` fail with `FLOWDB_INVALID_ARGUMENT` ("batch operation N").
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_delete_time_range(
    batch: *mut flowdb_write_batch_t,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    ts_start: i64,
    ts_end: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            let (s, e) = (
                bytes(start, start_len, "start")?,
                bytes(end, end_len, "end")?,
            );
            b.delete_time_range(s, e, ts_start, ts_end);
            Ok(())
        })
    }
}

/// Adds a delete of every record of every key whose ts is below `ts` (exclusive), as
/// `flowdb_engine_delete_before`. `ts = INT64_MIN` deletes nothing and adds no
/// operation (`flowdb_write_batch_count` is unchanged).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_delete_before(
    batch: *mut flowdb_write_batch_t,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            b.delete_before(ts);
            Ok(())
        })
    }
}

/// Adds a delete of every record whose key begins with `(prefix, prefix_len)` and
/// whose ts is below `ts` (exclusive), as `flowdb_engine_delete_prefix_before`. `ts =
/// INT64_MIN` deletes nothing and adds no operation.
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_delete_prefix_before(
    batch: *mut flowdb_write_batch_t,
    prefix: *const u8,
    prefix_len: usize,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            b.delete_prefix_before(bytes(prefix, prefix_len, "prefix")?, ts);
            Ok(())
        })
    }
}

/// How many operations the batch holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_count(batch: *const flowdb_write_batch_t) -> usize {
    // SAFETY: NULL or a live batch.
    no_unwind(0, || unsafe { batch.as_ref() }.map_or(0, |b| b.batch.len()))
}

/// Removes every operation; the batch can be filled again. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_clear(batch: *mut flowdb_write_batch_t) {
    // SAFETY: NULL or a live batch used by one thread.
    no_unwind((), || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        if let Some(b) = unsafe { batch.as_mut() } {
            b.batch.clear();
        }
    })
}

/// Frees the batch (unwritten operations are dropped). NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_free(batch: *mut flowdb_write_batch_t) {
    if !batch.is_null() {
        // SAFETY: made by flowdb_write_batch_new, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(batch) }));
    }
}

/// Applies the batch atomically: every operation, in order, or none (also across a
/// crash). With `sync`, durable on stable storage when it returns, whatever the sync
/// mode. The batch is unchanged (write it again, or clear it). A bad operation fails
/// the whole write with `FLOWDB_INVALID_ARGUMENT` naming it ("batch operation N").
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write(
    engine: *const flowdb_engine_t,
    batch: *const flowdb_write_batch_t,
    sync: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    guard(err, || unsafe {
        // SAFETY: NULL or a live batch not being changed by another thread.
        let b = batch.as_ref().ok_or_else(|| null("batch"))?;
        with_engine(engine, |e| e.write(&b.batch, &WriteOptions { sync }))
    })
}
