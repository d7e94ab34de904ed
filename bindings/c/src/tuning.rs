//! The `Tuning` knobs on `flowdb_options_t`: what `Engine::open_with` takes beyond
//! `Config` (compression level, block restart interval, index partition size, the
//! size at which flush and compaction cut tables, the retention limits, the metrics
//! labels). Validated at open, where a bad value is named.

use std::ffi::c_char;

use super::error::{cstr, flowdb_error_t, flowdb_status_t};
use super::options::{fit, flowdb_options_t, with_options};
use flowdb::error::Error;
use flowdb::BlockCompression;

/// How data blocks of records are compressed (`flowdb_options_set_block_compression`).
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum flowdb_compression_t {
    /// Stored as they are: the most disk, no decompression.
    FLOWDB_COMPRESSION_NONE = 0,
    /// zstd at the zstd level: the smallest files; reads that miss the cache are slower.
    FLOWDB_COMPRESSION_ZSTD = 1,
    /// LZ4 (the default): larger files than zstd's; a read that misses the block cache
    /// decompresses its block about three times faster.
    FLOWDB_COMPRESSION_LZ4 = 2,
}

/// How data blocks of records are compressed: a `flowdb_compression_t` (default
/// `FLOWDB_COMPRESSION_LZ4`). Index, filter and other metadata blocks, and blocks of
/// numeric points, are always zstd. Tables written under one setting stay readable
/// under any other. Another value is `FLOWDB_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_block_compression(
    opts: *mut flowdb_options_t,
    compression: i32,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.block_compression = match compression {
                0 => BlockCompression::None,
                1 => BlockCompression::Zstd,
                2 => BlockCompression::Lz4,
                other => {
                    return Err(Error::invalid(format!(
                        "block compression {other} is not a flowdb_compression_t"
                    )))
                }
            };
            Ok(())
        })
    }
}

/// zstd level for metadata blocks, blocks of numeric points, and data blocks under
/// `FLOWDB_COMPRESSION_ZSTD` (default -1; -7..=-1 or 1..=19).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_zstd_level(
    opts: *mut flowdb_options_t,
    level: i32,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.zstd_level = level;
            Ok(())
        })
    }
}

/// Entries between full keys inside a block (default 16; 1..=1024).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_block_restart_interval(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.block_restart_interval = fit("block_restart_interval", value)?;
            Ok(())
        })
    }
}

/// Data blocks per index partition (default 128; 1..=65536).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_index_partition_blocks(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.index_partition_blocks = fit("index_partition_blocks", value)?;
            Ok(())
        })
    }
}

/// Size in bytes at which flush and compaction start a new table (default 64 MiB;
/// at least 1): a merge writes a run of tables of about this size.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_target_table_bytes(
    opts: *mut flowdb_options_t,
    value: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.target_table_bytes = value;
            Ok(())
        })
    }
}

/// Charge the memtables' memory to the block cache (default false), as RocksDB's
/// `WriteBufferManager` with `cost_to_cache`: while the memtables hold M bytes the
/// block cache holds at most its capacity less M (never less than an eighth of it),
/// so memtables and cache together stay near `block_cache_capacity_mb`. The metric
/// `flowdb_block_cache_capacity_bytes` shows the capacity in force.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_memtables_in_block_cache(
    opts: *mut flowdb_options_t,
    value: bool,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.memtables_in_block_cache = value;
            Ok(())
        })
    }
}

/// Retention by age, in seconds: background maintenance (or
/// `flowdb_engine_enforce_retention`) deletes every record whose `ts` is more than
/// this many seconds before now (ts in microseconds since the epoch, the clock of
/// TTLs). 0 means no limit, the default.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_retention_max_age_secs(
    opts: *mut flowdb_options_t,
    secs: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.retention_max_age_secs = (secs != 0).then_some(secs);
            Ok(())
        })
    }
}

/// Retention by size, in bytes: when the table files exceed it, background
/// maintenance (or `flowdb_engine_enforce_retention`) deletes the oldest data (by
/// ts) until they fit, never the table with the newest data. 0 means no limit, the
/// default.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_set_retention_max_bytes(
    opts: *mut flowdb_options_t,
    bytes: u64,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.retention_max_bytes = (bytes != 0).then_some(bytes);
            Ok(())
        })
    }
}

/// Adds a constant label (NUL-terminated UTF-8 `name` and `value`) to every sample of
/// the metrics text (`flowdb_engine_metrics_text`, `flowdb_jsondb_engine_metrics_text`),
/// to tell several databases in one process apart: `name="value"`, the value escaped
/// as the Prometheus text format requires. Labels keep the order they were added in.
/// The name is checked at open: `FLOWDB_INVALID_ARGUMENT` (naming the label) unless it
/// matches `[a-zA-Z_][a-zA-Z0-9_]*`, or when it begins with `__`, is `quantile` or
/// `le` (flowdb's own sample labels) or was added before.
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_add_metrics_label(
    opts: *mut flowdb_options_t,
    name: *const c_char,
    value: *const c_char,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            let label = (
                cstr(name, "name")?.to_owned(),
                cstr(value, "value")?.to_owned(),
            );
            o.tuning.metrics_labels.push(label);
            Ok(())
        })
    }
}

/// Removes every label added with `flowdb_options_add_metrics_label` (so that one
/// options object can open several databases, each with its own labels).
#[no_mangle]
pub unsafe extern "C" fn flowdb_options_clear_metrics_labels(
    opts: *mut flowdb_options_t,
    err: *mut *mut flowdb_error_t,
) -> flowdb_status_t {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        with_options(opts, err, |o| {
            o.tuning.metrics_labels.clear();
            Ok(())
        })
    }
}
