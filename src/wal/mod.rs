//! The write-ahead log: every batch is appended here (and, per `SyncMode`, synced)
//! before it is applied to the memtable, so an acknowledged write survives a crash.
//!
//! The log is a series of segment files `wal-NNNNNN.log`; a new one starts when a
//! memtable is frozen or the current one passes `wal_segment_size_mb`. Segments whose
//! memtables are all flushed are deleted. Byte layout: docs/format.md, "WAL".

mod batch;
mod marker;
mod reader;
mod writer;

pub(crate) use batch::{Op, Points, WriteBatch, MAX_BATCH_BYTES};
pub(crate) use marker::encode_mark;
pub(crate) use reader::{check_segment, replay_segment, TornTail};
pub(crate) use writer::{frame_record, sync_dir, WalWriter, RECORD_HEADER};

use std::path::{Path, PathBuf};

pub(crate) fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("wal-{number:06}.log"))
}

/// The segment number of a file name, if it is a WAL segment.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    name.strip_prefix("wal-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}
