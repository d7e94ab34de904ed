//! Read-only instances: an engine or document database opened on a directory another
//! process is writing (`Engine::open_read_only`, `catch_up`).

use super::engine::{engine_handle, flowdb_engine_t, with_engine};
use super::error::{flowdb_error_t, flowdb_status_t, guard};
use super::jsondb::{flowdb_jsondb_t, handle, with_db};
use super::options::{flowdb_options_t, open_into};
use flowdb::jsondb::JsonDB;
use flowdb::Engine;

/// The engine of `opts`, opened read-only.
fn read_only(o: &flowdb_options_t) -> flowdb::Result<Engine> {
    Engine::open_read_only_on(flowdb::fs::os(), o.config.clone(), o.tuning.clone())
}

/// Opens the database of `opts`'s data directory read-only, into `*out`: no lock
/// taken, nothing ever written, so another process may be writing it. It sees the
/// database as of the open; `flowdb_engine_catch_up` moves it forward. Writes,
/// flushes and compactions fail with `FLOWDB_READ_ONLY`; a checkpoint copies what
/// the writer has on disk. Errors:
/// `FLOWDB_NOT_FOUND` (no database there), `FLOWDB_BUSY` (the writer kept changing
/// its files while they were read: try again), `FLOWDB_CORRUPTION`, `FLOWDB_IO`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_open_read_only(
    opts: *const flowdb_options_t,
    out: *mut *mut flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_into(opts, out, |o| Ok(engine_handle(read_only(o)?)))
    })
}

/// For a read-only engine: moves it to the writer's present (new reads see what the
/// writer wrote since). On a writing engine it does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_engine_catch_up(
    engine: *const flowdb_engine_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_engine(engine, |e| e.catch_up()) })
}

/// `flowdb_engine_open_read_only` for a document database: documents, indexes and
/// schema as of the open; read-write transactions fail at commit.
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_open_read_only(
    opts: *const flowdb_options_t,
    out: *mut *mut flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe {
        open_into(opts, out, |o| {
            Ok(handle(JsonDB::from_engine(read_only(o)?)?))
        })
    })
}

/// `flowdb_engine_catch_up` for a document database (its schema too).
#[no_mangle]
pub unsafe extern "C" fn flowdb_jsondb_catch_up(
    db: *const flowdb_jsondb_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    guard(err, || unsafe { with_db(db, |d| d.catch_up()) })
}
