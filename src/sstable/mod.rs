//! Sorted string tables: immutable files of entries in `(key, ts)` order, written by
//! flushes and compactions and read through a block cache.
//!
//! A file is a run of data blocks, then a range-tombstone block, a bloom filter over
//! its keys, an index with one entry per data block (key range, min/max ts, place) cut
//! into partitions with a top level (`index`), a properties block and a fixed footer. Byte layouts are on each type and in
//! docs/format.md, "Table".

pub(crate) mod block;
pub(crate) mod block_stats;
pub(crate) mod bloom;
pub(crate) mod builder;
pub(crate) mod cache;
pub(crate) mod check;
pub(crate) mod codec;
pub(crate) mod columns;
pub(crate) mod context;
pub(crate) mod cursor;
pub(crate) mod format;
pub(crate) mod index;
pub(crate) mod packed;
pub(crate) mod plan;
pub(crate) mod props;
pub(crate) mod readahead;
pub(crate) mod reader;
pub(crate) mod series;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub(crate) fn table_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:06}.sst"))
}

pub(crate) fn parse_table_name(name: &str) -> Option<u64> {
    name.strip_suffix(".sst")?.parse().ok()
}
