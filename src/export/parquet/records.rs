//! Engine records as Parquet: [`RecordWriter`] and the functions over it.

use std::io::Write;

use ::parquet::data_type::{ByteArray, ByteArrayType, Int64Type};

use ::parquet::file::properties::WriterPropertiesPtr;
use ::parquet::schema::types::ColumnDescPtr;

use super::chunk::{BytesEncoder, Chunk, Closed, Encode, File, Layout, Order, Packed, Pipeline};
use super::{pq, ExportOptions, ExportStats, Group, KeyType, Next, PROGRESS_EVERY};
use crate::error::{Error, Result};
use crate::{Engine, ReadOptions, Record, ScanRange, NEVER_EXPIRES};

/// The Parquet schema of engine records, with `key` as STRING or plain binary.
fn schema(key: KeyType) -> String {
    let key = match key {
        KeyType::String => "REQUIRED BYTE_ARRAY key (STRING);",
        KeyType::Binary => "REQUIRED BYTE_ARRAY key;",
    };
    format!(
        "message flowdb_records {{
           {key}
           REQUIRED INT64 ts (TIMESTAMP(MICROS,true));
           OPTIONAL INT64 expire_at (TIMESTAMP(MICROS,true));
           REQUIRED BYTE_ARRAY value;
         }}"
    )
}

/// Records gathered column by column, but their values.
#[derive(Default)]
pub(super) struct KeyBatch {
    /// Each run of equal consecutive keys once, with its row count (a scan gives
    /// each key's records together).
    keys: Packed,
    key_rows: Vec<u32>,
    ts: Vec<i64>,
    /// The `expire_at` of the records that expire, and a definition level per row
    /// (0: null, the record never expires).
    expire: Vec<i64>,
    defined: Vec<i16>,
}

/// Encodes `key`, `ts` and `expire_at` into a row group's chunks (`value` has a
/// [`BytesEncoder`] of its own: with `parallel`, each on a thread of its own).
pub(super) struct KeyEncoder {
    columns: [ColumnDescPtr; 3],
    props: WriterPropertiesPtr,
    group: Option<(Chunk<ByteArrayType>, Chunk<Int64Type>, Chunk<Int64Type>)>,
    arrays: Vec<ByteArray>,
}

impl Encode for KeyEncoder {
    type Batch = KeyBatch;

    fn encode(&mut self, b: &mut KeyBatch) -> Result<()> {
        let (c, props) = (&self.columns, &self.props);
        let (key, ts, expire) = self.group.get_or_insert_with(|| {
            (
                Chunk::new(&c[0], props),
                Chunk::new(&c[1], props),
                Chunk::new(&c[2], props),
            )
        });
        // Keys have statistics: each run's key is copied, not lent.
        b.keys
            .write_to(key.writer(), Some(&b.key_rows), false, &mut self.arrays)?;
        b.key_rows.clear();
        ts.writer().write_batch(&b.ts, None, None).map_err(pq)?;
        expire
            .writer()
            .write_batch(&b.expire, Some(&b.defined), None)
            .map_err(pq)?;
        b.ts.clear();
        b.expire.clear();
        b.defined.clear();
        Ok(())
    }

    fn close(&mut self) -> Result<Vec<Closed>> {
        let Some((key, ts, expire)) = self.group.take() else {
            return Ok(Vec::new());
        };
        Ok(vec![key.close()?, ts.close()?, expire.close()?])
    }
}

/// A streaming Parquet writer of engine records (the schema in the module docs):
/// [`write`](Self::write) each record, then [`finish`](Self::finish). Dropping it
/// unfinished leaves the output without a footer.
pub struct RecordWriter<W: Write + Send> {
    file: File<W>,
    key_type: KeyType,
    group: Group,
    /// The batch being gathered.
    batch: KeyBatch,
    values: Packed,
    keys: Pipeline<KeyEncoder>,
    value_column: Pipeline<BytesEncoder>,
}

