//! The machinery under the writers: column chunks encoded into memory (so every
//! column of a row group is encoded at once, on the writer's threads), batches of
//! byte strings handed to the column writers without copying, the threads, and the
//! file the chunks are spliced into a row group at a time.
//!
//! Memory: a row group's column chunks are held encoded and compressed until the
//! group is complete; rows in between are held only a batch at a time.

use std::io::Write;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use ::parquet::column::page::{CompressedPage, PageWriteSpec, PageWriter};
use ::parquet::column::writer::{
    get_column_writer, get_typed_column_writer, ColumnCloseResult, ColumnWriterImpl,
};
use ::parquet::data_type::{ByteArray, ByteArrayType, DataType};
use ::parquet::errors::ParquetError;
use ::parquet::file::metadata::{KeyValue, SortingColumn};
use ::parquet::file::properties::{
    EnabledStatistics, WriterProperties, WriterPropertiesPtr, WriterVersion,
};
use ::parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use ::parquet::schema::parser::parse_message_type;
use ::parquet::schema::types::{ColumnDescPtr, ColumnPath};
use bytes::Bytes;
use parking_lot::Mutex;

use super::{codec, pq, ExportOptions, ExportStats};
use crate::error::{Error, Result};

/// Values handed to a column writer per `write_batch` call.
const ARRAYS: usize = 4096;

/// Uncompressed bytes of a data page, about (the parquet crate's default is 1 MiB).
/// The column writer allocates a few buffers of a page's size for every page it
/// writes; at 1 MiB glibc serves them with fresh mappings, and their page faults
/// took a third of an export's time (bench/export.sh, perf). 64 KiB pages stay
/// under the allocator's mmap threshold, and files come out no larger.
const DATA_PAGE_BYTES: usize = 64 << 10;

/// Where a column writer's pages go: a buffer shared with its [`Chunk`], which takes
/// it back when the column is closed.
struct MemoryPages(Arc<Mutex<TrackedWrite<Vec<u8>>>>);

impl PageWriter for MemoryPages {
    fn write_page(&mut self, page: CompressedPage) -> ::parquet::errors::Result<PageWriteSpec> {
        SerializedPageWriter::new(&mut self.0.lock()).write_page(page)
    }

    fn close(&mut self) -> ::parquet::errors::Result<()> {
        self.0.lock().flush().map_err(ParquetError::from)
    }
}

/// One column chunk of a row group, encoded into memory as it would lie in the
/// file (pages with their headers).
pub(super) struct Chunk<T: DataType> {
    writer: ColumnWriterImpl<'static, T>,
    pages: Arc<Mutex<TrackedWrite<Vec<u8>>>>,
}

impl<T: DataType> Chunk<T> {
    pub(super) fn new(descr: &ColumnDescPtr, props: &WriterPropertiesPtr) -> Self {
        let pages = Arc::new(Mutex::new(TrackedWrite::new(Vec::new())));
        let writer = get_column_writer(
            descr.clone(),
            props.clone(),
            Box::new(MemoryPages(pages.clone())),
        );
        Chunk {
            writer: get_typed_column_writer::<T>(writer),
            pages,
        }
    }

    pub(super) fn writer(&mut self) -> &mut ColumnWriterImpl<'static, T> {
        &mut self.writer
    }

    /// The finished chunk: its bytes and what the row group needs to know of it.
    pub(super) fn close(self) -> Result<Closed> {
        let result = self.writer.close().map_err(pq)?;
        let pages = Arc::try_unwrap(self.pages)
            .map_err(|_| Error::Internal("a closed Parquet column still has a page writer".into()))?
            .into_inner()
            .into_inner()
            .map_err(pq)?;
        Ok(Closed {
            bytes: Bytes::from(pages),
            result,
        })
    }
}

/// A closed column chunk, ready to be spliced into its row group.
pub(super) struct Closed {
    bytes: Bytes,
    result: ColumnCloseResult,
}

/// Owner of a buffer lent to `ByteArray`s (`Bytes::from_owner`): once they are all
/// dropped the buffer can be taken back and reused.
struct Lent(Arc<Vec<u8>>);

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Byte strings packed end to end, with the end offset of each.
#[derive(Debug, Default)]
pub(super) struct Packed {
    pub(super) bytes: Vec<u8>,
    pub(super) ends: Vec<usize>,
}

