//! Apache Parquet export (feature `parquet`): engine ranges ([`export_engine`]) and
//! JsonDB stores ([`export_store`]) as Parquet files that DuckDB, ClickHouse, Spark,
//! pandas (pyarrow) and polars read directly.
//!
//! ## Engine records
//!
//! One row per live record, in the scan's order (`(key, ts)`, or descending for a
//! `reverse()` range), with this schema:
//!
//! ```text
//! message flowdb_records {
//!   REQUIRED BYTE_ARRAY key (STRING);                   -- dictionary-encoded
//!   REQUIRED INT64 ts (TIMESTAMP(MICROS,true));
//!   OPTIONAL INT64 expire_at (TIMESTAMP(MICROS,true));  -- null: never expires
//!   REQUIRED BYTE_ARRAY value;                          -- plain binary
//! }
//! ```
//!
//! `ts` and `expire_at` are UTC instants (`isAdjustedToUTC = true`): DuckDB reads
//! them as `TIMESTAMP WITH TIME ZONE`, pyarrow as `timestamp[us, tz=UTC]`. `value`
//! has no logical type (DuckDB `BLOB`, pyarrow `binary`), since values are bytes.
//!
//! **Keys that are not UTF-8.** A Parquet `STRING` must be UTF-8, so by default
//! ([`KeyType::String`]) a key that is not UTF-8 stops the export with a `Data`
//! error naming the key (escaped) and its ts. [`KeyType::Binary`] writes the `key`
//! column without the `STRING` annotation instead (DuckDB `BLOB`), which holds any
//! key. The choice is made up front because a Parquet schema is fixed before the
//! first row.
//!
//! ## JsonDB documents
//!
//! One row per document of a store, in primary-key order (see [`export_store`]):
//! `key` (`STRING`, the primary key as JSON text: `42`, `"abc"`, `[1,"a"]`) and
//! `doc` (`BYTE_ARRAY` with the `JSON` logical type: the document as stored,
//! compact). Documents are not flattened into columns: a store has no fixed shape,
//! and every reader named above extracts fields from JSON text (DuckDB
//! `json_extract(doc, '$.city')`, ClickHouse `JSONExtractString`, Spark
//! `get_json_object`).
//!
//! ## Streaming and memory
//!
//! Rows are gathered in batches of a few thousand and encoded at once into the
//! row group's column chunks, which are held in memory encoded and compressed; a
//! row group is written out when it holds [`ExportOptions::row_group_rows`] rows or
//! about [`ExportOptions::row_group_bytes`] bytes of data, whichever comes first.
//! The scan behind an export reads lazily, so memory stays at most about one row
//! group (its compressed chunks: much less, unless uncompressed) plus a few
//! batches, whatever the size of the data. With [`ExportOptions::parallel`] (the
//! default) two threads of the writer encode and compress while the caller's
//! thread scans and gathers the next batch: one for `value` (`doc`), one for the
//! other columns. Without it everything runs on the caller's thread.
//!
//! Readers skip row groups by the statistics kept for `key`, `ts` and `expire_at`
//! (min/max per page and per row group; none for `value` and `doc`). Pages are
//! about 64 KiB before compression. The file's key-value metadata names its
//! source: `flowdb.version`, `flowdb.source` (`engine` or `jsondb`) and
//! `flowdb.store`.
//!
//! On an error the output holds a partial file with no footer, which no reader
//! opens: write to a temporary name and rename on success (the CLI does).
//!
//! ```no_run
//! use flowdb::export::parquet::{export_engine, Compression, ExportOptions};
//! use flowdb::{Config, Engine, ScanRange};
//! let engine = Engine::open_read_only(Config::new("./data")).unwrap();
//! let mut options = ExportOptions::default();
//! options.compression = Compression::Snappy;
//! let out = std::fs::File::create("cpu.parquet").unwrap();
//! let stats = export_engine(&engine, ScanRange::prefix("cpu."), out, &options).unwrap();
//! println!("{} rows in {} row groups, {} bytes", stats.rows, stats.row_groups, stats.bytes);
//! ```

mod chunk;
mod records;
mod store;

use ::parquet::basic::{Compression as Codec, ZstdLevel};
use ::parquet::errors::ParquetError;

use crate::error::{Error, Result};

pub use records::{export_engine, export_engine_with, export_records, RecordWriter};
pub use store::{export_store, export_store_with, DocWriter};

/// Default rows per row group: 1 Mi (1,048,576).
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1 << 20;
/// Default data bytes per row group: 128 MiB.
pub const DEFAULT_ROW_GROUP_BYTES: usize = 128 << 20;

/// How often (in rows) the `_with` functions report progress.
const PROGRESS_EVERY: u64 = 1 << 16;

/// Rows gathered before they are encoded, at most.
const BATCH_ROWS: usize = 8192;
/// Bytes of values (or documents) gathered before they are encoded, about.
const BATCH_BYTES: usize = 2 << 20;

