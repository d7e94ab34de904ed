//! The requests over key ranges and the writes beyond `put` and `delete` (Rust's
//! jsondb `getall.rs` and `writes.rs`: `add`, `put_with_key`, `add_with_key`,
//! `delete_range`, `clear`, `get_all*`, `get_key*`, `count_range`), shared by
//! `flowdb_jsondb_t` (jsondb_reads.rs) and
//! `flowdb_txn_t` (txn_reads.rs) through doc_requests.rs's `Docs`: the argument
//! checks, the request and the result written out, once for both handle families.
//!
//! Results are JSON text, as everywhere in the document API: documents as stored, keys
//! as JSON, lists as one JSON array. A `count` of 0 means "all", as IndexedDB's.

use std::ffi::c_char;

use serde_json::Value;

use super::doc_requests::{docs_out, put_text, to_json, write_doc, Docs};
use super::error::{cstr, json, null, put, put_string};
use super::key_range::{direction_of, flowdb_key_range_t, key_range};
use flowdb::error::Result;
use flowdb::jsondb::{Direction, DocRecord, KeyRange, KeyRef, RawDoc, Transaction};

/// A request's source and range: the store, its index when the request has one (a
/// NULL `index` there is `FLOWDB_INVALID_ARGUMENT`), and the key range.
pub(crate) struct Source<'a> {
    store: &'a str,
    index: Option<&'a str>,
    range: &'a KeyRange,
}

impl<'a> Source<'a> {
    /// `index`: `None` for a request on the store itself.
    pub(crate) unsafe fn new(
        store: *const c_char,
        index: Option<*const c_char>,
        range: *const flowdb_key_range_t,
    ) -> Result<Self> {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        unsafe {
            Ok(Source {
                store: cstr(store, "store")?,
                index: index.map(|i| cstr(i, "index")).transpose()?,
                range: key_range(range)?,
            })
        }
    }

    /// Reads the source: `on_store(tx, store, range)`, or for an index
    /// `on_index(tx, store, index, range)`; then hands the result to `write`, which
    /// writes it through `out` (checked for NULL before the read).
    unsafe fn read<T, O>(
        &self,
        d: &mut impl Docs,
        out: *mut O,
        on_store: impl FnOnce(&Transaction<'_>, &str, &KeyRange) -> Result<T>,
        on_index: impl FnOnce(&Transaction<'_>, &str, &str, &KeyRange) -> Result<T>,
        write: impl FnOnce(*mut O, T) -> Result<()>,
    ) -> Result<()> {
        if out.is_null() {
            return Err(null("out"));
        }
        let (s, r) = (self.store, self.range);
        let got = d.reading(s, |tx| match self.index {
            None => on_store(tx, s, r),
            Some(i) => on_index(tx, s, i, r),
        })?;
        write(out, got)
    }

    /// The primary keys of the source (a store's, or its index's entries'), at most
    /// `count` (0: all), handed to `each` where they lie until it returns false;
    /// returns how many it was handed.
    pub(crate) fn keys_each(
        &self,
        d: &mut impl Docs,
        count: usize,
        each: impl FnMut(KeyRef<'_>) -> bool,
    ) -> Result<usize> {
        let (s, r, count) = (self.store, self.range, Some(count));
        d.reading(s, |tx| match self.index {
            None => tx.get_all_keys_each(s, r, count, each),
            Some(i) => tx.get_all_keys_by_index_each(s, i, r, count, each),
        })
    }
}

/// A JSON key, or NULL for none, as a C string in `*out`.
pub(crate) unsafe fn json_or_null(out: *mut *mut c_char, v: Option<&Value>) -> Result<()> {
    match v {
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        Some(v) => unsafe { put_string(out, to_json(v)?, "out") },
        // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
        None => unsafe { put(out, std::ptr::null_mut(), "out") },
    }
}

/// Records as one JSON array, `[{"key":…,"primary_key":…,"value":…},…]`, the
/// documents copied as stored.
fn records_text(records: &[DocRecord<RawDoc>]) -> Result<Vec<u8>> {
    let mut text = b"[".to_vec();
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            text.push(b',');
        }
        text.extend_from_slice(b"{\"key\":");
        text.extend_from_slice(to_json(&r.key)?.as_bytes());
        text.extend_from_slice(b",\"primary_key\":");
        text.extend_from_slice(to_json(&r.primary_key)?.as_bytes());
        text.extend_from_slice(b",\"value\":");
        text.extend_from_slice(r.value.as_bytes());
        text.push(b'}');
    }
    text.push(b']');
    Ok(text)
}

pub(crate) unsafe fn add(
    d: &mut impl Docs,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key_out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe { write_doc(store, doc, len, key_out, |s, v| d.add(s, v)) }
}

/// `put_with_key` (`add`: `add_with_key`): `doc` stored under `key` (both JSON).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn put_with_key(
    d: &mut impl Docs,
    add: bool,
    store: *const c_char,
    doc: *const c_char,
    len: usize,
    key: *const c_char,
    key_len: usize,
    key_out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        write_doc(store, doc, len, key_out, |s, v| {
            d.put_with_key(s, v, &json(key, key_len, "key")?, add)
        })
    }
}

