//! Numeric points across the C boundary (docs/numeric.md): `flowdb_point_t` (a point
//! as C passes it in), writing points (`flowdb_engine_write_points`,
//! `flowdb_write_batch_put_point`) and reading a record's value as a number
//! (`flowdb_record_as_f64`). Their aggregation is in points_agg.rs, the bucket lists
//! it returns in points_buckets.rs.

use super::batch::{flowdb_write_batch_t, with_batch};
use super::engine::{flowdb_engine_t, with_engine};
use super::error::{bytes, flowdb_error_t, flowdb_status_t, guard, null, put};
use super::records::{flowdb_record_view_t, write_expiry};
use flowdb::error::{Error, Result};
use flowdb::Point;

/// A numeric point as C passes it in: the key is a `(pointer, length)` byte string,
/// `ts` and `expire_at` are microseconds since the Unix epoch, `value` is stored as
/// its 8 bytes (little-endian) and read back bit for bit (NaN payloads, -0.0,
/// infinities and subnormals included). As for `flowdb_record_view_t`, `expire_at` 0
/// or `FLOWDB_NEVER_EXPIRES` means "no expiry of its own" (the default TTL, if any,
/// applies), so a zero-initialised point never expires.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct flowdb_point_t {
    pub key: *const u8,
    pub key_len: usize,
    pub ts: i64,
    pub expire_at: i64,
    pub value: f64,
}

/// The point a C point describes, copied; `what[i]` names it in errors.
unsafe fn point_of(p: &flowdb_point_t, what: &str, i: usize) -> Result<Point> {
    if p.key.is_null() && p.key_len > 0 {
        return Err(null(&format!("{what}[{i}].key")));
    }
    // SAFETY: checked above; the caller passes `key_len` readable bytes (documented).
    let key = unsafe { bytes(p.key, p.key_len, "") }?;
    Ok(Point {
        key: key.to_vec(),
        ts: p.ts,
        expire_at: write_expiry(p.expire_at),
        value: p.value,
    })
}

/// Writes `n` numeric points atomically (all or none, also across a crash), as
/// `flowdb_engine_write_batch` writes records; each keeps its own `expire_at` (0 or
/// `FLOWDB_NEVER_EXPIRES`: the default TTL, if any). Every read returns a point as a
/// record whose value is the double's 8 bytes, little-endian (`flowdb_record_as_f64`
/// reads it back). A point overwrites a record at the same `(key, ts)` and the other
/// way round. `points` may be NULL when `n` is 0.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_write_points(
    engine: *const flowdb_engine_t,
    points: *const flowdb_point_t,
    n: usize,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let ps = if n == 0 {
            Vec::new()
        } else {
            if points.is_null() {
                return Err(null("points"));
            }
            std::slice::from_raw_parts(points, n)
                .iter()
                .enumerate()
                .map(|(i, p)| point_of(p, "points", i))
                .collect::<Result<Vec<_>>>()?
        };
        with_engine(engine, |e| e.write_points(&ps))
    })
}

/// Adds a put of the numeric point `*point` (copied) to the batch. Its `expire_at` is
/// kept; 0 or `FLOWDB_NEVER_EXPIRES` means "no expiry of its own" (the default TTL
/// applies).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_put_point(
    batch: *mut flowdb_write_batch_t,
    point: *const flowdb_point_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            // SAFETY: NULL or a readable point (documented).
            let p = point.as_ref().ok_or_else(|| null("point"))?;
            b.put_point(point_of(p, "point", 0)?);
            Ok(())
        })
    }
}

/// Adds a put of the numeric point `*point` expiring `ttl_secs` seconds after its
/// `ts` (its own `expire_at` is not read).
#[no_mangle]
pub unsafe extern "C" fn flowdb_write_batch_put_point_ttl(
    batch: *mut flowdb_write_batch_t,
    point: *const flowdb_point_t,
    ttl_secs: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_batch(batch, err, |b| {
            // SAFETY: NULL or a readable point (documented).
            let p = point.as_ref().ok_or_else(|| null("point"))?;
            b.put_point_ttl(point_of(p, "point", 0)?, ttl_secs);
            Ok(())
        })
    }
}

/// The number a numeric point's record holds, in `*out`: its value read as a double
/// (8 bytes, little-endian, whatever the machine's byte order), bit for bit.
/// `FLOWDB_INVALID_ARGUMENT` when the value is not 8 bytes long. Whether the record
/// was written as a point is not checked: an 8-byte value of bytes reads as some
/// number too.
#[no_mangle]
pub unsafe extern "C" fn flowdb_record_as_f64(
    rec: *const flowdb_record_view_t,
    out: *mut f64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        let r = rec.as_ref().ok_or_else(|| null("rec"))?;
        let v = bytes(r.value, r.value_len, "rec.value")?;
        let b: [u8; 8] = v.try_into().map_err(|_| {
            Error::invalid(format!(
                "rec.value is {} bytes, not the 8 of a number",
                v.len()
            ))
        })?;
        put(out, f64::from_le_bytes(b), "out")
    })
}
