//! The C ABI (`include/flowdb.h`, generated from this module by cbindgen).
//!
//! Conventions, the same for every function (the header repeats them at its top):
//! 1. A fallible function returns `flowdb_status_t` (`FLOWDB_OK` = 0) and takes a last
//!    argument `flowdb_error_t **err`: NULL for "code only", otherwise on failure it
//!    receives an error (code + message) to free with `flowdb_error_free`.
//! 2. Outputs are written only on success.
//! 3. Every pointer is checked: NULL where one is required is `FLOWDB_INVALID_ARGUMENT`;
//!    text that must be UTF-8 and is not is `FLOWDB_INVALID_ARGUMENT`.
//! 4. No panic crosses the boundary: it becomes `FLOWDB_INTERNAL`.
//! 5. What `_open`/`_new` returns is released by the matching `_free`, once;
//!    `_free(NULL)` does nothing. Memory the library returns is freed by the library.
//!
//! # Safety
//!
//! Every exported function is `unsafe`: it reads and writes through pointers its C
//! caller passes. The argument, written once here and cited by each `unsafe` block
//! as "the C ABI contract":
//! - the caller keeps convention 3 — each pointer is NULL or valid for what the
//!   function's documentation says (a `(pointer, length)` pair readable for `length`
//!   bytes; an output pointer writable; a handle one this library made and has not
//!   freed, per convention 5);
//! - the library checks every pointer for NULL before reading it, through the helpers
//!   in `error.rs` (`bytes`, `text`, `json`, `cstr`, `put`, `put_new`) and the handle
//!   lookups (`with_engine`, `the_range`, ...), and reports NULL as
//!   `FLOWDB_INVALID_ARGUMENT`;
//! - handles that are not thread-safe (iterators, options, batches) are used by one
//!   thread at a time (convention 7).
//!
//! The C abuse harness (tests/c/gen_abuse.py) calls every function with NULL in each
//! pointer argument, and the C tests run under ASan, UBSan and valgrind.
//!
//! One file per handle family: `error` (status, errors, guard, argument helpers),
//! `options`, `engine` (lifecycle, writes, maintenance, stats), `read` (gets, queries,
//! ranges, record lists, iterators), `jsondb` (the document database, schema, CRUD,
//! index queries), `key_range` (key ranges and directions), `docs` (the document
//! requests database and transaction handles share), `txn` (transactions), `query` (the query builder).
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]
#![warn(clippy::undocumented_unsafe_blocks)]

/// The library version's parts (they match Cargo.toml; a test checks).
pub const FLOWDB_VERSION_MAJOR: u32 = 0;
pub const FLOWDB_VERSION_MINOR: u32 = 7;
pub const FLOWDB_VERSION_PATCH: u32 = 0;

/// Largest key accepted: 64 KiB.
pub const FLOWDB_MAX_KEY_LEN: usize = 64 * 1024;
/// Largest value accepted: 64 MiB.
pub const FLOWDB_MAX_VALUE_LEN: usize = 64 * 1024 * 1024;
/// The `expire_at` of a record that never expires. Records written from C may also
/// give `expire_at = 0` for "never" (a zero-initialised `flowdb_record_view_t`);
/// records read back always carry `FLOWDB_NEVER_EXPIRES`.
pub const FLOWDB_NEVER_EXPIRES: i64 = i64::MAX;

pub mod batch;
mod docs;
pub mod engine;
pub mod error;
pub mod jsondb;
pub mod key_range;
pub mod options;
pub mod query;
pub mod read;
pub mod records;
pub mod snapshot;
// Generated from the flowdb crate's tables (gen.rs), kept as generated.
#[rustfmt::skip]
pub mod stats;
#[rustfmt::skip]
pub mod status;
pub mod txn;

#[cfg(test)]
mod gen;

#[cfg(test)]
mod tests {
    #[test]
    fn constants_match_the_crate() {
        assert_eq!(
            super::FLOWDB_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            super::FLOWDB_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            super::FLOWDB_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        assert_eq!(super::FLOWDB_MAX_KEY_LEN, flowdb::MAX_KEY_LEN);
        assert_eq!(super::FLOWDB_MAX_VALUE_LEN, flowdb::MAX_VALUE_LEN);
        assert_eq!(super::FLOWDB_NEVER_EXPIRES, flowdb::NEVER_EXPIRES);
        let header = include_str!("../../../include/flowdb.h");
        assert!(header.contains(&format!(
            "#define FLOWDB_VERSION \"{}\"",
            env!("CARGO_PKG_VERSION")
        )));
    }
}