impl Packed {
    pub(super) fn push(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
        self.ends.push(self.bytes.len());
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The last string pushed.
    pub(super) fn last(&self) -> Option<&[u8]> {
        let n = self.ends.len();
        let start = match n {
            0 => return None,
            1 => 0,
            _ => self.ends[n - 2],
        };
        Some(&self.bytes[start..])
    }

    /// Writes the strings to `w`, each `repeats[i]` times when given; leaves `self`
    /// empty, its buffers kept for the next batch.
    ///
    /// With `lend` the `ByteArray`s share this buffer rather than copy it, and the
    /// buffer is taken back once the column writer has dropped them: for columns
    /// without statistics (values, documents). A column with statistics keeps its
    /// least and greatest value of every chunk until the file is finished, which
    /// would keep whole batches alive: its strings (keys, once per run) are copied
    /// into buffers of their own.
    pub(super) fn write_to(
        &mut self,
        w: &mut ColumnWriterImpl<'static, ByteArrayType>,
        repeats: Option<&[u32]>,
        lend: bool,
        arrays: &mut Vec<ByteArray>,
    ) -> Result<()> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let lent = lend.then(|| Arc::new(std::mem::take(&mut self.bytes)));
        let all = lent
            .as_ref()
            .map(|l| ByteArray::from(Bytes::from_owner(Lent(l.clone()))));
        let written = (|| {
            let mut start = 0;
            arrays.clear();
            for (i, &end) in self.ends.iter().enumerate() {
                let one = match &all {
                    Some(all) => all.slice(start, end - start),
                    None => ByteArray::from(self.bytes[start..end].to_vec()),
                };
                start = end;
                for _ in 1..repeats.map_or(1, |r| r[i]) {
                    arrays.push(one.clone());
                    if arrays.len() == ARRAYS {
                        w.write_batch(arrays, None, None)?;
                        arrays.clear();
                    }
                }
                arrays.push(one);
                if arrays.len() == ARRAYS {
                    w.write_batch(arrays, None, None)?;
                    arrays.clear();
                }
            }
            if !arrays.is_empty() {
                w.write_batch(arrays, None, None)?;
            }
            Ok(())
        })()
        .map_err(pq);
        arrays.clear();
        drop(all);
        self.ends.clear();
        match lent.map(Arc::try_unwrap) {
            None => self.bytes.clear(),
            Some(Ok(mut v)) => {
                v.clear();
                self.bytes = v;
            }
            Some(Err(shared)) => self.bytes = Vec::with_capacity(shared.len()),
        }
        written
    }
}

/// The encoding of a writer's batches into the chunks of the row group being
/// written: the part of a writer that can run on a thread of its own.
pub(super) trait Encode: Send + 'static {
    /// Rows gathered column by column.
    type Batch: Default + Send + 'static;
    /// Encodes `batch` into the row group's chunks (started when there are none),
    /// leaving it empty with its buffers.
    fn encode(&mut self, batch: &mut Self::Batch) -> Result<()>;
    /// Ends the row group's chunks, in schema order.
    fn close(&mut self) -> Result<Vec<Closed>>;
}

/// Encodes batches of byte strings into one `BYTE_ARRAY` column (values,
/// documents, document keys).
pub(super) struct BytesEncoder {
    column: ColumnDescPtr,
    props: WriterPropertiesPtr,
    /// The column keeps no statistics: its batches' buffers can be lent.
    lend: bool,
    chunk: Option<Chunk<ByteArrayType>>,
    arrays: Vec<ByteArray>,
}

impl BytesEncoder {
    /// For column `index` of `file`.
    pub(super) fn new<W: Write + Send>(file: &File<W>, index: usize) -> Self {
        let column = file.column(index);
        let lend = file.props().statistics_enabled(column.path()) == EnabledStatistics::None;
        BytesEncoder {
            column,
            props: file.props().clone(),
            lend,
            chunk: None,
            arrays: Vec::new(),
        }
    }
}

