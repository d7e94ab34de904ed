//! Status codes, error objects, the panic guard every exported function runs in, and
//! the argument checks they share.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use flowdb::error::{Error, Result};

pub use crate::status::flowdb_status_t;

/// A failure: its status code and a message naming what was wrong. Owned by the caller
/// that received it (free with `flowdb_error_free`); immutable.
#[derive(Debug)]
pub struct flowdb_error_t {
    code: flowdb_status_t,
    message: CString,
}

/// Runs an exported function's body: catches panics, and on failure stores an error
/// in `*err` (when `err` is not NULL). Returns the status.
pub(crate) fn guard(
    err: *mut *mut flowdb_error_t,
    body: impl FnOnce() -> Result<()>,
) -> flowdb_status_t {
    guard_with(err, || body().map_err(|e| flowdb_error_t::of(&e)))
}

/// `guard` for a body whose failure is an error already made for C (an upgrade hands
/// its opener the error of its last failed request, upgrade.rs).
pub(crate) fn guard_with(
    err: *mut *mut flowdb_error_t,
    body: impl FnOnce() -> std::result::Result<(), flowdb_error_t>,
) -> flowdb_status_t {
    let result = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(flowdb_error_t::of(&Error::Internal(format!(
                "panic inside flowdb: {what}"
            ))))
        }
    };
    match result {
        Ok(()) => flowdb_status_t::FLOWDB_OK,
        Err(e) => {
            let code = e.code;
            if !err.is_null() {
                // SAFETY: `err` is non-NULL and points to writable storage (documented).
                unsafe { *err = Box::into_raw(Box::new(e)) };
            }
            code
        }
    }
}

impl flowdb_error_t {
    /// The error object of `e` (its code and message).
    pub(crate) fn of(e: &Error) -> Self {
        let code = flowdb_status_t::from(e.code());
        let message = CString::new(e.to_string().replace('\0', "\\0")).unwrap_or_default();
        flowdb_error_t { code, message }
    }
}

/// A new error object for `e`, for the caller to free with `flowdb_error_free`.
pub(crate) fn error_object(e: &Error) -> *mut flowdb_error_t {
    Box::into_raw(Box::new(flowdb_error_t::of(e)))
}

/// Runs a function that cannot fail but must not unwind into C.
pub(crate) fn no_unwind<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

pub(crate) fn null(what: &str) -> Error {
    Error::invalid(format!("{what} is NULL"))
}

/// The bytes `(ptr, len)`; NULL is allowed only when `len` is 0.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller passes `len` readable bytes at `ptr` (documented per function).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The UTF-8 text `(ptr, len)`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> Result<&'a str> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let b = unsafe { bytes(ptr as *const u8, len, what)? };
    std::str::from_utf8(b).map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// `(ptr, len)` parsed as JSON; malformed JSON is `FLOWDB_INVALID_ARGUMENT`.
pub(crate) unsafe fn json(ptr: *const c_char, len: usize, what: &str) -> Result<serde_json::Value> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let t = unsafe { text(ptr, len, what)? };
    if let Some(v) = small_int(t.as_bytes()) {
        return Ok(v);
    }
    serde_json::from_str(t).map_err(|e| Error::invalid(format!("{what} is not valid JSON: {e}")))
}

/// A JSON integer of at most 18 digits and nothing else (no `+`, no leading zero,
/// no space, not `-0`), as `serde_json` parses it (a `u64`, or an `i64` when
/// negative), without its parser: a document key given as a number is the common
/// argument (the parser was ~250 of a document `get`'s ~7,000 instructions).
/// Anything else is `None`, for the parser.
fn small_int(t: &[u8]) -> Option<serde_json::Value> {
    let (neg, digits) = match t.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 18 || (digits[0] == b'0' && (neg || digits.len() > 1)) {
        return None;
    }
    let mut n: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(c - b'0');
    }
    // At most 18 digits: below 10^18, within i64.
    Some(match neg {
        true => serde_json::Value::from(-(n as i64)),
        false => serde_json::Value::from(n),
    })
}

/// Hands a string to C (NUL-terminated; freed with `flowdb_string_free`).
pub(crate) unsafe fn put_string(out: *mut *mut c_char, s: String, what: &str) -> Result<()> {
    let c = CString::new(s).map_err(|_| Error::Internal(format!("{what} holds a NUL byte")))?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { put_cstring(out, c, what) }
}

/// Hands a C string to C in `*out`. With a NULL `out` the call fails and the string
/// is dropped (a raw pointer handed to `put` would leak).
pub(crate) unsafe fn put_cstring(out: *mut *mut c_char, c: CString, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, and the caller passes writable storage for a pointer.
    unsafe { out.write(c.into_raw()) };
    Ok(())
}

/// Hands a new handle to C in `*out` (freed by its `_free`). With a NULL `out` the
/// call fails and the object is dropped, not leaked.
pub(crate) unsafe fn put_new<T>(out: *mut *mut T, value: T, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, and the caller passes writable storage for a pointer.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
    Ok(())
}

