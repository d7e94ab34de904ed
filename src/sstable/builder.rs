//! Writes one table file from entries given in `(key, ts)` order.
//!
//! The file is written under its final name and fsynced before `finish` returns; it
//! becomes part of the database only when the manifest names it, so a crash midway
//! leaves an orphan that the next open deletes.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::entry::{EntryRef, Kind, RangeTombstone};
use crate::error::{IoContext, Result};
use crate::fs::{Appender, FileSystem, OpenMode};

use super::block::BlockBuilder;
use super::block_stats::{BlockStats, PartsAcc};
use super::bloom::BloomBuilder;
use super::codec::{Codec, Compressors};
use super::format::{
    frame_block, frame_packed, BlockHandle, Footer, LZ4_FORMAT_VERSION, NUMERIC_FORMAT_VERSION,
    STATS_FORMAT_VERSION, TRAILER,
};
use super::props::{
    encode_index, encode_key_map, encode_range_dels, BlockMeta, FenceKey, TableProps,
};
use super::series::SeriesBuilder;
use crate::config::BlockCompression;
use crate::point::Summary;

/// A table gets a key map only when it has at most one fence key per this many
/// blocks (series-shaped); document-shaped tables would gain little for the memory.
pub(crate) const MIN_BLOCKS_PER_KEY: u64 = 4;

/// How tables are cut and compressed.
#[derive(Clone, Debug)]
pub(crate) struct TableOptions {
    pub block_size: usize,
    pub restart_interval: usize,
    pub bloom_bits_per_key: usize,
    pub zstd_level: i32,
    /// How data blocks of records are compressed (metadata and blocks of points: zstd).
    pub compression: BlockCompression,
    /// Data blocks per index partition (format 2).
    pub partition_blocks: usize,
    /// The table format written: 2 (partitioned index), or 1 (one whole index block;
    /// written only by tests that check old tables stay readable, without LZ4 or
    /// numeric points, whose formats 3 and 4 extend format 2).
    pub format_version: u32,
}

pub(crate) struct TableBuilder {
    fs: Arc<dyn FileSystem>,
    path: PathBuf,
    out: BufWriter<Appender>,
    offset: u64,
    opts: TableOptions,
    compressors: Compressors,
    /// Whether a block was written with LZ4 (the footer then says format 4).
    lz4: bool,
    block: BlockBuilder,
    cur: Option<BlockMeta>,
    /// The current index partition's entries (format 1: every block's).
    metas: Vec<BlockMeta>,
    /// The top-level index (format 2): one entry per partition written.
    top: Vec<BlockMeta>,
    /// Data blocks written so far.
    blocks: u64,
    /// Each fence key's first and last block (format 2), while the table still looks
    /// series-shaped; `None` once it has too many keys for a key map.
    spans: Option<Vec<(FenceKey, u32, u32)>>,
    bloom: BloomBuilder,
    last_key: Vec<u8>,
    props: TableProps,
    range_dels: Vec<RangeTombstone>,
    series: SeriesBuilder,
    scratch: Vec<u8>,
    raw_bytes: u64,
    /// Whether a numeric point was added: the table is then written as format 3.
    has_numbers: bool,
    /// Some block has statistics: the table is then written as format 5.
    has_stats: bool,
    /// The current block's statistics, while it holds only points of one key.
    stats: BlockAcc,
}

/// The statistics of the block being built ([`BlockStats`]).
#[derive(Default)]
enum BlockAcc {
    /// No entry yet.
    #[default]
    Empty,
    /// Only numeric points of one key so far.
    Points {
        s: Summary,
        min_expire: i64,
        parts: PartsAcc,
    },
    /// Something else: the block gets no statistics.
    Other,
}

