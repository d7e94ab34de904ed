//! What the memtable's pieces take from the allocator, so that `memtable_size_mb`
//! bounds the memory a memtable holds rather than its key and value bytes
//! (docs/design.md, "Memory").
//!
//! A heap block costs what glibc's malloc hands out for the request: the request plus
//! an 8-byte header, rounded up to 16, at least 32 bytes (other allocators are close).
//! Structures that grow by doubling are charged their capacity as it grows: a run's
//! `Vec` exactly, the hash table at its average fill. B-tree entries are charged their
//! node's size over its average fill.

use std::mem::size_of;

use crate::util::key_order::Key;

/// The allocator's block for a request of `n` bytes (0 for none).
pub(super) fn heap(n: usize) -> usize {
    match n {
        0 => 0,
        n => ((n + 8 + 15) & !15).max(32),
    }
}

/// A value's own heap block: values up to 16 bytes are stored inline.
pub(super) fn value(len: usize) -> usize {
    if len <= 16 {
        0
    } else {
        heap(len)
    }
}

/// A key's own heap block: keys up to 32 bytes are stored inline.
fn key(len: usize) -> usize {
    if len <= 32 {
        0
    } else {
        heap(len)
    }
}

/// Entries a B-tree node holds (std's `B = 6`: 2B - 1).
const NODE_ENTRIES: usize = 11;

/// A B-tree entry of `entry` bytes: its share of a leaf node (the entries plus about
/// 16 bytes of header) at the average fill, 2/3 (nodes split in half and fill again).
pub(super) fn btree_entry(entry: usize) -> usize {
    heap(NODE_ENTRIES * entry + 16) * 3 / (2 * NODE_ENTRIES)
}

/// A new key of `len` bytes whose slot (key and versions) is `slot` bytes: the slot's
/// block, the key's own blocks (the slot and the ordered map each keep a copy), the
/// ordered map's entry (key and pointer) and the hash table's (hash and pointer, in a
/// table between 7/16 and 7/8 full: 3/2 of 16 bytes on average).
pub(super) fn new_key(len: usize, slot: usize) -> usize {
    heap(slot) + 2 * key(len) + btree_entry(size_of::<Key>() + 8) + 16 * 3 / 2
}

/// A `Vec` of `cap` elements of `elem` bytes.
pub(super) fn vec(cap: usize, elem: usize) -> usize {
    heap(cap * elem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_as_malloc_does() {
        assert_eq!(heap(0), 0);
        assert_eq!(heap(1), 32);
        assert_eq!(heap(24), 32);
        assert_eq!(heap(25), 48);
        assert_eq!(heap(100), 112);
        assert_eq!(value(16), 0);
        assert_eq!(value(17), 32);
    }
}