pub(crate) unsafe fn delete_range(
    d: &mut impl Docs,
    store: *const c_char,
    range: *const flowdb_key_range_t,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    let src = unsafe { Source::new(store, None, range)? };
    d.delete_range(src.store, src.range)
}

pub(crate) unsafe fn clear(d: &mut impl Docs, store: *const c_char) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    d.clear(unsafe { cstr(store, "store")? })
}

/// The records of `src` (documents as stored), at most `count` (0: all), in `dir`
/// order, handed to `write`.
unsafe fn records(
    d: &mut impl Docs,
    src: &Source<'_>,
    count: usize,
    dir: Direction,
    out: *mut *mut c_char,
    write: impl FnOnce(*mut *mut c_char, Vec<DocRecord<RawDoc>>) -> Result<()>,
) -> Result<()> {
    let count = Some(count);
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        src.read(
            d,
            out,
            |tx, s, r| tx.get_all_records::<RawDoc>(s, r, count, dir),
            |tx, s, i, r| tx.get_all_records_by_index::<RawDoc>(s, i, r, count, dir),
            write,
        )
    }
}

/// `get_all` and `get_all_by_index`: the documents as one JSON array. They are read
/// as `get_all_records` reads them (in `FLOWDB_NEXT` order), which is what `get_all`
/// is, keeping their stored text.
pub(crate) unsafe fn get_all(
    d: &mut impl Docs,
    src: Source<'_>,
    count: usize,
    out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        records(d, &src, count, Direction::Next, out, |o, recs| {
            docs_out(o, recs.into_iter().map(|r| r.value).collect())
        })
    }
}

/// `get_all_records` and `get_all_records_by_index`.
pub(crate) unsafe fn get_all_records(
    d: &mut impl Docs,
    src: Source<'_>,
    count: usize,
    direction: i32,
    out: *mut *mut c_char,
) -> Result<()> {
    let dir = direction_of(direction)?;
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        records(d, &src, count, dir, out, |o, recs| {
            put_text(o, records_text(&recs)?)
        })
    }
}

/// `get_all_keys` and `get_all_keys_by_index`: primary keys, as one JSON array.
pub(crate) unsafe fn get_all_keys(
    d: &mut impl Docs,
    src: Source<'_>,
    count: usize,
    out: *mut *mut c_char,
) -> Result<()> {
    let count = Some(count);
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        src.read(
            d,
            out,
            |tx, s, r| tx.get_all_keys_json(s, r, count),
            |tx, s, i, r| tx.get_all_keys_by_index_json(s, i, r, count),
            |o, keys| put_string(o, keys, "out"),
        )
    }
}

/// `get_key` and `get_key_by_index`: the first primary key, or NULL.
pub(crate) unsafe fn get_key(
    d: &mut impl Docs,
    src: Source<'_>,
    out: *mut *mut c_char,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        src.read(
            d,
            out,
            |tx, s, r| tx.get_key(s, r),
            |tx, s, i, r| tx.get_key_by_index(s, i, r),
            |o, key| json_or_null(o, key.as_ref()),
        )
    }
}

/// `count_range` (a store's only: an index's count is `flowdb_*_count_by_index`).
pub(crate) unsafe fn count_range(
    d: &mut impl Docs,
    src: Source<'_>,
    out: *mut usize,
) -> Result<()> {
    // SAFETY: the C ABI contract (lib.rs, "Safety"): pointers NULL or valid, NULL checked.
    unsafe {
        src.read(
            d,
            out,
            |tx, s, r| tx.count_range(s, r),
            |tx, s, i, r| tx.count_by_index(s, i, r),
            |o, n| put(o, n, "out"),
        )
    }
}
