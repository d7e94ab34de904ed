//! Where JsonDB keeps things in the engine. Every record has `ts = 0`.
//!
//! ## Format (engine keys)
//! `0x00 "catalog"`: the catalog as JSON. `0x00 "gen" store_id`: the store's key
//! generator, a u64 BE. `0x01 store_id key`: a document (JSON bytes), `key` being the
//! encoded primary key. `0x02 store_id index_id ikey key`: an index entry (empty
//! value). Ids are u32 big-endian, so a store's documents, and an index's entries in
//! (index key, primary key) order, are each one contiguous byte range.

pub(crate) const TS: i64 = 0;

pub(crate) fn catalog_key() -> Vec<u8> {
    b"\x00catalog".to_vec()
}

pub(crate) fn generator_key(store: u32) -> Vec<u8> {
    let mut k = b"\x00gen".to_vec();
    k.extend_from_slice(&store.to_be_bytes());
    k
}

pub(crate) fn doc_prefix(store: u32) -> Vec<u8> {
    let mut k = vec![0x01];
    k.extend_from_slice(&store.to_be_bytes());
    k
}

pub(crate) fn doc_key(store: u32, pk: &[u8]) -> Vec<u8> {
    let mut k = doc_prefix(store);
    k.extend_from_slice(pk);
    k
}

pub(crate) fn index_prefix(store: u32, index: u32) -> Vec<u8> {
    let mut k = vec![0x02];
    k.extend_from_slice(&store.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k
}

pub(crate) fn index_entry(store: u32, index: u32, ikey: &[u8], pk: &[u8]) -> Vec<u8> {
    let mut k = index_prefix(store, index);
    k.extend_from_slice(ikey);
    k.extend_from_slice(pk);
    k
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