/// A NUL-terminated UTF-8 string.
pub(crate) unsafe fn cstr<'a>(ptr: *const c_char, what: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated (documented per function).
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// Writes `value` through an output pointer checked for NULL.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, and the caller passes writable storage of type T.
    unsafe { out.write(value) };
    Ok(())
}

/// Writes `value` through an optional output pointer (documented "may be NULL"):
/// nothing when it is NULL.
///
/// # Safety
/// `out` is NULL or points to writable storage of type `T`.
pub(crate) unsafe fn put_opt<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, and the caller passes writable storage of type T.
        unsafe { out.write(value) };
    }
}

/// The status code of an error; `FLOWDB_INVALID_ARGUMENT` for NULL.
#[no_mangle]
pub unsafe extern "C" fn flowdb_error_code(err: *const flowdb_error_t) -> flowdb_status_t {
    // SAFETY: NULL or a live error from this library.
    no_unwind(flowdb_status_t::FLOWDB_INTERNAL, || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe { err.as_ref() }.map_or(flowdb_status_t::FLOWDB_INVALID_ARGUMENT, |e| e.code)
    })
}

/// The message of an error, NUL-terminated; valid until `flowdb_error_free`. "" for NULL.
#[no_mangle]
pub unsafe extern "C" fn flowdb_error_message(err: *const flowdb_error_t) -> *const c_char {
    // SAFETY: NULL or a live error from this library.
    no_unwind(c"".as_ptr(), || {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe { err.as_ref() }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// Frees an error; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_error_free(err: *mut flowdb_error_t) {
    if !err.is_null() {
        // SAFETY: made by Box::into_raw in `guard`, freed once (documented).
        no_unwind((), || drop(unsafe { Box::from_raw(err) }));
    }
}

/// A static name for a status code, e.g. "NOT_FOUND"; "UNKNOWN" for other values.
#[no_mangle]
pub extern "C" fn flowdb_status_str(code: i32) -> *const c_char {
    crate::status::status_name(code).as_ptr()
}

/// The library's version, e.g. "0.7.0" (a static string).
#[no_mangle]
pub extern "C" fn flowdb_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// Frees a string the library returned (e.g. metrics text); NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: made by CString::into_raw in this library, freed once.
        no_unwind((), || drop(unsafe { CString::from_raw(s) }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_and_never_unwinds() {
        let mut err: *mut flowdb_error_t = std::ptr::null_mut();
        let status = guard(&mut err, || panic!("boom"));
        assert_eq!(status, flowdb_status_t::FLOWDB_INTERNAL);
        // SAFETY: `err` is a live error from `guard`; its message is NUL-terminated and
        // lives until the error is freed, once, at the end.
        unsafe {
            assert_eq!(flowdb_error_code(err), flowdb_status_t::FLOWDB_INTERNAL);
            let msg = CStr::from_ptr(flowdb_error_message(err)).to_str().unwrap();
            assert!(msg.contains("boom"), "{msg}");
            flowdb_error_free(err);
        }
        assert_eq!(
            guard(std::ptr::null_mut(), || Ok(())),
            flowdb_status_t::FLOWDB_OK
        );
        assert_eq!(no_unwind(7, || panic!("x")), 7);
    }

    /// `small_int` gives what `serde_json` gives for the integers it takes (the same
    /// `Value`, of the same number kind), and leaves every other text to it.
    #[test]
    fn small_ints_parse_as_serde_json_does() {
        let fixed = [
            "0",
            "-0",
            "7",
            "-7",
            "00",
            "01",
            "-01",
            "+1",
            " 1",
            "1 ",
            "1.0",
            "1e3",
            "-",
            "",
            "12a",
            "999999999999999999",
            "-999999999999999999",
            "1000000000000000000",
            "-1000000000000000000",
            "18446744073709551615",
            "\"1\"",
            "true",
            "null",
        ];
        let mut texts: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        // Integers of every length (a fixed xorshift sequence, seed 0x9e37_79b9_7f4a_7c15).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x >> (x % 64);
            texts.push(n.to_string());
            texts.push(format!("-{n}"));
        }
        let mut taken = 0;
        for t in &texts {
            let want: Option<serde_json::Value> = serde_json::from_str(t).ok();
            match small_int(t.as_bytes()) {
                Some(v) => {
                    let want = want.unwrap_or_else(|| panic!("{t:?} is not JSON"));
                    assert_eq!(v, want, "{t:?}");
                    assert_eq!(
                        (v.is_u64(), v.is_i64()),
                        (want.is_u64(), want.is_i64()),
                        "{t:?}"
                    );
                    taken += 1;
                }
                // Left to the parser: not an integer of up to 18 digits as written.
                None => assert!(
                    t.trim_start_matches('-').len() > 18
                        || t == "-0"
                        || want.as_ref().map_or(true, |w| !(w.is_i64() || w.is_u64()))
                        || t.len() != t.trim().len()
                        || t.trim_start_matches('-').starts_with('0'),
                    "{t:?} left to the parser"
                ),
            }
        }
        assert!(taken > 3000, "{taken} taken");
    }
}
