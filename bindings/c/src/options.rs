//! `flowdb_options_t`: an opaque `Config` (and `Tuning`, set in `tuning.rs`) with one
//! setter per field, so the structure can grow without breaking callers. Defaults
//! are `Config`'s and `Tuning`'s (docs/design.md).

use std::ffi::c_char;

use super::error::{cstr, flowdb_error_t, flowdb_status_t, guard, no_unwind, null, put_new};
use flowdb::error::{Error, Result};
use flowdb::{Config, SyncMode, Tuning};

/// Options for opening an engine or a JsonDB. Not thread-safe; free with
/// `flowdb_options_free`.
#[derive(Debug)]
pub struct flowdb_options_t {
    pub(crate) config: Config,
    pub(crate) tuning: Tuning,
}

/// How the write-ahead log is made durable (see `flowdb_options_set_sync_mode`).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_sync_mode_t {
    /// fdatasync before every write call returns.
    FLOWDB_SYNC_ALWAYS = 0,
    /// write(2) before every write returns; fdatasync every `interval_ms`.
    FLOWDB_SYNC_INTERVAL = 1,
}

/// New options with every default, on data directory "./data". Never NULL.
#[no_mangle]
pub extern "C" fn flowdb_options_new() -> *mut flowdb_options_t {
    Box::into_raw(Box::new(flowdb_options_t {
        config: Config::default(),
        tuning: Tuning::default(),
    }))
}

/// Frees options; NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_free(opts: *mut flowdb_options_t) {
    if !opts.is_null() {
        // SAFETY: made by flowdb_options_new, freed once.
        no_unwind((), || drop(unsafe { Box::from_raw(opts) }));
    }
}

unsafe fn with(
    opts: *mut flowdb_options_t,
    err: *mut *mut flowdb_error_t,
    f: impl FnOnce(&mut Config) -> Result<()>,
) -> flowdb_status_t {
    // SAFETY: as the caller's.
    unsafe { with_options(opts, err, |o| f(&mut o.config)) }
}

/// Runs `f` on the options behind `opts` (NULL: `FLOWDB_INVALID_ARGUMENT`).
pub(crate) unsafe fn with_options(
    opts: *mut flowdb_options_t,
    err: *mut *mut flowdb_error_t,
    f: impl FnOnce(&mut flowdb_options_t) -> Result<()>,
) -> flowdb_status_t {
    guard(err, || {
        // SAFETY: NULL or a live options object used by one thread at a time.
        let o = unsafe { opts.as_mut() }.ok_or_else(|| null("options"))?;
        f(o)
    })
}

impl flowdb_options_t {
    /// Opens an engine with these options.
    pub(crate) fn open_engine(&self) -> Result<flowdb::Engine> {
        flowdb::Engine::open_with(self.config.clone(), self.tuning.clone())
    }
}

/// Runs `open` on the options behind `opts` and puts what it returns into `*out`:
/// the body of every `_open` function (NULL options or `out` are
/// `FLOWDB_INVALID_ARGUMENT`).
pub(crate) unsafe fn open_into<T>(
    opts: *const flowdb_options_t,
    out: *mut *mut T,
    open: impl FnOnce(&flowdb_options_t) -> Result<T>,
) -> Result<()> {
    // SAFETY: NULL or a live options object (the C ABI contract, lib.rs).
    let o = unsafe { opts.as_ref() }.ok_or_else(|| null("options"))?;
    if out.is_null() {
        return Err(null("out"));
    }
    let value = open(o)?;
    // SAFETY: `out` is non-NULL and writable (the C ABI contract, lib.rs).
    unsafe { put_new(out, value, "out") }
}

/// Sets the data directory (NUL-terminated UTF-8 path).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_data_dir(
    opts: *mut flowdb_options_t,
    path: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.data_dir = cstr(path, "path")?.into();
            Ok(())
        })
    }
}

