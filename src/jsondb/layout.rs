//! Where JsonDB keeps things in the engine. Every record has `ts = 0`.
//!
//! ## Format (engine keys)
//! `0x00 "catalog"`: the catalog as JSON. `0x00 "gen" store_id`: the store's key
//! generator, a u64 BE. `0x00 "feed"`: the newest commit's change-log sequence
//! number, a u64 BE (permanent, so a gap is still found once its records expired). `0x01 store_id key`: a document (JSON bytes), `key` being the
//! encoded primary key. `0x02 store_id index_id ikey key`: an entry of a non-unique
//! index (empty value); `0x02 store_id index_id ikey`: an entry of a unique index,
//! whose value is the encoded primary key (one entry per index key, so the uniqueness
//! check and unique lookups are point reads). `0x03 seq`: the change-log record of
//! the commit numbered `seq` (u64 BE; JSON `{prev, changes, store_ids}`, the ids
//! written since 2026-12-02; expiring after the change retention: feed.rs). Ids are
//! u32 big-endian, so a store's
//! documents, and an index's entries in (index key, primary key) order, are each one
//! contiguous byte range.

pub(crate) const TS: i64 = 0;

pub(crate) fn catalog_key() -> Vec<u8> {
    b"\x00catalog".to_vec()
}

pub(crate) fn generator_key(store: u32) -> Vec<u8> {
    let mut k = b"\x00gen".to_vec();
    k.extend_from_slice(&store.to_be_bytes());
    k
}

/// The newest commit's sequence number, kept permanently (the log records expire).
pub(crate) fn feed_head_key() -> Vec<u8> {
    b"\x00feed".to_vec()
}

pub(crate) fn doc_prefix(store: u32) -> Vec<u8> {
    doc_key(store, &[])
}

pub(crate) fn doc_key(store: u32, pk: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(5 + pk.len());
    doc_key_into(store, pk, &mut k);
    k
}

/// `doc_key` into `out` (replacing what it held): a reader of many documents reuses
/// one buffer.
pub(crate) fn doc_key_into(store: u32, pk: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.push(0x01);
    out.extend_from_slice(&store.to_be_bytes());
    out.extend_from_slice(pk);
}

pub(crate) fn index_prefix(store: u32, index: u32) -> Vec<u8> {
    // Room for an index key and a primary key after it (see `index_entry`).
    let mut k = Vec::with_capacity(40);
    k.push(0x02);
    k.extend_from_slice(&store.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// An index entry as `(engine key, value)`: a unique index keeps the primary key in
/// the value, other indexes append it to the key.
pub(crate) fn index_entry(
    store: u32,
    index: u32,
    unique: bool,
    ikey: &[u8],
    pk: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let mut k = index_prefix(store, index);
    k.extend_from_slice(ikey);
    if unique {
        (k, pk.to_vec())
    } else {
        k.extend_from_slice(pk);
        (k, Vec::new())
    }
}

/// `(index key, primary key)` of an entry, given its engine key past the index prefix
/// and its value.
#[inline]
pub(crate) fn split_entry<'a>(
    unique: bool,
    rest: &'a [u8],
    value: &'a [u8],
) -> crate::error::Result<(&'a [u8], &'a [u8])> {
    let malformed = || crate::error::Error::Internal("malformed index entry".into());
    if unique {
        return if rest.is_empty() {
            Err(malformed())
        } else {
            Ok((rest, value))
        };
    }
    let n = super::key::skip(rest).ok_or_else(malformed)?;
    Ok((&rest[..n], &rest[n..]))
}

/// Every index entry of a store (for deleting the store).
pub(crate) fn store_index_range(store: u32) -> (Vec<u8>, Vec<u8>) {
    let mut start = vec![0x02];
    start.extend_from_slice(&store.to_be_bytes());
    let mut end = vec![0x02];
    end.extend_from_slice(&(store as u64 + 1).to_be_bytes()[4..]);
    if store == u32::MAX {
        end = vec![0x03];
    }
    (start, end)
}
