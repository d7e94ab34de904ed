//! Checkpoints and backups of engines and document databases: a consistent copy of
//! the database as of one moment, taken while writers go on (`Engine::checkpoint`,
//! `Engine::backup_to`, and the same on `JsonDB`).

use std::ffi::c_char;

use super::engine::{flowdb_engine_t, with_engine};
use super::error::{cstr, flowdb_error_t, flowdb_status_t, guard};
use super::jsondb::{flowdb_jsondb_t, with_db};

/// Writes a consistent copy of the database as of one moment to `dest` (a directory
/// that must not exist: `FLOWDB_INVALID_ARGUMENT` otherwise), while writers go on.
/// Tables and log segments are hard-linked when `dest` is on the same file system,
/// copied otherwise; the copy opens as a normal database. A crash leaves either no `dest` or a complete
/// one (and maybe a `<dest>.tmp` that the next checkpoint to `dest` removes).
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_checkpoint(
    engine: *const flowdb_engine_t,
    dest: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.checkpoint(cstr(dest, "dest")?))
    })
}

/// Like `flowdb_engine_checkpoint`, but copies every file (no hard links): a backup
/// for another disk.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_backup_to(
    engine: *const flowdb_engine_t,
    dest: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_engine(engine, |e| e.backup_to(cstr(dest, "dest")?))
    })
}

/// `flowdb_engine_checkpoint` for a document database: documents, indexes and schema
/// as of one moment (committed transactions whole or not at all).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_checkpoint(
    db: *const flowdb_jsondb_t,
    dest: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |d| d.checkpoint(cstr(dest, "dest")?))
    })
}

/// `flowdb_engine_backup_to` for a document database.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_backup_to(
    db: *const flowdb_jsondb_t,
    dest: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        with_db(db, |d| d.backup_to(cstr(dest, "dest")?))
    })
}