impl Encode for BytesEncoder {
    type Batch = Packed;

    fn encode(&mut self, batch: &mut Packed) -> Result<()> {
        let (column, props) = (&self.column, &self.props);
        let chunk = self.chunk.get_or_insert_with(|| Chunk::new(column, props));
        batch.write_to(chunk.writer(), None, self.lend, &mut self.arrays)
    }

    fn close(&mut self) -> Result<Vec<Closed>> {
        Ok(match self.chunk.take() {
            Some(c) => vec![c.close()?],
            None => Vec::new(),
        })
    }
}

/// What the encoding thread is told.
enum Job<B> {
    Batch(B),
    Close,
}

/// What it answers.
enum Done<B> {
    /// A batch encoded: its buffers, emptied, for another one.
    Spare(B),
    Closed(Result<Vec<Closed>>),
    Failed(Error),
}

/// An [`Encode`] run on the caller's thread, or on a thread of its own that the
/// caller feeds batches while it gathers the next ones.
pub(super) enum Pipeline<E: Encode> {
    Here(E),
    Thread(Worker<E::Batch>),
}

/// The encoding thread, and the batches it gave back.
pub(super) struct Worker<B> {
    jobs: Option<SyncSender<Job<B>>>,
    done: Receiver<Done<B>>,
    thread: Option<JoinHandle<()>>,
    spare: Vec<B>,
}

impl<E: Encode> Pipeline<E> {
    /// `encoder` here, or with `parallel` on a thread of its own.
    pub(super) fn new(mut encoder: E, parallel: bool) -> Result<Self> {
        if !parallel {
            return Ok(Pipeline::Here(encoder));
        }
        // Two batches queued at most: memory stays a few batches.
        let (jobs, inbox) = mpsc::sync_channel::<Job<E::Batch>>(2);
        let (outbox, done) = mpsc::channel::<Done<E::Batch>>();
        let thread = std::thread::Builder::new()
            .name("flowdb-parquet".into())
            .spawn(move || {
                for job in inbox {
                    let reply = match job {
                        Job::Batch(mut b) => match encoder.encode(&mut b) {
                            Ok(()) => Done::Spare(b),
                            Err(e) => Done::Failed(e),
                        },
                        Job::Close => Done::Closed(encoder.close()),
                    };
                    let failed = matches!(reply, Done::Failed(_) | Done::Closed(Err(_)));
                    if outbox.send(reply).is_err() || failed {
                        return;
                    }
                }
            })
            .map_err(|e| Error::Io {
                context: "starting the Parquet encoding thread".into(),
                source: e,
            })?;
        Ok(Pipeline::Thread(Worker {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
            spare: Vec::new(),
        }))
    }

    /// Encodes `batch`, leaving an empty batch (with reusable buffers) in its place.
    pub(super) fn write(&mut self, batch: &mut E::Batch) -> Result<()> {
        match self {
            Pipeline::Here(e) => e.encode(batch),
            Pipeline::Thread(w) => {
                w.collect()?;
                let next = w.spare.pop().unwrap_or_default();
                let full = std::mem::replace(batch, next);
                w.send(Job::Batch(full))
            }
        }
    }

    /// Ends the chunks of the row group.
    pub(super) fn close(&mut self) -> Result<Vec<Closed>> {
        match self {
            Pipeline::Here(e) => e.close(),
            Pipeline::Thread(w) => {
                w.send(Job::Close)?;
                loop {
                    match w.done.recv() {
                        Ok(Done::Spare(b)) => w.spare.push(b),
                        Ok(Done::Closed(c)) => return c,
                        Ok(Done::Failed(e)) => return Err(e),
                        Err(_) => return Err(w.died()),
                    }
                }
            }
        }
    }
}

impl<B> Worker<B> {
    /// Takes the batches given back so far; an error the thread met is returned
    /// here.
    fn collect(&mut self) -> Result<()> {
        loop {
            match self.done.try_recv() {
                Ok(Done::Spare(b)) => self.spare.push(b),
                Ok(Done::Failed(e)) => return Err(e),
                Ok(Done::Closed(_)) => {
                    return Err(Error::Internal("unexpected Parquet column chunks".into()))
                }
                Err(mpsc::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::TryRecvError::Disconnected) => return Err(self.died()),
            }
        }
    }