/// Sets the default TTL in seconds; `has_ttl = false` means records never expire.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_default_ttl_secs(
    opts: *mut flowdb_options_t,
    has_ttl: bool,
    ttl_secs: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.default_ttl_secs = has_ttl.then_some(ttl_secs);
            Ok(())
        })
    }
}

/// Sets the log sync mode; `interval_ms` is used by `FLOWDB_SYNC_INTERVAL` only.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_sync_mode(
    opts: *mut flowdb_options_t,
    sync_mode: i32,
    interval_ms: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.wal_sync_mode = match sync_mode {
                0 => SyncMode::Always,
                1 => SyncMode::IntervalMs(interval_ms),
                other => {
                    return Err(Error::invalid(format!(
                        "sync mode {other} is not a flowdb_sync_mode_t"
                    )))
                }
            };
            Ok(())
        })
    }
}

/// Converts a C integer into a `Config` field's type, naming the field on overflow.
pub(crate) fn fit<T: TryFrom<u64>>(field: &str, v: u64) -> Result<T> {
    T::try_from(v).map_err(|_| Error::invalid(format!("Config::{field} = {v} does not fit")))
}

// One function per field (cbindgen reads only written-out functions); values are
// validated at open, where a bad one is named.

/// Seconds between background GC runs (default 3600).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_gc_interval_secs(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.gc_interval_secs = fit("gc_interval_secs", value)?;
            Ok(())
        })
    }
}

/// Memtable size in MiB before it is frozen and flushed (default 64).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_memtable_size_mb(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.memtable_size_mb = fit("memtable_size_mb", value)?;
            Ok(())
        })
    }
}

/// Frozen memtables allowed before writers wait (default 2).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_max_frozen_memtables(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.max_frozen_memtables = fit("max_frozen_memtables", value)?;
            Ok(())
        })
    }
}

/// Target uncompressed block size in bytes (default 8192).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_block_size(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.block_size = fit("block_size", value)?;
            Ok(())
        })
    }
}

/// Period of the background flush check in ms (default 1000).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_flush_interval_ms(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.flush_interval_ms = fit("flush_interval_ms", value)?;
            Ok(())
        })
    }
}

/// Width of a compaction time window, in seconds of `ts` (default 3600): tables
/// merge only within their window, and a closed window is merged once.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_time_bucket_secs(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.time_bucket_secs = fit("time_bucket_secs", value)?;
            Ok(())
        })
    }
}

/// Memory for block and time indexes in MiB (default 256).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_index_memory_budget_mb(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.index_memory_budget_mb = fit("index_memory_budget_mb", value)?;
            Ok(())
        })
    }
}

/// Block cache capacity in MiB; 0 disables it (default 128).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_block_cache_capacity_mb(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.block_cache_capacity_mb = fit("block_cache_capacity_mb", value)?;
            Ok(())
        })
    }
}

/// Bloom filter bits per key; 0 disables filters (default 10).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_bloom_bits_per_key(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.bloom_bits_per_key = fit("bloom_bits_per_key", value)?;
            Ok(())
        })
    }
}

/// WAL segment size in MiB (default 64).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_wal_segment_size_mb(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.wal_segment_size_mb = fit("wal_segment_size_mb", value)?;
            Ok(())
        })
    }
}

/// Runs of tables of one level, within a time window, that trigger a merge (default
/// 2; values below 4 act as 4).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_compaction_threshold(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.compaction_threshold = fit("compaction_threshold", value)?;
            Ok(())
        })
    }
}

/// Create the data directory when missing (default true).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_create_if_missing(
    opts: *mut flowdb_options_t,
    value: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.create_if_missing = value;
            Ok(())
        })
    }
}

/// Start background maintenance at open (default true).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_auto_background(
    opts: *mut flowdb_options_t,
    value: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with(opts, err, |c| {
            c.auto_background = value;
            Ok(())
        })
    }
}
