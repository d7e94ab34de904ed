//! The engine's writes: batches of records (`flowdb_engine_write_batch` and its
//! forms), deletes (by `(key, ts)` pairs with `flowdb_key_ts_t`, by key range, by key
//! and time range, before a ts, by prefix before a ts) and patches of a live record.
//! Writes of numeric points are in points.rs; write batches built up call by call in
//! batch.rs.

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, null, put};
use super::records::{flowdb_record_view_t, flowdb_records_t, records, RecordList};

/// A `(key, ts)` pair, for `flowdb_engine_delete_batch`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_key_ts_t {
    pub key: *const u8,
    pub key_len: usize,
    pub ts: i64,
}

/// Writes `n` records atomically (all or none, also across a crash). Records keep
/// their own `expire_at`; else the default TTL applies. Nothing is written when any
/// record is invalid (`FLOWDB_INVALID_ARGUMENT` names it).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.write_batch_owned(records(recs, n)?))
    })
}

/// Same as `flowdb_engine_write_batch` (in C the library always copies the records;
/// kept so every Rust write form has a C function).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch_owned(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { flowdb_engine_write_batch(engine, recs, n, err) }
}

/// `flowdb_engine_write_batch`, durable on stable storage when it returns, whatever
/// the sync mode.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch_sync(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.write_batch_sync(records(recs, n)?))
    })
}

/// `flowdb_engine_write_batch` with a batch TTL: when `has_ttl`, every record gets
/// `expire_at = ts + ttl_secs` seconds (overriding its own).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_batch_ttl(
    engine: *const flowdb_engine_t,
    recs: *const flowdb_record_view_t,
    n: usize,
    has_ttl: bool,
    ttl_secs: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| {
            e.write_batch_ttl(&records(recs, n)?, has_ttl.then_some(ttl_secs))
        })
    })
}

/// Deletes the `n` records `(key, ts)` atomically (absent ones are fine).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_batch(
    engine: *const flowdb_engine_t,
    keys: *const flowdb_key_ts_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if n > 0 && keys.is_null() {
            return Err(null("keys"));
        }
        let ks = if n == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(keys, n)
        };
        let mut owned = Vec::with_capacity(n);
        for (i, k) in ks.iter().enumerate() {
            owned.push((bytes(k.key, k.key_len, &format!("keys[{i}].key"))?, k.ts));
        }
        with_engine(engine, |e| e.delete_batch_bytes(&owned))
    })
}

/// Deletes every record with `start <= key < end` (half-open, as RocksDB's
/// DeleteRange); `start == end` deletes nothing, `start > end` is an error.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_range(
    engine: *const flowdb_engine_t,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, e) = (
            bytes(start, start_len, "start")?,
            bytes(end, end_len, "end")?,
        );
        with_engine(engine, |eng| eng.delete_range_bytes(s, e))
    })
}

/// Deletes every record with `start <= key < end` (half-open, as
/// `flowdb_engine_delete_range`) and `ts_start <= ts <= ts_end` (inclusive, as the
/// time ranges of queries). One range tombstone is written, whatever the number of
/// records it hides: reads skip them at once, compaction drops them later, and a
/// table wholly inside the region is deleted without a rewrite. `start == end`
/// deletes nothing. Errors: `FLOWDB_INVALID_ARGUMENT` when `start > end`, when
/// `ts_start > ts_end`, or for NULL with a length; `FLOWDB_CLOSED` after shutdown;
/// `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_time_range(
    engine: *const flowdb_engine_t,
    start: *const u8,
    start_len: usize,
    end: *const u8,
    end_len: usize,
    ts_start: i64,
    ts_end: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let (s, e) = (
            bytes(start, start_len, "start")?,
            bytes(end, end_len, "end")?,
        );
        with_engine(engine, |eng| {
            eng.delete_time_range_bytes(s, e, ts_start, ts_end)
        })
    })
}

/// Deletes every record of every key whose ts is below `ts` (exclusive: "keep
/// nothing older than `ts`"); `ts = INT64_MIN` deletes nothing. One range tombstone, as
/// `flowdb_engine_delete_time_range`. Errors: `FLOWDB_CLOSED` after shutdown,
/// `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_before(
    engine: *const flowdb_engine_t,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.delete_before(ts))
    })
}

/// Deletes every record whose key begins with the bytes `(prefix, prefix_len)` and
/// whose ts is below `ts` (exclusive); `ts = INT64_MIN` deletes nothing, an empty prefix
/// is every key (as `flowdb_engine_delete_before`). Errors:
/// `FLOWDB_INVALID_ARGUMENT` for NULL with a length; `FLOWDB_CLOSED` after
/// shutdown; `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_delete_prefix_before(
    engine: *const flowdb_engine_t,
    prefix: *const u8,
    prefix_len: usize,
    ts: i64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let p = bytes(prefix, prefix_len, "prefix")?;
        with_engine(engine, |e| e.delete_prefix_before_bytes(p, ts))
    })
}

/// Replaces the value (when `set_value`) and/or sets `expire_at = ts + ttl_secs`
/// (when `set_ttl`) of a live record, and returns the stored record in `*out` (a list
/// of one, freed with `flowdb_records_free`). Missing or expired: `FLOWDB_NOT_FOUND`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_patch_record(
    engine: *const flowdb_engine_t,
    key: *const u8,
    key_len: usize,
    ts: i64,
    set_value: bool,
    value: *const u8,
    value_len: usize,
    set_ttl: bool,
    ttl_secs: u64,
    out: *mut *mut flowdb_records_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        if out.is_null() {
            return Err(null("out"));
        }
        let k = bytes(key, key_len, "key")?;
        let v = if set_value {
            Some(bytes(value, value_len, "value")?.to_vec())
        } else {
            None
        };
        let r = with_engine(engine, |e| {
            e.patch_record_bytes(k, ts, v, set_ttl.then_some(ttl_secs))
        })?;
        put(out, RecordList::boxed(vec![r]), "out")
    })
}