/// The row group being filled, as both writers count it: its rows and bytes against
/// the options' limits, and when the gathered batch is due for encoding.
#[derive(Clone, Copy, Debug)]
struct Group {
    limits: (usize, usize),
    rows: usize,
    bytes: usize,
}

/// What a writer does after adding a row.
enum Next {
    /// The row group is full: write it out.
    EndGroup,
    /// The batch is full: hand it to the encoders.
    Encode,
    Gather,
}

impl Group {
    fn new(opts: &ExportOptions) -> Self {
        Group {
            limits: (opts.row_group_rows, opts.row_group_bytes),
            rows: 0,
            bytes: 0,
        }
    }

    /// Counts a row of `bytes`, with the batch now `batch_rows` rows and
    /// `batch_bytes` bytes.
    fn add(&mut self, bytes: usize, batch_rows: usize, batch_bytes: usize) -> Next {
        self.rows += 1;
        self.bytes += bytes;
        if self.rows >= self.limits.0 || self.bytes >= self.limits.1 {
            Next::EndGroup
        } else if batch_rows >= BATCH_ROWS || batch_bytes >= BATCH_BYTES {
            Next::Encode
        } else {
            Next::Gather
        }
    }

    fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn clear(&mut self) {
        (self.rows, self.bytes) = (0, 0);
    }
}

/// Page compression. Every reader named in the module docs reads all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed pages: the largest files, and the slowest exports where the
    /// disk is the limit.
    None,
    /// Snappy: what DuckDB, Spark and pyarrow write by default, and what the oldest
    /// readers understand.
    Snappy,
    /// Zstandard at this level (1..=22; negative levels down to -131072 are faster;
    /// 0 is refused). The default
    /// is level 1: on flowdb's benchmark set files 2.4x smaller than snappy's, for
    /// about the same speed (bench/export.sh, docs/cli.md).
    Zstd(i32),
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Zstd(1)
    }
}

/// How the `key` column of an engine export holds keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyType {
    /// `BYTE_ARRAY (STRING)`: text in every reader. A key that is not UTF-8 is an
    /// error (naming the key). The default.
    #[default]
    String,
    /// `BYTE_ARRAY` without annotation (DuckDB `BLOB`): any key, as bytes.
    Binary,
}

/// Options of an export. Build from `ExportOptions::default()` and set fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportOptions {
    /// Rows per row group, at most (default [`DEFAULT_ROW_GROUP_ROWS`]).
    pub row_group_rows: usize,
    /// Data bytes per row group, about (default [`DEFAULT_ROW_GROUP_BYTES`]): a row
    /// group ends once its rows hold this much uncompressed (a record counts its
    /// key, its value and 16 bytes; a document its key text and itself). Bounds
    /// memory.
    pub row_group_bytes: usize,
    /// Page compression (default zstd level 1).
    pub compression: Compression,
    /// The `key` column's type in engine exports (default `String`).
    pub key_type: KeyType,
    /// Encode on two threads of the writer's own, beside the caller's (default
    /// true); false keeps all the work on the caller's thread.
    pub parallel: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            row_group_bytes: DEFAULT_ROW_GROUP_BYTES,
            compression: Compression::default(),
            key_type: KeyType::default(),
            parallel: true,
        }
    }
}

impl ExportOptions {
    fn validate(&self) -> Result<()> {
        if self.row_group_rows == 0 {
            return Err(Error::invalid("row_group_rows must be at least 1"));
        }
        if self.row_group_bytes == 0 {
            return Err(Error::invalid("row_group_bytes must be at least 1"));
        }
        codec(self.compression).map(|_| ())
    }
}

/// What an export wrote. During an export (progress callbacks) `bytes` counts the
/// row groups written so far; at the end it is the file's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Rows: records, or documents.
    pub rows: u64,
    /// Row groups.
    pub row_groups: u64,
    /// Bytes of Parquet written.
    pub bytes: u64,
}

fn codec(c: Compression) -> Result<Codec> {
    Ok(match c {
        Compression::None => Codec::UNCOMPRESSED,
        Compression::Snappy => Codec::SNAPPY,
        // (0 would be zstd's default level, 3, written down as 0: refused.)
        Compression::Zstd(0) => {
            return Err(Error::invalid(
                "zstd level 0 is out of range (1..=22, or a fast level -131072..=-1)",
            ))
        }
        Compression::Zstd(level) => Codec::ZSTD(ZstdLevel::try_new(level).map_err(|_| {
            Error::invalid(format!(
                "zstd level {level} is out of range (1..=22, or a fast level -131072..=-1)"
            ))
        })?),
    })
}

/// A parquet error as flowdb's: I/O on the output stays an I/O error.
fn pq(e: ParquetError) -> Error {
    match e {
        ParquetError::External(inner) => match inner.downcast::<std::io::Error>() {
            Ok(io) => Error::Io {
                context: "writing the Parquet output".into(),
                source: *io,
            },
            Err(other) => Error::Internal(format!("Parquet writer: {other}")),
        },
        other => Error::Internal(format!("Parquet writer: {other}")),
    }
}