impl<W: Write + Send> std::fmt::Debug for RecordWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter")
            .field("stats", &self.stats())
            .field("group_rows", &self.group.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> RecordWriter<W> {
    /// A writer into `out` (buffered inside: pass a `File` as it is). Declares no
    /// row order.
    pub fn new(out: W, opts: &ExportOptions) -> Result<Self> {
        Self::open(out, opts, None)
    }

    fn open(out: W, opts: &ExportOptions, order: Option<Order>) -> Result<Self> {
        let file = File::new(
            out,
            opts,
            Layout {
                schema: &schema(opts.key_type),
                dictionary: &["key"],
                no_statistics: &["value"],
                sorted: order.map(|o| (2, o)),
                metadata: vec![
                    ("flowdb.version", env!("CARGO_PKG_VERSION").to_string()),
                    ("flowdb.source", "engine".to_string()),
                ],
            },
        )?;
        let keys = KeyEncoder {
            columns: [0, 1, 2].map(|i| file.column(i)),
            props: file.props().clone(),
            group: None,
            arrays: Vec::new(),
        };
        Ok(RecordWriter {
            keys: Pipeline::new(keys, opts.parallel)?,
            value_column: Pipeline::new(BytesEncoder::new(&file, 3), opts.parallel)?,
            file,
            key_type: opts.key_type,
            group: Group::new(opts),
            batch: KeyBatch::default(),
            values: Packed::default(),
        })
    }

    /// Adds one record.
    pub fn write(&mut self, r: &Record) -> Result<()> {
        self.write_parts(&r.key, r.ts, r.expire_at, &r.value)
    }

    /// Adds one record given by its parts (`expire_at == NEVER_EXPIRES`: never).
    pub fn write_parts(&mut self, key: &[u8], ts: i64, expire_at: i64, value: &[u8]) -> Result<()> {
        let b = &mut self.batch;
        match b.key_rows.last_mut() {
            Some(n) if b.keys.last() == Some(key) => *n += 1,
            _ => {
                if self.key_type == KeyType::String && std::str::from_utf8(key).is_err() {
                    return Err(Error::Data(format!(
                        "key b\"{}\" (ts {ts}) is not UTF-8, so the Parquet STRING column \
                         `key` cannot hold it; export keys as binary (KeyType::Binary, \
                         `flowdb export --binary-keys`)",
                        key.escape_ascii()
                    )));
                }
                b.keys.push(key);
                b.key_rows.push(1);
            }
        }
        b.ts.push(ts);
        if expire_at == NEVER_EXPIRES {
            b.defined.push(0);
        } else {
            b.defined.push(1);
            b.expire.push(expire_at);
        }
        self.values.push(value);
        self.file.stats.rows += 1;
        let (rows, bytes) = (b.ts.len(), self.values.bytes.len());
        match self.group.add(key.len() + value.len() + 16, rows, bytes) {
            Next::EndGroup => self.end_group(),
            Next::Encode => self.encode_batch(),
            Next::Gather => Ok(()),
        }
    }

    /// What was written so far (rows added, row groups and bytes written out).
    pub fn stats(&self) -> ExportStats {
        self.file.stats
    }

    /// Hands the batch to the encoders: values first (on their thread, with
    /// `parallel`), then the other columns.
    fn encode_batch(&mut self) -> Result<()> {
        self.value_column.write(&mut self.values)?;
        self.keys.write(&mut self.batch)
    }

    /// Writes the row group out.
    fn end_group(&mut self) -> Result<()> {
        if self.group.is_empty() {
            return Ok(());
        }
        if !self.batch.ts.is_empty() {
            self.encode_batch()?;
        }
        let mut chunks = self.keys.close()?;
        chunks.extend(self.value_column.close()?);
        self.file.row_group(chunks)?;
        self.group.clear();
        Ok(())
    }

    /// Writes what is buffered and the file's footer; returns what was written.
    pub fn finish(mut self) -> Result<ExportStats> {
        self.end_group()?;
        self.file.finish()
    }
}

/// Writes the records of `range` in `engine` to `out` as Parquet (schema in the
/// module docs): a lazy scan of one snapshot, in the range's order (declared in the
/// file as its sort order), blocks read without filling the block cache.
pub fn export_engine<W: Write + Send>(
    engine: &Engine,
    range: ScanRange,
    out: W,
    opts: &ExportOptions,
) -> Result<ExportStats> {
    export_engine_with(engine, range, out, opts, |_| {})
}

/// [`export_engine`], calling `progress` every 65,536 rows and at the end.
pub fn export_engine_with<W: Write + Send>(
    engine: &Engine,
    range: ScanRange,
    out: W,
    opts: &ExportOptions,
    mut progress: impl FnMut(&ExportStats),
) -> Result<ExportStats> {
    let order = if range.is_reverse() {
        Order::Descending
    } else {
        Order::Ascending
    };
    let read = ReadOptions {
        fill_cache: false,
        ..ReadOptions::default()
    };
    let mut w = RecordWriter::open(out, opts, Some(order))?;
    for r in engine.scan_opt(range, &read)? {
        w.write(&r?)?;
        let s = w.stats();
        if s.rows % PROGRESS_EVERY == 0 {
            progress(&s);
        }
    }
    let stats = w.finish()?;
    progress(&stats);
    Ok(stats)
}

/// Writes `records` (any source: a scan, a query's result) to `out` as Parquet; no
/// row order is declared.
pub fn export_records<W: Write + Send>(
    records: impl IntoIterator<Item = Result<Record>>,
    out: W,
    opts: &ExportOptions,
) -> Result<ExportStats> {
    let mut w = RecordWriter::new(out, opts)?;
    for r in records {
        w.write(&r?)?;
    }
    w.finish()
}