impl BlockAcc {
    /// Adds `e`, the next entry of the block whose first key is `first_key`.
    fn add(&mut self, e: EntryRef<'_>, first_key: &[u8]) {
        let v = match (e.kind, <[u8; 8]>::try_from(e.value)) {
            (Kind::Num, Ok(b)) => Some(f64::from_le_bytes(b)),
            _ => None,
        };
        *self = match (std::mem::take(self), v) {
            (BlockAcc::Empty, Some(v)) => {
                let mut parts = PartsAcc::default();
                parts.push(e.ts, v);
                BlockAcc::Points {
                    s: Summary::of(e.ts, v),
                    min_expire: e.expire_at,
                    parts,
                }
            }
            (
                BlockAcc::Points {
                    mut s,
                    min_expire,
                    mut parts,
                },
                Some(v),
            ) if e.key == first_key => {
                s.push(e.ts, v);
                parts.push(e.ts, v);
                BlockAcc::Points {
                    s,
                    min_expire: min_expire.min(e.expire_at),
                    parts,
                }
            }
            _ => BlockAcc::Other,
        };
    }

    /// True while the block holds only numeric points of one key.
    fn is_points(&self) -> bool {
        matches!(self, BlockAcc::Points { .. })
    }

    /// The finished block's statistics, if it has them; leaves `Empty`.
    fn take(&mut self) -> Option<Box<BlockStats>> {
        match std::mem::take(self) {
            BlockAcc::Points {
                s,
                min_expire,
                mut parts,
            } => Some(Box::new(BlockStats {
                sum: s.sum,
                min: s.min,
                max: s.max,
                first: s.first,
                last: s.last,
                increase: s.increase,
                min_expire,
                parts: parts.take(s.count),
            })),
            _ => None,
        }
    }
}

/// A finished table file.
pub(crate) struct Built {
    pub size: u64,
    /// Uncompressed bytes of its data blocks (for the compression ratio).
    pub raw_bytes: u64,
}

