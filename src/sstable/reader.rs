//! An open table: its top-level index, bloom filter (within the index budget), range
//! tombstones and properties in memory; index partitions and data blocks read on
//! demand through the block cache.
//!
//! `get` is bloom, then a binary search of the top-level index, one index partition
//! and one block (each binary-searched); never a scan of blocks. Its I/O is bounded:
//! at most a filter, a partition and a data block, each a cache hit or one read. A table that compaction
//! replaced is marked obsolete and its file deleted when the last reader lets go.
//!
//! This module opens a table and holds its metadata; its child modules, one concept
//! each: `index_lookup` (finding blocks: index partitions, the key map),
//! `block_reads` (reading data blocks) and `point_lookup` (`get`, and where a walk
//! over one key starts). The types stay declared here for their codegen unit (as in
//! `block`).

mod block_reads;
mod index_lookup;
mod point_lookup;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use crate::entry::RangeTombstone;
use crate::error::{Error, IoContext, Result};
use crate::fs::{FsFile, OpenMode};

pub(crate) use super::context::{BlockPlan, IndexBudget, TableContext, TableMeta};

use super::block::Block;
use super::bloom::Bloom;
use super::format::{read_block, Footer};
use super::index::{BlockIndex, IndexPart};
use super::props::{decode_index, decode_range_dels, TableProps};
use index_lookup::KeyMap;

pub(crate) struct Table {
    pub meta: TableMeta,
    name: Arc<str>,
    path: PathBuf,
    file: Arc<dyn FsFile>,
    pub(super) index: BlockIndex,
    /// Index partitions kept after their first read, while the index budget has room
    /// (format 2; what they charged is added to `pinned_bytes`).
    pinned: Vec<std::sync::OnceLock<Arc<IndexPart>>>,
    pinned_bytes: AtomicUsize,
    /// The key map (series-shaped format 2 tables): read at the first lookup, kept
    /// while the index budget has room (`None`: no map, or no room for it).
    key_map: std::sync::OnceLock<Option<KeyMap>>,
    bloom: Filter,
    /// Its range tombstones, numbered with the table's smallest sequence.
    pub range_dels: Vec<RangeTombstone>,
    pub props: TableProps,
    ctx: Arc<TableContext>,
    charged: usize,
    obsolete: AtomicBool,
}

/// A table's bloom filter: held by the table while the index budget allows, otherwise
/// read through the block cache when a lookup needs it.
enum Filter {
    Pinned(Bloom),
    Paged(super::format::BlockHandle),
}

/// A loaded index partition: `metas[0]` is block number `base` (format 1's whole
/// index has base 0 and holds every block).
pub(crate) struct Part {
    metas: Arc<IndexPart>,
    base: usize,
}

/// The index partition a reader used last: kept by cursors and walks (and within one
/// lookup), so that the next block of the same partition needs no cache lookup.
pub(crate) type PartSlot = Option<Part>;

/// A data block from [`Table::read_block_or_packed`]: a standard block (cached), or
/// a packed block's payload and its offset in the file.
pub(crate) enum Fetched {
    Block(Arc<Block>),
    Packed(Vec<u8>, u64),
}