    fn send(&mut self, job: Job<B>) -> Result<()> {
        let sent = self.jobs.as_ref().map(|j| j.send(job));
        if let Some(Ok(())) = sent {
            return Ok(());
        }
        // The thread stopped: its last answer says why (or it panicked).
        loop {
            match self.done.recv() {
                Ok(Done::Failed(e)) | Ok(Done::Closed(Err(e))) => return Err(e),
                Ok(_) => {}
                Err(_) => return Err(self.died()),
            }
        }
    }

    fn died(&mut self) -> Error {
        self.jobs = None;
        let panicked = self.thread.take().map(|t| t.join().is_err());
        Error::Internal(format!(
            "the Parquet encoding thread stopped{}",
            if panicked == Some(true) {
                " (it panicked)"
            } else {
                ""
            }
        ))
    }
}

impl<B> Drop for Worker<B> {
    fn drop(&mut self) {
        self.jobs = None; // ends the thread's loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Row order a writer declares in the file's metadata (`sorting_columns`).
#[derive(Clone, Copy, Debug)]
pub(super) enum Order {
    Ascending,
    Descending,
}

/// How a file is laid out: its schema (Parquet's message syntax), the columns
/// dictionary-encoded, the columns without statistics, the leading columns the
/// rows are sorted by, and key-value metadata.
pub(super) struct Layout<'a> {
    pub(super) schema: &'a str,
    pub(super) dictionary: &'a [&'a str],
    pub(super) no_statistics: &'a [&'a str],
    pub(super) sorted: Option<(usize, Order)>,
    pub(super) metadata: Vec<(&'a str, String)>,
}

/// The Parquet file under construction, and what was written.
pub(super) struct File<W: Write + Send> {
    pub(super) writer: SerializedFileWriter<W>,
    pub(super) stats: ExportStats,
}

impl<W: Write + Send> File<W> {
    pub(super) fn new(out: W, opts: &ExportOptions, layout: Layout<'_>) -> Result<Self> {
        opts.validate()?;
        let schema = parse_message_type(layout.schema).map_err(pq)?;
        let mut props = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(codec(opts.compression)?)
            .set_dictionary_enabled(false)
            .set_data_page_size_limit(DATA_PAGE_BYTES)
            .set_key_value_metadata(Some(
                layout
                    .metadata
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k.to_string(), v))
                    .collect(),
            ));
        for c in layout.dictionary {
            props = props.set_column_dictionary_enabled(ColumnPath::from(*c), true);
        }
        for c in layout.no_statistics {
            props =
                props.set_column_statistics_enabled(ColumnPath::from(*c), EnabledStatistics::None);
        }
        if let Some((n, order)) = layout.sorted {
            let descending = matches!(order, Order::Descending);
            props = props.set_sorting_columns(Some(
                (0..n)
                    .map(|i| SortingColumn {
                        column_idx: i as i32,
                        descending,
                        nulls_first: false,
                    })
                    .collect(),
            ));
        }
        let writer = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(props.build()))
            .map_err(pq)?;
        Ok(File {
            writer,
            stats: ExportStats::default(),
        })
    }

    pub(super) fn column(&self, index: usize) -> ColumnDescPtr {
        self.writer.schema_descr().column(index)
    }

    pub(super) fn props(&self) -> &WriterPropertiesPtr {
        self.writer.properties()
    }

    /// Writes a row group of the closed `chunks`, one per column in schema order.
    pub(super) fn row_group(&mut self, chunks: Vec<Closed>) -> Result<()> {
        let mut rg = self.writer.next_row_group().map_err(pq)?;
        for c in chunks {
            rg.append_column(&c.bytes, c.result).map_err(pq)?;
        }
        rg.close().map_err(pq)?;
        self.stats.row_groups += 1;
        self.stats.bytes = self.writer.bytes_written() as u64;
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<ExportStats> {
        self.writer.finish().map_err(pq)?;
        self.stats.bytes = self.writer.bytes_written() as u64;
        Ok(self.stats)
    }
}