impl TableBuilder {
    pub(crate) fn create(
        fs: &Arc<dyn FileSystem>,
        path: PathBuf,
        opts: TableOptions,
    ) -> Result<Self> {
        let file = fs
            .open(&path, OpenMode::Truncate)
            .ctx(|| format!("creating table {}", path.display()))?;
        debug_assert!(
            opts.format_version >= 2 || opts.compression != BlockCompression::Lz4,
            "LZ4 blocks make a table format 4, which has a partitioned index"
        );
        let compressors = Compressors::new(opts.zstd_level, opts.compression)?;
        Ok(TableBuilder {
            fs: fs.clone(),
            path,
            out: BufWriter::with_capacity(1 << 20, Appender(file)),
            offset: 0,
            block: BlockBuilder::new(opts.restart_interval),
            bloom: BloomBuilder::new(opts.bloom_bits_per_key),
            opts,
            compressors,
            lz4: false,
            cur: None,
            metas: Vec::new(),
            top: Vec::new(),
            blocks: 0,
            spans: Some(Vec::new()),
            last_key: Vec::new(),
            props: TableProps::default(),
            range_dels: Vec::new(),
            series: SeriesBuilder::for_table(),
            scratch: Vec::new(),
            raw_bytes: 0,
            has_numbers: false,
            has_stats: false,
            stats: BlockAcc::Empty,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.props.entries == 0 && self.range_dels.is_empty()
    }

    /// Bytes of data blocks and index partitions written so far (what a compaction
    /// compares with its target table size).
    pub(crate) fn written(&self) -> u64 {
        self.offset
    }

    #[cfg(test)]
    pub(crate) fn add(&mut self, e: &crate::entry::Entry) -> Result<()> {
        self.add_ref(e.as_ref())
    }

    /// Adds the next entry, given by its borrowed parts, in `(key, ts)` order (its
    /// sequence is not stored: it takes the table's).
    pub(crate) fn add_ref(&mut self, e: EntryRef<'_>) -> Result<()> {
        // A block of one series' points ends where the next series begins once it
        // holds a quarter of `block_size`: it keeps its statistics, and aggregation
        // reads it as columns (columns.rs) rather than entry by entry. Smaller
        // series share blocks, so a block per series does not swell the index.
        if self.last_key != e.key
            && self.stats.is_points()
            && self.block.estimated_size() >= self.opts.block_size / 4
        {
            self.finish_block()?;
        }
        if self.last_key != e.key || self.props.entries == 0 {
            self.bloom.add(e.key);
            self.last_key.clear();
            self.last_key.extend_from_slice(e.key);
        }
        self.series.add_ref(e);
        let p = &mut self.props;
        p.entries += 1;
        p.min_ts = p.min_ts.min(e.ts);
        p.max_ts = p.max_ts.max(e.ts);
        if e.kind == Kind::Num {
            self.has_numbers = true;
        }
        if e.kind == Kind::Delete {
            p.deletes += 1;
        } else {
            p.min_expire = p.min_expire.min(e.expire_at);
            p.max_expire = p.max_expire.max(e.expire_at);
        }
        let m = self.cur.get_or_insert_with(|| BlockMeta {
            first_key: FenceKey::from_slice(e.key),
            first_ts: e.ts,
            last_key: FenceKey::new(),
            last_ts: e.ts,
            handle: BlockHandle::default(),
            min_ts: e.ts,
            max_ts: e.ts,
            entries: 0,
            stats: None,
        });
        self.stats.add(e, &m.first_key);
        m.min_ts = m.min_ts.min(e.ts);
        m.max_ts = m.max_ts.max(e.ts);
        m.last_ts = e.ts;
        m.entries += 1;
        self.block
            .add_parts(e.key, e.ts, e.kind, e.expire_at, e.value);
        // A block of points is cut at `block_size` unpacked too (about 500 points
        // at 8 KiB), though packed it takes a tenth of that: a point read that misses
        // the cache unpacks the whole block. Blocks of four times the size saved
        // 0.06-0.16 bytes a point on disk and made such reads 1.5-2 times slower
        // (docs/benchmarks.md, "Numeric series").
        if self.block.estimated_size() >= self.opts.block_size {
            self.finish_block()?;
        }
        Ok(())
    }

    /// Adds a range tombstone (its sequence is not stored: it takes the table's).
    pub(crate) fn add_range_del(&mut self, t: RangeTombstone) {
        self.range_dels.push(t);
    }

    /// Writes a block compressed with `codec` (`None`: as it is).
    fn write_block(&mut self, raw: &[u8], codec: Option<Codec>) -> Result<BlockHandle> {
        self.scratch.clear();
        let used = frame_block(raw, codec, &mut self.compressors, &mut self.scratch)?;
        self.lz4 |= used == Some(Codec::Lz4);
        self.write_framed()
    }

    /// Writes a metadata block, compressed with zstd when `compress`.
    fn write_meta(&mut self, raw: &[u8], compress: bool) -> Result<BlockHandle> {
        self.write_block(raw, compress.then_some(Codec::Zstd))
    }

    /// Writes a data block's packed form (packed.rs).
    fn write_packed(&mut self, packed: &[u8]) -> Result<BlockHandle> {
        self.scratch.clear();
        let used = frame_packed(packed, &mut self.compressors, &mut self.scratch)?;
        self.lz4 |= used == Some(Codec::Lz4);
        self.write_framed()
    }

    /// Writes the block framed in `scratch`.
    fn write_framed(&mut self) -> Result<BlockHandle> {
        let handle = BlockHandle {
            offset: self.offset,
            len: (self.scratch.len() - TRAILER) as u32,
        };
        self.out
            .write_all(&self.scratch)
            .ctx(|| format!("writing table {}", self.path.display()))?;
        self.offset += self.scratch.len() as u64;
        Ok(handle)
    }

    fn finish_block(&mut self) -> Result<()> {
        let Some(mut m) = self.cur.take() else {
            return Ok(());
        };
        m.last_key = FenceKey::from_slice(&self.last_key);
        m.stats = self.stats.take();
        self.has_stats |= m.stats.is_some();
        let (numbers, interval) = (self.block.has_numbers(), self.opts.restart_interval);
        let raw = self.block.finish();
        self.raw_bytes += raw.len() as u64;
        let codec = self.compressors.data_codec();
        m.handle = match numbers {
            true => match super::packed::pack(raw.clone(), interval)? {
                Some(packed) => self.write_packed(&packed)?,
                None => self.write_block(&raw, codec)?,
            },
            false => self.write_block(&raw, codec)?,
        };
        self.note_spans(&m);
        self.metas.push(m);
        self.blocks += 1;
        if self.blocks >= u64::from(super::cache::INDEX_KEY_BIT) {
            return Err(crate::error::Error::invalid(format!(
                "table {} would have more than 2^31 blocks",
                self.path.display()
            )));
        }
        if self.opts.format_version >= 2 && self.metas.len() >= self.opts.partition_blocks {
            self.finish_partition()?;
        }
        Ok(())
    }

    /// Extends the fence keys' block spans with the block `m` (number `self.blocks`).
    fn note_spans(&mut self, m: &BlockMeta) {
        let Some(spans) = &mut self.spans else {
            return;
        };
        let b = self.blocks as u32;
        for k in [&m.first_key, &m.last_key] {
            match spans.last_mut() {
                Some((key, _, last)) if key == k => *last = b,
                _ => spans.push((k.clone(), b, b)),
            }
        }
        // Far more keys than blocks / MIN_BLOCKS_PER_KEY: document-shaped; stop
        // collecting (the 1,024 lets a table's first blocks be judged fairly).
        if spans.len() as u64 > 1024.max(self.blocks / MIN_BLOCKS_PER_KEY) {
            self.spans = None;
        }
    }

    /// Writes the current index partition and adds its top-level entry: the first
    /// and last block's fences, the partition's ts range, and its block count (in
    /// `entries`).
    fn finish_partition(&mut self) -> Result<()> {
        let Some(mut entry) = BlockMeta::summary(&self.metas) else {
            return Ok(());
        };
        let encoded = encode_index(&self.metas);
        entry.handle = self.write_meta(&encoded, true)?;
        self.top.push(entry);
        self.metas.clear();
        Ok(())
    }

    /// Writes the metadata and footer and fsyncs.
    /// Writes the rest of the table and syncs it; on failure the file is removed (a
    /// full disk gets its space back).
    pub(crate) fn finish(self) -> Result<Built> {
        let (fs, path) = (self.fs.clone(), self.path.clone());
        let built = self.write_tail();
        if built.is_err() {
            let _ = fs.remove(&path);
        }
        built
    }

    fn write_tail(mut self) -> Result<Built> {
        if !self.block.is_empty() {
            self.finish_block()?;
        }
        let index = if self.opts.format_version >= 2 {
            self.finish_partition()?;
            let spans = self.spans.take().unwrap_or_default();
            if !spans.is_empty() && spans.len() as u64 <= self.blocks / MIN_BLOCKS_PER_KEY {
                self.props.key_map = Some(self.write_meta(&encode_key_map(&spans), true)?);
            }
            encode_index(&self.top)
        } else {
            encode_index(&self.metas)
        };
        if self.props.entries > self.props.deletes {
            if let Some(series) = std::mem::take(&mut self.series).finish() {
                self.props.series = Some(self.write_meta(&series, true)?);
            }
        }
        let range_dels = encode_range_dels(&self.range_dels);
        let bloom = self.bloom.finish();
        let props = self.props.encode();
        let footer = Footer {
            version: match (self.lz4, self.has_numbers) {
                _ if self.has_stats => self.opts.format_version.max(STATS_FORMAT_VERSION),
                (true, _) => self.opts.format_version.max(LZ4_FORMAT_VERSION),
                (false, true) => self.opts.format_version.max(NUMERIC_FORMAT_VERSION),
                (false, false) => self.opts.format_version,
            },
            range_dels: self.write_meta(&range_dels, false)?,
            bloom: self.write_meta(&bloom, false)?,
            index: self.write_meta(&index, true)?,
            props: self.write_meta(&props, false)?,
        };
        let path = self.path.clone();
        self.out
            .write_all(&footer.encode())
            .ctx(|| format!("writing footer of {}", path.display()))?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .ctx(|| format!("flushing {}", path.display()))?;
        file.0
            .sync()
            .ctx(|| format!("syncing table {}", path.display()))?;
        Ok(Built {
            size: self.offset + super::format::FOOTER_LEN as u64,
            raw_bytes: self.raw_bytes,
        })
    }

    /// Gives up on the table and removes its file.
    pub(crate) fn abandon(self) {
        let (fs, path) = (self.fs.clone(), self.path.clone());
        drop(self);
        let _ = fs.remove(&path);
    }
}