impl Table {
    /// Opens a table: reads its footer, top-level index (or whole format 1 index),
    /// bloom filter, range tombstones and properties. Index partitions are read later,
    /// when a lookup needs them.
    pub(crate) fn open(ctx: &Arc<TableContext>, meta: TableMeta) -> Result<Table> {
        let path = super::table_path(&ctx.dir, meta.id);
        let name: Arc<str> = Arc::from(path.display().to_string());
        let file = ctx
            .fs
            .open(&path, OpenMode::Read)
            .ctx(|| format!("opening table {name}"))?;
        let len = file.len().ctx(|| format!("reading size of {name}"))?;
        let footer = Footer::read(file.as_ref(), &name, len)?;
        let meta_block = |h, what: &str| -> Result<Vec<u8>> {
            read_block(file.as_ref(), &name, h, true).map_err(|e| in_block(e, what))
        };
        let bad = |h: super::format::BlockHandle, what: &str| {
            Error::corruption(&name, h.offset, format!("malformed {what}"))
        };
        let entries = decode_index(&meta_block(footer.index, "index block")?)
            .ok_or_else(|| bad(footer.index, "index block"))?;
        let index = if footer.version >= 2 {
            BlockIndex::partitioned(entries).ok_or_else(|| bad(footer.index, "index block"))?
        } else {
            BlockIndex::whole(entries)
        };
        let range_dels = decode_range_dels(
            &meta_block(footer.range_dels, "range tombstone block")?,
            meta.min_seq,
        )
        .ok_or_else(|| bad(footer.range_dels, "range tombstone block"))?;
        let props = TableProps::decode(&meta_block(footer.props, "properties block")?)
            .ok_or_else(|| bad(footer.props, "properties block"))?;
        let bloom_bytes = footer.bloom.len as usize;
        let bloom = if ctx.budget.try_charge(bloom_bytes) {
            match meta_block(footer.bloom, "bloom block") {
                Ok(b) => Filter::Pinned(Bloom::new(b)),
                Err(e) => {
                    ctx.budget.release(bloom_bytes);
                    return Err(e);
                }
            }
        } else {
            Filter::Paged(footer.bloom)
        };
        // The top level is always held (it is what bounds every lookup); the bloom
        // filter was charged above when held.
        let index_bytes = index.memory();
        ctx.budget.charge(index_bytes);
        let held_bloom = if matches!(bloom, Filter::Pinned(_)) {
            bloom_bytes
        } else {
            0
        };
        let charged = index_bytes + held_bloom;
        let pinned = (0..index.paged_partitions())
            .map(|_| std::sync::OnceLock::new())
            .collect();
        Ok(Table {
            meta,
            name,
            path,
            file,
            index,
            pinned,
            pinned_bytes: AtomicUsize::new(0),
            key_map: std::sync::OnceLock::new(),
            bloom,
            range_dels,
            props,
            ctx: ctx.clone(),
            charged,
            obsolete: AtomicBool::new(false),
        })
    }

    /// The number of data blocks.
    pub(crate) fn block_count(&self) -> usize {
        self.index.len()
    }

    /// The table's first and last keys (`None` when it holds no entries).
    pub(crate) fn key_range(&self) -> Option<(&[u8], &[u8])> {
        self.index
            .key_range()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
    }

    /// The file's name, as errors give it.
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The table's per-key summaries (`series`), read from disk; `None` for tables
    /// written before the series block existed or holding no puts.
    pub(crate) fn series(&self) -> Result<Option<super::series::SeriesIter>> {
        let Some(h) = self.props.series else {
            return Ok(None);
        };
        let raw = read_block(self.file.as_ref(), &self.name, h, true)
            .map_err(|e| in_block(e, "series block"))?;
        super::series::SeriesIter::new(raw)
            .map(Some)
            .ok_or_else(|| Error::corruption(&self.name, h.offset, "malformed series block"))
    }

    /// Deletes the file once no reader holds this table any more.
    pub(crate) fn mark_obsolete(&self) {
        self.obsolete.store(true, Relaxed);
    }

    /// Checks the checksum of every block the table's index and properties name
    /// (data blocks, index partitions, key map, series block; the footer, top-level
    /// index, filter, range tombstones and properties were checked at open), without
    /// decompressing data blocks; returns the blocks and bytes checked.
    pub(crate) fn verify(&self) -> Result<(u64, u64)> {
        self.verify_in(super::check::Stretches::DEFAULT)
    }

    /// [`Table::verify`], reading a partitioned table in stretches cut by `cut`.
    pub(super) fn verify_in(&self, cut: super::check::Stretches) -> Result<(u64, u64)> {
        let others: Vec<_> = [self.props.key_map, self.props.series]
            .into_iter()
            .flatten()
            .collect();
        let Some(whole) = self.index.whole_index() else {
            let top = self.index.top();
            return super::check::check_partitioned(
                self.file.as_ref(),
                &self.name,
                top,
                &others,
                cut,
            );
        };
        let mut handles: Vec<_> = whole.iter().map(|m| m.handle).chain(others).collect();
        handles.sort_by_key(|h| h.offset);
        let bytes = super::format::check_blocks(self.file.as_ref(), &self.name, &handles)?;
        Ok((handles.len() as u64, bytes))
    }
}

/// Names the metadata block a corruption was found in.
fn in_block(e: Error, what: &str) -> Error {
    match e {
        Error::Corruption {
            file,
            offset,
            detail,
        } => Error::Corruption {
            file,
            offset,
            detail: format!("{what}: {detail}"),
        },
        e => e,
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        self.ctx
            .budget
            .release(self.charged + self.pinned_bytes.load(Relaxed));
        if self.obsolete.load(Relaxed) {
            let _ = self.ctx.fs.remove(&self.path);
        }
    }
}
