//! JsonDB stores as Parquet: one row per document, `key` (the primary key as JSON
//! text, `STRING`) and `doc` (the document as stored, `JSON`).
//!
//! The documents come from `JsonDB::visit_store`: one snapshot, streamed in
//! primary-key order, each with its primary key and stored JSON text, so a store of
//! any size is exported in about one row group of memory.

use std::io::Write;

use super::chunk::{BytesEncoder, File, Layout, Packed, Pipeline};
use super::{ExportOptions, ExportStats, Group, Next, PROGRESS_EVERY};
use crate::error::{Error, Result};
use crate::jsondb::JsonDB;

const SCHEMA: &str = "message flowdb_documents {
    REQUIRED BYTE_ARRAY key (STRING);
    REQUIRED BYTE_ARRAY doc (JSON);
}";

/// A streaming Parquet writer of documents: [`write`](Self::write) each `(primary
/// key as JSON text, document as JSON text)`, then [`finish`](Self::finish).
pub struct DocWriter<W: Write + Send> {
    file: File<W>,
    group: Group,
    keys: Packed,
    docs: Packed,
    key_column: Pipeline<BytesEncoder>,
    doc_column: Pipeline<BytesEncoder>,
}

impl<W: Write + Send> std::fmt::Debug for DocWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocWriter")
            .field("stats", &self.stats())
            .field("group_rows", &self.group.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> DocWriter<W> {
    /// A writer into `out`; `store` is recorded in the file's metadata
    /// (`flowdb.store`). It declares no row order: the rows of a store come in
    /// IndexedDB key order (numbers by value, then strings, ...), which is not the
    /// byte order Parquet compares the `key` column's JSON text in (`10` < `9`).
    pub fn new(out: W, store: &str, opts: &ExportOptions) -> Result<Self> {
        let file = File::new(
            out,
            opts,
            Layout {
                schema: SCHEMA,
                dictionary: &[],
                no_statistics: &["doc"],
                sorted: None,
                metadata: vec![
                    ("flowdb.version", env!("CARGO_PKG_VERSION").to_string()),
                    ("flowdb.source", "jsondb".to_string()),
                    ("flowdb.store", store.to_string()),
                ],
            },
        )?;
        Ok(DocWriter {
            key_column: Pipeline::new(BytesEncoder::new(&file, 0), opts.parallel)?,
            doc_column: Pipeline::new(BytesEncoder::new(&file, 1), opts.parallel)?,
            file,
            group: Group::new(opts),
            keys: Packed::default(),
            docs: Packed::default(),
        })
    }

    /// Adds one document: its primary key and itself, each as JSON text.
    pub fn write(&mut self, key_json: &str, doc_json: &str) -> Result<()> {
        self.keys.push(key_json.as_bytes());
        self.docs.push(doc_json.as_bytes());
        self.file.stats.rows += 1;
        let (rows, bytes) = (self.docs.len(), self.docs.bytes.len());
        match self.group.add(key_json.len() + doc_json.len(), rows, bytes) {
            Next::EndGroup => self.end_group(),
            Next::Encode => self.encode_batch(),
            Next::Gather => Ok(()),
        }
    }

    /// What was written so far.
    pub fn stats(&self) -> ExportStats {
        self.file.stats
    }

    fn encode_batch(&mut self) -> Result<()> {
        self.doc_column.write(&mut self.docs)?;
        self.key_column.write(&mut self.keys)
    }

    fn end_group(&mut self) -> Result<()> {
        if self.group.is_empty() {
            return Ok(());
        }
        if self.docs.len() > 0 {
            self.encode_batch()?;
        }
        let mut chunks = self.key_column.close()?;
        chunks.extend(self.doc_column.close()?);
        self.file.row_group(chunks)?;
        self.group.clear();
        Ok(())
    }

    /// Writes what is buffered and the footer; returns what was written.
    pub fn finish(mut self) -> Result<ExportStats> {
        self.end_group()?;
        self.file.finish()
    }
}

/// Writes every document of `store` in `db` to `out` as Parquet: one row per
/// document in primary-key order (not declared as a sort order: see
/// [`DocWriter::new`]), `key` the
/// primary key as JSON text, `doc` the document as stored. One engine snapshot:
/// the store as of one moment, committed transactions only. Streams (memory about
/// one row group). `NotFound` when there is no such store.
pub fn export_store<W: Write + Send>(
    db: &JsonDB,
    store: &str,
    out: W,
    opts: &ExportOptions,
) -> Result<ExportStats> {
    export_store_with(db, store, out, opts, |_| {})
}

/// [`export_store`], calling `progress` every 65,536 rows and at the end.
pub fn export_store_with<W: Write + Send>(
    db: &JsonDB,
    store: &str,
    out: W,
    opts: &ExportOptions,
    mut progress: impl FnMut(&ExportStats),
) -> Result<ExportStats> {
    db.get_store(store)
        .ok_or_else(|| Error::NotFound(format!("object store {store:?}")))?;
    let mut w = DocWriter::new(out, store, opts)?;
    db.visit_store(store, |key, doc| {
        let text = std::str::from_utf8(doc).map_err(|e| {
            Error::Internal(format!(
                "store {store:?}: the document with key {key} is not UTF-8: {e}"
            ))
        })?;
        w.write(&key.to_string(), text)?;
        let s = w.stats();
        if s.rows % PROGRESS_EVERY == 0 {
            progress(&s);
        }
        Ok(true)
    })?;
    let stats = w.finish()?;
    progress(&stats);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use ::parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::json;

    use super::*;
    use crate::jsondb::StoreSchema;
    use crate::Config;

    /// Keys 9 and 10 come in that order, but their JSON text sorts `"10"` first:
    /// a declared ascending `key` would mislead readers that trust it (DataFusion
    /// skips sorts by it). No order is declared.
    #[test]
    fn a_store_export_declares_no_row_order() {
        let t = tempfile::tempdir().unwrap();
        let db = JsonDB::open(Config::new(t.path().join("docs"))).unwrap();
        db.create_store(&StoreSchema::new("s", "id")).unwrap();
        for id in [9, 10] {
            db.put("s", json!({ "id": id })).unwrap();
        }
        let mut out = Vec::new();
        export_store(&db, "s", &mut out, &ExportOptions::default()).unwrap();
        let file = SerializedFileReader::new(bytes::Bytes::from(out)).unwrap();
        let groups = file.metadata().row_groups();
        assert!(!groups.is_empty());
        for g in groups {
            assert_eq!(g.sorting_columns(), None);
        }
    }
}
